//! `attempt_counters`: failed attempts per account address, recognised browser, account second
//! factor, client address, step-up prompt and sign-up source. Keys are hashes (see the
//! migrations); nothing here is secret.

use sqlx::PgExecutor;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub failures: i32,
    pub in_flight: i32,
    pub in_flight_since: Option<OffsetDateTime>,
    pub first_failure_at: Option<OffsetDateTime>,
    pub last_failure_at: Option<OffsetDateTime>,
    /// The failure count at which a refusal was last logged.
    pub refusal_logged_at: Option<i32>,
}

#[tracing::instrument(skip_all)]
pub async fn find(db: impl PgExecutor<'_>, key: &[u8]) -> Result<Option<Counts>, sqlx::Error> {
    sqlx::query_as!(
        Counts,
        r#"SELECT failures, in_flight, in_flight_since, first_failure_at, last_failure_at,
                  refusal_logged_at
           FROM attempt_counters WHERE key = $1"#,
        key
    )
    .fetch_optional(db)
    .await
}

/// The schedule an attempt on a counter of consecutive failures is let through by.
pub struct ConsecutiveRule {
    /// Failures plus attempts in flight below this go ahead side by side (the free attempts);
    /// from there on only one attempt at a time, after its wait.
    pub free: i32,
    /// Failures plus attempts in flight must stay below this (the lock).
    pub lock: i32,
    /// The wait after `free + n` failures is 2^n seconds, at most this.
    pub max_delay_secs: i64,
    pub now: OffsetDateTime,
    /// Attempts in flight that began at or before this are stale and no longer count.
    pub stale_before: OffsetDateTime,
}

