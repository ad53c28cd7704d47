use crate::{PASSWORD, client, settings, state_with, t0};
use app::server::accounts;
use app::server::sessions;
use sqlx::PgPool;
use time::Duration;

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn idle_sessions_expire_and_activity_keeps_them_alive(pool: PgPool) {
    let state = state_with(
        pool,
        settings(&[
            ("session_idle_minutes", "30"),
            ("session_absolute_hours", "8"),
        ]),
    );
    let signed = accounts::sign_up(
        &state,
        "ann@example.com",
        PASSWORD,
        PASSWORD,
        &client(),
        t0(),
    )
    .await
    .unwrap();
    let at = |minutes: i64| t0() + Duration::minutes(minutes);
    let live = |now| {
        let state = state.clone();
        let secret = signed.session_secret.clone();
        async move {
            sessions::authenticate(&state.pool, &state.settings, &secret, now)
                .await
                .unwrap()
                .is_some()
        }
    };
    // Activity every 29 minutes keeps the session going for hours...
    for step in 1..=10 {
        assert!(live(at(29 * step)).await, "active at minute {}", 29 * step);
    }
    // ...but 30 idle minutes end it.
    assert!(!live(at(290 + 30)).await);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn sessions_end_at_the_absolute_timeout_despite_activity(pool: PgPool) {
    let state = state_with(
        pool,
        settings(&[
            ("session_idle_minutes", "30"),
            ("session_absolute_hours", "8"),
        ]),
    );
    let signed = accounts::sign_up(
        &state,
        "ann@example.com",
        PASSWORD,
        PASSWORD,
        &client(),
        t0(),
    )
    .await
    .unwrap();
    let mut minute = 0;
    while minute < 8 * 60 - 20 {
        minute += 20;
        let now = t0() + Duration::minutes(minute);
        assert!(
            sessions::authenticate(&state.pool, &state.settings, &signed.session_secret, now)
                .await
                .unwrap()
                .is_some()
        );
    }
    let after = t0() + Duration::hours(8);
    assert!(
        sessions::authenticate(&state.pool, &state.settings, &signed.session_secret, after)
            .await
            .unwrap()
            .is_none()
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn sign_in_rotates_the_presented_session_and_sign_out_ends_it(pool: PgPool) {
    let state = state_with(pool, settings(&[]));
    let first = accounts::sign_up(
        &state,
        "ann@example.com",
        PASSWORD,
        PASSWORD,
        &client(),
        t0(),
    )
    .await
    .unwrap();
    let second = accounts::sign_in(
        &state,
        "ann@example.com",
        PASSWORD,
        Some(&first.session_secret),
        &client(),
        t0(),
    )
    .await
    .unwrap();
    let old = sessions::authenticate(&state.pool, &state.settings, &first.session_secret, t0())
        .await
        .unwrap();
    assert!(
        old.is_none(),
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
    assert!(
        sessions::authenticate(&state.pool, &state.settings, &second.session_secret, t0())
            .await
            .unwrap()
            .is_none()
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn only_a_hash_of_the_token_is_stored(pool: PgPool) {
    let state = state_with(pool, settings(&[]));
    let signed = accounts::sign_up(
        &state,
        "ann@example.com",
        PASSWORD,
        PASSWORD,
        &client(),
        t0(),
    )
    .await
    .unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    assert_ne!(stored, signed.session_secret.as_bytes());
    assert_eq!(stored, app::server::token::hash(&signed.session_secret));
}
