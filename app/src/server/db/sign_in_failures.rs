//! `sign_in_failures`: failed password sign-ins per account address and per client address.
//! Keys are hashes (see the migration); nothing here is secret.

use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub failures: i32,
    pub in_flight: i32,
    pub in_flight_since: Option<OffsetDateTime>,
    pub first_failure_at: Option<OffsetDateTime>,
    pub last_failure_at: Option<OffsetDateTime>,
}

pub async fn find(db: impl PgExecutor<'_>, key: &[u8]) -> Result<Option<Failures>, sqlx::Error> {
    sqlx::query_as!(
        Failures,
        r#"SELECT failures, in_flight, in_flight_since, first_failure_at, last_failure_at
           FROM sign_in_failures WHERE key = $1"#,
        key
    )
    .fetch_optional(db)
    .await
}

/// What an attempt at an account address needs to be let through.
pub struct AccountAttemptRule {
    /// The consecutive failures the caller saw (and judged the wait by): a compare-and-set.
    pub observed_failures: i32,
    /// Only if no other attempt is in flight (once the free attempts are used up).
    pub one_at_a_time: bool,
    /// Failures plus attempts in flight must stay below this (the lock).
    pub cap: i32,
    pub now: OffsetDateTime,
    /// Attempts in flight that began at or before this are stale and no longer count.
    pub stale_before: OffsetDateTime,
}

/// Counts an attempt at an account address as in flight if `rule` allows it, in one atomic
/// statement: parallel attempts cannot slip past a wait or the lock together. False: refused,
/// or the failures changed meanwhile (read again).
pub async fn start_account_attempt(
    db: impl PgExecutor<'_>,
    key: &[u8],
    rule: AccountAttemptRule,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"INSERT INTO sign_in_failures AS f (key, kind, failures, in_flight, in_flight_since)
           VALUES ($1, 'account', 0, 1, $5)
           ON CONFLICT (key) DO UPDATE SET
               in_flight = CASE WHEN f.in_flight_since > $6 THEN f.in_flight + 1 ELSE 1 END,
               in_flight_since = $5
           WHERE f.failures = $2
             AND f.failures + CASE WHEN f.in_flight_since > $6 THEN f.in_flight ELSE 0 END < $4
             AND (NOT $3 OR f.in_flight = 0 OR f.in_flight_since IS NULL
                  OR f.in_flight_since <= $6)"#,
        key,
        rule.observed_failures,
        rule.one_at_a_time,
        rule.cap,
        rule.now,
        rule.stale_before,
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

/// The attempt's password was right: the consecutive failures are over. Usually it was the
/// only attempt in flight and the row simply goes (one statement on the sign-in path);
/// otherwise the count is reset and the others' attempts stay in flight. Two right passwords
/// finishing together may leave a row at zero, which counts for nothing and is swept.
pub async fn account_attempt_passed(db: &PgPool, key: &[u8]) -> Result<(), sqlx::Error> {
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

/// The attempt's password was not checked (the server was busy, the client went away).
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

/// Counts an attempt from a client address in its window (a new window when the last began at
/// or before `window_start`), unless the window already holds `max` (false). Atomic.
pub async fn start_client_attempt(
    db: impl PgExecutor<'_>,
    key: &[u8],
    window_start: OffsetDateTime,
    max: i32,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"INSERT INTO sign_in_failures AS f (key, kind, failures, first_failure_at, last_failure_at)
           VALUES ($1, 'client', 1, $3, $3)
           ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN f.first_failure_at <= $2 THEN 1 ELSE f.failures + 1 END,
               first_failure_at = CASE WHEN f.first_failure_at <= $2 THEN $3
                                       ELSE f.first_failure_at END,
               last_failure_at = $3
           WHERE f.first_failure_at <= $2 OR f.failures < $4"#,
        key,
        window_start,
        now,
        max
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes back a client attempt that turned out not to be a wrong password.
pub async fn take_back_client_attempt(
    db: impl PgExecutor<'_>,
    key: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE sign_in_failures SET failures = greatest(failures - 1, 0) WHERE key = $1",
        key
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets what no longer counts: client windows that began at or before `window_start`, and
/// account addresses with fewer than `keep_from` failures and nothing since `quiet_since`
/// (mostly addresses someone merely mistyped or tried once).
pub async fn delete_stale(
    db: impl PgExecutor<'_>,
    window_start: OffsetDateTime,
    keep_from: i32,
    quiet_since: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"DELETE FROM sign_in_failures
           WHERE (kind = 'client' AND first_failure_at <= $1)
              OR (kind = 'account' AND failures < $2
                  AND coalesce(greatest(last_failure_at, in_flight_since), $3) <= $3)"#,
        window_start,
        keep_from,
        quiet_since
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
