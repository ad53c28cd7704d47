//! The attack of issue 8 over HTTP: a session that never passed a second factor (signed in
//! before the owner turned two-factor on, or through a trusted browser whose cookie was stolen),
//! plus the password, must not be able to take the second factor away, swap it, take fresh
//! backup codes or change the password.

use crate::{ORIGIN, app_error, cookie_named, state_with};
use app::api::two_factor::{
    AnswerChallenge, BeginTotpSetup, ConfirmIdentity, ConfirmIdentityWithCode, DisableTwoFactor,
    RegenerateBackupCodes,
};
use app::api::{ChangePassword, SignIn, SignUp};
use app::error::{AppError, StepUpProof};
use app::server::primitives::totp::TotpSecret;
use app::server::{AppState, factors::authenticator, sessions};
use app::validation::OtpCode;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use sqlx::PgPool;
use tower::ServiceExt;

pub(crate) const EMAIL: &str = "ann%40example.com";
pub(crate) const PASSWORD: &str = "good+passphrase+1";

pub(crate) fn post(url: &str, cookies: &[&str], body: &str) -> Request<Body> {
    let mut builder = Request::post(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, ORIGIN);
    if !cookies.is_empty() {
        builder = builder.header(header::COOKIE, cookies.join("; "));
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

pub(crate) async fn text(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    // Server functions answer in postcard, whose strings are UTF-8 between binary lengths.
    String::from_utf8_lossy(&bytes).into_owned()
}

fn secret_of(cookie: &str) -> &str {
    cookie.split_once('=').unwrap().1
}

pub(crate) async fn sign_in(app: &Router, cookies: &[&str]) -> axum::response::Response {
    let body = format!("email={EMAIL}&password={PASSWORD}");
    app.clone()
        .oneshot(post(SignIn::url(), cookies, &body))
        .await
        .unwrap()
}

/// Turns an authenticator on for the account behind `session_cookie` through the factor
/// repository alone, as before this issue: no other session is touched.
/// Signs up, turns an authenticator on behind the account's back, then signs in with the
/// password and a code, trusting the browser: the challenge's answer.
pub(crate) async fn owner_trusting_this_browser(
    app: &Router,
    state: &AppState,
) -> axum::response::Response {
    let body = format!("email={EMAIL}&password={PASSWORD}&password_confirm={PASSWORD}");
    let response = app
        .clone()
        .oneshot(post(SignUp::url(), &[], &body))
        .await
        .unwrap();
    let owner = cookie_named(&response, "__Host-keyward_session").unwrap();
    let secret = authenticator_added_behind_its_back(state, &owner).await;
    let response = sign_in(app, &[]).await;
    let half = cookie_named(&response, "__Host-keyward_session").unwrap();
    let code = secret.code_at(state.clock.now().unix_timestamp() as u64);
    app.clone()
        .oneshot(post(
            AnswerChallenge::url(),
            &[&half],
            &format!("code={code}&trust_browser=true"),
        ))
        .await
        .unwrap()
}

pub(crate) async fn authenticator_added_behind_its_back(
    state: &AppState,
    session_cookie: &str,
) -> TotpSecret {
    let now = state.clock.now();
    let session =
        sessions::authenticate(&state.pool, &state.settings, secret_of(session_cookie), now)
            .await
            .unwrap()
            .unwrap();
    let pending = authenticator::begin(&state.pool, &state.keys, session.user_id, "Phone", now)
        .await
        .unwrap();
    let code = OtpCode::parse(&pending.secret.code_at(now.unix_timestamp() as u64 - 30)).unwrap();
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
    pending.secret
}

/// Every step of the attack, with `cookies` (a fresh password check just made): each refused,
/// and nothing changed.
async fn attack_is_refused_at_every_step(app: &Router, pool: &PgPool, cookies: &[&str]) {
    let factors_before = active_factors(pool).await;
    assert_eq!(factors_before.len(), 1, "the account has an authenticator");
    let hash_before: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(pool)
        .await
        .unwrap();

    // 1. The password at "Confirm it's you" does not count while an authenticator is active.
    let response = app
        .clone()
        .oneshot(post(
            ConfirmIdentity::url(),
            cookies,
            &format!("password={PASSWORD}"),
        ))
        .await
        .unwrap();
    let status = response.status();
    let body = text(response).await;
    assert!(
        status.is_client_error(),
        "confirm_identity: {status} {body}"
    );

    // A malformed code at the prompt is named beside its field, in the words of the kind of
    // code chosen, and is neither counted nor logged as a failed step-up.
    for (body, says) in [
        ("code=12345", "The code is 6 digits"),
        (
            "code=12345&use_backup_code=true",
            "A backup code has 10 letters",
        ),
    ] {
        let response = app
            .clone()
            .oneshot(post(ConfirmIdentityWithCode::url(), cookies, body))
            .await
            .unwrap();
        let status = response.status();
        let error = app_error(response).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {error:?}"
        );
        let beside_the_field = error.message_for("code").unwrap_or_default();
        assert!(beside_the_field.contains(says), "{body}: {error:?}");
    }
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM security_events WHERE kind = 'step_up_failed'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(failed, 0, "a typing mistake was counted");

    // 2–5. Each sensitive change asks for a second factor, whatever the password check.
    let change = format!(
        "current_password={PASSWORD}&new_password=attacker+passphrase+9\
         &new_password_confirm=attacker+passphrase+9&sign_out_other_sessions=true"
    );
    for (url, body) in [
        (DisableTwoFactor::url(), String::new()),
        (BeginTotpSetup::url(), String::new()),
        (RegenerateBackupCodes::url(), String::new()),
        (ChangePassword::url(), change),
    ] {
        let response = app
            .clone()
            .oneshot(post(url, cookies, &body))
            .await
            .unwrap();
        let status = response.status();
        let error = app_error(response).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{url}: {error:?}");
        assert_eq!(
            error,
            AppError::StepUpRequired {
                proof: StepUpProof::SecondFactor
            },
            "{url}"
        );
    }

    assert_eq!(active_factors(pool).await, factors_before);
    let hash_after: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(hash_after, hash_before, "the password was changed");
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM factors WHERE state = 'pending'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "a replacement authenticator was started");
}

