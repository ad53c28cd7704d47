//! Server-side sessions: creation at sign-in, lookup on every request, timeouts, sign-out.

pub mod browsers;

pub use crate::client::ClientInfo;

use crate::db::attempt_counters::Settlement;
pub use crate::db::sessions::Checked;
use crate::db::sessions::{self as repo, NewSession};
use crate::error::Error;
use crate::ids::{SessionId, UserId};
use crate::infra::config::Settings;
use crate::primitives::token;
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// Who is making the request: attached to the request by the session middleware and read by
/// server functions. Carries no secret.
#[derive(Clone, Debug)]
pub struct CurrentSession {
    pub session_id: SessionId,
    pub user_id: UserId,
    /// The last password check in this session.
    pub authenticated_at: OffsetDateTime,
    /// The last second-factor check in this session (the sign-in challenge, "Confirm it's you"
    /// with a code, or the enrollment it completed); `None`: never. A trusted browser skips the
    /// challenge without passing one.
    pub second_factor_at: Option<OffsetDateTime>,
    /// The account's address as it was when the request began (shown in the page header).
    pub email: String,
}

impl CurrentSession {
    /// Whether the session passed a second factor no longer than `window` before `now`.
    pub fn second_factor_within(&self, window: time::Duration, now: OffsetDateTime) -> bool {
        self.second_factor_at.is_some_and(|at| now - at <= window)
    }

    /// Whether the session checked the password or a second factor no longer than `window`
    /// before `now`.
    pub fn any_check_within(&self, window: time::Duration, now: OffsetDateTime) -> bool {
        now - self.authenticated_at <= window || self.second_factor_within(window, now)
    }
}

/// A half-authenticated session: the password was right, the second factor is still to come.
/// It reaches nothing but the challenge.
#[derive(Clone, Debug)]
pub struct PendingChallenge {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub attempts: i32,
}

/// What a session cookie opens.
#[derive(Clone, Debug)]
pub enum Authenticated {
    Full(CurrentSession),
    Challenge(PendingChallenge),
}

/// What a new session has proved as it begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proved {
    Password,
    PasswordAndSecondFactor,
}

/// Which kind of session to create.
pub use crate::db::sessions::Level;

/// A challenge left unanswered this long is over: the person signs in again.
pub const CHALLENGE_LIFETIME: time::Duration = time::Duration::minutes(10);

/// Last-seen times are written at most this often, so reads do not each cost a write.
const TOUCH_INTERVAL: time::Duration = time::Duration::seconds(60);

/// Creates a fully signed-in session and returns its secret token (for the cookie only).
#[tracing::instrument(skip_all)]
pub async fn start(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    proved: Proved,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<String, Error> {
    let new_token = token::generate();
    let mut session = new_session(user_id, Level::Full, &new_token, client, now);
    if proved == Proved::PasswordAndSecondFactor {
        session.second_factor_at = Some(now);
    }
    repo::insert(db, session).await?;
    Ok(new_token.secret)
}

/// Starts a session of `level`, but only if the password the person just proved is still the
/// account's: a sign-in racing a password change must not leave a session behind it. `None`
/// otherwise.
#[tracing::instrument(skip_all)]
pub async fn start_if_password_is(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    level: Level,
    verified_hash: &str,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<Option<String>, Error> {
    let new_token = token::generate();
    let created = repo::insert_if_password_is(
        db,
        new_session(user_id, level, &new_token, client, now),
        verified_hash,
    )
    .await?;
    Ok(created.map(|_| new_token.secret))
}

/// A sign-in's session, started in one statement only while the password the person just proved
/// is still the account's (a sign-in racing a password change must not leave a session behind
/// it) and its factors are as the sign-in saw them; a full one also remembers the browser and
/// writes the log entry `completed` names. Returns the session's secret token, `None` when
/// either changed meanwhile.
#[tracing::instrument(skip_all)]
pub async fn start_signed_in(
    db: impl PgExecutor<'_>,
    level: Level,
    seen: AccountAsSeen<'_>,
    completed: Option<repo::CompletedSignIn<'_>>,
    settle: &Settlement,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<Option<String>, Error> {
    let new_token = token::generate();
    let created = repo::insert_signed_in(
        db,
        repo::NewSignIn {
            session: new_session(seen.user_id, level, &new_token, client, now),
            verified_hash: seen.password_hash,
            factors_version: seen.factors_version,
            completed,
            settle,
        },
    )
    .await?;
    Ok(created.map(|_| new_token.secret))
}

/// The account as a sign-in saw it: the password hash it verified and the factors version it
/// decided the challenge by.
#[derive(Clone, Copy, Debug)]
pub struct AccountAsSeen<'a> {
    pub user_id: UserId,
    pub password_hash: &'a str,
    pub factors_version: i64,
}

fn new_session<'a>(
    user_id: UserId,
    level: Level,
    token: &'a token::NewToken,
    client: &'a ClientInfo,
    now: OffsetDateTime,
) -> NewSession<'a> {
    NewSession {
        user_id,
        token_hash: &token.hash,
        level,
        second_factor_at: None,
        ip: client.ip.as_deref(),
        user_agent: client.user_agent.as_deref(),
        now,
    }
}

