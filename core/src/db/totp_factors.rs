//! Authenticator apps: a `factors` row of kind `totp` and its `totp_factors` row, the sealed
//! secret and the last accepted time step. Written together, read together; rows hold sealed
//! secrets, so they are not `Serialize`, and `Debug` leaves the sealed bytes out.

use super::factors::FactorState;
use crate::ids::{FactorId, UserId};
use crate::primitives::crypto::Sealed;
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// An authenticator app as stored. Both rows are always there: they are written in one
/// statement, the secret's columns are `NOT NULL`, and the schema refuses (at commit) a `totp`
/// factor without its secret row and a secret row without its factor (migration 9).
#[derive(Clone, Debug)]
pub struct TotpFactor {
    pub id: FactorId,
    pub user_id: UserId,
    pub state: FactorState,
    pub expires_at: Option<OffsetDateTime>,
    pub sealed: Sealed,
    /// The last accepted time step: a code is accepted only for a later one (RFC 6238 §5.2).
    pub last_step: Option<u64>,
}

/// The two rows, joined.
struct TotpFactorRow {
    id: FactorId,
    user_id: UserId,
    state: FactorState,
    expires_at: Option<OffsetDateTime>,
    key_id: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    last_step: Option<i64>,
}

impl From<TotpFactorRow> for TotpFactor {
    fn from(row: TotpFactorRow) -> Self {
        TotpFactor {
            id: row.id,
            user_id: row.user_id,
            state: row.state,
            expires_at: row.expires_at,
            sealed: Sealed {
                key_id: row.key_id,
                nonce: row.nonce,
                ciphertext: row.ciphertext,
            },
            // Steps are written from `u64`s; a negative one would be no step at all.
            last_step: row.last_step.and_then(|step| u64::try_from(step).ok()),
        }
    }
}

pub struct NewPendingTotp<'a> {
    pub id: FactorId,
    pub user_id: UserId,
    pub label: &'a str,
    pub sealed: &'a Sealed,
    pub expires_at: OffsetDateTime,
    pub now: OffsetDateTime,
}

/// Adds a pending authenticator: both rows in one statement.
#[tracing::instrument(skip_all)]
pub async fn insert_pending(
    db: impl PgExecutor<'_>,
    new: NewPendingTotp<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"WITH factor AS (
               INSERT INTO factors (id, user_id, kind, label, state, created_at, expires_at)
               VALUES ($1, $2, 'totp', $3, 'pending', $4, $5)
               RETURNING id
           )
           INSERT INTO totp_factors (factor_id, key_id, nonce, ciphertext)
           SELECT id, $6, $7, $8 FROM factor"#,
        new.id as FactorId,
        new.user_id as UserId,
        new.label,
        new.now,
        new.expires_at,
        new.sealed.key_id,
        new.sealed.nonce,
        new.sealed.ciphertext,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn find(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    factor_id: FactorId,
) -> Result<Option<TotpFactor>, sqlx::Error> {
    let row = sqlx::query_as!(
        TotpFactorRow,
        r#"SELECT f.id, f.user_id, f.state AS "state: FactorState", f.expires_at,
                  t.key_id, t.nonce, t.ciphertext, t.last_step
           FROM factors f JOIN totp_factors t ON t.factor_id = f.id
           WHERE f.id = $1 AND f.user_id = $2"#,
        factor_id as FactorId,
        user_id as UserId,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(TotpFactor::from))
}

#[tracing::instrument(skip_all)]
pub async fn find_active(
    db: impl PgExecutor<'_>,
    user_id: UserId,
) -> Result<Option<TotpFactor>, sqlx::Error> {
    let row = sqlx::query_as!(
        TotpFactorRow,
        r#"SELECT f.id, f.user_id, f.state AS "state: FactorState", f.expires_at,
                  t.key_id, t.nonce, t.ciphertext, t.last_step
           FROM factors f JOIN totp_factors t ON t.factor_id = f.id
           WHERE f.user_id = $1 AND f.state = 'active'"#,
        user_id as UserId,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(TotpFactor::from))
}

