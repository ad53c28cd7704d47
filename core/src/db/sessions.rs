use super::attempt_counters::Settlement;
use crate::ids::{SessionId, UserId};
use crate::security_log::SecurityEvent;
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// How far a session has signed in: the `sessions.level` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Signed in: the settings are reachable.
    Full,
    /// Password checked, second factor not yet: only the challenge is reachable.
    PasswordOnly,
}

super::stored_as_text!(Level, "session level", {
    Full => "full",
    PasswordOnly => "password_only",
});

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: SessionId,
    pub user_id: UserId,
    pub level: Level,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub authenticated_at: OffsetDateTime,
    pub second_factor_at: Option<OffsetDateTime>,
    pub challenge_attempts: i32,
    /// The account's address, for the page header (read with the session, so no page needs a
    /// query of its own to show who is signed in).
    pub email: String,
}

pub struct NewSession<'a> {
    pub user_id: UserId,
    pub token_hash: &'a [u8],
    pub level: Level,
    /// Set when the session begins with a second factor just passed (the sign-in challenge).
    pub second_factor_at: Option<OffsetDateTime>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub now: OffsetDateTime,
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    new: NewSession<'_>,
) -> Result<SessionId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO sessions
             (user_id, token_hash, level, created_at, last_seen_at, authenticated_at,
              second_factor_at, ip, user_agent)
           VALUES ($1, $2, $3, $4, $4, $4, $7, $5, $6)
           RETURNING id AS "id: SessionId""#,
        new.user_id as UserId,
        new.token_hash,
        new.level.as_str(),
        new.now,
        new.ip,
        new.user_agent,
        new.second_factor_at,
    )
    .fetch_one(db)
    .await
}

/// Like [`insert`], but only while the user's password hash is still `password_hash`. The user
/// row is share-locked, so a concurrent password change either commits first (and this inserts
/// nothing) or waits until this session exists (and its "sign out other sessions" ends it).
#[tracing::instrument(skip_all)]
pub async fn insert_if_password_is(
    db: impl PgExecutor<'_>,
    new: NewSession<'_>,
    password_hash: &str,
) -> Result<Option<SessionId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO sessions
             (user_id, token_hash, level, created_at, last_seen_at, authenticated_at,
              second_factor_at, ip, user_agent)
           SELECT id, $2, $3, $4, $4, $4, $8, $5, $6
           FROM users WHERE id = $1 AND password_hash = $7
           FOR SHARE
           RETURNING id AS "id: SessionId""#,
        new.user_id as UserId,
        new.token_hash,
        new.level.as_str(),
        new.now,
        new.ip,
        new.user_agent,
        password_hash,
        new.second_factor_at,
    )
    .fetch_optional(db)
    .await
}

/// A sign-in that has just checked the password.
pub struct NewSignIn<'a> {
    pub session: NewSession<'a>,
    /// The password hash just verified: no session is started if it has changed meanwhile.
    pub verified_hash: &'a str,
    /// The account's factors version the sign-in decided by: no session either if the
    /// factors have changed meanwhile.
    pub factors_version: i64,
    /// For a full session: the browser to remember as recognised (token hash), and the log
    /// entry to write (kind and details).
    pub completed: Option<CompletedSignIn<'a>>,
    /// The password attempt's counters to settle as passed (as
    /// [`super::attempt_counters::settle_passed`] does), whether or not the session starts: the
    /// password was right either way.
    pub settle: &'a Settlement,
}

pub struct CompletedSignIn<'a> {
    pub browser_token_hash: &'a [u8],
    pub event: SecurityEvent,
}

/// Starts the session of a sign-in whose password was just verified, only while the account's
/// password hash is still `verified_hash` and its factors version still `factors_version` (the
/// user row is share-locked, as in [`insert_if_password_is`], and PostgreSQL re-checks both on
/// the row after waiting for a concurrent change); for a full session also remembers the browser and writes the
/// log entry. One statement with data-modifying CTEs, atomic as a transaction: it is on every
/// sign-in's path, where each round trip and commit costs CPU the password hashing needs. The
/// password attempt is settled in the same statement, its counters locked in ascending key
/// order as every statement holding several counters locks them.
#[tracing::instrument(skip_all)]
pub async fn insert_signed_in(
    db: impl PgExecutor<'_>,
    new: NewSignIn<'_>,
) -> Result<Option<SessionId>, sqlx::Error> {
    let session = new.session;
    let (browser, kind, details) = match new.completed {
        Some(done) => (
            Some(done.browser_token_hash),
            Some(done.event.kind()),
            done.event.details(),
        ),
        None => (None, None, serde_json::Value::Null),
    };
    sqlx::query_scalar!(
        r#"WITH locked AS MATERIALIZED (
               SELECT key FROM attempt_counters
               WHERE key = ANY($12::bytea[]) OR key = ANY($13::bytea[])
               ORDER BY key
               FOR UPDATE
           ), settled AS (
               UPDATE attempt_counters AS a SET
                   failures = CASE WHEN a.key = ANY($12::bytea[]) THEN 0
                                   ELSE greatest(a.failures - 1, 0) END,
                   in_flight = CASE WHEN a.key = ANY($12::bytea[])
                                    THEN greatest(a.in_flight - 1, 0) ELSE a.in_flight END,
                   first_failure_at = CASE WHEN a.key = ANY($12::bytea[]) THEN NULL
                                           ELSE a.first_failure_at END,
                   last_failure_at = CASE WHEN a.key = ANY($12::bytea[]) THEN NULL
                                          ELSE a.last_failure_at END,
                   refusal_logged_at = CASE WHEN a.key = ANY($12::bytea[]) THEN NULL
                                            ELSE a.refusal_logged_at END
               FROM locked WHERE a.key = locked.key
           ), s AS (
               INSERT INTO sessions
                 (user_id, token_hash, level, created_at, last_seen_at, authenticated_at,
                  second_factor_at, ip, user_agent)
               SELECT id, $2, $3, $4, $4, $4, NULL, $5, $6
               FROM users WHERE id = $1 AND password_hash = $7 AND factors_version = $11
               FOR SHARE
               RETURNING id, user_id
           ), b AS (
               INSERT INTO recognised_browsers (token_hash, user_id, created_at, last_used_at)
               SELECT $8::bytea, user_id, $4, $4 FROM s WHERE $8::bytea IS NOT NULL
               ON CONFLICT (token_hash, user_id) DO UPDATE SET last_used_at = $4
           ), e AS (
               INSERT INTO security_events (user_id, kind, occurred_at, ip, user_agent, details)
               SELECT user_id, $9::text, $4, $5, $6, $10 FROM s WHERE $9::text IS NOT NULL
           )
           SELECT id AS "id!: SessionId" FROM s"#,
        session.user_id as UserId,
        session.token_hash,
        session.level.as_str(),
        session.now,
        session.ip,
        session.user_agent,
        new.verified_hash,
        browser,
        kind,
        details,
        new.factors_version,
        &new.settle.consecutive,
        &new.settle.windows,
    )
    .fetch_optional(db)
    .await
}

