//! Server functions and shared types for two-factor authentication: the Security settings, the
//! setup wizard, backup codes, trusted browsers and the challenge at sign-in.

#[cfg(feature = "ssr")]
use crate::api::present;
use crate::components::form_post::FormFields;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::routes::{Notice, Page};
use crate::secret::Secret;
#[cfg(feature = "ssr")]
use crate::validation::{OtpCode, ProofKind, SecondFactorProof};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the Security page shows. Carries no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityOverview {
    pub email: String,
    /// `None` while two-factor authentication is off.
    pub two_factor: Option<TwoFactorStatus>,
    pub trusted_browsers: Vec<TrustedBrowser>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorStatus {
    /// e.g. "27 Nov 2026"
    pub authenticator_added: String,
    pub backup_codes_left: i64,
    pub backup_codes_total: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedBrowser {
    pub id: String,
    /// e.g. "Chrome on Linux"
    pub description: String,
    pub trusted_since: String,
    pub last_used: String,
    /// The browser showing the page.
    pub this_browser: bool,
}

/// Wizard step 1. The secret is in here (as the QR code and the key): shown once, never again.
/// `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    pub factor_id: String,
    /// `data:image/svg+xml;base64,…`
    pub qr_code: String,
    /// Base32 in groups of four.
    pub manual_key: String,
    /// An authenticator is already active and keeps working until this one is verified.
    pub replacing: bool,
}

/// What a change that protects the account ended elsewhere: turning two-factor on, replacing
/// the authenticator, turning it off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOutElsewhere {
    pub other_sessions: u64,
    pub trusted_browsers: u64,
}

/// The end of the wizard's verify step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupConfirmed {
    /// The first backup codes, when two-factor was just turned on.
    pub backup_codes: Option<BackupCodeSet>,
    pub signed_out: SignedOutElsewhere,
}

/// Wizard step 3: the codes, shown once. `Debug` leaves them out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCodeSet {
    pub codes: Vec<String>,
    /// The account's email address, named in the downloaded file.
    pub account: String,
    pub file_name: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpSetup")
            .field("factor_id", &self.factor_id)
            .field("replacing", &self.replacing)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BackupCodeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupCodeSet")
            .field("codes", &self.codes.len())
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl BackupCodeSet {
    /// The text of the downloaded file.
    pub fn file_text(&self) -> String {
        let mut text = format!(
            "Keyward backup codes for {}\n\
             Each code works once. Keep them somewhere safe, away from your phone.\n\n",
            self.account
        );
        for code in &self.codes {
            text.push_str(code);
            text.push('\n');
        }
        text
    }
}

#[server(output = server_fn::codec::Postcard)]
pub async fn get_security_overview() -> Result<SecurityOverview, AppError> {
    use crate::server::{context, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            let session = caller.signed_in()?;
            let summary = two_factor::overview(
                &state,
                session,
                caller.browser.trusted.as_ref().map(Secret::expose),
                state.clock.now(),
            )
            .await?;
            present::security_overview(summary)
        }
        .await,
    )
}

/// Step-up re-authentication: the password again (accounts without a second factor).
#[server(output = server_fn::codec::Postcard)]
pub async fn confirm_identity(password: Secret) -> Result<(), AppError> {
    use crate::server::{context, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            let session = caller.signed_in()?;
            let secret = two_factor::confirm_identity(
                &state,
                session,
                password.expose(),
                &caller.client,
                state.clock.now(),
            )
            .await?;
            // The session's token changed with its privilege: hand the browser the new one.
            context::set_session_cookie(&state.settings, &secret)
        }
        .await,
    )
}

/// Step-up re-authentication with the second factor: a current code from the authenticator
/// app, or a backup code.
#[server(output = server_fn::codec::Postcard)]
pub async fn confirm_identity_with_code(
    code: Secret,
    #[server(default)] use_backup_code: bool,
) -> Result<(), AppError> {
    use crate::server::{context, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let (session, client) = context::require_session()?;
            let proof = read_proof(&code, use_backup_code)?;
            let secret = two_factor::confirm_identity_with_code(
                &state,
                &session,
                &proof,
                &client,
                state.clock.now(),
            )
            .await?;
            context::set_session_cookie(&state.settings, &secret)
        }
        .await,
    )
}

