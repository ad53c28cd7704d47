//! Issue 8 §2 and §6: every place a password or code is checked counts toward the same limits;
//! the security log records refusals, locks, replays and trusted browsers, and only grows;
//! trusted-browser tokens change at every use; what no longer counts is swept.

use crate::{PASSWORD, Words, client, code, is_live, otp_at, proof, sign_up, state, t0};
use app::server::Error;
use app::server::auth::accounts::{self, PasswordChange, SignedIn};
use app::server::auth::throttle::{self, Counter};
use app::server::db::events;
use app::server::factors::two_factor::{self, ChallengeAnswer, ChallengeOutcome, ChallengePassed};
use app::server::primitives::totp::TotpSecret;
use app::server::security_log::SecurityEvent;
use app::server::sessions::browsers::BrowserTokens;
use app::server::sessions::{self, Authenticated, CurrentSession};
use app::server::{AppState, maintenance};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

const EMAIL: &str = "ann@example.com";

async fn full_session(state: &AppState, secret: &str, at: OffsetDateTime) -> CurrentSession {
    sessions::authenticate(&state.pool, &state.settings, secret, at)
        .await
        .unwrap()
        .expect("a full session")
}

/// Signs up and turns the authenticator on at t0; returns the session's token and the secret.
async fn with_authenticator(state: &AppState) -> (SignedIn, TotpSecret) {
    let signed_up = sign_up(state, EMAIL).await;
    let session = full_session(state, &signed_up.session_secret, t0()).await;
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
    let signed_in = SignedIn {
        session_secret: confirmed.session_secret,
        ..signed_up
    };
    (signed_in, secret)
}

/// Signs in with the password and passes the challenge with a code, trusting the browser.
async fn signed_in_trusting_this_browser(
    state: &AppState,
    secret: &TotpSecret,
    at: OffsetDateTime,
) -> ChallengePassed {
    let half = accounts::sign_in(
        state,
        accounts::SignInRequest::new(EMAIL, PASSWORD, &client()),
        at,
    )
    .await
    .unwrap();
    let challenge = crate::challenge_of(state, &half.session_secret, at).await;
    let ChallengeOutcome::Passed(passed) = two_factor::answer_challenge(
        state,
        &challenge,
        ChallengeAnswer {
            proof: proof(&code(secret, at), false).unwrap(),
            trust_browser: true,
        },
        &BrowserTokens::default(),
        &client(),
        at,
    )
    .await
    .unwrap() else {
        panic!("expected a pass");
    };
    passed
}

fn wrong_current(new: &'static str) -> PasswordChange<'static> {
    PasswordChange {
        current_password: "not my password at all",
        new_password: new,
        new_password_confirm: new,
        sign_out_other_sessions: false,
    }
}

async fn kinds(state: &AppState, user: &SignedIn) -> Vec<String> {
    events::kinds_for_user(&state.pool, user.user_id)
        .await
        .unwrap()
}

/// Details of the user's events of `kind`, oldest first. Each must read back as the typed
/// event it was written from.
async fn details(state: &AppState, user: &SignedIn, kind: &str) -> Vec<serde_json::Value> {
    let details: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT details FROM security_events WHERE user_id = $1 AND kind = $2 ORDER BY id",
    )
    .bind(user.user_id)
    .bind(kind)
    .fetch_all(&state.pool)
    .await
    .unwrap();
    for entry in &details {
        let event = SecurityEvent::from_stored(kind, entry.clone())
            .unwrap_or_else(|err| panic!("{kind} {entry}: {err}"));
        assert_eq!(event.kind(), kind);
    }
    details
}

