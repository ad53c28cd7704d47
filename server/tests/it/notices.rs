//! Pages are sent back with what happened (the route table's notices), over HTTP.

use crate::assurance::{
    EMAIL, PASSWORD, authenticator_added_behind_its_back, cookie_named, post, sign_in, text,
};
use crate::state_with;
use app::api::SignUp;
use app::api::two_factor::{AnswerChallenge, GetSecurityOverview, RevokeTrustedBrowser};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use leptos::server_fn::ServerFn;
use sqlx::PgPool;
use tower::ServiceExt;

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn revoking_a_trusted_browser_comes_back_to_the_page_saying_so(pool: PgPool) {
    let state = state_with(pool, &[]);
    let app = server::router(state.clone());
    let body = format!("email={EMAIL}&password={PASSWORD}&password_confirm={PASSWORD}");
    let response = app
        .clone()
        .oneshot(post(SignUp::url(), &[], &body))
        .await
        .unwrap();
    let first = cookie_named(&response, "__Host-keyward_session").unwrap();
    let secret = authenticator_added_behind_its_back(&state, &first).await;
    let response = sign_in(&app, &[]).await;
    let half = cookie_named(&response, "__Host-keyward_session").unwrap();
    let code = secret.code_at(state.clock.now().unix_timestamp() as u64);
    let response = app
        .clone()
        .oneshot(post(
            AnswerChallenge::url(),
            &[&half],
            &format!("code={code}&trust_browser=true"),
        ))
        .await
        .unwrap();
    let session = cookie_named(&response, "__Host-keyward_session").unwrap();
    let overview = app
        .clone()
        .oneshot(post(GetSecurityOverview::url(), &[&session], ""))
        .await
        .unwrap();
    let overview: serde_json::Value = serde_json::from_str(&text(overview).await).unwrap();
    let id = overview["trusted_browsers"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = app
        .clone()
        .oneshot(post(
            RevokeTrustedBrowser::url(),
            &[&session],
            &format!("id={id}"),
        ))
        .await
        .unwrap();
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(location, "/settings/security?done=revoked");
    let page = app
        .clone()
        .oneshot(
            Request::get(location)
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = text(page).await;
    assert!(page.contains("The browser is no longer trusted."), "{page}");
    assert!(page.contains("No trusted browsers."), "{page}");
}
