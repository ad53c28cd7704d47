//! Answers that must not leak or mislead: nothing personal in a shared cache, security headers on
//! every answer (the outer layers' own errors included), no text injected through Leptos's
//! error parameters, and server functions that take only the body type our forms send.

use crate::{ORIGIN, app_error, router_with, state_with};
use app::api::{ChangePassword, SignIn, SignUp};
use app::error::AppError;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use base64::Engine as _;
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use leptos::server_fn::error::FromServerFnError;
use sqlx::PgPool;
use tower::ServiceExt;

async fn body_text(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    // Server functions answer in postcard, whose strings are UTF-8 between binary lengths.
    String::from_utf8_lossy(&bytes).into_owned()
}

fn assert_security_headers(response: &axum::response::Response, what: &str) {
    let headers = response.headers();
    assert!(
        headers.contains_key("content-security-policy"),
        "{what}: no CSP in {headers:?}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{what}");
}

/// Signs up over HTTP; returns the session cookie (`name=value`).
async fn signed_up(app: &Router, email: &str) -> String {
    let body = format!(
        "email={}&password=good+passphrase+1&password_confirm=good+passphrase+1",
        email.replace('@', "%40")
    );
    let response = app
        .clone()
        .oneshot(
            Request::post(SignUp::url())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .header(header::ORIGIN, ORIGIN)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("__Host-keyward_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_not_found_page_of_a_signed_in_person_is_never_stored(pool: PgPool) {
    let app = router_with(pool, &[]);
    let cookie = signed_up(&app, "ann@example.com").await;
    let response = app
        .clone()
        .oneshot(
            Request::get("/no/such/page")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_security_headers(&response, "not-found page");
    // It is personal: the header shows who is signed in.
    assert!(body_text(response).await.contains("ann@example.com"));

    // A missing file under the hashed build folder is not kept for a year either.
    let response = app
        .oneshot(
            Request::get("/pkg/keyward.0123456789abcdef.wasm")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_body_over_the_limit_is_refused_with_the_security_headers(pool: PgPool) {
    let app = router_with(pool, &[]);
    let huge = "x".repeat(100 * 1024);
    let response = app
        .oneshot(
            Request::post(SignIn::url())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_LENGTH, huge.len())
                .body(Body::from(huge))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_security_headers(&response, "413");
}

/// State whose database is never reached (the requests below fail before any query).
fn state_without_database() -> app::server::AppState {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .unwrap();
    state_with(pool, &[])
}

#[tokio::test]
async fn a_panic_is_a_500_with_the_security_headers() {
    let panicking = Router::new().route(
        "/boom",
        get(|| async {
            panic!("a bug");
            #[allow(unreachable_code)]
            ""
        }),
    );
    let app = server::with_outer_layers(panicking, state_without_database());
    let response = app
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_security_headers(&response, "500 from the panic handler");
}

#[tokio::test(start_paused = true)]
async fn a_request_that_never_finishes_is_a_408_with_the_security_headers() {
    let app = server::router(state_without_database());
    let endless = futures::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let response = app
        .oneshot(
            Request::post(SignIn::url())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, ORIGIN)
                .body(Body::from_stream(endless))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_security_headers(&response, "408");
}

/// The `/signin` address an attacker would send: Leptos's error parameters with their text.
fn sign_in_with_injected_text(extra_query: &str) -> String {
    let planted = AppError::field(
        "password",
        "Your password expired. Reset it at https://evil.example/reset",
    );
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(planted.ser());
    let path: String = form_urlencoded::byte_serialize(SignIn::url().as_bytes()).collect();
    format!("/signin?{extra_query}__path={path}&__err={encoded}")
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn error_text_in_a_link_from_another_site_is_never_shown(pool: PgPool) {
    let app = router_with(pool, &[]);
    // After our own redirect back to a form (no WebAssembly yet), the text is shown: that is
    // what the parameters are for, and what an attacker would abuse.
    let response = app
        .clone()
        .oneshot(
            Request::get(sign_in_with_injected_text(""))
                .header("sec-fetch-site", "same-origin")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body_text(response).await.contains("evil.example"));

    // From a link on another site, a bookmark, or a client that says nothing: the same page
    // without the parameters, other parameters kept.
    for site in [Some("cross-site"), Some("same-site"), Some("none"), None] {
        let mut request = Request::get(sign_in_with_injected_text("challenge=ended&"));
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{site:?}");
        let location = response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(location, "/signin?challenge=ended", "{site:?}");
        let text = body_text(response).await;
        assert!(!text.contains("evil.example"), "{site:?}: {text}");

        let response = app
            .clone()
            .oneshot(Request::get(&location).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!body_text(response).await.contains("evil.example"));
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn dropping_the_error_text_never_redirects_to_another_site(pool: PgPool) {
    let app = router_with(pool, &[]);
    for path in [
        "//evil.example/x?__err=a",
        "/\\evil.example/x?__err=a",
        "///x?__path=y",
    ] {
        let response = app
            .clone()
            .oneshot(
                Request::get(path)
                    .header("sec-fetch-site", "cross-site")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(
            location.starts_with('/')
                && !location.starts_with("//")
                && !location.starts_with("/\\"),
            "{path} → {location}"
        );
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn server_functions_refuse_bodies_that_are_not_forms(pool: PgPool) {
    let app = router_with(pool.clone(), &[]);
    for content_type in [
        Some("application/json"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/cbor"),
        None,
    ] {
        let mut request = Request::post(SignUp::url())
            .header(header::ORIGIN, ORIGIN)
            .header(header::ACCEPT, "application/json");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = app
            .clone()
            .oneshot(
                request
                    .body(Body::from(
                        "email=ann%40example.com&password=good+passphrase+1\
                         &password_confirm=good+passphrase+1",
                    ))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_security_headers(&response, "415");
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
    // The form encoding, with or without a charset, goes through.
    let cookie = signed_up(&app, "bob@example.com").await;
    assert!(!cookie.is_empty());
}

fn form(url: &str, cookies: &[&str], body: &str) -> Request<Body> {
    let mut builder = Request::post(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, ORIGIN);
    if !cookies.is_empty() {
        builder = builder.header(header::COOKIE, cookies.join("; "));
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

/// The `name=value` of the cookie called `name` that a response sets.
fn cookie_named(response: &axum::response::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn thirty_wrong_current_passwords_are_refused_with_429_before_the_eleventh(pool: PgPool) {
    let app = router_with(pool, &[]);
    let session = signed_up(&app, "ann@example.com").await;
    let body = "current_password=not+my+password&new_password=another+passphrase+2\
                &new_password_confirm=another+passphrase+2";
    for guess in 1..=30 {
        let response = app
            .clone()
            .oneshot(form(ChangePassword::url(), &[&session], body))
            .await
            .unwrap();
        match response.status() {
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert!(guess <= 10, "guess {guess} was still checked");
                let text = body_text(response).await;
                assert!(text.contains("current_password"), "{text}");
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(guess <= 11, "refused only at guess {guess}");
                let wait: u32 = response.headers()[header::RETRY_AFTER]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(wait >= 1, "{wait}");
                assert!(matches!(
                    app_error(response).await,
                    AppError::TooManyAttempts { .. }
                ));
                return;
            }
            other => panic!("guess {guess}: unexpected {other}"),
        }
    }
    panic!("thirty wrong current passwords were all checked");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_browser_that_signed_up_gets_in_while_the_address_is_locked(pool: PgPool) {
    let app = router_with(pool.clone(), &[]);
    let body = "email=ann%40example.com&password=good+passphrase+1\
                &password_confirm=good+passphrase+1";
    let response = app
        .clone()
        .oneshot(form(SignUp::url(), &[], body))
        .await
        .unwrap();
    let browser = cookie_named(&response, "__Host-keyward_browser").expect("a browser cookie");
    for attribute in [
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Max-Age=34560000",
    ] {
        assert!(browser.contains(attribute), "{browser} lacks {attribute}");
    }
    let browser = browser.split(';').next().unwrap().to_owned();

    // Someone else locks the address with a hundred wrong passwords.
    let guess = "email=ann%40example.com&password=a+wrong+guess";
    app.clone()
        .oneshot(form(SignIn::url(), &[], guess))
        .await
        .unwrap();
    sqlx::query("UPDATE attempt_counters SET failures = 99, last_failure_at = now() - interval '1 hour' WHERE kind = 'account'")
        .execute(&pool)
        .await
        .unwrap();
    let response = app
        .clone()
        .oneshot(form(SignIn::url(), &[], guess))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let right = "email=ann%40example.com&password=good+passphrase+1";
    let response = app
        .clone()
        .oneshot(form(SignIn::url(), &[], right))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app_error(response).await, AppError::AccountLocked);
    let response = app
        .clone()
        .oneshot(form(SignIn::url(), &[&browser], right))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(cookie_named(&response, "__Host-keyward_session").is_some());
    // The browser's cookie is handed back with a renewed lifetime.
    let renewed = cookie_named(&response, "__Host-keyward_browser").unwrap();
    assert!(renewed.starts_with(&browser), "{renewed}");
}