/// Log entries written off the request path arrive a moment later.
async fn eventually(mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("never came to pass");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn wrong_current_passwords_are_throttled_like_sign_in(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    let mut refused_at = None;
    for guess in 1..=30 {
        let result = accounts::change_password(
            &state,
            &session,
            wrong_current("a brand new passphrase"),
            &BrowserTokens::default(),
            &client(),
            t0(),
        )
        .await;
        match result {
            Err(Error::TooManyAttempts {
                retry_after_secs: Some(_),
            }) => {
                refused_at = Some(guess);
                break;
            }
            Err(err) => assert!(err.message_for("current_password").is_some(), "{err:?}"),
            Ok(_) => panic!("a wrong current password changed the password"),
        }
    }
    let refused_at = refused_at.expect("thirty guesses in a row were all checked");
    assert!(refused_at <= 11, "refused only at guess {refused_at}");
    // They count as wrong passwords for the address: sign-in from an unknown browser waits too.
    let counter = Counter::AccountPassword { email: EMAIL };
    assert!(throttle::failures(&state.pool, counter).await.unwrap() >= 5);
    assert!(matches!(
        accounts::sign_in(
            &state,
            accounts::SignInRequest::new(EMAIL, PASSWORD, &client()),
            t0()
        )
        .await,
        Err(Error::TooManyAttempts { .. })
    ));
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn wrong_current_passwords_and_wrong_codes_at_the_prompt_share_one_limit(pool: PgPool) {
    let state = state(pool);
    let (signed_in, secret) = with_authenticator(&state).await;
    let session = full_session(&state, &signed_in.session_secret, t0()).await;
    // Spaced by the session's own waits, so that the shared window is what refuses.
    let mut at = t0();
    for failures in 0..two_factor::MAX_STEP_UP_FAILURES - 1 {
        at += two_factor::delay_after(failures).unwrap();
        let err = accounts::change_password(
            &state,
            &session,
            wrong_current("a brand new passphrase"),
            &BrowserTokens::default(),
            &client(),
            at,
        )
        .await
        .unwrap_err();
        assert!(err.message_for("current_password").is_some(), "{err:?}");
    }
    // One wrong code at "Confirm it's you" makes ten in the window: the right code waits.
    at += two_factor::delay_after(two_factor::MAX_STEP_UP_FAILURES - 1).unwrap();
    let err = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&code(&secret, at + Duration::hours(2)), false).unwrap(),
        &client(),
        at,
    )
    .await
    .unwrap_err();
    assert!(err.message_for("code").is_some(), "{err:?}");
    let err = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&code(&secret, at), false).unwrap(),
        &client(),
        at,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::TooManyAttempts { .. }), "{err:?}");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn refusals_are_logged_once_per_failure_and_a_lock_when_it_comes(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    for _ in 0..two_factor::FREE_ATTEMPTS {
        accounts::sign_in(
            &state,
            accounts::SignInRequest::new(EMAIL, "a guess", &client()),
            t0(),
        )
        .await
        .unwrap_err();
    }
    // Refused again and again within the wait: one entry, not one per request.
    for _ in 0..5 {
        let err = accounts::sign_in(
            &state,
            accounts::SignInRequest::new(EMAIL, PASSWORD, &client()),
            t0(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::TooManyAttempts { .. }), "{err:?}");
    }
    eventually(async || {
        kinds(&state, &signed_up)
            .await
            .contains(&"attempts_throttled".into())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let throttled = details(&state, &signed_up, "attempts_throttled").await;
    assert_eq!(throttled.len(), 1, "{throttled:?}");
    assert_eq!(throttled[0]["check"], "sign_in");
    assert_eq!(throttled[0]["counter"], "account");
    assert_eq!(throttled[0]["retry_after_secs"], 1);

    // The hundredth failure in a row locks the address, and says so.
    sqlx::query("UPDATE attempt_counters SET failures = 99 WHERE kind = 'account'")
        .execute(&state.pool)
        .await
        .unwrap();
    let later = t0() + Duration::hours(1);
    accounts::sign_in(
        &state,
        accounts::SignInRequest::new(EMAIL, "guess 100", &client()),
        later,
    )
    .await
    .unwrap_err();
    eventually(async || {
        kinds(&state, &signed_up)
            .await
            .contains(&"attempts_locked".into())
    })
    .await;
    let locked = details(&state, &signed_up, "attempts_locked").await;
    assert_eq!(locked[0]["counter"], "account");
    // An address without an account leaves nothing anywhere.
    for _ in 0..=two_factor::FREE_ATTEMPTS {
        let _ = accounts::sign_in(
            &state,
            accounts::SignInRequest::new("nobody@example.com", "x", &client()),
            t0(),
        )
        .await;
    }
    let others: i64 =
        sqlx::query_scalar("SELECT count(*) FROM security_events WHERE user_id <> $1")
            .bind(signed_up.user_id)
            .fetch_one(&state.pool)
            .await
            .unwrap();
    assert_eq!(others, 0);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_replayed_code_is_told_apart_from_a_wrong_one(pool: PgPool) {
    let state = state(pool);
    let (signed_in, secret) = with_authenticator(&state).await;
    let at = t0() + Duration::minutes(1);
    let challenge = |at| {
        let state = &state;
        async move {
            let half = accounts::sign_in(
                state,
                accounts::SignInRequest::new(EMAIL, PASSWORD, &client()),
                at,
            )
            .await
            .unwrap();
            match sessions::authenticate_any(&state.pool, &state.settings, &half.session_secret, at)
                .await
                .unwrap()
            {
                Some(Authenticated::Challenge(challenge)) => challenge,
                other => panic!("expected a challenge, got {other:?}"),
            }
        }
    };
    let answer = |challenge, typed: String| {
        let state = &state;
        async move {
            two_factor::answer_challenge(
                state,
                &challenge,
                ChallengeAnswer {
                    proof: proof(&typed, false).unwrap(),
                    trust_browser: false,
                },
                &BrowserTokens::default(),
                &client(),
                at,
            )
            .await
            .unwrap()
        }
    };
    let used = code(&secret, at);
    assert!(matches!(
        answer(challenge(at).await, used.clone()).await,
        ChallengeOutcome::Passed(_)
    ));
    // The same code again (someone looking over a shoulder), then a made-up one.
    let next = challenge(at).await;
    assert!(matches!(
        answer(next.clone(), used).await,
        ChallengeOutcome::Wrong { .. }
    ));
    let made_up = if code(&secret, at) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert!(matches!(
        answer(next, made_up.to_owned()).await,
        ChallengeOutcome::Wrong { .. }
    ));
    let failed = details(&state, &signed_in, "second_factor_failed").await;
    let reasons: Vec<&str> = failed
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["replayed", "wrong"]);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_trusted_browser_token_changes_at_every_use_and_the_log_names_it(pool: PgPool) {
    let state = state(pool);
    let (signed_in, secret) = with_authenticator(&state).await;
    let at = t0() + Duration::minutes(1);
    let passed = signed_in_trusting_this_browser(&state, &secret, at).await;
    let first = passed.trusted_browser.unwrap();

    let sign_in_with = |token: String| {
        let state = &state;
        async move {
            accounts::sign_in(
                state,
                accounts::SignInRequest::new(EMAIL, PASSWORD, &client())
                    .from_browser(&BrowserTokens::trusted(&token)),
                at,
            )
            .await
            .unwrap()
        }
    };
    let skipped = sign_in_with(first.expose().to_owned()).await;
    assert!(!skipped.needs_second_factor);
    let second = skipped.trusted_browser.expect("a new token");
    assert_ne!(second.expose(), first.expose());
    // The copy of the old cookie no longer skips anything; the new one does.
    assert!(
        sign_in_with(first.expose().to_owned())
            .await
            .needs_second_factor
    );
    assert!(
        !sign_in_with(second.expose().to_owned())
            .await
            .needs_second_factor
    );

    let browser_id: String = sqlx::query_scalar("SELECT id::text FROM trusted_browsers")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    let signed_in_events = details(&state, &signed_in, "signed_in").await;
    assert!(
        signed_in_events
            .iter()
            .any(|d| d["trusted_browser"] == browser_id.as_str()),
        "{signed_in_events:?}"
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_challenge_answered_elsewhere_gives_back_its_attempt(pool: PgPool) {
    let state = state(pool);
    let (signed_in, secret) = with_authenticator(&state).await;
    let at = t0() + Duration::minutes(1);
    let half = accounts::sign_in(
        &state,
        accounts::SignInRequest::new(EMAIL, PASSWORD, &client()),
        at,
    )
    .await
    .unwrap();
    let challenge = crate::challenge_of(&state, &half.session_secret, at).await;
    let answer = |typed: String| {
        let (state, challenge) = (&state, &challenge);
        async move {
            two_factor::answer_challenge(
                state,
                challenge,
                ChallengeAnswer {
                    proof: proof(&typed, false).unwrap(),
                    trust_browser: false,
                },
                &BrowserTokens::default(),
                &client(),
                at,
            )
            .await
            .unwrap()
        }
    };
    assert!(matches!(
        answer(code(&secret, at)).await,
        ChallengeOutcome::Passed(_)
    ));
    // The same form sent again: nothing to answer, and nothing counted against the account.
    assert!(matches!(
        answer("123456".into()).await,
        ChallengeOutcome::Gone
    ));
    let counter = Counter::SecondFactor {
        user_id: signed_in.user_id,
    };
    let counts: Option<(i32, i32)> =
        sqlx::query_as("SELECT failures, in_flight FROM attempt_counters WHERE key = $1")
            .bind(counter.key())
            .fetch_optional(&state.pool)
            .await
            .unwrap();
    assert!(
        counts.is_none_or(|(failures, in_flight)| failures == 0 && in_flight == 0),
        "{counts:?}"
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_security_log_only_grows(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    for statement in [
        "UPDATE security_events SET kind = 'nothing_happened'",
        "DELETE FROM security_events",
        "TRUNCATE security_events",
    ] {
        let err = sqlx::query(statement)
            .execute(&state.pool)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(kinds(&state, &signed_up).await, ["signed_up"]);
    // Deleting an account (an administrator's act) takes its log with it.
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(signed_up.user_id)
        .execute(&state.pool)
        .await
        .unwrap();
    assert!(kinds(&state, &signed_up).await.is_empty());
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn sweeping_forgets_what_no_longer_counts(pool: PgPool) {
    let state = state(pool);
    let (signed_in, secret) = with_authenticator(&state).await;
    let at = t0() + Duration::minutes(1);
    // A trusted browser (30 days), a wizard abandoned at its first step (15 minutes), a guess
    // from a client address (15-minute window), an attempt left in flight.
    let passed = signed_in_trusting_this_browser(&state, &secret, at).await;
    let session = full_session(&state, &passed.session_secret, at).await;
    crate::begin_setup(&state, &session, at).await.unwrap();
    accounts::sign_in(
        &state,
        accounts::SignInRequest::new("nobody@example.com", "x", &client()),
        at,
    )
    .await
    .unwrap_err();
    let counters = [
        Counter::StepUp {
            session_id: session.session_id,
        },
        Counter::SecondFactor {
            user_id: signed_in.user_id,
        },
    ];
    let attempt = throttle::begin(&state.pool, &counters, at)
        .await
        .unwrap()
        .unwrap();
    // Abandoned without a word (a process that died mid-request).
    std::mem::forget(attempt);

    let count = |table: &'static str| {
        let state = &state;
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&state.pool)
                .await
                .unwrap()
        }
    };
    let pending = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM factors WHERE state = 'pending'")
            .fetch_one(&state.pool)
            .await
            .unwrap()
    };
    let swept = maintenance::sweep(&state.pool, &state.settings, at)
        .await
        .unwrap();
    assert_eq!(swept.trusted_browsers + swept.pending_authenticators, 0);
    assert_eq!(pending().await, 1);

    let a_day_later = at + Duration::days(1) + Duration::minutes(1);
    maintenance::sweep(&state.pool, &state.settings, a_day_later)
        .await
        .unwrap();
    assert_eq!(pending().await, 0, "the abandoned setup is gone");
    assert_eq!(
        count("attempt_counters").await,
        0,
        "windows over, nothing in flight"
    );
    assert_eq!(count("trusted_browsers").await, 1);
    // The challenge's (the sign-up's was forgotten when two-factor was turned on from a browser
    // that did not send its cookie back).
    assert_eq!(count("recognised_browsers").await, 1);

    let two_years_later = at + Duration::days(730);
    maintenance::sweep(&state.pool, &state.settings, two_years_later)
        .await
        .unwrap();
    assert_eq!(count("trusted_browsers").await, 0, "expired after 30 days");
    assert_eq!(count("recognised_browsers").await, 0, "unused for a year");
    assert_eq!(count("sessions").await, 0);
    assert!(!is_live(&state, &passed.session_secret, two_years_later).await);
}

/// A full session opened with the password and a trusted browser (no second factor passed),
/// as whoever holds a copy of that cookie can open again and again.
async fn trusted_session(
    state: &AppState,
    trusted: &str,
    at: OffsetDateTime,
) -> (CurrentSession, String) {
    let signed_in = accounts::sign_in(
        state,
        accounts::SignInRequest::new(EMAIL, PASSWORD, &client())
            .from_browser(&BrowserTokens::trusted(trusted)),
        at,
    )
    .await
    .unwrap();
    assert!(!signed_in.needs_second_factor);
    let session = full_session(state, &signed_in.session_secret, at).await;
    assert_eq!(session.second_factor_at, None);
    let next = signed_in.trusted_browser.unwrap().expose().to_owned();
    (session, next)
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn new_sessions_without_a_second_factor_bring_no_new_code_guesses(pool: PgPool) {
    let state = state(pool);
    let (_, secret) = with_authenticator(&state).await;
    let at = t0() + Duration::minutes(1);
    let passed = signed_in_trusting_this_browser(&state, &secret, at).await;
    let mut trusted = passed.trusted_browser.unwrap().expose().to_owned();
    let wrong = code(&secret, at + Duration::hours(3));
    // Five wrong codes in one such session…
    let (session, next) = trusted_session(&state, &trusted, at).await;
    trusted = next;
    for _ in 0..two_factor::FREE_ATTEMPTS {
        let err = two_factor::confirm_identity_with_code(
            &state,
            &session,
            &proof(&wrong, false).unwrap(),
            &client(),
            at,
        )
        .await
        .unwrap_err();
        assert!(err.message_for("code").is_some(), "{err:?}");
    }
    // …and a fresh session has no fresh budget: the account's count holds it.
    let (fresh, _) = trusted_session(&state, &trusted, at).await;
    let err = two_factor::confirm_identity_with_code(
        &state,
        &fresh,
        &proof(&wrong, false).unwrap(),
        &client(),
        at,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::TooManyAttempts { .. }), "{err:?}");
}
