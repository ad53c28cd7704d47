//! Second factors. Rows hold sealed secrets, so they are not `Serialize`, and `Debug` leaves
//! the sealed bytes out.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone)]
pub struct TotpFactorRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub state: String,
    pub expires_at: Option<OffsetDateTime>,
    pub failed_attempts: i32,
    pub totp_key_id: Option<String>,
    pub totp_nonce: Option<Vec<u8>>,
    pub totp_ciphertext: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
}

impl std::fmt::Debug for TotpFactorRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactorRow")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("state", &self.state)
            .field("totp_key_id", &self.totp_key_id)
            .finish_non_exhaustive()
    }
}

/// A secret sealed under a key of the ring.
pub struct SealedSecret<'a> {
    pub key_id: &'a str,
    pub nonce: &'a [u8],
    pub ciphertext: &'a [u8],
}

/// Replaces the sealed secret of factor `id` if it is still sealed with `old_key_id`.
#[tracing::instrument(skip_all)]
pub async fn replace_sealed_totp(
    db: impl PgExecutor<'_>,
    id: Uuid,
    old_key_id: &str,
    sealed: SealedSecret<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE factors SET totp_key_id = $3, totp_nonce = $4, totp_ciphertext = $5
           WHERE id = $1 AND totp_key_id = $2"#,
        id,
        old_key_id,
        sealed.key_id,
        sealed.nonce,
        sealed.ciphertext,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Authenticator factors sealed with any key but `key_id`.
#[tracing::instrument(skip_all)]
pub async fn find_totp_not_sealed_with(
    db: impl PgExecutor<'_>,
    key_id: &str,
) -> Result<Vec<TotpFactorRow>, sqlx::Error> {
    sqlx::query_as!(
        TotpFactorRow,
        r#"SELECT id, user_id, state, expires_at, failed_attempts, totp_key_id, totp_nonce,
                  totp_ciphertext, totp_last_step
           FROM factors WHERE kind = 'totp' AND totp_key_id <> $1"#,
        key_id,
    )
    .fetch_all(db)
    .await
}

/// How many authenticator secrets are sealed with each key.
#[tracing::instrument(skip_all)]
pub async fn totp_per_key(db: impl PgExecutor<'_>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT totp_key_id AS "key_id!", count(*) AS "count!"
           FROM factors WHERE kind = 'totp' AND totp_key_id IS NOT NULL
           GROUP BY totp_key_id ORDER BY totp_key_id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key_id, r.count)).collect())
}

pub struct NewPendingTotp<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub label: &'a str,
    pub key_id: &'a str,
    pub nonce: &'a [u8],
    pub ciphertext: &'a [u8],
    pub expires_at: OffsetDateTime,
    pub now: OffsetDateTime,
}

#[tracing::instrument(skip_all)]
pub async fn insert_pending_totp(
    db: impl PgExecutor<'_>,
    new: NewPendingTotp<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO factors (id, user_id, kind, label, state, created_at, expires_at,
                                totp_key_id, totp_nonce, totp_ciphertext)
           VALUES ($1, $2, 'totp', $3, 'pending', $4, $5, $6, $7, $8)"#,
        new.id,
        new.user_id,
        new.label,
        new.now,
        new.expires_at,
        new.key_id,
        new.nonce,
        new.ciphertext,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_pending_totp(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM factors WHERE user_id = $1 AND kind = 'totp' AND state = 'pending'",
        user_id
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn find_totp(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    factor_id: Uuid,
) -> Result<Option<TotpFactorRow>, sqlx::Error> {
    sqlx::query_as!(
        TotpFactorRow,
        r#"SELECT id, user_id, state, expires_at, failed_attempts, totp_key_id, totp_nonce,
                  totp_ciphertext, totp_last_step
           FROM factors WHERE id = $1 AND user_id = $2 AND kind = 'totp'"#,
        factor_id,
        user_id,
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn find_active_totp(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Option<TotpFactorRow>, sqlx::Error> {
    sqlx::query_as!(
        TotpFactorRow,
        r#"SELECT id, user_id, state, expires_at, failed_attempts, totp_key_id, totp_nonce,
                  totp_ciphertext, totp_last_step
           FROM factors WHERE user_id = $1 AND kind = 'totp' AND state = 'active'"#,
        user_id,
    )
    .fetch_optional(db)
    .await
}

/// Counts a wrong code against a pending factor; returns the new count.
#[tracing::instrument(skip_all)]
pub async fn count_failed_attempt(db: impl PgExecutor<'_>, id: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE factors SET failed_attempts = failed_attempts + 1 WHERE id = $1 RETURNING failed_attempts",
        id
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM factors WHERE id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_active_totp(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM factors WHERE user_id = $1 AND kind = 'totp' AND state = 'active'",
        user_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Makes a pending factor active with `step` as its last used time step. Only one of several
/// concurrent activations can succeed: the `state = 'pending'` condition is checked atomically.
#[tracing::instrument(skip_all)]
pub async fn activate_totp(
    db: impl PgExecutor<'_>,
    id: Uuid,
    step: i64,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE factors
           SET state = 'active', activated_at = $3, last_used_at = $3, expires_at = NULL,
               totp_last_step = $2, failed_attempts = 0
           WHERE id = $1 AND state = 'pending'"#,
        id,
        step,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `step` as used if it is later than the last used one: the single-use rule of
/// RFC 6238 §5.2 as one compare-and-set, so two submissions of one code cannot both pass.
#[tracing::instrument(skip_all)]
pub async fn consume_totp_step(
    db: impl PgExecutor<'_>,
    id: Uuid,
    step: i64,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE factors SET totp_last_step = $2, last_used_at = $3
           WHERE id = $1 AND state = 'active'
             AND (totp_last_step IS NULL OR totp_last_step < $2)"#,
        id,
        step,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// When the account's authenticator app was activated, if it has one.
#[tracing::instrument(skip_all)]
pub async fn active_totp_activated_at(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    let row = sqlx::query_scalar!(
        r#"SELECT activated_at FROM factors
           WHERE user_id = $1 AND kind = 'totp' AND state = 'active'"#,
        user_id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.flatten())
}

/// Whether the account has any active second factor (and so must pass a challenge at sign-in).
#[tracing::instrument(skip_all)]
pub async fn has_active(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM factors WHERE user_id = $1 AND state = 'active') AS "exists!""#,
        user_id,
    )
    .fetch_one(db)
    .await
}

/// Removes every factor of the user, pending or active; returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM factors WHERE user_id = $1", user_id)
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
