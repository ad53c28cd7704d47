//! Server-side sessions: creation at sign-in, lookup on every request, timeouts, sign-out.

use crate::error::AppError;
use crate::server::config::Settings;
use crate::server::db::sessions::{self as repo, LEVEL_FULL, NewSession};
use crate::server::token;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// Who is making the request: attached to the request by the session middleware and read by
/// server functions. Carries no secret.
#[derive(Clone, Debug)]
pub struct CurrentSession {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub authenticated_at: OffsetDateTime,
}

/// Where a request came from, for the session list and the security log.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Last-seen times are written at most this often, so reads do not each cost a write.
const TOUCH_INTERVAL: time::Duration = time::Duration::seconds(60);

pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies() {
        "__Host-keyward_session"
    } else {
        "keyward_session"
    }
}

/// The `Set-Cookie` value that hands `secret` to the browser. `__Host-` pins it to this host and
/// path `/`; HttpOnly keeps it from scripts; SameSite=Lax keeps it off cross-site posts.
pub fn session_cookie(settings: &Settings, secret: &str) -> String {
    let secure = if settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let max_age = settings.session_absolute_timeout.as_secs();
    format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(settings)
    )
}

pub fn clearing_cookie(settings: &Settings) -> String {
    let secure = if settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(settings)
    )
}

/// Finds the session token in a `Cookie` header.
pub fn token_from_cookie_header<'a>(settings: &Settings, header: &'a str) -> Option<&'a str> {
    let name = cookie_name(settings);
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| token::looks_valid(value))
}

/// Creates a fully signed-in session and returns its secret token (for the cookie only).
pub async fn start(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<String, AppError> {
    let new_token = token::generate();
    repo::insert(db, new_session(user_id, &new_token, client, now)).await?;
    Ok(new_token.secret)
}

/// As [`start`], but only if the password the person just proved is still the account's: a
/// sign-in racing a password change must not leave a session behind it. `None` otherwise.
pub async fn start_if_password_is(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    verified_hash: &str,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<Option<String>, AppError> {
    let new_token = token::generate();
    let created = repo::insert_if_password_is(
        db,
        new_session(user_id, &new_token, client, now),
        verified_hash,
    )
    .await?;
    Ok(created.map(|_| new_token.secret))
}

fn new_session<'a>(
    user_id: Uuid,
    token: &'a token::NewToken,
    client: &'a ClientInfo,
    now: OffsetDateTime,
) -> NewSession<'a> {
    NewSession {
        user_id,
        token_hash: &token.hash,
        level: LEVEL_FULL,
        ip: client.ip.as_deref(),
        user_agent: client.user_agent.as_deref(),
        now,
    }
}

/// The live session for `secret`, refreshing its last-seen time; `None` when unknown or expired.
pub async fn authenticate(
    pool: &sqlx::PgPool,
    settings: &Settings,
    secret: &str,
    now: OffsetDateTime,
) -> Result<Option<CurrentSession>, AppError> {
    let (idle_cutoff, absolute_cutoff) = cutoffs(settings, now);
    let Some(row) =
        repo::find_live(pool, &token::hash(secret), idle_cutoff, absolute_cutoff).await?
    else {
        return Ok(None);
    };
    if row.level != LEVEL_FULL {
        return Ok(None);
    }
    if now - row.last_seen_at >= TOUCH_INTERVAL {
        repo::touch(pool, row.id, now).await?;
    }
    Ok(Some(CurrentSession {
        session_id: row.id,
        user_id: row.user_id,
        authenticated_at: row.authenticated_at,
    }))
}

pub fn cutoffs(settings: &Settings, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    (
        now - settings.session_idle_timeout,
        now - settings.session_absolute_timeout,
    )
}

pub async fn end(pool: &sqlx::PgPool, secret: &str) -> Result<(), AppError> {
    repo::delete_by_token_hash(pool, &token::hash(secret)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(public_url: &str) -> Settings {
        let table: toml::Table = format!("public_url = \"{public_url}\"").parse().unwrap();
        Settings::from_sources(&table, |_| None).unwrap()
    }

    #[test]
    fn cookie_has_the_host_prefix_and_safe_attributes() {
        let s = settings("https://keyward.example.com");
        let cookie = session_cookie(&s, "abc");
        assert!(cookie.starts_with("__Host-keyward_session=abc; Path=/; HttpOnly; SameSite=Lax"));
        assert!(cookie.ends_with("; Secure"));
        assert!(!cookie.contains("Domain"));
        assert!(clearing_cookie(&s).contains("Max-Age=0"));
    }

    #[test]
    fn token_is_found_among_other_cookies() {
        let s = settings("http://localhost:3000");
        let secret = token::generate().secret;
        let header = format!("theme=dark; __Host-keyward_session={secret}; other=1");
        assert_eq!(token_from_cookie_header(&s, &header), Some(secret.as_str()));
        assert_eq!(
            token_from_cookie_header(&s, "__Host-keyward_session=short"),
            None
        );
        assert_eq!(token_from_cookie_header(&s, "keyward_session_x=1"), None);
    }
}
