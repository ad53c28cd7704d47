//! Retiring an encryption key (issue 8 §6): secrets sealed with an old key are re-sealed under
//! the current one when next used or by `server --reseal`, and `server --key-usage` says what
//! still depends on each key.

use crate::{PASSWORD, client, code, otp_at, proof, settings, state_with, t0};
use app::server::AppState;
use app::server::UserId;
use app::server::auth::accounts;
use app::server::factors::authenticator::{self, KeyUsage};
use app::server::factors::two_factor::{self, ChallengeAnswer, ChallengeOutcome};
use app::server::primitives::crypto::KeyRing;
use app::server::primitives::totp::TotpSecret;
use app::server::sessions;
use app::server::sessions::browsers::BrowserTokens;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

fn ring(spec: &str, pool: &PgPool) -> AppState {
    state_with(pool.clone(), settings(&[("encryption_keys", spec)]))
}

/// Signs `email` up and turns the authenticator on at t0 with `state`'s keys.
async fn enrolled(state: &AppState, email: &str) -> (UserId, TotpSecret, Vec<String>) {
    let signed_up = accounts::sign_up(
        state,
        accounts::SignUpRequest::new(email, PASSWORD, PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap();
    let session = sessions::authenticate(
        &state.pool,
        &state.settings,
        &signed_up.session_secret,
        t0(),
    )
    .await
    .unwrap()
    .unwrap();
    let setup = crate::begin_setup(state, &session, t0()).await.unwrap();
    let key = setup.manual_key.replace(' ', "");
    let secret = TotpSecret::from_bytes(
        base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap(),
    );
    let confirmed = two_factor::confirm_totp_setup(
        state,
        &session,
        setup.factor_id.parse().unwrap(),
        &otp_at(&secret, t0()),
        &BrowserTokens::default(),
        &client(),
        t0(),
    )
    .await
    .unwrap();
    (
        signed_up.user_id,
        secret,
        confirmed.backup_codes.map(crate::shown).unwrap().codes,
    )
}

/// Signs in with the password and answers the challenge with `typed`.
async fn sign_in_with(
    state: &AppState,
    email: &str,
    typed: &str,
    backup: bool,
    at: OffsetDateTime,
) -> bool {
    let half = accounts::sign_in(
        state,
        accounts::SignInRequest::new(email, PASSWORD, &client()),
        at,
    )
    .await
    .unwrap();
    let challenge = crate::challenge_of(state, &half.session_secret, at).await;
    let outcome = two_factor::answer_challenge(
        state,
        &challenge,
        ChallengeAnswer {
            proof: proof(typed, backup).unwrap(),
            trust_browser: false,
        },
        &BrowserTokens::default(),
        &client(),
        at,
    )
    .await
    .unwrap();
    matches!(outcome, ChallengeOutcome::Passed(_))
}

async fn usage(state: &AppState) -> KeyUsage {
    authenticator::key_usage(&state.pool, &state.keys)
        .await
        .unwrap()
}

fn counts(usage: &KeyUsage, id: &str) -> (i64, i64) {
    usage
        .keys
        .iter()
        .find(|(key, ..)| key == id)
        .map_or((0, 0), |(_, _, authenticators, sets)| {
            (*authenticators, *sets)
        })
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_secret_sealed_with_an_old_key_is_resealed_when_next_used(pool: PgPool) {
    let old = KeyRing::generate_key_spec("old");
    let new = KeyRing::generate_key_spec("new");
    let before = ring(&old, &pool);
    let (_, secret, codes) = enrolled(&before, "ann@example.com").await;

    // A new key goes first; the old one stays so that what it sealed still opens.
    let rotated = ring(&format!("{new},{old}"), &pool);
    let seen = usage(&rotated).await;
    assert_eq!(counts(&seen, "old"), (1, 1));
    assert_eq!(counts(&seen, "new"), (0, 0));

    let at = t0() + Duration::minutes(1);
    assert!(sign_in_with(&rotated, "ann@example.com", &code(&secret, at), false, at).await);
    let seen = usage(&rotated).await;
    assert_eq!(
        counts(&seen, "new"),
        (1, 0),
        "the secret moved to the new key"
    );
    // Backup codes cannot be hashed again without the codes: the set keeps its key until the
    // owner makes new codes.
    assert_eq!(counts(&seen, "old"), (0, 1));

    // Without the old key, the authenticator still works; the old set does not.
    let retired = ring(&new, &pool);
    let later = at + Duration::minutes(1);
    assert!(
        sign_in_with(
            &retired,
            "ann@example.com",
            &code(&secret, later),
            false,
            later
        )
        .await
    );
    assert!(!sign_in_with(&retired, "ann@example.com", &codes[0], true, later).await);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn reseal_moves_every_secret_to_the_current_key(pool: PgPool) {
    let old = KeyRing::generate_key_spec("old");
    let new = KeyRing::generate_key_spec("new");
    let before = ring(&old, &pool);
    let (_, ann, _) = enrolled(&before, "ann@example.com").await;
    enrolled(&before, "bob@example.com").await;

    let rotated = ring(&format!("{new},{old}"), &pool);
    let done = authenticator::reseal_all(&rotated.pool, &rotated.keys)
        .await
        .unwrap();
    assert_eq!((done.resealed, done.unopenable.len()), (2, 0));
    let again = authenticator::reseal_all(&rotated.pool, &rotated.keys)
        .await
        .unwrap();
    assert_eq!((again.resealed, again.unopenable.len()), (0, 0));
    let seen = usage(&rotated).await;
    assert_eq!(counts(&seen, "new").0, 2);
    assert_eq!(counts(&seen, "old").0, 0);
    let at = t0() + Duration::minutes(1);
    assert!(
        sign_in_with(
            &ring(&new, &pool),
            "ann@example.com",
            &code(&ann, at),
            false,
            at
        )
        .await
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_set_made_before_keys_were_recorded_learns_its_key_when_a_code_is_used(pool: PgPool) {
    let old = KeyRing::generate_key_spec("old");
    let state = ring(&old, &pool);
    let (user_id, _, codes) = enrolled(&state, "ann@example.com").await;
    sqlx::query("UPDATE backup_codes SET key_id = NULL WHERE user_id = $1")
        .bind(user_id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(usage(&state).await.sets_with_unknown_key, 1);
    let at = t0() + Duration::minutes(1);
    assert!(sign_in_with(&state, "ann@example.com", &codes[0], true, at).await);
    let seen = usage(&state).await;
    assert_eq!(seen.sets_with_unknown_key, 0);
    assert_eq!(counts(&seen, "old").1, 1);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_key_no_longer_in_the_ring_is_reported(pool: PgPool) {
    let old = KeyRing::generate_key_spec("old");
    enrolled(&ring(&old, &pool), "ann@example.com").await;
    let only_new = ring(&KeyRing::generate_key_spec("new"), &pool);
    let seen = usage(&only_new).await;
    let missing = seen.keys.iter().find(|(id, ..)| id == "old").unwrap();
    assert!(!missing.1, "reported as not in the ring");
    assert_eq!((missing.2, missing.3), (1, 1));
    // Re-sealing goes past what it cannot open, and names it.
    let done = authenticator::reseal_all(&only_new.pool, &only_new.keys)
        .await
        .unwrap();
    assert_eq!((done.resealed, done.unopenable.len()), (0, 1));
}
