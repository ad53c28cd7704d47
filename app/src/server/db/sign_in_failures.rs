//! `sign_in_failures`: failed password sign-ins per account address and per client address.
//! Keys are hashes (see the migration); nothing here is secret.

use sqlx::PgExecutor;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub failures: i32,
    pub in_flight: i32,
    pub first_failure_at: Option<OffsetDateTime>,
    pub last_failure_at: Option<OffsetDateTime>,
}

pub async fn find(db: impl PgExecutor<'_>, key: &[u8]) -> Result<Option<Failures>, sqlx::Error> {
    sqlx::query_as!(
        Failures,
        r#"SELECT failures, in_flight, first_failure_at, last_failure_at
           FROM sign_in_failures WHERE key = $1"#,
        key
    )
    .fetch_optional(db)
    .await
}

/// Counts an attempt at an account address as in flight, unless its failures and the attempts
/// already in flight have reached `cap` (false). One atomic statement: parallel attempts cannot
/// pass the cap together.
pub async fn start_account_attempt(
    db: impl PgExecutor<'_>,
    key: &[u8],
    cap: i32,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"INSERT INTO sign_in_failures AS f (key, kind, failures, in_flight)
           VALUES ($1, 'account', 0, 1)
           ON CONFLICT (key) DO UPDATE SET in_flight = f.in_flight + 1
           WHERE f.failures + f.in_flight < $2"#,
        key,
        cap
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The attempt's password was wrong: one more consecutive failure.
pub async fn account_attempt_failed(
    db: impl PgExecutor<'_>,
    key: &[u8],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE sign_in_failures
           SET failures = failures + 1, in_flight = greatest(in_flight - 1, 0),
               first_failure_at = coalesce(first_failure_at, $2), last_failure_at = $2
           WHERE key = $1"#,
        key,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The attempt's password was right: the consecutive failures are over (the row goes when no
/// other attempt is in flight).
pub async fn account_attempt_passed(db: &sqlx::PgPool, key: &[u8]) -> Result<(), sqlx::Error> {
    let deleted = sqlx::query!(
        "DELETE FROM sign_in_failures WHERE key = $1 AND in_flight <= 1",
        key
    )
    .execute(db)
    .await?;
    if deleted.rows_affected() == 1 {
        return Ok(());
    }
    sqlx::query!(
        r#"UPDATE sign_in_failures
           SET failures = 0, in_flight = greatest(in_flight - 1, 0),
               first_failure_at = NULL, last_failure_at = NULL
           WHERE key = $1"#,
        key
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The attempt's password was not checked (the server was busy): it counts for nothing.
pub async fn account_attempt_unchecked(
    db: impl PgExecutor<'_>,
    key: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE sign_in_failures SET in_flight = greatest(in_flight - 1, 0) WHERE key = $1",
        key
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn clear(db: impl PgExecutor<'_>, key: &[u8]) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM sign_in_failures WHERE key = $1", key)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a failure from a client address in its current window, starting a new window when
/// the last one began at or before `window_start`.
pub async fn count_client_failure(
    db: impl PgExecutor<'_>,
    key: &[u8],
    window_start: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO sign_in_failures AS f (key, kind, failures, first_failure_at, last_failure_at)
           VALUES ($1, 'client', 1, $3, $3)
           ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN f.first_failure_at <= $2 THEN 1 ELSE f.failures + 1 END,
               first_failure_at = CASE WHEN f.first_failure_at <= $2 THEN $3
                                       ELSE f.first_failure_at END,
               last_failure_at = $3"#,
        key,
        window_start,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets client windows that began at or before `window_start` (they no longer count).
pub async fn delete_old_client_windows(
    db: impl PgExecutor<'_>,
    window_start: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM sign_in_failures WHERE kind = 'client' AND first_failure_at <= $1",
        window_start
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