#[server(output = server_fn::codec::Postcard)]
pub async fn begin_totp_setup() -> Result<TotpSetup, AppError> {
    use crate::server::{context, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let (session, _) = context::require_session()?;
            let enrollment =
                two_factor::begin_totp_setup(&state, &session, state.clock.now()).await?;
            present::totp_setup(enrollment)
        }
        .await,
    )
}

/// Verifies the first code. Returns the new backup codes when two-factor was just turned on
/// (none when an authenticator was replaced), and what was signed out elsewhere.
#[server(output = server_fn::codec::Postcard)]
pub async fn confirm_totp_setup(
    factor_id: String,
    code: Secret,
) -> Result<SetupConfirmed, AppError> {
    use crate::server::{context, cookies, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            let session = caller.signed_in()?;
            // Only a tampered form sends an id that is not one: its setup is as good as gone.
            let factor_id = factor_id
                .parse()
                .map_err(|_| AppError::from(crate::server::Error::SetupExpired))?;
            let code = OtpCode::parse(code.expose()).map_err(|m| AppError::field("code", m))?;
            let confirmed = two_factor::confirm_totp_setup(
                &state,
                session,
                factor_id,
                &code,
                &caller.browser,
                &caller.client,
                state.clock.now(),
            )
            .await?;
            context::set_session_cookie(&state.settings, &confirmed.session_secret)?;
            // Every trusted browser was revoked, this one too.
            context::set_cookie(&cookies::clearing_trusted_browser_cookie(&state.settings))?;
            Ok(SetupConfirmed {
                backup_codes: confirmed.backup_codes.map(present::backup_code_set),
                signed_out: present::signed_out(confirmed.signed_out),
            })
        }
        .await,
    )
}

#[server(output = server_fn::codec::Postcard)]
pub async fn cancel_totp_setup() -> Result<(), AppError> {
    use crate::server::{context, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let (session, _) = context::require_session()?;
            Ok(two_factor::cancel_totp_setup(&state, &session).await?)
        }
        .await,
    )
}

#[server(output = server_fn::codec::Postcard)]
pub async fn regenerate_backup_codes() -> Result<BackupCodeSet, AppError> {
    use crate::server::{context, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let (session, client) = context::require_session()?;
            let issued =
                two_factor::regenerate_backup_codes(&state, &session, &client, state.clock.now())
                    .await?;
            Ok(present::backup_code_set(issued))
        }
        .await,
    )
}

/// Turns two-factor off; returns what was signed out elsewhere.
#[server(output = server_fn::codec::Postcard)]
pub async fn disable_two_factor() -> Result<SignedOutElsewhere, AppError> {
    use crate::server::{context, cookies, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            let session = caller.signed_in()?;
            let signed_out = two_factor::disable(
                &state,
                session,
                &caller.browser,
                &caller.client,
                state.clock.now(),
            )
            .await?;
            context::set_cookie(&cookies::clearing_trusted_browser_cookie(&state.settings))?;
            Ok(present::signed_out(signed_out))
        }
        .await,
    )
}

#[server(output = server_fn::codec::Postcard)]
pub async fn revoke_trusted_browser(id: String) -> Result<(), AppError> {
    use crate::server::{context, factors::two_factor};
    context::respond(
        async {
            let state = context::state()?;
            let (session, client) = context::require_session()?;
            // An id that is not one names no browser of this account: nothing to revoke.
            if let Ok(id) = id.parse() {
                two_factor::revoke_trusted_browser(
                    &state,
                    &session,
                    id,
                    &client,
                    state.clock.now(),
                )
                .await?;
            }
            leptos_axum::redirect(&Page::Security.with_notice(Notice::BrowserUntrusted));
            Ok(())
        }
        .await,
    )
}

