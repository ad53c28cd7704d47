//! The security log. Events are written in the same transaction as the change they record, and
//! their details never contain a secret.

use crate::client::ClientInfo;
use crate::ids::UserId;
use crate::security_log::SecurityEvent;
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// Records `event` for `user_id`, with where the request came from.
#[tracing::instrument(skip_all)]
pub async fn record_for(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    event: SecurityEvent,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO security_events (user_id, kind, occurred_at, ip, user_agent, details)
           VALUES ($1, $2, $3, $4, $5, $6)"#,
        user_id as UserId,
        event.kind(),
        now,
        client.ip.as_deref(),
        client.user_agent.as_deref(),
        event.details(),
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn kinds_for_user(
    db: impl PgExecutor<'_>,
    user_id: UserId,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT kind FROM security_events WHERE user_id = $1 ORDER BY id",
        user_id as UserId
    )
    .fetch_all(db)
    .await
}
