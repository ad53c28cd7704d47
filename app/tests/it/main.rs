//! Integration tests against a real PostgreSQL: each `#[sqlx::test]` gets a fresh database with
//! the migrations applied. Time is injected, never read from the clock.

// Test helpers may panic: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod assurance;
mod authenticator;
mod hardening;
mod key_rotation;
mod schema;
mod sessions;
mod sign_in_throttle;
mod two_factor;

use app::api::two_factor::BackupCodeSet;
use app::error::AppError;
use app::server::AppState;
use app::server::Error;
use app::server::infra::config::Settings;
use app::server::primitives::totp::TotpSecret;
use app::server::sessions::{Authenticated, ClientInfo, PendingChallenge, authenticate_any};
use app::validation::{BackupCode, Invalid, OtpCode, ProofKind, SecondFactorProof};
use sqlx::PgPool;
use time::OffsetDateTime;

pub use test_support::{settings, t0};

pub fn state_with(pool: PgPool, settings: Settings) -> AppState {
    let options = leptos::config::LeptosOptions::builder()
        .output_name("keyward")
        .build();
    AppState::new(options, pool, settings).unwrap()
}

pub fn state(pool: PgPool) -> AppState {
    state_with(pool, settings(&[]))
}

pub fn client() -> ClientInfo {
    ClientInfo {
        ip: Some("127.0.0.1".into()),
        user_agent: Some("integration test".into()),
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// Whether `secret` still opens a session at `now`.
pub async fn is_live(state: &AppState, secret: &str, now: OffsetDateTime) -> bool {
    app::server::sessions::authenticate(&state.pool, &state.settings, secret, now)
        .await
        .unwrap()
        .is_some()
}

pub async fn sign_up(state: &AppState, email: &str) -> app::server::auth::accounts::SignedIn {
    app::server::auth::accounts::sign_up(
        state,
        app::server::auth::accounts::SignUpRequest::new(email, PASSWORD, PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap()
}

/// The challenge that the half-signed-in session `session_secret` (a right password, no second
/// factor yet) is waiting at.
pub async fn challenge_of(
    state: &AppState,
    session_secret: &str,
    at: OffsetDateTime,
) -> PendingChallenge {
    let Some(Authenticated::Challenge(challenge)) =
        authenticate_any(&state.pool, &state.settings, session_secret, at)
            .await
            .unwrap()
    else {
        panic!("expected a challenge");
    };
    challenge
}

/// The code `secret` shows at `at`, as the person reads it off their app.
pub fn code(secret: &TotpSecret, at: OffsetDateTime) -> String {
    secret.code_at(at.unix_timestamp() as u64)
}

/// Reads what was typed as the server functions do, with the shared validator: the proof, or
/// the message beside the code field.
pub fn proof(typed: &str, use_backup_code: bool) -> Result<SecondFactorProof, Error> {
    SecondFactorProof::read(ProofKind::from_use_backup_code(use_backup_code), typed)
        .map_err(|message| Error::Invalid(Invalid::field("code", message)))
}

/// What a person reads for a service's refusal: the words the server functions give it.
pub trait Words {
    fn message_for(&self, field: &str) -> Option<String>;
}

impl Words for Error {
    fn message_for(&self, field: &str) -> Option<String> {
        AppError::from(self.clone()).message_for(field)
    }
}

/// An authenticator code that is well formed.
pub fn otp(typed: &str) -> OtpCode {
    OtpCode::parse(typed).unwrap()
}

/// A backup code that is well formed.
pub fn backup_code(typed: &str) -> BackupCode {
    BackupCode::parse(typed).unwrap()
}

/// [`code`], read as the server reads it.
pub fn otp_at(secret: &TotpSecret, at: OffsetDateTime) -> OtpCode {
    otp(&code(secret, at))
}

/// Wizard step 1 as the page gets it: the key to type and the factor id its form sends back.
pub async fn begin_setup(
    state: &AppState,
    session: &app::server::sessions::CurrentSession,
    at: OffsetDateTime,
) -> Result<app::api::two_factor::TotpSetup, Error> {
    let enrollment = app::server::factors::two_factor::begin_totp_setup(state, session, at).await?;
    Ok(app::api::present::totp_setup(enrollment).unwrap())
}

/// Backup codes as the page shows them.
pub fn shown(issued: app::server::factors::two_factor::IssuedBackupCodes) -> BackupCodeSet {
    app::api::present::backup_code_set(issued)
}
