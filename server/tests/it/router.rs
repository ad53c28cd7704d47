use crate::{ORIGIN, app_error, router_with};
use app::api::{SignIn, SignUp};
use app::error::AppError;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use sqlx::PgPool;
use tower::ServiceExt;

fn form_post(url: &str, origin: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(origin) = origin {
        builder = builder.header(header::ORIGIN, origin);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

async fn body_text(response: axum::response::Response) -> String {
    String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

/// Signs Ann up through the router; returns her session cookie.
async fn signed_up(app: &axum::Router) -> String {
    let response = app
        .clone()
        .oneshot(form_post(SignUp::url(), Some(ORIGIN), SIGN_UP_BODY))
        .await
        .unwrap();
    crate::cookie_named(&response, "__Host-keyward_session").unwrap()
}

const SIGN_UP_BODY: &str =
    "email=ann%40example.com&password=good+passphrase+1&password_confirm=good+passphrase+1";

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn sign_up_sets_a_host_prefixed_session_cookie(pool: PgPool) {
    let app = router_with(pool, &[]);
    let response = app
        .oneshot(form_post(SignUp::url(), Some(ORIGIN), SIGN_UP_BODY))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("__Host-keyward_session="))
        .expect("a session cookie");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn cross_origin_posts_are_refused_before_reaching_the_function(pool: PgPool) {
    let app = router_with(pool.clone(), &[]);
    for origin in [
        Some("https://evil.example"),
        Some("http://localhost:3001"),
        None,
    ] {
        let response = app
            .clone()
            .oneshot(form_post(SignUp::url(), origin, SIGN_UP_BODY))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "origin {origin:?}"
        );
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn bad_input_is_a_422_naming_the_field_never_a_500(pool: PgPool) {
    let app = router_with(pool, &[]);
    let response = app
        .clone()
        .oneshot(form_post(
            SignUp::url(),
            Some(ORIGIN),
            "email=nope&password=x&password_confirm=x",
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = app_error(response).await;
    assert!(error.message_for("email").is_some(), "{error:?}");
    assert_eq!(
        error.message_for("password").as_deref(),
        Some("Use at least 15 characters."),
        "{error:?}"
    );

    // A missing argument is the client's mistake too.
    let response = app
        .oneshot(form_post(SignIn::url(), Some(ORIGIN), "email=a%40b.co"))
        .await
        .unwrap();
    let status = response.status();
    assert!(
        status.is_client_error(),
        "{status}: {}",
        body_text(response).await
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn saturated_hashing_answers_503_with_retry_after(pool: PgPool) {
    let state = crate::state_with(
        pool,
        &[("max_concurrent_hashes", "1"), ("hash_queue_length", "0")],
    );
    let app = server::router(state.clone());
    // The one hashing slot is held by a deliberately slow verification, admitted before the
    // sign-ins: none of them can be checked.
    let slow = test_support::hold_a_hashing_slot(&state.hasher).await;
    // Twelve addresses: guesses at one address would be throttled before any hashing.
    let requests = (0..12).map(|i| {
        let body = format!("email=nobody{i}%40example.com&password=some+passphrase");
        app.clone()
            .oneshot(form_post(SignIn::url(), Some(ORIGIN), &body))
    });
    let responses = futures::future::join_all(requests).await;
    for response in responses {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
    assert!(!slow.await.unwrap(), "a made-up hash never matches");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn pages_carry_a_csp_whose_nonce_is_on_the_hydration_script(pool: PgPool) {
    let app = router_with(pool, &[]);
    let response = app
        .oneshot(Request::get("/signin").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    let html = body_text(response).await;
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "hydration script lacks the nonce"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn settings_redirect_visitors_without_a_session(pool: PgPool) {
    let app = router_with(pool, &[]);
    for path in ["/", "/settings/account", "/settings"] {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "{path}: {}",
            response.status()
        );
    }
    let response = app
        .oneshot(
            Request::get("/settings/account")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()[header::LOCATION], "/signin");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn health_and_readiness(pool: PgPool) {
    let app = router_with(pool, &[]);
    for path in ["/healthz", "/readyz"] {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn oversized_bodies_are_refused(pool: PgPool) {
    let app = router_with(pool, &[]);
    let huge = format!("email=a%40b.co&password={}", "x".repeat(200 * 1024));
    for declare_length in [true, false] {
        let mut request = form_post(SignIn::url(), Some(ORIGIN), &huge);
        if declare_length {
            request
                .headers_mut()
                .insert(header::CONTENT_LENGTH, huge.len().into());
        }
        let response = app.clone().oneshot(request).await.unwrap();
        // Reading stops at the limit; the request is the client's mistake, never a 500.
        assert!(response.status().is_client_error(), "{}", response.status());
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn personal_pages_are_never_cached_and_head_is_guarded_too(pool: PgPool) {
    let app = router_with(pool, &[]);
    let response = app
        .clone()
        .oneshot(Request::get("/signin").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let response = app
        .oneshot(
            Request::head("/settings/account")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()[header::LOCATION], "/signin");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn guessing_one_address_is_answered_429_with_retry_after(pool: PgPool) {
    let app = router_with(pool, &[]);
    let body = "email=ann%40example.com&password=a+guess+at+it";
    // The first few are answered; then a guess that comes too soon is told how long to wait
    // (within a few more, however slow this machine is).
    for attempt in 1..=10 {
        let response = app
            .clone()
            .oneshot(form_post(SignIn::url(), Some(ORIGIN), body))
            .await
            .unwrap();
        if attempt <= app::server::factors::two_factor::FREE_ATTEMPTS {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            continue;
        }
        if response.status() == StatusCode::UNAUTHORIZED {
            continue;
        }
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u32 = response.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=16).contains(&wait), "{wait}");
        let error = app_error(response).await;
        assert!(
            matches!(error, AppError::TooManyAttempts { .. }),
            "{error:?}"
        );
        return;
    }
    panic!("ten guesses in a row were all answered");
}

/// Settings pages carry their data in the document itself: with JavaScript off or slow, a person
/// reads the page, never a "Loading…" that script would have replaced.
#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn settings_pages_arrive_complete_without_script(pool: PgPool) {
    let app = router_with(pool, &[]);
    let cookie = signed_up(&app).await;
    for (path, expected) in [
        ("/settings/account", "Change password"),
        ("/settings/security", "Enable two-factor authentication"),
    ] {
        let response = app
            .clone()
            .oneshot(
                Request::get(path)
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let page = body_text(response).await;
        assert!(!page.contains("Loading…"), "{path}: {page}");
        assert!(page.contains(expected), "{path}: {page}");
        // The signed-in header is in place too, not streamed in after the page.
        assert!(
            page.contains(r#"<span class="site-header__email">ann@example.com</span>"#),
            "{path}: {page}"
        );
    }
}

/// The guard reads the route table by exact path: other spellings of a settings page must not
/// render it for a visitor (they are not found, or guarded like the page itself).
#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn other_spellings_of_a_page_path_do_not_get_past_the_guard(pool: PgPool) {
    let app = router_with(pool, &[]);
    for (path, expected) in [
        ("/settings/account/", StatusCode::SEE_OTHER),
        ("/settings/%61ccount", StatusCode::NOT_FOUND),
        ("/settings//account", StatusCode::NOT_FOUND),
        ("/%73ettings/security", StatusCode::NOT_FOUND),
    ] {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{path}");
        if expected == StatusCode::SEE_OTHER {
            assert_eq!(response.headers()[header::LOCATION], "/signin", "{path}");
        }
        let page = body_text(response).await;
        assert!(!page.contains("Change password"), "{path}: {page}");
        assert!(
            !page.contains("Two-factor authentication"),
            "{path}: {page}"
        );
    }
}

/// Building a router while another one serves pages must not stall those pages. Working out the
/// route list suppresses resource loading for the whole process (leptos-rs/leptos#4773), so a
/// page whose resource first ran during that window never finished; the tests build a router
/// each, in parallel, and met this as a rare 30-second timeout.
#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn pages_finish_while_another_router_is_being_built(pool: PgPool) {
    let state = crate::state_with(pool, &[]);
    let app = server::router(state.clone());
    let cookie = signed_up(&app).await;

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = std::thread::spawn({
        let done = done.clone();
        move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                drop(server::router(state.clone()));
            }
        }
    });
    let mut stalled = 0;
    for _ in 0..40 {
        let request = Request::get("/settings/account")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        let page = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            body_text(app.clone().oneshot(request).await.unwrap()).await
        })
        .await;
        match page {
            Ok(page) => assert!(page.contains("Change password"), "{page}"),
            Err(_) => stalled += 1,
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    builder.join().unwrap();
    assert_eq!(stalled, 0, "pages that never finished");
}

/// Built files are kept for a year only when their names carry their hash: in development
/// (`LEPTOS_HASH_FILES=false`) the stylesheet keeps its name across rebuilds, and a browser that
/// kept it would show yesterday's tokens after a reload.
#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn built_files_are_kept_for_a_year_only_under_hashed_names(pool: PgPool) {
    let site = std::env::temp_dir().join(format!("keyward-site-{}-cache", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(
        site.join("pkg/keyward.css"),
        ":root { --color-accent: #0969da; }",
    )
    .unwrap();
    for (hash_files, expected) in [
        (true, "public, max-age=31536000, immutable"),
        (false, "no-cache"),
    ] {
        let options = leptos::config::LeptosOptions::builder()
            .output_name("keyward")
            .site_root(site.to_string_lossy().to_string())
            .hash_files(hash_files)
            .build();
        let state =
            app::server::AppState::new(options, pool.clone(), test_support::settings(&[])).unwrap();
        let response = server::router(state)
            .oneshot(
                Request::get("/pkg/keyward.css")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            expected,
            "hash_files = {hash_files}"
        );
    }
    std::fs::remove_dir_all(site).unwrap();
}

/// The hidden element a page hands its island's data in: `T`, decoded as the island decodes it.
fn island_data<T: leptos::server_fn::serde::de::DeserializeOwned>(
    html: &str,
    element_id: &str,
) -> T {
    use base64::Engine as _;
    use leptos::server_fn::Decodes;
    let element = html
        .find(&format!("id=\"{element_id}\""))
        .unwrap_or_else(|| panic!("no #{element_id} in {html}"));
    let rest = &html[element..];
    let start = rest.find("data-value=\"").unwrap() + "data-value=\"".len();
    let encoded = &rest[start..start + rest[start..].find('"').unwrap()];
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    leptos::server_fn::codec::PostcardEncoding::decode(bytes.into()).unwrap()
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_sign_up_island_is_handed_the_configured_password_policy(pool: PgPool) {
    let app = router_with(
        pool,
        &[
            ("password_min_length", "9"),
            ("password_composition", "upper_lower_digit"),
        ],
    );
    let response = app
        .oneshot(Request::get("/signup").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let data: app::pages::auth::SignUpData =
        island_data(&body_text(response).await, "sign-up-data");
    assert_eq!(data.policy.min_length, 9);
    assert_eq!(
        data.policy.composition,
        app::validation::CompositionRules::UpperLowerDigit
    );
}
