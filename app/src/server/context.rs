//! What a server function reads from its request context, and how its errors become responses.

use crate::error::AppError;
use crate::secret::Secret;
use crate::server::AppState;
use crate::server::browsers::BrowserTokens;
use crate::server::config::Settings;
use crate::server::sessions;
use crate::server::sessions::{ClientInfo, CurrentSession, PendingChallenge};
use http::header::{HeaderValue, RETRY_AFTER, SET_COOKIE};
use http::request::Parts;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// The per-request result of the session middleware, stored in the request's extensions.
/// `Debug` shows no token (they are [`Secret`]s).
#[derive(Clone, Debug, Default)]
pub struct RequestSession {
    /// A fully signed-in session, the only kind that reaches the app.
    pub session: Option<CurrentSession>,
    /// A half-authenticated session waiting for its second factor.
    pub challenge: Option<PendingChallenge>,
    /// The recognised-browser and trusted-browser tokens the browser presented, if any.
    pub browser: BrowserTokens,
    /// The session token the browser presented, valid or not (needed to end it at sign-in or
    /// sign-out).
    pub presented_secret: Option<Secret>,
    pub client: ClientInfo,
}

/// The CSP nonce generated for this response by the security-headers middleware.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::internal("AppState missing from context"))
}

pub fn request_session() -> Result<RequestSession, AppError> {
    let parts = use_context::<Parts>()
        .ok_or_else(|| AppError::internal("request parts missing from context"))?;
    Ok(parts
        .extensions
        .get::<RequestSession>()
        .cloned()
        .unwrap_or_default())
}

/// The signed-in session, or `Unauthenticated`.
pub fn require_session() -> Result<(CurrentSession, ClientInfo), AppError> {
    let request = request_session()?;
    let session = request.session.ok_or(AppError::Unauthenticated)?;
    Ok((session, request.client))
}

pub fn set_cookie(value: &str) -> Result<(), AppError> {
    let response = use_context::<ResponseOptions>()
        .ok_or_else(|| AppError::internal("ResponseOptions missing from context"))?;
    response.append_header(
        SET_COOKIE,
        HeaderValue::from_str(value).map_err(AppError::internal)?,
    );
    Ok(())
}

/// Hands the browser a session's (new) token.
pub fn set_session_cookie(settings: &Settings, session_secret: &str) -> Result<(), AppError> {
    set_cookie(&sessions::session_cookie(settings, session_secret))
}

/// Hands the browser the cookies a completed sign-in gives it: the recognised-browser token
/// (renewed) and, when a trusted browser skipped the challenge, its trusted-browser token
/// (rotated at every use).
pub fn set_browser_cookies(
    settings: &Settings,
    recognised: Option<&Secret>,
    trusted: Option<&Secret>,
) -> Result<(), AppError> {
    if let Some(secret) = recognised {
        set_cookie(&sessions::recognised_browser_cookie(
            settings,
            secret.expose(),
        ))?;
    }
    if let Some(secret) = trusted {
        set_cookie(&sessions::trusted_browser_cookie(settings, secret.expose()))?;
    }
    Ok(())
}

/// Hands a new session to the browser and sends it to the settings: the end of every successful
/// sign-up or sign-in.
pub fn enter_session(settings: &Settings, session_secret: &str) -> Result<(), AppError> {
    set_session_cookie(settings, session_secret)?;
    leptos_axum::redirect(crate::routes::Page::HOME.path());
    Ok(())
}

/// Whether the call is a plain HTML form post (no script ran): the browser will show whatever
/// page it is sent to, so an outcome has to travel in that page's address.
pub fn native_form_post() -> bool {
    use_context::<Parts>()
        .and_then(|parts| parts.headers.get(http::header::ACCEPT).cloned())
        .is_some_and(|accept| accept.to_str().is_ok_and(|a| a.contains("text/html")))
}

/// Gives a failed server function the HTTP status its error deserves (and `Retry-After` for
/// `Busy`), so that nothing a user does wrong is answered with a 500.
///
/// A plain HTML form post (before the WebAssembly has loaded) keeps the framework's redirect back
/// to the form instead: a status here would replace it with a page of raw JSON.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if native_form_post() {
        return result;
    }
    if let (Err(err), Some(response)) = (&result, use_context::<ResponseOptions>()) {
        response.set_status(err.status());
        let retry_after = match err {
            AppError::Busy { retry_after_secs } => Some(*retry_after_secs),
            AppError::TooManyAttempts { retry_after_secs } => *retry_after_secs,
            _ => None,
        };
        if let Some(secs) = retry_after {
            response.insert_header(RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    result
}
