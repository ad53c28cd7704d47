//! Pages are sent back with what happened (the route table's notices), over HTTP.

use crate::assurance::{owner_trusting_this_browser, post, text};
use crate::{cookie_named, state_with};
use app::api::two_factor::{GetSecurityOverview, RevokeTrustedBrowser};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use leptos::server_fn::ServerFn;
use sqlx::PgPool;
use tower::ServiceExt;

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn revoking_a_trusted_browser_comes_back_to_the_page_saying_so(pool: PgPool) {
    let state = state_with(pool, &[]);
    let app = server::router(state.clone());
    let response = owner_trusting_this_browser(&app, &state).await;
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
