//! The security log. Events are written in the same transaction as the change they record, and
//! their details never contain a secret.

use crate::server::sessions::ClientInfo;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    SignedUp,
    SignedIn,
    SignInFailed,
    SignedOut,
    PasswordChanged,
    PasswordChangeRefused,
    StepUpFailed,
    StepUpPassed,
    TwoFactorEnabled,
    AuthenticatorReplaced,
    BackupCodesRegenerated,
    TwoFactorDisabled,
    SecondFactorFailed,
    TrustedBrowserRevoked,
    /// An attempt refused by a throttle (logged once per failure count).
    AttemptsThrottled,
    /// A counter of consecutive failures reached the lock, or a locked one refused an attempt.
    AttemptsLocked,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SignedUp => "signed_up",
            EventKind::SignedIn => "signed_in",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::SignedOut => "signed_out",
            EventKind::PasswordChanged => "password_changed",
            EventKind::PasswordChangeRefused => "password_change_refused",
            EventKind::StepUpFailed => "step_up_failed",
            EventKind::StepUpPassed => "step_up_passed",
            EventKind::TwoFactorEnabled => "two_factor_enabled",
            EventKind::AuthenticatorReplaced => "authenticator_replaced",
            EventKind::BackupCodesRegenerated => "backup_codes_regenerated",
            EventKind::TwoFactorDisabled => "two_factor_disabled",
            EventKind::SecondFactorFailed => "second_factor_failed",
            EventKind::TrustedBrowserRevoked => "trusted_browser_revoked",
            EventKind::AttemptsThrottled => "attempts_throttled",
            EventKind::AttemptsLocked => "attempts_locked",
        }
    }
}

pub struct NewEvent<'a> {
    pub user_id: Uuid,
    pub kind: EventKind,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub details: serde_json::Value,
    pub now: OffsetDateTime,
}

/// Records `kind` for `user_id`, with where the request came from.
#[tracing::instrument(skip_all)]
pub async fn record_for(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    kind: EventKind,
    client: &ClientInfo,
    details: serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    record(
        db,
        NewEvent {
            user_id,
            kind,
            ip: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
            details,
            now,
        },
    )
    .await
}

#[tracing::instrument(skip_all)]
pub async fn record(db: impl PgExecutor<'_>, event: NewEvent<'_>) -> Result<(), sqlx::Error> {
    record_returning_id(db, event).await.map(|_| ())
}

/// Writes one entry and returns its id (for an entry that may have to be taken back).
#[tracing::instrument(skip_all)]
pub async fn record_returning_id(
    db: impl PgExecutor<'_>,
    event: NewEvent<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO security_events (user_id, kind, occurred_at, ip, user_agent, details)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id"#,
        event.user_id,
        event.kind.as_str(),
        event.now,
        event.ip,
        event.user_agent,
        event.details,
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn kinds_for_user(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT kind FROM security_events WHERE user_id = $1 ORDER BY id",
        user_id
    )
    .fetch_all(db)
    .await
}
