//! Browsers where a person chose "Don't ask again": the cookie token is stored only as a hash.

use crate::ids::{TrustedBrowserId, UserId};
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// `Debug` leaves the token's hash out.
#[derive(Clone)]
pub struct TrustedBrowserRow {
    pub id: TrustedBrowserId,
    pub token_hash: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
    pub user_agent: Option<String>,
}

impl std::fmt::Debug for TrustedBrowserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedBrowserRow")
            .field("id", &self.id)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

pub struct NewTrustedBrowser<'a> {
    pub user_id: UserId,
    pub token_hash: &'a [u8],
    pub expires_at: OffsetDateTime,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub now: OffsetDateTime,
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    new: NewTrustedBrowser<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO trusted_browsers
             (user_id, token_hash, created_at, last_used_at, expires_at, ip, user_agent)
           VALUES ($1, $2, $3, $3, $4, $5, $6)"#,
        new.user_id as UserId,
        new.token_hash,
        new.now,
        new.expires_at,
        new.ip,
        new.user_agent,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records a use of the trusted browser with `old_hash` if it belongs to `user_id` and has not
/// expired, giving it the new token `new_hash` (the cookie's token changes at every use, so a
/// copied cookie stops working once either copy is used). Returns the browser's id; `None`
/// when unknown, revoked, expired or another account's.
#[tracing::instrument(skip_all)]
pub async fn use_and_rotate(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    old_hash: &[u8],
    new_hash: &[u8],
    now: OffsetDateTime,
) -> Result<Option<TrustedBrowserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE trusted_browsers SET token_hash = $3, last_used_at = $4
           WHERE user_id = $1 AND token_hash = $2 AND expires_at > $4
           RETURNING id AS "id: TrustedBrowserId""#,
        user_id as UserId,
        old_hash,
        new_hash,
        now,
    )
    .fetch_optional(db)
    .await
}

/// Whether the trusted browser with `token_hash` is valid for the account with `email_lookup`
/// at `now` (read only). Returns the account's id when it is.
#[tracing::instrument(skip_all)]
pub async fn trusted_for(
    db: impl PgExecutor<'_>,
    email_lookup: &str,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT t.user_id AS "user_id: UserId" FROM trusted_browsers t JOIN users u ON u.id = t.user_id
           WHERE u.email_lookup = $1 AND t.token_hash = $2 AND t.expires_at > $3"#,
        email_lookup,
        token_hash,
        now,
    )
    .fetch_optional(db)
    .await
}

/// Whether the trusted browser with `token_hash` is valid for account `user_id` at `now`.
#[tracing::instrument(skip_all)]
pub async fn is_trusted_by(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM trusted_browsers
                          WHERE user_id = $1 AND token_hash = $2 AND expires_at > $3) AS "yes!""#,
        user_id as UserId,
        token_hash,
        now,
    )
    .fetch_one(db)
    .await
}

/// Removes trusted browsers that have expired; returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_expired(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM trusted_browsers WHERE expires_at <= $1", now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

#[tracing::instrument(skip_all)]
pub async fn list_for_user(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    now: OffsetDateTime,
) -> Result<Vec<TrustedBrowserRow>, sqlx::Error> {
    sqlx::query_as!(
        TrustedBrowserRow,
        r#"SELECT id, token_hash, created_at, last_used_at, user_agent FROM trusted_browsers
           WHERE user_id = $1 AND expires_at > $2
           ORDER BY last_used_at DESC"#,
        user_id as UserId,
        now,
    )
    .fetch_all(db)
    .await
}

/// Revokes one trusted browser of the user; false when there is no such browser.
#[tracing::instrument(skip_all)]
pub async fn delete(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    id: TrustedBrowserId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM trusted_browsers WHERE id = $1 AND user_id = $2",
        id as TrustedBrowserId,
        user_id as UserId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every trusted browser of the user; returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_for_user(db: impl PgExecutor<'_>, user_id: UserId) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM trusted_browsers WHERE user_id = $1",
        user_id as UserId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
