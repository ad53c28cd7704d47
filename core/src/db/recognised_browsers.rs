//! Browsers that have signed in to an account (OWASP "device cookies"). The cookie's token is
//! stored only as a hash; one browser's token may recognise several accounts.

use crate::ids::UserId;
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// Records that the browser with `token_hash` signed in to `user_id` at `now`.
#[tracing::instrument(skip_all)]
pub async fn remember(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO recognised_browsers (token_hash, user_id, created_at, last_used_at)
           VALUES ($1, $2, $3, $3)
           ON CONFLICT (token_hash, user_id) DO UPDATE SET last_used_at = $3"#,
        token_hash,
        user_id as UserId,
        now,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the browser with `token_hash` signed in to the account with `email_lookup` since
/// `since`. Returns the account's id when it did.
#[tracing::instrument(skip_all)]
pub async fn recognises(
    db: impl PgExecutor<'_>,
    email_lookup: &str,
    token_hash: &[u8],
    since: OffsetDateTime,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT b.user_id AS "user_id: UserId" FROM recognised_browsers b JOIN users u ON u.id = b.user_id
           WHERE u.email_lookup = $1 AND b.token_hash = $2 AND b.last_used_at > $3"#,
        email_lookup,
        token_hash,
        since,
    )
    .fetch_optional(db)
    .await
}

/// Whether the browser with `token_hash` signed in to account `user_id` since `since`.
#[tracing::instrument(skip_all)]
pub async fn recognises_user(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    token_hash: &[u8],
    since: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM recognised_browsers
                          WHERE user_id = $1 AND token_hash = $2 AND last_used_at > $3) AS "yes!""#,
        user_id as UserId,
        token_hash,
        since,
    )
    .fetch_one(db)
    .await
}

/// Forgets every browser of `user_id` but the one with `keep` (if any); returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_for_user_except(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    keep: Option<&[u8]>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"DELETE FROM recognised_browsers
           WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)"#,
        user_id as UserId,
        keep,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Forgets browsers unused since `before`; returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_unused(
    db: impl PgExecutor<'_>,
    before: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM recognised_browsers WHERE last_used_at <= $1",
        before
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
