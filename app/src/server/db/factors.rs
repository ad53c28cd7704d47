//! Second factors. Rows hold sealed secrets, so they are not `Serialize`.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
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
pub async fn count_failed_attempt(db: impl PgExecutor<'_>, id: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE factors SET failed_attempts = failed_attempts + 1 WHERE id = $1 RETURNING failed_attempts",
        id
    )
    .fetch_one(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM factors WHERE id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

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
pub async fn has_active(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM factors WHERE user_id = $1 AND state = 'active') AS "exists!""#,
        user_id,
    )
    .fetch_one(db)
    .await
}

/// Removes every factor of the user, pending or active; returns how many.
pub async fn delete_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM factors WHERE user_id = $1", user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Removes pending authenticators whose wizard was abandoned and has expired; returns how many.
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
