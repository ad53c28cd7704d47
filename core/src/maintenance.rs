//! Forgetting what no longer counts: expired sessions, finished attempt windows and quiet
//! counters, expired trusted browsers, abandoned authenticator setups, browsers unused for a
//! year. Run now and then by every server process (each statement is safe to run twice).

use crate::db::{factors, sessions as session_repo, trusted_browsers};
use crate::infra::config::Settings;
use crate::{auth::throttle, sessions, sessions::browsers};
use time::OffsetDateTime;

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub attempt_counters: u64,
    pub trusted_browsers: u64,
    pub pending_authenticators: u64,
    pub recognised_browsers: u64,
}

#[tracing::instrument(skip_all)]
pub async fn sweep(
    pool: &sqlx::PgPool,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Swept, sqlx::Error> {
    let (idle, absolute) = sessions::cutoffs(settings, now);
    Ok(Swept {
        sessions: session_repo::delete_expired(pool, idle, absolute).await?,
        attempt_counters: throttle::forget_stale(pool, now).await?,
        trusted_browsers: trusted_browsers::delete_expired(pool, now).await?,
        pending_authenticators: factors::delete_expired_pending(pool, now).await?,
        recognised_browsers: browsers::forget_unused(pool, now).await?,
    })
}
