//! What a server function reads from its request context, and how its errors become responses.

use crate::error::AppError;
use crate::routes::Progress;
use crate::secret::Secret;
use crate::server::AppState;
use crate::server::cookies;
use crate::server::infra::config::Settings;
use crate::server::sessions::browsers::BrowserTokens;
use crate::server::sessions::{ClientInfo, CurrentSession, PendingChallenge};
use http::header::{HeaderValue, RETRY_AFTER, SET_COOKIE};
use http::request::Parts;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// Who is calling and how, as the session middleware found them and stored in the request's
/// extensions: one value per request, which the page guard ([`Caller::progress`]) and every
/// server function ([`caller`], [`require_session`]) read. Also an axum extractor. (An API key
/// with its scopes will be another way of calling.) `Debug` shows no token (they are
/// [`Secret`]s).
#[derive(Clone, Debug, Default)]
pub struct Caller {
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

impl Caller {
    /// How far the caller has signed in.
    pub fn progress(&self) -> Progress {
        match (&self.session, &self.challenge) {
            (Some(_), _) => Progress::SignedIn,
            (None, Some(_)) => Progress::InChallenge,
            (None, None) => Progress::Visitor,
        }
    }

    /// The signed-in session, or `Unauthenticated`.
    pub fn signed_in(&self) -> Result<&CurrentSession, AppError> {
        self.session.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// The caller's own record in a request (a visitor's when the middleware did not run).
    pub fn of(parts: &Parts) -> Caller {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller::of(parts))
    }
}

/// The caller of the running server function.
pub fn caller() -> Result<Caller, AppError> {
    let parts = use_context::<Parts>()
        .ok_or_else(|| AppError::internal("request parts missing from context"))?;
    Ok(Caller::of(&parts))
}

/// The signed-in session, or `Unauthenticated`.
pub fn require_session() -> Result<(CurrentSession, ClientInfo), AppError> {
    let caller = caller()?;
    let session = caller.signed_in()?.clone();
    Ok((session, caller.client))
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
    set_cookie(&cookies::session_cookie(settings, session_secret))
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
        set_cookie(&cookies::recognised_browser_cookie(
            settings,
            secret.expose(),
        ))?;
    }
    if let Some(secret) = trusted {
        set_cookie(&cookies::trusted_browser_cookie(settings, secret.expose()))?;
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
/// to the form instead: a status here would replace it with the raw encoded error.
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::FromRequestParts;

    fn signed_in() -> CurrentSession {
        CurrentSession {
            session_id: crate::server::SessionId::from_uuid(uuid::Uuid::nil()),
            user_id: crate::server::UserId::from_uuid(uuid::Uuid::nil()),
            authenticated_at: time::macros::datetime!(2026-11-30 12:00 UTC),
            second_factor_at: None,
            email: "ann@example.com".into(),
        }
    }

    #[test]
    fn a_caller_says_how_far_it_has_signed_in() {
        assert_eq!(Caller::default().progress(), Progress::Visitor);
        let challenge = Caller {
            challenge: Some(PendingChallenge {
                session_id: crate::server::SessionId::from_uuid(uuid::Uuid::nil()),
                user_id: crate::server::UserId::from_uuid(uuid::Uuid::nil()),
                attempts: 0,
            }),
            ..Caller::default()
        };
        assert_eq!(challenge.progress(), Progress::InChallenge);
        assert_eq!(
            challenge.signed_in().unwrap_err(),
            AppError::Unauthenticated
        );
        let full = Caller {
            session: Some(signed_in()),
            ..Caller::default()
        };
        assert_eq!(full.progress(), Progress::SignedIn);
        assert_eq!(full.signed_in().unwrap().email, "ann@example.com");
    }

    #[tokio::test]
    async fn the_extractor_reads_what_the_middleware_found() {
        let mut request = http::Request::new(());
        request.extensions_mut().insert(Caller {
            session: Some(signed_in()),
            ..Caller::default()
        });
        let (mut parts, ()) = request.into_parts();
        let Ok(caller) = Caller::from_request_parts(&mut parts, &()).await;
        assert_eq!(caller.progress(), Progress::SignedIn);
        // A request the middleware did not see is a visitor's.
        let (mut parts, ()) = http::Request::new(()).into_parts();
        let Ok(caller) = Caller::from_request_parts(&mut parts, &()).await;
        assert_eq!(caller.progress(), Progress::Visitor);
    }
}