/// The fully signed-in session for `secret`, refreshing its last-seen time; `None` when unknown,
/// expired or only half authenticated.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    pool: &sqlx::PgPool,
    settings: &Settings,
    secret: &str,
    now: OffsetDateTime,
) -> Result<Option<CurrentSession>, Error> {
    Ok(match authenticate_any(pool, settings, secret, now).await? {
        Some(Authenticated::Full(session)) => Some(session),
        _ => None,
    })
}

/// Whatever live session `secret` opens: full, or a challenge still to be answered.
#[tracing::instrument(skip_all)]
pub async fn authenticate_any(
    pool: &sqlx::PgPool,
    settings: &Settings,
    secret: &str,
    now: OffsetDateTime,
) -> Result<Option<Authenticated>, Error> {
    let (idle_cutoff, absolute_cutoff) = cutoffs(settings, now);
    let Some(row) =
        repo::find_live(pool, &token::hash(secret), idle_cutoff, absolute_cutoff).await?
    else {
        return Ok(None);
    };
    match row.level {
        Level::Full => {
            if now - row.last_seen_at >= TOUCH_INTERVAL {
                repo::touch(pool, row.id, now).await?;
            }
            Ok(Some(Authenticated::Full(CurrentSession {
                session_id: row.id,
                user_id: row.user_id,
                authenticated_at: row.authenticated_at,
                second_factor_at: row.second_factor_at,
                email: row.email,
            })))
        }
        Level::PasswordOnly if now - row.created_at < CHALLENGE_LIFETIME => {
            Ok(Some(Authenticated::Challenge(PendingChallenge {
                session_id: row.id,
                user_id: row.user_id,
                attempts: row.challenge_attempts,
            })))
        }
        Level::PasswordOnly => Ok(None),
    }
}

pub fn cutoffs(settings: &Settings, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    (
        now - settings.session_idle_timeout,
        now - settings.session_absolute_timeout,
    )
}

/// Gives the session a new token after a fresh check of `checked` and returns it (for the
/// cookie): the session id changes with the privilege. `Unauthenticated` if the session is
/// gone.
#[tracing::instrument(skip_all)]
pub async fn rotate_after(
    db: impl PgExecutor<'_>,
    session: &CurrentSession,
    checked: repo::Checked,
    now: OffsetDateTime,
) -> Result<String, Error> {
    let new_token = token::generate();
    if repo::rotate_token(db, session.session_id, &new_token.hash, checked, now).await? {
        Ok(new_token.secret)
    } else {
        Err(Error::Unauthenticated)
    }
}

#[tracing::instrument(skip_all)]
pub async fn end(pool: &sqlx::PgPool, secret: &str) -> Result<(), Error> {
    repo::delete_by_token_hash(pool, &token::hash(secret)).await?;
    Ok(())
}
