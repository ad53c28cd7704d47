//! Second factors: the `factors` table, what every kind shares (owner, kind, label, state,
//! times, failed enrollment attempts). What only one kind has lives in that kind's table and
//! repository (an authenticator's sealed secret: [`super::totp_factors`]).

use crate::ids::{FactorId, UserId};
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// Where a factor is in its life: the `factors.state` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorState {
    /// Enrolled but not yet proved to work (the wizard's first code): it signs nobody in, and
    /// it expires if the wizard is abandoned.
    Pending,
    /// Proved: it signs in, and the account must pass it.
    Active,
}

super::stored_as_text!(FactorState, "factor state", {
    Pending => "pending",
    Active => "active",
});

/// Counts a wrong code against a pending factor; returns the new count.
#[tracing::instrument(skip_all)]
pub async fn count_failed_attempt(
    db: impl PgExecutor<'_>,
    id: FactorId,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE factors SET failed_attempts = failed_attempts + 1 WHERE id = $1 RETURNING failed_attempts",
        id as FactorId
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, id: FactorId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM factors WHERE id = $1", id as FactorId)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether the account has any active second factor (and so must pass a challenge at sign-in).
#[tracing::instrument(skip_all)]
pub async fn has_active(db: impl PgExecutor<'_>, user_id: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM factors WHERE user_id = $1 AND state = 'active') AS "exists!""#,
        user_id as UserId,
    )
    .fetch_one(db)
    .await
}

/// Removes every factor of the user, pending or active; returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_for_user(db: impl PgExecutor<'_>, user_id: UserId) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM factors WHERE user_id = $1", user_id as UserId)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Removes pending authenticators whose wizard was abandoned and has expired; returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_expired_pending(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM factors WHERE state = 'pending' AND expires_at <= $1",
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