async fn active_factors(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT id::text FROM factors WHERE state = 'active' ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_session_from_before_two_factor_cannot_take_it_away_with_the_password(pool: PgPool) {
    let state = state_with(pool.clone(), &[]);
    let app = server::router(state.clone());
    // The attacker signs in while the account has only a password…
    let body = format!("email={EMAIL}&password={PASSWORD}&password_confirm={PASSWORD}");
    let response = app
        .clone()
        .oneshot(post(SignUp::url(), &[], &body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let owner = cookie_named(&response, "__Host-keyward_session").unwrap();
    let response = sign_in(&app, &[]).await;
    let attacker = cookie_named(&response, "__Host-keyward_session").unwrap();
    // …then the owner's authenticator arrives without ending that session.
    authenticator_added_behind_its_back(&state, &owner).await;

    attack_is_refused_at_every_step(&app, &pool, &[&attacker]).await;
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_stolen_trusted_browser_cookie_and_the_password_cannot_change_factors(pool: PgPool) {
    let state = state_with(pool.clone(), &[]);
    let app = server::router(state.clone());
    // The owner signs in with a code and trusts the browser.
    let response = owner_trusting_this_browser(&app, &state).await;
    assert_eq!(response.status(), StatusCode::OK);
    let trusted = cookie_named(&response, "__Host-keyward_trusted").expect("trusted cookie");

    // Whoever copies that cookie and knows the password gets in without a code…
    let response = sign_in(&app, &[&trusted]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let attacker = cookie_named(&response, "__Host-keyward_session").unwrap();
    assert_eq!(
        response.headers()[header::LOCATION],
        "/settings/account",
        "the trusted browser skips the challenge"
    );

    // …but not to the second factor itself.
    attack_is_refused_at_every_step(&app, &pool, &[&attacker, &trusted]).await;
}
