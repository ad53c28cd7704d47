use crate::{Words, code, otp, otp_at, sign_up, state, t0};
use app::server::factors::authenticator::{self, MAX_ENROLLMENT_ATTEMPTS};
use app::server::primitives::crypto::KeyRing;
use app::server::primitives::totp::TotpSecret;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

fn keys() -> KeyRing {
    KeyRing::parse(&KeyRing::generate_key_spec("test")).unwrap()
}

/// A verified authenticator: begin, then confirm with the code of `at`.
async fn enroll(
    state: &app::server::AppState,
    keys: &KeyRing,
    user: app::server::UserId,
    label: &str,
    at: OffsetDateTime,
) -> TotpSecret {
    let pending = authenticator::begin(&state.pool, keys, user, label, at)
        .await
        .unwrap();
    test_support::confirm_authenticator(
        &state.pool,
        keys,
        authenticator::Confirmation {
            user_id: user,
            factor_id: pending.factor_id,
            code: &otp_at(&pending.secret, at),
        },
        at,
    )
    .await
    .unwrap();
    pending.secret
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_secret_becomes_active_only_after_a_code_from_it_is_verified(pool: PgPool) {
    let state = state(pool);
    let keys = keys();
    let user = sign_up(&state, "ann@example.com").await.user_id;
    let pending = authenticator::begin(&state.pool, &keys, user, "Phone", t0())
        .await
        .unwrap();
    // Pending: codes do not sign in yet.
    assert!(
        !authenticator::verify(
            &state.pool,
            &keys,
            user,
            &otp_at(&pending.secret, t0()),
            t0()
        )
        .await
        .unwrap()
    );
    let stored: Vec<u8> = sqlx::query_scalar("SELECT ciphertext FROM totp_factors")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    assert!(
        !stored.windows(20).any(|w| w == pending.secret.as_bytes()),
        "secret stored in clear"
    );

    test_support::confirm_authenticator(
        &state.pool,
        &keys,
        authenticator::Confirmation {
            user_id: user,
            factor_id: pending.factor_id,
            code: &otp_at(&pending.secret, t0()),
        },
        t0(),
    )
    .await
    .unwrap();
    // The code used to confirm is spent; the next step's code signs in, once.
    let later = t0() + Duration::seconds(30);
    assert!(
        !authenticator::verify(
            &state.pool,
            &keys,
            user,
            &otp_at(&pending.secret, t0()),
            later
        )
        .await
        .unwrap()
    );
    assert!(
        authenticator::verify(
            &state.pool,
            &keys,
            user,
            &otp_at(&pending.secret, later),
            later
        )
        .await
        .unwrap()
    );
    assert!(
        !authenticator::verify(
            &state.pool,
            &keys,
            user,
            &otp_at(&pending.secret, later),
            later
        )
        .await
        .unwrap(),
        "replay accepted"
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn one_code_sent_twenty_times_at_once_is_accepted_exactly_once(pool: PgPool) {
    let state = state(pool);
    let keys = std::sync::Arc::new(keys());
    let user = sign_up(&state, "ann@example.com").await.user_id;
    let secret = enroll(&state, &keys, user, "Phone", t0()).await;
    let now = t0() + Duration::seconds(60);
    let the_code = otp_at(&secret, now);
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let (pool, keys, code) = (state.pool.clone(), keys.clone(), the_code.clone());
            tokio::spawn(async move { authenticator::verify(&pool, &keys, user, &code, now).await })
        })
        .collect();
    let mut accepted = 0;
    for attempt in attempts {
        if attempt.await.unwrap().unwrap() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn wrong_codes_are_counted_and_end_the_setup(pool: PgPool) {
    let state = state(pool);
    let keys = keys();
    let user = sign_up(&state, "ann@example.com").await.user_id;
    let pending = authenticator::begin(&state.pool, &keys, user, "Phone", t0())
        .await
        .unwrap();
    let right = code(&pending.secret, t0());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for left in (1..MAX_ENROLLMENT_ATTEMPTS).rev() {
        let err = test_support::confirm_authenticator(
            &state.pool,
            &keys,
            authenticator::Confirmation {
                user_id: user,
                factor_id: pending.factor_id,
                code: &otp(wrong),
            },
            t0(),
        )
        .await
        .unwrap_err();
        assert!(
            err.message_for("code")
                .unwrap()
                .contains(&format!("{left} attempt")),
            "{err:?}"
        );
    }
    let err = test_support::confirm_authenticator(
        &state.pool,
        &keys,
        authenticator::Confirmation {
            user_id: user,
            factor_id: pending.factor_id,
            code: &otp(wrong),
        },
        t0(),
    )
    .await
    .unwrap_err();
    assert!(err.message_for("code").unwrap().contains("Too many"));
    // The right code no longer helps: the pending secret is gone.
    let err = test_support::confirm_authenticator(
        &state.pool,
        &keys,
        authenticator::Confirmation {
            user_id: user,
            factor_id: pending.factor_id,
            code: &otp(&right),
        },
        t0(),
    )
    .await
    .unwrap_err();
    assert!(err.message_for("code").unwrap().contains("expired"));
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn an_abandoned_setup_expires(pool: PgPool) {
    let state = state(pool);
    let keys = keys();
    let user = sign_up(&state, "ann@example.com").await.user_id;
    let pending = authenticator::begin(&state.pool, &keys, user, "Phone", t0())
        .await
        .unwrap();
    let much_later = t0() + authenticator::PENDING_LIFETIME + Duration::seconds(1);
    let err = test_support::confirm_authenticator(
        &state.pool,
        &keys,
        authenticator::Confirmation {
            user_id: user,
            factor_id: pending.factor_id,
            code: &otp_at(&pending.secret, much_later),
        },
        much_later,
    )
    .await
    .unwrap_err();
    assert!(err.message_for("code").unwrap().contains("expired"));
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_replacement_takes_over_only_once_verified(pool: PgPool) {
    let state = state(pool);
    let keys = keys();
    let user = sign_up(&state, "ann@example.com").await.user_id;
    let old = enroll(&state, &keys, user, "Old phone", t0()).await;
    let t1 = t0() + Duration::seconds(60);
    let new = authenticator::begin(&state.pool, &keys, user, "New phone", t1)
        .await
        .unwrap();
    // Until the new one is verified, the old one still signs in.
    assert!(
        authenticator::verify(&state.pool, &keys, user, &otp_at(&old, t1), t1)
            .await
            .unwrap()
    );
    let t2 = t1 + Duration::seconds(60);
    test_support::confirm_authenticator(
        &state.pool,
        &keys,
        authenticator::Confirmation {
            user_id: user,
            factor_id: new.factor_id,
            code: &otp_at(&new.secret, t2),
        },
        t2,
    )
    .await
    .unwrap();
    let t3 = t2 + Duration::seconds(60);
    assert!(
        !authenticator::verify(&state.pool, &keys, user, &otp_at(&old, t3), t3)
            .await
            .unwrap()
    );
    assert!(
        authenticator::verify(&state.pool, &keys, user, &otp_at(&new.secret, t3), t3)
            .await
            .unwrap()
    );
}
