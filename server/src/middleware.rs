//! The gates every request passes, outermost first: security headers (with the CSP nonce), the
//! origin check for state-changing requests, session loading, and the page guard; and the
//! mapping of undecodable server-function requests to 400.

use app::error::AppError;
use app::routes::{self, Page, Progress};
use app::secret::Secret;
use app::server::AppState;
use app::server::context::{Caller, CspNonce};
use app::server::cookies;
use app::server::infra::config::Settings;
use app::server::sessions::browsers::BrowserTokens;
use app::server::sessions::{self, Authenticated, ClientInfo};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use leptos::server_fn::Decodes;
use leptos::server_fn::error::FromServerFnError;
use rand_core::{OsRng, RngCore};
use std::net::SocketAddr;

const MAX_USER_AGENT_CHARS: usize = 512;

pub async fn security_headers(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let nonce = STANDARD.encode(bytes);
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;

    // In development `cargo leptos watch` reloads the page over a websocket on the reload port.
    let reload = if state.leptos_options.env == leptos::config::Env::DEV {
        let port = state.leptos_options.reload_port;
        format!(" ws://localhost:{port} ws://127.0.0.1:{port}")
    } else {
        String::new()
    };
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, "content-security-policy", &csp);
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "same-origin");
    set(headers, "x-frame-options", "DENY");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(
        headers,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    // Pages and server-function answers carry personal data: never store them (the Back button
    // after signing out must not show the account). Static files set their own lifetimes.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.settings.public_url.starts_with("https://") {
        set(
            headers,
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
    }
    response
}

/// Refuses any state-changing request that a browser did not send from our own origin (OWASP
/// CSRF prevention: verify `Origin`, else `Sec-Fetch-Site`). A request with neither header is
/// refused too: every current browser sends at least one of them on a POST.
pub async fn origin_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    if same_origin(request.headers(), &state.settings.public_url) {
        next.run(request).await
    } else {
        tracing::warn!(
            method = %request.method(),
            path = %request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "refused a cross-origin state-changing request"
        );
        (StatusCode::FORBIDDEN, "Cross-origin request refused.").into_response()
    }
}

pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let expected = origin_of(public_url);
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().is_ok_and(|origin| origin == expected);
    }
    headers
        .get("sec-fetch-site")
        .is_some_and(|site| site == "same-origin")
}

/// `scheme://host[:port]` of a URL, without path.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

/// The query parameters through which Leptos shows a server function's error after a plain
/// HTML form post (before the WebAssembly has loaded): the text in `__err` is rendered beside
/// the form's fields.
const ERROR_PARAMS: [&str; 2] = ["__path", "__err"];

/// Redirects a page request that carries `__path`/`__err` to the same address without them,
/// unless the browser says the navigation came from our own pages (`Sec-Fetch-Site:
/// same-origin`, as after our redirect back to a form). Otherwise anyone could link to
/// `/signin?__err=…` and have their words ("your password expired, reset it at …") shown beside
/// the real password field.
pub async fn drop_cross_site_error_text(request: Request, next: Next) -> Response {
    let is_page = matches!(*request.method(), Method::GET | Method::HEAD);
    let query = request.uri().query().unwrap_or_default();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let carries_error = pairs
        .iter()
        .any(|(key, _)| ERROR_PARAMS.contains(&key.as_str()));
    let from_our_pages = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|site| site == "same-origin");
    if !is_page || !carries_error || from_our_pages {
        return next.run(request).await;
    }
    let kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(key, _)| !ERROR_PARAMS.contains(&key.as_str()))
        .collect();
    // One leading slash, whatever the request had: `//evil.example/x` is a path here but would
    // be another site in a Location header.
    let mut target = format!("/{}", request.uri().path().trim_start_matches(['/', '\\']));
    if !kept.is_empty() {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish();
        target.push('?');
        target.push_str(&query);
    }
    Redirect::to(&target).into_response()
}