/// When the account's authenticator app was activated, if it has one.
#[tracing::instrument(skip_all)]
pub async fn active_activated_at(
    db: impl PgExecutor<'_>,
    user_id: UserId,
) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    let row = sqlx::query_scalar!(
        r#"SELECT activated_at FROM factors
           WHERE user_id = $1 AND kind = 'totp' AND state = 'active'"#,
        user_id as UserId,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.flatten())
}

/// Discards the user's pending authenticator, if any (its secret goes with it).
#[tracing::instrument(skip_all)]
pub async fn delete_pending(db: impl PgExecutor<'_>, user_id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM factors WHERE user_id = $1 AND kind = 'totp' AND state = 'pending'",
        user_id as UserId
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_active(db: impl PgExecutor<'_>, user_id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM factors WHERE user_id = $1 AND kind = 'totp' AND state = 'active'",
        user_id as UserId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Makes a pending authenticator active with `step` as its last used time step. Only one of
/// several concurrent activations can succeed: the `state = 'pending'` condition is checked
/// atomically, and the step is written only for the factor that was activated.
#[tracing::instrument(skip_all)]
pub async fn activate(
    db: impl PgExecutor<'_>,
    id: FactorId,
    step: i64,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"WITH activated AS (
               UPDATE factors
               SET state = 'active', activated_at = $3, last_used_at = $3, expires_at = NULL,
                   failed_attempts = 0
               WHERE id = $1 AND kind = 'totp' AND state = 'pending'
               RETURNING id
           )
           UPDATE totp_factors SET last_step = $2
           WHERE factor_id IN (SELECT id FROM activated)"#,
        id as FactorId,
        step,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `step` as used if it is later than the last used one: the single-use rule of
/// RFC 6238 §5.2 as one compare-and-set, so two submissions of one code cannot both pass (the
/// second waits for the first's lock, then finds the step no longer later).
///
/// Locks the `factors` row before the `totp_factors` one, the order every statement here and
/// the cascade of a deletion take them in: a check racing "turn off" cannot deadlock with it.
#[tracing::instrument(skip_all)]
pub async fn consume_step(
    db: impl PgExecutor<'_>,
    id: FactorId,
    step: i64,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"WITH factor AS (
               SELECT id FROM factors WHERE id = $1 AND state = 'active' FOR UPDATE
           ), consumed AS (
               UPDATE totp_factors SET last_step = $2
               WHERE factor_id IN (SELECT id FROM factor)
                 AND (last_step IS NULL OR last_step < $2)
               RETURNING factor_id
           )
           UPDATE factors SET last_used_at = $3
           WHERE id IN (SELECT factor_id FROM consumed)"#,
        id as FactorId,
        step,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the sealed secret of factor `id` if it is still sealed with `old_key_id`.
#[tracing::instrument(skip_all)]
pub async fn replace_sealed(
    db: impl PgExecutor<'_>,
    id: FactorId,
    old_key_id: &str,
    sealed: &Sealed,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE totp_factors SET key_id = $3, nonce = $4, ciphertext = $5
           WHERE factor_id = $1 AND key_id = $2"#,
        id as FactorId,
        old_key_id,
        sealed.key_id,
        sealed.nonce,
        sealed.ciphertext,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Authenticators sealed with any key but `key_id`.
#[tracing::instrument(skip_all)]
pub async fn find_not_sealed_with(
    db: impl PgExecutor<'_>,
    key_id: &str,
) -> Result<Vec<TotpFactor>, sqlx::Error> {
    let rows = sqlx::query_as!(
        TotpFactorRow,
        r#"SELECT f.id, f.user_id, f.state AS "state: FactorState", f.expires_at,
                  t.key_id, t.nonce, t.ciphertext, t.last_step
           FROM factors f JOIN totp_factors t ON t.factor_id = f.id
           WHERE t.key_id <> $1"#,
        key_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(TotpFactor::from).collect())
}

/// How many authenticator secrets are sealed with each key.
#[tracing::instrument(skip_all)]
pub async fn count_per_key(db: impl PgExecutor<'_>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT key_id, count(*) AS "count!"
           FROM totp_factors GROUP BY key_id ORDER BY key_id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key_id, r.count)).collect())
}
