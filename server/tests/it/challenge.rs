//! The half-authenticated session (password right, second factor pending) over HTTP: it reaches
//! the challenge page and nothing else.

use crate::{ORIGIN, state_with};
use app::api::two_factor::{
    AnswerChallenge, BeginTotpSetup, ConfirmIdentity, DisableTwoFactor, GetSecurityOverview,
    RegenerateBackupCodes, RevokeTrustedBrowser,
};
use app::api::{ChangePassword, GetAccountOverview, SignIn, SignUp};
use app::server::{factors::authenticator, sessions};
use app::validation::OtpCode;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use sqlx::PgPool;
use tower::ServiceExt;

const EMAIL: &str = "ann%40example.com";
const PASSWORD: &str = "good+passphrase+1";

fn post(url: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, ORIGIN);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// The `name=value` of the session cookie a response sets.
fn session_cookie(response: &axum::response::Response) -> String {
    crate::cookie_named(response, "__Host-keyward_session").expect("a session cookie")
}

/// Signs up over HTTP, turns on an authenticator through the services, and signs in again with
/// the password only: returns the router and the half-authenticated session's cookie.
async fn half_signed_in(pool: PgPool) -> (Router, String) {
    let state = state_with(pool, &[]);
    let app = server::router(state.clone());
    let body = format!("email={EMAIL}&password={PASSWORD}&password_confirm={PASSWORD}");
    let response = app
        .clone()
        .oneshot(post(SignUp::url(), None, &body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response);
    let secret = cookie.split_once('=').unwrap().1;
    let now = state.clock.now();
    let session = sessions::authenticate(&state.pool, &state.settings, secret, now)
        .await
        .unwrap()
        .unwrap();
    let pending = authenticator::begin(&state.pool, &state.keys, session.user_id, "Phone", now)
        .await
        .unwrap();
    let code = OtpCode::parse(&pending.secret.code_at(now.unix_timestamp() as u64)).unwrap();
    test_support::confirm_authenticator(
        &state.pool,
        &state.keys,
        authenticator::Confirmation {
            user_id: session.user_id,
            factor_id: pending.factor_id,
            code: &code,
        },
        now,
    )
    .await
    .unwrap();

    let body = format!("email={EMAIL}&password={PASSWORD}");
    let response = app
        .clone()
        .oneshot(post(SignIn::url(), None, &body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    (app, session_cookie(&response))
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_half_authenticated_session_reaches_only_the_challenge(pool: PgPool) {
    let (app, cookie) = half_signed_in(pool).await;

    let response = app
        .clone()
        .oneshot(get("/signin/challenge", &cookie))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Deny by default: a path that is not a page is not rendered for this session either.
    for path in [
        "/settings/account",
        "/settings/security",
        "/settings/security/two-factor?action=disable",
        "/settings",
        "/",
        "/no-such-page",
    ] {
        let response = app.clone().oneshot(get(path, &cookie)).await.unwrap();
        assert!(
            response.status().is_redirection(),
            "{path}: {}",
            response.status()
        );
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(
            location == "/signin/challenge" || location == "/settings/account",
            "{path} → {location}"
        );
        if location == "/settings/account" {
            let next = app.clone().oneshot(get(location, &cookie)).await.unwrap();
            assert_eq!(next.headers()[header::LOCATION], "/signin/challenge");
        }
    }

    let change = "current_password=good+passphrase+1&new_password=another+passphrase+2\
                  &new_password_confirm=another+passphrase+2";
    for (url, body) in [
        (GetAccountOverview::url(), ""),
        (GetSecurityOverview::url(), ""),
        (BeginTotpSetup::url(), ""),
        (RegenerateBackupCodes::url(), ""),
        (DisableTwoFactor::url(), ""),
        (ConfirmIdentity::url(), "password=good+passphrase+1"),
        (
            RevokeTrustedBrowser::url(),
            "id=00000000-0000-0000-0000-000000000000",
        ),
        (ChangePassword::url(), change),
    ] {
        let response = app
            .clone()
            .oneshot(post(url, Some(&cookie), body))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{url}");
    }

    // A typing mistake is named beside the field, in the words of the kind of code chosen, and
    // is not counted (the wrong code below still leaves four attempts).
    for (body, says) in [
        ("code=12345", "The code is 6 digits"),
        (
            "code=123456&use_backup_code=true",
            "A backup code has 10 letters",
        ),
    ] {
        let response = app
            .clone()
            .oneshot(post(AnswerChallenge::url(), Some(&cookie), body))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let error = crate::app_error(response).await;
        let beside_the_field = error.message_for("code").unwrap_or_default();
        assert!(beside_the_field.contains(says), "{error:?}");
    }

    // A wrong code at the challenge names the field and counts down.
    let response = app
        .clone()
        .oneshot(post(AnswerChallenge::url(), Some(&cookie), "code=000000"))
        .await
        .unwrap();
    // (A one-in-a-million chance that 000000 is the right code: then it passes.)
    if response.status() != StatusCode::OK {
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("4 attempts left"), "{text}");
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_design_gallery_is_refused_in_production(pool: PgPool) {
    let app = crate::router_with(pool, &[]);
    let response = app
        .oneshot(Request::get("/design").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_design_gallery_shows_every_state_in_development(pool: PgPool) {
    let app = server::router(crate::state_in(pool, leptos::config::Env::DEV, &[]));
    let response = app
        .oneshot(Request::get("/design").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8(body.to_vec()).unwrap();
    for specimen in [
        "Wizard 1 · Scan",
        "Wizard 2 · Verify, empty",
        "Wizard 2 · Verify, typing",
        "Wizard 2 · Verify, invalid",
        "Wizard 2 · Verify, wrong code with attempts left",
        "Wizard 2 · Verify, loading",
        "Wizard 2 · Verify, expired",
        "Wizard 3 · Save codes",
        "Success",
        "Challenge · empty",
        "Challenge · wrong code with attempts left",
        "Challenge · loading",
        "Challenge · backup code",
        "Step-up · authenticator code",
        "Step-up · wrong code",
    ] {
        assert!(html.contains(specimen), "gallery lacks {specimen}");
    }
    assert!(html.contains("data:image/svg+xml;base64,"), "no QR code");
    // What the "typing" and "wrong code" states have typed shows without any script.
    assert!(
        html.contains(r#"value="123456""#),
        "typed code not rendered"
    );
    assert!(
        !html.contains(r#"value="hunter2""#),
        "a password must stay out of the markup"
    );
    assert!(
        html.contains("That code didn&#x27;t match. 4 attempts left.")
            || html.contains("That code didn't match. 4 attempts left.")
    );
}
