//! Browsers an account knows: recognised browsers (any browser that has signed in to the
//! account; OWASP "device cookies") and trusted browsers (those where the person chose "Don't
//! ask again"). A recognised browser is not held by the per-account waits and lock on password
//! guessing, which apply to unknown browsers only, so whoever guesses at an address cannot keep
//! its owner out of their own browser. A trusted browser is recognised too.

use crate::db::{recognised_browsers, trusted_browsers, users};
use crate::ids::UserId;
use crate::primitives::token;
use domain::secret::Secret;
use sqlx::PgExecutor;
use time::{Duration, OffsetDateTime};

/// A browser unused for this long is no longer recognised.
pub const RECOGNISED_FOR: Duration = Duration::days(365);
/// The recognised-browser cookie's lifetime, renewed at every sign-in (Chromium caps cookies at
/// 400 days).
pub const COOKIE_DAYS: u64 = 400;

/// The browser tokens a request presented. Carries secrets: `Debug` never shows them.
#[derive(Clone, Debug, Default)]
pub struct BrowserTokens {
    /// The recognised-browser token (`keyward_browser` cookie).
    pub recognised: Option<Secret>,
    /// The trusted-browser token (`keyward_trusted` cookie).
    pub trusted: Option<Secret>,
}

impl BrowserTokens {
    /// A browser presenting only a trusted-browser token.
    pub fn trusted(secret: &str) -> Self {
        BrowserTokens {
            recognised: None,
            trusted: Some(Secret::new(secret)),
        }
    }

    /// A browser presenting only a recognised-browser token.
    pub fn recognised(secret: &str) -> Self {
        BrowserTokens {
            recognised: Some(Secret::new(secret)),
            trusted: None,
        }
    }
}

/// A browser the account with the address being tried recognises.
#[derive(Clone, Debug)]
pub struct Recognised {
    pub user_id: UserId,
    /// The hash of the token it was recognised by: its own throttle counter.
    pub token_hash: Vec<u8>,
}

/// Whether the browser presenting `tokens` has signed in to the account with `email` within
/// [`RECOGNISED_FOR`], or is one of its trusted browsers. Read only.
#[tracing::instrument(skip_all)]
pub async fn recognise(
    pool: &sqlx::PgPool,
    email: &str,
    tokens: &BrowserTokens,
    now: OffsetDateTime,
) -> Result<Option<Recognised>, sqlx::Error> {
    let lookup = users::email_lookup(email);
    if let Some(secret) = tokens
        .recognised
        .as_ref()
        .filter(|s| token::looks_valid(s.expose()))
    {
        let token_hash = token::hash(secret.expose());
        if let Some(user_id) =
            recognised_browsers::recognises(pool, &lookup, &token_hash, now - RECOGNISED_FOR)
                .await?
        {
            return Ok(Some(Recognised {
                user_id,
                token_hash,
            }));
        }
    }
    if let Some(secret) = tokens
        .trusted
        .as_ref()
        .filter(|s| token::looks_valid(s.expose()))
    {
        let token_hash = token::hash(secret.expose());
        if let Some(user_id) =
            trusted_browsers::trusted_for(pool, &lookup, &token_hash, now).await?
        {
            return Ok(Some(Recognised {
                user_id,
                token_hash,
            }));
        }
    }
    Ok(None)
}

/// Whether the browser presenting `tokens` is recognised by account `user_id` (signed in to it
/// within [`RECOGNISED_FOR`], or trusted by it). Read only.
#[tracing::instrument(skip_all)]
pub async fn recognise_for_user(
    pool: &sqlx::PgPool,
    user_id: UserId,
    tokens: &BrowserTokens,
    now: OffsetDateTime,
) -> Result<Option<Recognised>, sqlx::Error> {
    if let Some(secret) = tokens
        .recognised
        .as_ref()
        .filter(|s| token::looks_valid(s.expose()))
    {
        let token_hash = token::hash(secret.expose());
        if recognised_browsers::recognises_user(pool, user_id, &token_hash, now - RECOGNISED_FOR)
            .await?
        {
            return Ok(Some(Recognised {
                user_id,
                token_hash,
            }));
        }
    }
    if let Some(secret) = tokens
        .trusted
        .as_ref()
        .filter(|s| token::looks_valid(s.expose()))
    {
        let token_hash = token::hash(secret.expose());
        if trusted_browsers::is_trusted_by(pool, user_id, &token_hash, now).await? {
            return Ok(Some(Recognised {
                user_id,
                token_hash,
            }));
        }
    }
    Ok(None)
}

/// The recognised-browser token a completed sign-in hands the browser: the one it presented
/// (its lifetime renewed), or a new one.
pub fn token_for(tokens: &BrowserTokens) -> Secret {
    match tokens
        .recognised
        .as_ref()
        .filter(|s| token::looks_valid(s.expose()))
    {
        Some(secret) => secret.clone(),
        None => Secret::new(token::generate().secret),
    }
}

/// Records a completed sign-in of `user_id` from the browser presenting `tokens`: its
/// recognised-browser token is kept (or a new one made) and returned, to be set again as its
/// cookie with a renewed lifetime.
#[tracing::instrument(skip_all)]
pub async fn remember(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    tokens: &BrowserTokens,
    now: OffsetDateTime,
) -> Result<Secret, sqlx::Error> {
    let secret = token_for(tokens);
    recognised_browsers::remember(db, user_id, &token::hash(secret.expose()), now).await?;
    Ok(secret)
}

/// Forgets every browser account `user_id` recognises except the one presenting `tokens`
/// (which stays recognised, as it is where the change was made). Returns how many.
#[tracing::instrument(skip_all)]
pub async fn forget_all_but(
    db: &mut sqlx::PgConnection,
    user_id: UserId,
    tokens: &BrowserTokens,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let keep = tokens
        .recognised
        .as_ref()
        .filter(|s| token::looks_valid(s.expose()))
        .map(|s| token::hash(s.expose()));
    let forgotten =
        recognised_browsers::delete_for_user_except(&mut *db, user_id, keep.as_deref()).await?;
    if let Some(hash) = keep {
        recognised_browsers::remember(&mut *db, user_id, &hash, now).await?;
    }
    Ok(forgotten)
}

/// Forgets browsers unused for longer than [`RECOGNISED_FOR`].
#[tracing::instrument(skip_all)]
pub async fn forget_unused(
    db: impl PgExecutor<'_>,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    recognised_browsers::delete_unused(db, now - RECOGNISED_FOR).await
}
