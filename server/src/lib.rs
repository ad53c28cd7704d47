//! Keyward's HTTP server: the router, the middleware every request passes, and static files.
//! `main.rs` only reads configuration, connects to Postgres and serves this router.

// The account page's island renders a deep view type; the default limit is not enough.
#![recursion_limit = "256"]

pub mod middleware;

use app::routes::Page;
use app::server::AppState;
use app::{App, shell};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::sync::OnceLock;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Hashed build output never changes under the same name, so browsers may keep it for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unhashed build output (development, `LEPTOS_HASH_FILES=false`) changes under the same name
/// at every rebuild: asked again each time.
const REVALIDATE: &str = "no-cache";
/// Unhashed assets (favicon, the common-password list) are revalidated daily.
const DAILY: &str = "public, max-age=86400";

/// The app's routes, worked out once per process.
///
/// Working them out renders the app with resource loading suppressed through a flag that is
/// global to the process (leptos-rs/leptos#4773): a resource first polled anywhere meanwhile
/// waits forever, and its page with it. Routers built later (the tests build one each, in
/// parallel with other tests' requests) must not do it again.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let site_root = state.leptos_options.site_root.to_string();
    let pkg_dir = format!("{site_root}/{}", state.leptos_options.site_pkg_dir);

    // Only files that were found may be kept: a 404 (a missing chunk, the not-found page with
    // the signed-in header) falls through to the `no-store` of the security headers.
    let pkg = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            cache_when_found(if state.leptos_options.hash_files {
                IMMUTABLE
            } else {
                REVALIDATE
            }),
        ))
        .service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        );
    let assets = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            cache_when_found(DAILY),
        ))
        .service(
            ServeDir::new(site_root)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(get(not_found_page).with_state(state.clone())),
        );

    let app_state = state.clone();
    let app = Router::new()
        .route("/", get(home))
        .route("/settings", get(home))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(app_state.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .nest_service(&format!("/{}", state.leptos_options.site_pkg_dir), pkg)
        .fallback_service(assets)
        .layer(axum::middleware::from_fn(
            middleware::malformed_requests_are_client_errors,
        ))
        .layer(axum::middleware::from_fn(middleware::page_guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::load_session,
        ))
        .layer(axum::middleware::from_fn(
            middleware::drop_cross_site_error_text,
        ))
        .layer(axum::middleware::from_fn(
            middleware::server_functions_take_forms_only,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::origin_guard,
        ));
    with_outer_layers(app, state)
}

/// The layers around everything, innermost first: the body limit (413), the timeout (408) and
/// the panic handler (500) produce answers of their own, so the security headers go around them
/// and those answers carry the headers too.
pub fn with_outer_layers(app: Router<AppState>, state: AppState) -> Router {
    app
        // Server functions read whole bodies; none of ours needs more than a few KiB.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_REQUEST_BODY_BYTES,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// `Cache-Control: value` for successful (and not-modified) answers only.
fn cache_when_found<B>(
    value: &'static str,
) -> impl Fn(&http::Response<B>) -> Option<HeaderValue> + Clone {
    move |response| {
        let status = response.status();
        (status.is_success() || status == StatusCode::NOT_MODIFIED)
            .then(|| HeaderValue::from_static(value))
    }
}

/// `/` and `/settings` lead to the account settings; the page guard sends visitors without a
/// session to sign in.
async fn home() -> Redirect {
    Redirect::to(Page::HOME.path())
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can reach its database.
async fn readyz(State(state): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&state.pool)
        .await
    {
        Ok(_) => "ready".into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Renders the app's "Page not found" for any path that is neither a route nor a file; a caller
/// in the middle of signing in is sent back to the challenge instead (the route table denies by
/// default).
async fn not_found_page(State(state): State<AppState>, request: Request) -> Response {
    if let Some(to) = app::routes::redirect_for(None, middleware::progress_of(&request)) {
        return Redirect::to(to.path()).into_response();
    }
    let options = state.leptos_options.clone();
    let handler = leptos_axum::render_app_async_with_context(
        move || provide_context(state.clone()),
        move || shell(options.clone()),
    );
    let mut response = handler(request).await.into_response();
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