/// The second step of signing in. On success the half-authenticated session is replaced by a
/// full one and the browser is sent on; after too many wrong codes, back to the password.
#[server(output = server_fn::codec::Postcard)]
pub async fn answer_challenge(
    code: Secret,
    #[server(default)] use_backup_code: bool,
    #[server(default)] trust_browser: bool,
) -> Result<(), AppError> {
    use crate::server::factors::two_factor::{self, ChallengeAnswer, ChallengeOutcome};
    use crate::server::{context, cookies};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            let Some(challenge) = caller.challenge else {
                // Expired or already answered (in another tab, say): start from the password.
                leptos_axum::redirect(Page::SignIn.path());
                return Ok(());
            };
            // A malformed code is a typing mistake, not a guess: refused before anything is
            // counted.
            let proof = read_proof(&code, use_backup_code)?;
            let outcome = two_factor::answer_challenge(
                &state,
                &challenge,
                ChallengeAnswer {
                    proof,
                    trust_browser,
                },
                &caller.browser,
                &caller.client,
                state.clock.now(),
            )
            .await?;
            match outcome {
                ChallengeOutcome::Passed(passed) => {
                    context::set_session_cookie(&state.settings, &passed.session_secret)?;
                    context::set_browser_cookies(
                        &state.settings,
                        Some(&passed.recognised_browser),
                        passed.trusted_browser.as_ref(),
                    )?;
                    if passed.backup_codes_left.is_some() {
                        leptos_axum::redirect(
                            &Page::Security.with_notice(Notice::SignedInWithBackupCode),
                        );
                    } else {
                        leptos_axum::redirect(Page::HOME.path());
                    }
                    Ok(())
                }
                ChallengeOutcome::Wrong { attempts_left } => {
                    Err(present::wrong_challenge_code(attempts_left))
                }
                ChallengeOutcome::Gone => {
                    // Already answered (a double submit) or expired: the page guard sends the
                    // browser wherever its session now belongs. Its cookie is left alone.
                    leptos_axum::redirect(Page::HOME.path());
                    Ok(())
                }
                ChallengeOutcome::Restart => {
                    context::set_cookie(&cookies::clearing_cookie(&state.settings))?;
                    leptos_axum::redirect(&Page::SignIn.with_notice(Notice::ChallengeEnded));
                    Ok(())
                }
            }
        }
        .await,
    )
}

/// Reads the code field as the second factor the form says it is, with the shared validator
/// the browser ran; its message goes beside the field.
#[cfg(feature = "ssr")]
fn read_proof(code: &Secret, use_backup_code: bool) -> Result<SecondFactorProof, AppError> {
    SecondFactorProof::read(
        ProofKind::from_use_backup_code(use_backup_code),
        code.expose(),
    )
    .map_err(|message| AppError::field("code", message))
}

// The arguments as the fields of each form (`FormFields`: what the islands post).

impl FormFields for ConfirmIdentity {
    fn fields(self) -> Vec<(&'static str, String)> {
        let ConfirmIdentity { password } = self;
        vec![("password", password.expose().to_owned())]
    }
}

impl FormFields for ConfirmIdentityWithCode {
    fn fields(self) -> Vec<(&'static str, String)> {
        let ConfirmIdentityWithCode {
            code,
            use_backup_code,
        } = self;
        vec![
            ("code", code.expose().to_owned()),
            ("use_backup_code", use_backup_code.to_string()),
        ]
    }
}

impl FormFields for BeginTotpSetup {
    fn fields(self) -> Vec<(&'static str, String)> {
        let BeginTotpSetup {} = self;
        vec![]
    }
}

impl FormFields for ConfirmTotpSetup {
    fn fields(self) -> Vec<(&'static str, String)> {
        let ConfirmTotpSetup { factor_id, code } = self;
        vec![("factor_id", factor_id), ("code", code.expose().to_owned())]
    }
}

impl FormFields for CancelTotpSetup {
    fn fields(self) -> Vec<(&'static str, String)> {
        let CancelTotpSetup {} = self;
        vec![]
    }
}

impl FormFields for RegenerateBackupCodes {
    fn fields(self) -> Vec<(&'static str, String)> {
        let RegenerateBackupCodes {} = self;
        vec![]
    }
}

impl FormFields for DisableTwoFactor {
    fn fields(self) -> Vec<(&'static str, String)> {
        let DisableTwoFactor {} = self;
        vec![]
    }
}

impl FormFields for AnswerChallenge {
    fn fields(self) -> Vec<(&'static str, String)> {
        let AnswerChallenge {
            code,
            use_backup_code,
            trust_browser,
        } = self;
        vec![
            ("code", code.expose().to_owned()),
            ("use_backup_code", use_backup_code.to_string()),
            ("trust_browser", trust_browser.to_string()),
        ]
    }
}
