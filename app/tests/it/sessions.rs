use crate::{PASSWORD, client, is_live, settings, sign_up, state_with, t0};
use app::server::{auth::accounts, sessions};
use sqlx::PgPool;
use time::Duration;

fn timeouts() -> app::server::infra::config::Settings {
    settings(&[
        ("session_idle_minutes", "30"),
        ("session_absolute_hours", "8"),
    ])
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn idle_sessions_expire_and_activity_keeps_them_alive(pool: PgPool) {
    let state = state_with(pool, timeouts());
    let secret = sign_up(&state, "ann@example.com").await.session_secret;
    let at = |minutes: i64| t0() + Duration::minutes(minutes);
    // Activity every 29 minutes keeps the session going for hours...
    for step in 1..=10 {
        assert!(
            is_live(&state, &secret, at(29 * step)).await,
            "active at minute {}",
            29 * step
        );
    }
    // ...but 30 idle minutes end it.
    assert!(!is_live(&state, &secret, at(290 + 30)).await);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn sessions_end_at_the_absolute_timeout_despite_activity(pool: PgPool) {
    let state = state_with(pool, timeouts());
    let secret = sign_up(&state, "ann@example.com").await.session_secret;
    for minute in (20..8 * 60).step_by(20) {
        assert!(
            is_live(&state, &secret, t0() + Duration::minutes(minute)).await,
            "minute {minute}"
        );
    }
    assert!(!is_live(&state, &secret, t0() + Duration::hours(8)).await);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn sign_in_rotates_the_presented_session_and_sign_out_ends_it(pool: PgPool) {
    let state = state_with(pool, settings(&[]));
    let first = sign_up(&state, "ann@example.com").await;
    let second = accounts::sign_in(
        &state,
        accounts::SignInRequest::new("ann@example.com", PASSWORD, &client())
            .replacing(Some(&first.session_secret)),
        t0(),
    )
    .await
    .unwrap();
    assert!(
        !is_live(&state, &first.session_secret, t0()).await,
        "the session presented at sign-in must not survive it"
    );
    let current =
        sessions::authenticate(&state.pool, &state.settings, &second.session_secret, t0())
            .await
            .unwrap()
            .unwrap();
    accounts::sign_out(&state, &current, &client(), t0())
        .await
        .unwrap();
    assert!(!is_live(&state, &second.session_secret, t0()).await);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn only_a_hash_of_the_token_is_stored(pool: PgPool) {
    let state = state_with(pool, settings(&[]));
    let signed = sign_up(&state, "ann@example.com").await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    assert_ne!(stored, signed.session_secret.as_bytes());
    assert_eq!(
        stored,
        app::server::primitives::token::hash(&signed.session_secret)
    );
}
