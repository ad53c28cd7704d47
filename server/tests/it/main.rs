//! HTTP-level tests of the router: middleware order, statuses and headers, against a real
//! PostgreSQL (a fresh database per test).

// Test helpers may panic: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod assurance;
mod challenge;
mod hardening;
mod logging;
mod notices;
mod router;

use app::server::AppState;
use axum::Router;
use sqlx::PgPool;

pub const ORIGIN: &str = "http://localhost:3000";

/// The error a server function answered with, decoded from its wire encoding as the browser
/// decodes it.
pub async fn app_error(response: axum::response::Response) -> app::error::AppError {
    use http_body_util::BodyExt;
    use leptos::server_fn::error::FromServerFnError;
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    app::error::AppError::de(bytes)
}

pub fn router_with(pool: PgPool, overrides: &[(&str, &str)]) -> Router {
    server::router(state_with(pool, overrides))
}

/// State as the release server has it (production mode).
pub fn state_with(pool: PgPool, overrides: &[(&str, &str)]) -> AppState {
    state_in(pool, leptos::config::Env::PROD, overrides)
}

pub fn state_in(pool: PgPool, env: leptos::config::Env, overrides: &[(&str, &str)]) -> AppState {
    let settings = test_support::settings(overrides);
    let options = leptos::config::LeptosOptions::builder()
        .output_name("keyward")
        .env(env)
        .build();
    AppState::new(options, pool, settings).unwrap()
}

/// The `name=value` of the cookie called `name` that a response sets.
pub fn cookie_named(response: &axum::response::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}
