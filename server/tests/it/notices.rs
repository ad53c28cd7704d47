//! Pages are sent back with what happened (the route table's notices), over HTTP.

use crate::assurance::{owner_trusting_this_browser, post, text};
use crate::{cookie_named, state_with};
use app::api::two_factor::{
    ConfirmTotpSetup, GetSecurityOverview, RevokeTrustedBrowser, SecurityOverview, TrustedBrowser,
};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::server_fn::Decodes;
use leptos::server_fn::ServerFn;
use leptos::server_fn::codec::PostcardEncoding;
use sqlx::PgPool;
use tower::ServiceExt;

/// A router and the session of an owner who trusts this browser (one trusted browser).
async fn owner_with_a_trusted_browser(pool: PgPool) -> (axum::Router, String) {
    let state = state_with(pool, &[]);
    let app = server::router(state.clone());
    let response = owner_trusting_this_browser(&app, &state).await;
    let session = cookie_named(&response, "__Host-keyward_session").unwrap();
    (app, session)
}

/// The trusted browsers the Security page would list for `session`.
async fn trusted_browsers(app: &axum::Router, session: &str) -> Vec<TrustedBrowser> {
    let overview = app
        .clone()
        .oneshot(post(GetSecurityOverview::url(), &[session], ""))
        .await
        .unwrap();
    let bytes = overview.into_body().collect().await.unwrap().to_bytes();
    let overview: SecurityOverview = PostcardEncoding::decode(bytes).unwrap();
    overview.trusted_browsers
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn revoking_a_trusted_browser_comes_back_to_the_page_saying_so(pool: PgPool) {
    let (app, session) = owner_with_a_trusted_browser(pool).await;
    let id = trusted_browsers(&app, &session).await[0].id.clone();

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

/// Ids arrive from forms as text and are parsed at the edge: one that is not an id is an answer
/// like any other, never a 500. Revoking names no browser of the account (the same redirect,
/// nothing revoked); confirming a setup finds it gone (the field error).
#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn malformed_ids_are_answered_never_a_500(pool: PgPool) {
    let (app, session) = owner_with_a_trusted_browser(pool).await;

    let response = app
        .clone()
        .oneshot(post(
            RevokeTrustedBrowser::url(),
            &[&session],
            "id=not-a-uuid",
        ))
        .await
        .unwrap();
    assert!(
        !response.status().is_server_error(),
        "{}",
        response.status()
    );
    assert_eq!(
        response.headers()[header::LOCATION],
        "/settings/security?done=revoked"
    );
    assert_eq!(trusted_browsers(&app, &session).await.len(), 1);

    let response = app
        .clone()
        .oneshot(post(
            ConfirmTotpSetup::url(),
            &[&session],
            "factor_id=x&code=123456",
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = text(response).await;
    assert!(body.contains("This setup has expired"), "{body}");
}