/// The session for `token_hash` unless it has been idle since `idle_cutoff` or was created
/// before `absolute_cutoff`.
#[tracing::instrument(skip_all)]
pub async fn find_live(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    idle_cutoff: OffsetDateTime,
    absolute_cutoff: OffsetDateTime,
) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as!(
        SessionRow,
        r#"SELECT s.id, s.user_id, s.level AS "level: Level", s.created_at, s.last_seen_at,
                  s.authenticated_at, s.second_factor_at, s.challenge_attempts, u.email
           FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_hash = $1 AND s.last_seen_at > $2 AND s.created_at > $3"#,
        token_hash,
        idle_cutoff,
        absolute_cutoff,
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn touch(
    db: impl PgExecutor<'_>,
    id: SessionId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE sessions SET last_seen_at = $2 WHERE id = $1",
        id as SessionId,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, id: SessionId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE id = $1", id as SessionId)
        .execute(db)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_by_token_hash(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Ends every session of the user except `keep`; returns how many ended.
#[tracing::instrument(skip_all)]
pub async fn delete_others(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    keep: SessionId,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND id <> $2",
        user_id as UserId,
        keep as SessionId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Live sessions of the user (expired ones not yet swept do not count).
#[tracing::instrument(skip_all)]
pub async fn count_live_for_user(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    idle_cutoff: OffsetDateTime,
    absolute_cutoff: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    let count = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM sessions
           WHERE user_id = $1 AND last_seen_at > $2 AND created_at > $3"#,
        user_id as UserId,
        idle_cutoff,
        absolute_cutoff,
    )
    .fetch_one(db)
    .await?;
    Ok(count)
}

/// Removes sessions past either timeout; returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_expired(
    db: impl PgExecutor<'_>,
    idle_cutoff: OffsetDateTime,
    absolute_cutoff: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2",
        idle_cutoff,
        absolute_cutoff,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Counts a code entered at the challenge of half-authenticated session `id`, before it is
/// checked (so concurrent guesses are all counted). Returns the new count; `None` when `id` is
/// not a challenge session (any more).
#[tracing::instrument(skip_all)]
pub async fn count_challenge_attempt(
    db: impl PgExecutor<'_>,
    id: SessionId,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE sessions SET challenge_attempts = challenge_attempts + 1
           WHERE id = $1 AND level = 'password_only'
           RETURNING challenge_attempts"#,
        id as SessionId
    )
    .fetch_optional(db)
    .await
}

/// Ends the half-authenticated session `id`; false if it was already gone (a concurrent
/// attempt passed or ended it first).
#[tracing::instrument(skip_all)]
pub async fn delete_challenge(db: impl PgExecutor<'_>, id: SessionId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE id = $1 AND level = 'password_only'",
        id as SessionId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives session `id` a new token (its old cookie stops working) after a fresh check: the
/// session id changes with every privilege change (OWASP). `password` marks a password check
/// (`authenticated_at`), `second_factor` a second-factor check (`second_factor_at`).
#[tracing::instrument(skip_all)]
pub async fn rotate_token(
    db: impl PgExecutor<'_>,
    id: SessionId,
    token_hash: &[u8],
    checked: Checked,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE sessions
           SET token_hash = $2, last_seen_at = $3,
               authenticated_at = CASE WHEN $4 THEN $3 ELSE authenticated_at END,
               second_factor_at = CASE WHEN $5 THEN $3 ELSE second_factor_at END
           WHERE id = $1 AND level = 'full'"#,
        id as SessionId,
        token_hash,
        now,
        checked.password,
        checked.second_factor,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which checks a session just passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    pub password: bool,
    pub second_factor: bool,
}

/// When the full session `id` last checked the password and a second factor; `None` when it
/// has ended.
#[tracing::instrument(skip_all)]
pub async fn find_checks(
    db: impl PgExecutor<'_>,
    id: SessionId,
) -> Result<Option<SessionChecks>, sqlx::Error> {
    sqlx::query_as!(
        SessionChecks,
        r#"SELECT authenticated_at, second_factor_at FROM sessions
           WHERE id = $1 AND level = 'full'"#,
        id as SessionId
    )
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone, Copy)]
pub struct SessionChecks {
    pub authenticated_at: OffsetDateTime,
    pub second_factor_at: Option<OffsetDateTime>,
}