/// Counts an attempt as in flight if `rule` allows it now, in one atomic statement (the wait
/// after the last failure is worked out in SQL, the same schedule as `attempts::delay_after`):
/// parallel attempts cannot slip past the free attempts, a wait or the lock together, and the
/// usual case costs one round trip. False: refused (read the counts to say why).
#[tracing::instrument(skip_all)]
pub async fn start_consecutive(
    db: impl PgExecutor<'_>,
    key: &[u8],
    kind: &str,
    rule: ConsecutiveRule,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"INSERT INTO attempt_counters AS f (key, kind, failures, in_flight, in_flight_since)
           VALUES ($1, $2, 0, 1, $6)
           ON CONFLICT (key) DO UPDATE SET
               in_flight = CASE WHEN f.in_flight_since > $7 THEN f.in_flight + 1 ELSE 1 END,
               in_flight_since = $6
           WHERE f.failures + CASE WHEN f.in_flight_since > $7 THEN f.in_flight ELSE 0 END < $4
             AND (f.failures + CASE WHEN f.in_flight_since > $7 THEN f.in_flight ELSE 0 END < $3
                  OR f.in_flight = 0 OR f.in_flight_since IS NULL OR f.in_flight_since <= $7)
             AND (f.failures < $3 OR f.last_failure_at IS NULL
                  OR f.last_failure_at
                     + make_interval(secs => least(power(2, least(f.failures - $3, 20)), $5))
                     <= $6)"#,
        key,
        kind,
        rule.free,
        rule.lock,
        rule.max_delay_secs as f64,
        rule.now,
        rule.stale_before,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An attempt's counters, side by side: key, kind, and for a counter of failures in a window
/// the start of the window an earlier failure must fall in to still count and the most a window
/// may hold (both `None` for a counter of consecutive failures).
#[derive(Default)]
pub struct AttemptStarts {
    pub keys: Vec<Vec<u8>>,
    pub kinds: Vec<String>,
    pub window_starts: Vec<Option<OffsetDateTime>>,
    pub maxima: Vec<Option<i32>>,
}

/// [`start_in_window`] and [`start_consecutive`] for every counter of an attempt, in one
/// statement: the usual case on every sign-in's path, where each round trip and commit costs CPU
/// the password hashing needs. Returns the keys the attempt was counted toward; a key missing
/// refused it (the caller takes back the others).
///
/// Rows are locked in ascending key order, as [`settle_passed`] locks them: two statements that
/// each lock several counters cannot deadlock. A row inserted as a window's counts one failure
/// (`excluded.failures = 1`); a consecutive counter's, none.
#[tracing::instrument(skip_all)]
pub async fn start_all(
    db: impl PgExecutor<'_>,
    starts: &AttemptStarts,
    rule: ConsecutiveRule,
) -> Result<Vec<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH p AS (
               SELECT * FROM unnest($1::bytea[], $2::text[], $3::timestamptz[], $4::int4[])
                   AS p(counter_key, counter_kind, window_start, max_failures)
           )
           INSERT INTO attempt_counters AS f
               (key, kind, failures, in_flight, in_flight_since, first_failure_at, last_failure_at)
           SELECT counter_key, counter_kind,
                  CASE WHEN window_start IS NULL THEN 0 ELSE 1 END,
                  CASE WHEN window_start IS NULL THEN 1 ELSE 0 END,
                  CASE WHEN window_start IS NULL THEN $8::timestamptz END,
                  CASE WHEN window_start IS NULL THEN NULL ELSE $8::timestamptz END,
                  CASE WHEN window_start IS NULL THEN NULL ELSE $8::timestamptz END
           FROM p ORDER BY counter_key
           ON CONFLICT (key) DO UPDATE SET
               failures = CASE
                   WHEN excluded.failures = 0 THEN f.failures
                   WHEN f.first_failure_at
                        <= (SELECT window_start FROM p WHERE counter_key = f.key) THEN 1
                   ELSE f.failures + 1 END,
               first_failure_at = CASE
                   WHEN excluded.failures = 1
                        AND f.first_failure_at
                            <= (SELECT window_start FROM p WHERE counter_key = f.key) THEN $8
                   ELSE f.first_failure_at END,
               last_failure_at = CASE
                   WHEN excluded.failures = 1 THEN $8 ELSE f.last_failure_at END,
               refusal_logged_at = CASE
                   WHEN excluded.failures = 1
                        AND f.first_failure_at
                            <= (SELECT window_start FROM p WHERE counter_key = f.key) THEN NULL
                   ELSE f.refusal_logged_at END,
               in_flight = CASE
                   WHEN excluded.failures = 1 THEN f.in_flight
                   WHEN f.in_flight_since > $9 THEN f.in_flight + 1
                   ELSE 1 END,
               in_flight_since = CASE
                   WHEN excluded.failures = 1 THEN f.in_flight_since ELSE $8 END
           WHERE CASE WHEN excluded.failures = 1 THEN
                   -- a window: a new one, or room left in this one
                   f.first_failure_at <= (SELECT window_start FROM p WHERE counter_key = f.key)
                   OR f.failures < (SELECT max_failures FROM p WHERE counter_key = f.key)
                 ELSE
                   -- consecutive failures: as in start_consecutive
                   f.failures + CASE WHEN f.in_flight_since > $9 THEN f.in_flight ELSE 0 END < $6
                   AND (f.failures + CASE WHEN f.in_flight_since > $9 THEN f.in_flight ELSE 0 END
                          < $5
                        OR f.in_flight = 0 OR f.in_flight_since IS NULL
                        OR f.in_flight_since <= $9)
                   AND (f.failures < $5 OR f.last_failure_at IS NULL
                        OR f.last_failure_at
                           + make_interval(secs => least(power(2, least(f.failures - $5, 20)), $7))
                           <= $8)
                 END
           RETURNING key"#,
        &starts.keys,
        &starts.kinds,
        &starts.window_starts as &[Option<OffsetDateTime>],
        &starts.maxima as &[Option<i32>],
        rule.free,
        rule.lock,
        rule.max_delay_secs as f64,
        rule.now,
        rule.stale_before,
    )
    .fetch_all(db)
    .await
}

/// The attempt failed: one more consecutive failure. Returns the new count.
#[tracing::instrument(skip_all)]
pub async fn consecutive_failed(
    db: impl PgExecutor<'_>,
    key: &[u8],
    now: OffsetDateTime,
) -> Result<i32, sqlx::Error> {
    let failures = sqlx::query_scalar!(
        r#"UPDATE attempt_counters
           SET failures = failures + 1, in_flight = greatest(in_flight - 1, 0),
               first_failure_at = coalesce(first_failure_at, $2), last_failure_at = $2
           WHERE key = $1
           RETURNING failures"#,
        key,
        now
    )
    .fetch_optional(db)
    .await?;
    Ok(failures.unwrap_or(0))
}

