use crate::{PASSWORD, Words, client, is_live, settings, sign_up, state, state_with, t0};
use app::server::Error;
use app::server::auth::accounts::{self, PasswordChange};
use app::server::db::events;
use app::server::db::users::Rekeyed;
use app::server::sessions;
use app::server::sessions::browsers::BrowserTokens;
use sqlx::PgPool;

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn sign_up_then_sign_in_with_any_letter_case(pool: PgPool) {
    let state = state(pool);
    let signed_up = accounts::sign_up(
        &state,
        accounts::SignUpRequest::new(" Ann@Example.com ", PASSWORD, PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap();
    let signed_in = accounts::sign_in(
        &state,
        accounts::SignInRequest::new("ann@EXAMPLE.com", PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(signed_up.user_id, signed_in.user_id);
    assert_ne!(signed_up.session_secret, signed_in.session_secret);
    let kinds = events::kinds_for_user(&state.pool, signed_in.user_id)
        .await
        .unwrap();
    assert_eq!(kinds, ["signed_up", "signed_in"]);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn wrong_password_and_unknown_email_get_the_same_answer(pool: PgPool) {
    let state = state(pool);
    let user = sign_up(&state, "ann@example.com").await;
    let wrong = accounts::sign_in(
        &state,
        accounts::SignInRequest::new("ann@example.com", "not the password", &client()),
        t0(),
    )
    .await
    .unwrap_err();
    let unknown = accounts::sign_in(
        &state,
        accounts::SignInRequest::new("bob@example.com", PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(wrong, Error::InvalidCredentials);
    assert_eq!(unknown, Error::InvalidCredentials);
    // The failure is logged off the request path (so it cannot be timed): wait for it.
    let mut kinds = Vec::new();
    for _ in 0..100 {
        kinds = events::kinds_for_user(&state.pool, user.user_id)
            .await
            .unwrap();
        if kinds.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(kinds, ["signed_up", "sign_in_failed"]);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn concurrent_sign_ups_with_one_email_create_one_account(pool: PgPool) {
    let state = state(pool);
    let client = client();
    let (a, b) = tokio::join!(
        accounts::sign_up(
            &state,
            accounts::SignUpRequest::new("race@example.com", PASSWORD, PASSWORD, &client),
            t0()
        ),
        accounts::sign_up(
            &state,
            accounts::SignUpRequest::new("RACE@example.com", PASSWORD, PASSWORD, &client),
            t0()
        ),
    );
    let (won, lost) = match (a, b) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("expected one winner and one loser, got {other:?}"),
    };
    assert!(
        lost.message_for("email")
            .unwrap()
            .contains("already exists"),
        "{lost:?}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert!(
        accounts::sign_in(
            &state,
            accounts::SignInRequest::new("race@example.com", PASSWORD, &client),
            t0()
        )
        .await
        .is_ok()
    );
    let _ = won;
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn weak_and_common_passwords_are_refused_by_the_server(pool: PgPool) {
    let state = state(pool);
    let short = accounts::sign_up(
        &state,
        accounts::SignUpRequest::new("a@example.com", "short", "short", &client()),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        short.message_for("password").as_deref(),
        Some("Use at least 15 characters.")
    );
    // Fourteen spaces do not make "a" long.
    let padded = format!("a{}", " ".repeat(14));
    let spaces = accounts::sign_up(
        &state,
        accounts::SignUpRequest::new("a@example.com", &padded, &padded, &client()),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        spaces.message_for("password").as_deref(),
        Some("Use at least 15 characters.")
    );
    let common = accounts::sign_up(
        &state,
        accounts::SignUpRequest::new(
            "a@example.com",
            "1QAZ2WSX3EDC4RFV",
            "1QAZ2WSX3EDC4RFV",
            &client(),
        ),
        t0(),
    )
    .await
    .unwrap_err();
    assert!(
        common
            .message_for("password")
            .unwrap()
            .contains("too common")
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn composition_policy_is_one_setting_away(pool: PgPool) {
    let state = state_with(
        pool,
        settings(&[("password_composition", "upper_lower_digit")]),
    );
    let err = accounts::sign_up(
        &state,
        accounts::SignUpRequest::new("a@example.com", PASSWORD, PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message_for("password").as_deref(),
        Some("Add an upper-case letter.")
    );
    // The classic eight characters with the three kinds.
    accounts::sign_up(
        &state,
        accounts::SignUpRequest::new("a@example.com", "Tulip7Bx", "Tulip7Bx", &client()),
        t0(),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn password_change_signs_out_other_sessions_when_asked(pool: PgPool) {
    let state = state(pool);
    let first = sign_up(&state, "ann@example.com").await;
    let second = sign_in(&state, "ann@example.com").await;
    let third = sign_in(&state, "ann@example.com").await;
    let current = current_session(&state, &first).await;

    let wrong_current = accounts::change_password(
        &state,
        &current,
        change("not my password", "a brand new passphrase", true),
        &BrowserTokens::default(),
        &client(),
        t0(),
    )
    .await
    .unwrap_err();
    assert!(wrong_current.message_for("current_password").is_some());

    let changed = accounts::change_password(
        &state,
        &current,
        change(PASSWORD, "a brand new passphrase", true),
        &BrowserTokens::default(),
        &client(),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(changed.other_sessions_signed_out, 2);
    for other in [&second, &third] {
        assert!(!is_live(&state, &other.session_secret, t0()).await);
    }
    // This session goes on, under the new token it was given.
    assert!(is_live(&state, &changed.session_secret, t0()).await);
    assert_eq!(
        accounts::sign_in(
            &state,
            accounts::SignInRequest::new("ann@example.com", PASSWORD, &client()),
            t0()
        )
        .await
        .unwrap_err(),
        Error::InvalidCredentials
    );
    accounts::sign_in(
        &state,
        accounts::SignInRequest::new("ann@example.com", "a brand new passphrase", &client()),
        t0(),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn password_change_can_keep_other_sessions(pool: PgPool) {
    let state = state(pool);
    let first = sign_up(&state, "ann@example.com").await;
    let second = sign_in(&state, "ann@example.com").await;
    let current = current_session(&state, &first).await;
    let changed = accounts::change_password(
        &state,
        &current,
        change(PASSWORD, "a brand new passphrase", false),
        &BrowserTokens::default(),
        &client(),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(changed.other_sessions_signed_out, 0);
    assert!(is_live(&state, &second.session_secret, t0()).await);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn saturated_hashing_answers_busy_instead_of_queueing(pool: PgPool) {
    let state = state_with(
        pool,
        settings(&[("max_concurrent_hashes", "1"), ("hash_queue_length", "0")]),
    );
    let client = client();
    // The one hashing slot is taken by a deliberately slow verification, admitted before any
    // sign-in starts: the outcome does not depend on how the sign-ins interleave.
    let slow = test_support::hold_a_hashing_slot(&state.hasher).await;

    let attempts = (0..5).map(|_| {
        accounts::sign_in(
            &state,
            accounts::SignInRequest::new("nobody@example.com", PASSWORD, &client),
            t0(),
        )
    });
    let results = futures::future::join_all(attempts).await;
    assert!(
        results.iter().all(|r| matches!(r, Err(Error::Busy { .. }))),
        "{results:?}"
    );

    // Once the slot is free, a sign-in is checked again.
    assert!(!slow.await.unwrap(), "a made-up hash never matches");
    let after = accounts::sign_in(
        &state,
        accounts::SignInRequest::new("nobody@example.com", PASSWORD, &client),
        t0(),
    )
    .await;
    assert!(matches!(after, Err(Error::InvalidCredentials)), "{after:?}");
}

fn change<'a>(current: &'a str, new: &'a str, sign_out_other_sessions: bool) -> PasswordChange<'a> {
    PasswordChange {
        current_password: current,
        new_password: new,
        new_password_confirm: new,
        sign_out_other_sessions,
    }
}

async fn sign_in(state: &app::server::AppState, email: &str) -> accounts::SignedIn {
    accounts::sign_in(
        state,
        accounts::SignInRequest::new(email, PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap()
}

async fn current_session(
    state: &app::server::AppState,
    signed_in: &accounts::SignedIn,
) -> sessions::CurrentSession {
    sessions::authenticate(
        &state.pool,
        &state.settings,
        &signed_in.session_secret,
        t0(),
    )
    .await
    .unwrap()
    .unwrap()
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn of_two_concurrent_password_changes_one_wins(pool: PgPool) {
    let state = state(pool);
    let first = sign_up(&state, "ann@example.com").await;
    let second = sign_in(&state, "ann@example.com").await;
    let (a, b) = (
        current_session(&state, &first).await,
        current_session(&state, &second).await,
    );
    let client = client();
    let browser = BrowserTokens::default();
    let (one, two) = tokio::join!(
        accounts::change_password(
            &state,
            &a,
            change(PASSWORD, "first new passphrase", false),
            &browser,
            &client,
            t0()
        ),
        accounts::change_password(
            &state,
            &b,
            change(PASSWORD, "second new passphrase", false),
            &browser,
            &client,
            t0()
        ),
    );
    assert!(one.is_ok() != two.is_ok(), "{one:?} / {two:?}");
    let winner = if one.is_ok() {
        "first new passphrase"
    } else {
        "second new passphrase"
    };
    accounts::sign_in(
        &state,
        accounts::SignInRequest::new("ann@example.com", winner, &client),
        t0(),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_sign_in_checked_against_a_replaced_password_starts_no_session(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, "ann@example.com").await;
    let old_hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    let current = current_session(&state, &signed_up).await;
    accounts::change_password(
        &state,
        &current,
        change(PASSWORD, "a brand new passphrase", true),
        &BrowserTokens::default(),
        &client(),
        t0(),
    )
    .await
    .unwrap();
    // What a sign-in that verified the old password just before the change would do next:
    let started = sessions::start_if_password_is(
        &state.pool,
        signed_up.user_id,
        sessions::Level::Full,
        &old_hash,
        &client(),
        t0(),
    )
    .await
    .unwrap();
    assert!(started.is_none());
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_wrong_current_password_is_logged(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, "ann@example.com").await;
    let current = current_session(&state, &signed_up).await;
    let refused = accounts::change_password(
        &state,
        &current,
        change("guess 123 guess", "a brand new passphrase", true),
        &BrowserTokens::default(),
        &client(),
        t0(),
    )
    .await
    .unwrap_err();
    assert!(refused.message_for("current_password").is_some());
    let kinds = events::kinds_for_user(&state.pool, signed_up.user_id)
        .await
        .unwrap();
    assert_eq!(kinds, ["signed_up", "password_change_refused"]);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn addresses_are_matched_after_nfkc_and_case_folding(pool: PgPool) {
    let state = state(pool);
    sign_up(&state, "Straße@Example.com").await;
    for typed in [
        "STRASSE@EXAMPLE.COM",
        "strasse@example.com",
        "ＳＴＲＡＳＳＥ@example.com",
    ] {
        accounts::sign_in(
            &state,
            accounts::SignInRequest::new(typed, PASSWORD, &client()),
            t0(),
        )
        .await
        .unwrap_or_else(|err| panic!("{typed}: {err:?}"));
    }
    let taken = accounts::sign_up(
        &state,
        accounts::SignUpRequest::new("strasse@example.com", PASSWORD, PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap_err();
    assert!(taken.message_for("email").is_some(), "{taken:?}");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn lookup_keys_from_before_case_folding_are_brought_up_to_date(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, "Straße@example.com").await;
    // As the key was before: lower case only.
    sqlx::query("UPDATE users SET email_lookup = 'straße@example.com' WHERE id = $1")
        .bind(signed_up.user_id)
        .execute(&state.pool)
        .await
        .unwrap();
    assert_eq!(
        app::server::db::users::rekey_email_lookups(&state.pool)
            .await
            .unwrap(),
        Rekeyed::Done(1)
    );
    assert_eq!(
        app::server::db::users::rekey_email_lookups(&state.pool)
            .await
            .unwrap(),
        Rekeyed::Done(0)
    );
    accounts::sign_in(
        &state,
        accounts::SignInRequest::new("STRASSE@example.com", PASSWORD, &client()),
        t0(),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn accounts_that_would_share_a_key_are_reported_not_merged(pool: PgPool) {
    let state = state(pool);
    let first = sign_up(&state, "Straße@example.com").await;
    let second = sign_up(&state, "other@example.com").await;
    // As two accounts made before case folding could be: "straße" and "strasse".
    sqlx::query("UPDATE users SET email_lookup = 'straße@example.com' WHERE id = $1")
        .bind(first.user_id)
        .execute(&state.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE users SET email = 'strasse@example.com', email_lookup = 'strasse@example.com' \
         WHERE id = $1",
    )
    .bind(second.user_id)
    .execute(&state.pool)
    .await
    .unwrap();
    match app::server::db::users::rekey_email_lookups(&state.pool)
        .await
        .unwrap()
    {
        Rekeyed::Collisions(found) => {
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].0, "strasse@example.com");
            assert_eq!(found[0].1.len(), 2);
        }
        other => panic!("expected the collision to be reported, got {other:?}"),
    }
    // Nothing changed: each account still signs in with what it used before.
    let key: String = sqlx::query_scalar("SELECT email_lookup FROM users WHERE id = $1")
        .bind(first.user_id)
        .fetch_one(&state.pool)
        .await
        .unwrap();
    assert_eq!(key, "straße@example.com");
}