/// Server functions take `application/x-www-form-urlencoded` bodies (what our forms and our
/// WebAssembly send) and nothing else: any other body type is refused with 415 before a
/// decoder sees it.
pub async fn server_functions_take_forms_only(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    if !is_server_fn || *request.method() != Method::POST {
        return next.run(request).await;
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if is_form {
        next.run(request).await
    } else {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the form as application/x-www-form-urlencoded.",
        )
            .into_response()
    }
}

/// Resolves the session cookie once per request and attaches the result for server functions.
pub async fn load_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = client_info(&request, state.settings.trust_forwarded_for);
    // In a block: nothing borrowed from the request may be held across the await below.
    let (presented_secret, browser) = {
        let cookie = |find: for<'a> fn(&Settings, &'a str) -> Option<&'a str>| {
            request
                .headers()
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .find_map(|value| find(&state.settings, value))
                .map(Secret::new)
        };
        (
            cookie(cookies::token_from_cookie_header),
            BrowserTokens {
                recognised: cookie(cookies::recognised_token_from_cookie_header),
                trusted: cookie(cookies::trusted_token_from_cookie_header),
            },
        )
    };
    let authenticated = match &presented_secret {
        Some(secret) => {
            let now = state.clock.now();
            match sessions::authenticate_any(&state.pool, &state.settings, secret.expose(), now)
                .await
            {
                Ok(authenticated) => authenticated,
                Err(_) => {
                    return (StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly.")
                        .into_response();
                }
            }
        }
        None => None,
    };
    let (session, challenge) = match authenticated {
        Some(Authenticated::Full(session)) => (Some(session), None),
        Some(Authenticated::Challenge(challenge)) => (None, Some(challenge)),
        None => (None, None),
    };
    request.extensions_mut().insert(Caller {
        session,
        challenge,
        browser,
        presented_secret,
        client,
    });
    next.run(request).await
}

fn client_info(request: &Request, trust_forwarded_for: bool) -> ClientInfo {
    // The right-most entry is the one our own proxy appended; anything left of it came from the
    // client and can be forged.
    let forwarded = trust_forwarded_for
        .then(|| request.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| ip.to_string());
    let ip = forwarded.or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().to_string())
    });
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect());
    ClientInfo { ip, user_agent }
}

/// Server functions answer 500 when the framework cannot even decode a request (a missing or
/// malformed argument) because it cannot know better. That is the client's mistake: say 400.
/// Our own failures are never `Transport`, so a real 500 stays a 500.
pub async fn malformed_requests_are_client_errors(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response();
    };
    let answer =
        <<AppError as FromServerFnError>::Encoder as Decodes<AppError>>::decode(bytes.clone());
    if let Ok(AppError::Transport(_)) = answer {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// How far the caller of `request` has signed in, as [`load_session`] found.
pub fn progress_of(request: &Request) -> Progress {
    request
        .extensions()
        .get::<Caller>()
        .map_or(Progress::Visitor, Caller::progress)
}

/// Server-side redirects for pages, as the route table ([`app::routes`]) says who may open
/// each. Paths that are not pages (files, server functions) pass; the not-found page applies
/// the table's rule for them. Server functions check the session themselves.
pub async fn page_guard(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let page = Page::at(request.uri().path());
    if page.is_some()
        && let Some(to) = routes::redirect_for(page, progress_of(&request))
    {
        return Redirect::to(to.path()).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn origin_must_match_the_public_url_exactly() {
        let url = "http://localhost:3000";
        assert!(same_origin(
            &headers(&[("origin", "http://localhost:3000")]),
            url
        ));
        assert!(!same_origin(
            &headers(&[("origin", "http://localhost:3001")]),
            url
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            url
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), url));
        // An Origin header wins over Sec-Fetch-Site.
        assert!(!same_origin(
            &headers(&[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin")
            ]),
            url
        ));
    }

    #[test]
    fn without_origin_only_same_origin_fetch_metadata_passes() {
        let url = "https://keyward.example.com/";
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            url
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            url
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            url
        ));
        assert!(!same_origin(&headers(&[]), url));
    }

    #[test]
    fn origin_is_scheme_host_and_port() {
        assert_eq!(origin_of("https://a.example/path/x"), "https://a.example");
        assert_eq!(origin_of("http://localhost:3000"), "http://localhost:3000");
    }
}