/// Counts one more consecutive failure without any attempt in flight (a wrong answer given
/// inside a session, fed to the account's counter). Returns the new count.
#[tracing::instrument(skip_all)]
pub async fn count_consecutive_failure(
    db: impl PgExecutor<'_>,
    key: &[u8],
    kind: &str,
    now: OffsetDateTime,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO attempt_counters AS f
               (key, kind, failures, first_failure_at, last_failure_at)
           VALUES ($1, $2, 1, $3, $3)
           ON CONFLICT (key) DO UPDATE SET
               failures = f.failures + 1,
               first_failure_at = coalesce(f.first_failure_at, $3), last_failure_at = $3
           RETURNING failures"#,
        key,
        kind,
        now
    )
    .fetch_one(db)
    .await
}

/// What a passed attempt settles: the counters of consecutive failures it ends, and the windows
/// it is taken back from.
#[derive(Debug, Default)]
pub struct Settlement {
    pub consecutive: Vec<Vec<u8>>,
    pub windows: Vec<Vec<u8>>,
}

/// The attempt passed: consecutive failures are over for `consecutive`, and the attempt is
/// taken back from the windows `windows`. One statement, as it is on every sign-in's path; the
/// rows are updated in place (cheap heap-only updates, no index churn) rather than deleted, and
/// the sweeper forgets quiet ones. Locked in ascending key order, as [`start_all`] locks them.
#[tracing::instrument(skip_all)]
pub async fn settle_passed(
    db: impl PgExecutor<'_>,
    consecutive: &[Vec<u8>],
    windows: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"WITH locked AS MATERIALIZED (
               SELECT key FROM attempt_counters
               WHERE key = ANY($1::bytea[]) OR key = ANY($2::bytea[])
               ORDER BY key
               FOR UPDATE
           )
           UPDATE attempt_counters AS a SET
               failures = CASE WHEN a.key = ANY($1::bytea[]) THEN 0
                               ELSE greatest(a.failures - 1, 0) END,
               in_flight = CASE WHEN a.key = ANY($1::bytea[]) THEN greatest(a.in_flight - 1, 0)
                                ELSE a.in_flight END,
               first_failure_at = CASE WHEN a.key = ANY($1::bytea[]) THEN NULL
                                       ELSE a.first_failure_at END,
               last_failure_at = CASE WHEN a.key = ANY($1::bytea[]) THEN NULL
                                      ELSE a.last_failure_at END,
               refusal_logged_at = CASE WHEN a.key = ANY($1::bytea[]) THEN NULL
                                        ELSE a.refusal_logged_at END
           FROM locked WHERE a.key = locked.key"#,
        consecutive,
        windows,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The attempt was not checked (the server was busy, the client went away, the challenge was
/// gone): it no longer counts as in flight.
#[tracing::instrument(skip_all)]
pub async fn consecutive_unchecked(db: impl PgExecutor<'_>, key: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE attempt_counters SET in_flight = greatest(in_flight - 1, 0) WHERE key = $1",
        key
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn clear(db: impl PgExecutor<'_>, key: &[u8]) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM attempt_counters WHERE key = $1", key)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts an attempt in its window (a new window when the last began at or before
/// `window_start`), unless the window already holds `max` (false). Atomic.
#[tracing::instrument(skip_all)]
pub async fn start_in_window(
    db: impl PgExecutor<'_>,
    key: &[u8],
    kind: &str,
    window_start: OffsetDateTime,
    max: i32,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"INSERT INTO attempt_counters AS f (key, kind, failures, first_failure_at, last_failure_at)
           VALUES ($1, $2, 1, $4, $4)
           ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN f.first_failure_at <= $3 THEN 1 ELSE f.failures + 1 END,
               first_failure_at = CASE WHEN f.first_failure_at <= $3 THEN $4
                                       ELSE f.first_failure_at END,
               last_failure_at = $4,
               refusal_logged_at = CASE WHEN f.first_failure_at <= $3 THEN NULL
                                        ELSE f.refusal_logged_at END
           WHERE f.first_failure_at <= $3 OR f.failures < $5"#,
        key,
        kind,
        window_start,
        now,
        max
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a failure in its window whatever the count (a wrong password from a browser that the
/// window does not hold back).
#[tracing::instrument(skip_all)]
pub async fn count_in_window(
    db: impl PgExecutor<'_>,
    key: &[u8],
    kind: &str,
    window_start: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO attempt_counters AS f (key, kind, failures, first_failure_at, last_failure_at)
           VALUES ($1, $2, 1, $4, $4)
           ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN f.first_failure_at <= $3 THEN 1 ELSE f.failures + 1 END,
               first_failure_at = CASE WHEN f.first_failure_at <= $3 THEN $4
                                       ELSE f.first_failure_at END,
               last_failure_at = $4,
               refusal_logged_at = CASE WHEN f.first_failure_at <= $3 THEN NULL
                                        ELSE f.refusal_logged_at END"#,
        key,
        kind,
        window_start,
        now,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Takes back an attempt counted in a window that turned out not to be a failure.
#[tracing::instrument(skip_all)]
pub async fn take_back_in_window(db: impl PgExecutor<'_>, key: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE attempt_counters SET failures = greatest(failures - 1, 0) WHERE key = $1",
        key
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether a refusal at the counter's present failure count is still to be written to the
/// security log; claims it atomically, so it is written once however often the refused party
/// retries.
#[tracing::instrument(skip_all)]
pub async fn claim_refusal_log(db: impl PgExecutor<'_>, key: &[u8]) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE attempt_counters SET refusal_logged_at = failures
           WHERE key = $1 AND refusal_logged_at IS DISTINCT FROM failures"#,
        key
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the sweeper may forget.
pub struct Stale {
    /// Window counters of each kind whose window began at or before the given time.
    pub windows: Vec<(&'static str, OffsetDateTime)>,
    /// Consecutive counters of these kinds…
    pub consecutive_kinds: Vec<&'static str>,
    /// …with fewer failures than this (none locked, none waiting)…
    pub below: i32,
    /// …and nothing since this.
    pub quiet_since: OffsetDateTime,
    /// In-flight marks older than this count for nothing.
    pub in_flight_before: OffsetDateTime,
    /// Counters of consecutive failures short of this (not locked)…
    pub waiting_below: i32,
    /// …and quiet since this are forgotten too.
    pub waiting_quiet_since: OffsetDateTime,
}

/// Forgets what no longer counts: windows that are over; counters of consecutive failures that
/// hold only a few failures and have been quiet for a while, or nothing but stale attempts in
/// flight.
#[tracing::instrument(skip_all)]
pub async fn delete_stale(db: &sqlx::PgPool, stale: &Stale) -> Result<u64, sqlx::Error> {
    let (window_kinds, window_starts): (Vec<String>, Vec<OffsetDateTime>) = stale
        .windows
        .iter()
        .map(|(kind, start)| ((*kind).to_owned(), *start))
        .unzip();
    let windows = sqlx::query!(
        r#"DELETE FROM attempt_counters AS f
           USING unnest($1::text[], $2::timestamptz[]) AS w(kind, start)
           WHERE f.kind = w.kind AND f.first_failure_at <= w.start"#,
        &window_kinds,
        &window_starts,
    )
    .execute(db)
    .await?;
    let consecutive_kinds: Vec<String> = stale
        .consecutive_kinds
        .iter()
        .map(|kind| (*kind).to_owned())
        .collect();
    let consecutive = sqlx::query!(
        r#"DELETE FROM attempt_counters
           WHERE kind = ANY($1::text[])
             AND ((failures < $2
                   AND coalesce(greatest(last_failure_at, in_flight_since), $3) <= $3)
                  OR (failures < $5
                      AND coalesce(greatest(last_failure_at, in_flight_since), $6) <= $6)
                  OR (failures = 0 AND (in_flight = 0 OR in_flight_since <= $4)))"#,
        &consecutive_kinds,
        stale.below,
        stale.quiet_since,
        stale.in_flight_before,
        stale.waiting_below,
        stale.waiting_quiet_since,
    )
    .execute(db)
    .await?;
    Ok(windows.rows_affected() + consecutive.rows_affected())
}
