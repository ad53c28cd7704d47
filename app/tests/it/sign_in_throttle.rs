use crate::{PASSWORD, client, sign_up, state, t0};
use app::server::Error;
use app::server::auth::accounts::{self, SignedIn};
use app::server::auth::throttle::{self, CLIENT_MAX_FAILURES, CLIENT_WINDOW, Counter};
use app::server::sessions::ClientInfo;
use app::server::sessions::browsers::BrowserTokens;
use app::server::{AppState, factors::two_factor};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

const EMAIL: &str = "ann@example.com";

async fn sign_in_as(
    state: &AppState,
    email: &str,
    password: &str,
    from: &ClientInfo,
    at: OffsetDateTime,
) -> Result<SignedIn, Error> {
    accounts::sign_in(
        state,
        accounts::SignInRequest::new(email, password, from).from_browser(&BrowserTokens::default()),
        at,
    )
    .await
}

async fn sign_in(state: &AppState, password: &str, at: OffsetDateTime) -> Result<SignedIn, Error> {
    sign_in_as(state, EMAIL, password, &client(), at).await
}

fn retry_after(result: Result<SignedIn, Error>) -> Option<u32> {
    match result {
        Err(Error::TooManyAttempts { retry_after_secs }) => retry_after_secs,
        other => panic!("expected a wait, got {:?}", other.map(|s| s.user_id)),
    }
}

fn from(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.to_owned()),
        user_agent: Some("integration test".into()),
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn wrong_passwords_in_a_row_bring_growing_delays_and_a_right_one_clears_them(pool: PgPool) {
    let state = state(pool);
    sign_up(&state, EMAIL).await;
    for _ in 0..two_factor::FREE_ATTEMPTS {
        assert_eq!(
            sign_in(&state, "a guess", t0()).await.unwrap_err(),
            Error::InvalidCredentials
        );
    }
    // Even the right password waits now, or the guesses could go on.
    assert_eq!(retry_after(sign_in(&state, PASSWORD, t0()).await), Some(1));
    let t1 = t0() + Duration::seconds(1);
    assert_eq!(
        sign_in(&state, "a guess", t1).await.unwrap_err(),
        Error::InvalidCredentials
    );
    assert_eq!(retry_after(sign_in(&state, PASSWORD, t1).await), Some(2));
    let t3 = t1 + Duration::seconds(2);
    sign_in(&state, PASSWORD, t3).await.unwrap();
    // Cleared: the next typo is answered at once.
    assert_eq!(
        sign_in(&state, "a typo", t3).await.unwrap_err(),
        Error::InvalidCredentials
    );
    sign_in(&state, PASSWORD, t3).await.unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn an_address_without_an_account_is_answered_like_one_with(pool: PgPool) {
    let state = state(pool);
    sign_up(&state, EMAIL).await;
    for email in [EMAIL, "nobody@example.com"] {
        let mut answers = Vec::new();
        for _ in 0..=two_factor::FREE_ATTEMPTS {
            answers.push(
                sign_in_as(&state, email, "a guess", &client(), t0())
                    .await
                    .unwrap_err(),
            );
        }
        assert_eq!(
            answers.last(),
            Some(&Error::TooManyAttempts {
                retry_after_secs: Some(1)
            }),
            "{email}"
        );
        assert!(
            answers[..answers.len() - 1]
                .iter()
                .all(|a| *a == Error::InvalidCredentials),
            "{email}: {answers:?}"
        );
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn one_hundred_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(
    pool: PgPool,
) {
    let state = state(pool);
    sign_up(&state, EMAIL).await;
    sign_in(&state, "a guess", t0()).await.unwrap_err();
    // The 99 failures before the last one, as a day of patient guessing would leave them.
    sqlx::query("UPDATE attempt_counters SET failures = 99 WHERE kind = 'account'")
        .execute(&state.pool)
        .await
        .unwrap();
    let later = t0() + Duration::hours(1);
    assert_eq!(
        sign_in(&state, "guess 100", later).await.unwrap_err(),
        Error::InvalidCredentials
    );
    let much_later = later + Duration::days(30);
    assert_eq!(
        sign_in(&state, PASSWORD, much_later).await.unwrap_err(),
        Error::AccountLocked
    );
    assert!(
        accounts::unlock(&state.pool, "ANN@example.com")
            .await
            .unwrap()
    );
    sign_in(&state, PASSWORD, much_later).await.unwrap();
    assert!(
        !accounts::unlock(&state.pool, "bob@example.com")
            .await
            .unwrap()
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn parallel_guesses_cannot_skip_the_waits(pool: PgPool) {
    let state = state(pool);
    sign_up(&state, EMAIL).await;
    sign_in(&state, "a guess", t0()).await.unwrap_err();
    sqlx::query("UPDATE attempt_counters SET failures = 95 WHERE kind = 'account'")
        .execute(&state.pool)
        .await
        .unwrap();
    let later = t0() + Duration::hours(1);
    let guesses = (0..20).map(|i| {
        let state = &state;
        async move { sign_in(state, &format!("guess number {i}"), later).await }
    });
    let results = futures::future::join_all(guesses).await;
    let checked = results
        .iter()
        .filter(|r| matches!(r, Err(Error::InvalidCredentials)))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::TooManyAttempts { .. })))
        .count();
    // Past the free attempts one guess at a time goes ahead, after its wait: a burst gets one.
    assert_eq!(checked, 1);
    assert_eq!(checked + refused, 20);
    let failures: i32 =
        sqlx::query_scalar("SELECT failures FROM attempt_counters WHERE kind = 'account'")
            .fetch_one(&state.pool)
            .await
            .unwrap();
    assert_eq!(failures, 96);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn parallel_right_passwords_are_never_counted_as_failures(pool: PgPool) {
    let state = state(pool);
    sign_up(&state, EMAIL).await;
    let sign_ins = (0..12).map(|_| {
        let state = &state;
        async move { sign_in(state, PASSWORD, t0()).await }
    });
    let results = futures::future::join_all(sign_ins).await;
    // Five at a time are checked; the others are asked to try again in a second. A sign-in that
    // finishes gives back its place, so how many of the twelve get one depends on timing (the
    // cap itself is proven by the burst of wrong guesses below, whose failures stay counted).
    let signed_in = results.iter().filter(|r| r.is_ok()).count();
    assert!(signed_in >= 1, "none signed in");
    for result in results.into_iter().filter(|r| r.is_err()) {
        assert_eq!(retry_after(result), Some(1));
    }
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM attempt_counters \
         WHERE kind <> 'sign_up' AND (failures > 0 OR in_flight > 0)",
    )
    .fetch_one(&state.pool)
    .await
    .unwrap();
    assert_eq!(rows, 0, "nothing is left counted");
    sign_in(&state, PASSWORD, t0()).await.unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_burst_of_forty_guesses_at_a_fresh_address_gets_at_most_five_checked(pool: PgPool) {
    let state = state(pool);
    sign_up(&state, EMAIL).await;
    let guesses = (0..40).map(|i| {
        let state = &state;
        async move { sign_in(state, &format!("guess number {i}"), t0()).await }
    });
    let results = futures::future::join_all(guesses).await;
    let checked = results
        .iter()
        .filter(|r| matches!(r, Err(Error::InvalidCredentials)))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::TooManyAttempts { .. })))
        .count();
    assert!((1..=5).contains(&checked), "{checked} guesses were checked");
    assert_eq!(checked + refused, 40);
    let counter = Counter::AccountPassword { email: EMAIL };
    assert_eq!(
        throttle::failures(&state.pool, counter).await.unwrap(),
        checked as i32
    );
}

/// The owner's browser: the one they signed up in, holding its recognised-browser token.
async fn owners_browser(state: &AppState) -> BrowserTokens {
    let signed_up = sign_up(state, EMAIL).await;
    BrowserTokens::recognised(signed_up.recognised_browser.unwrap().expose())
}

/// An attacker at another address guessing until the address is locked (99 failures as a day
/// of patient guessing would leave them, then one more).
async fn lock_out(state: &AppState, at: OffsetDateTime) {
    let attacker = from("203.0.113.66");
    sign_in_as(state, EMAIL, "a guess", &attacker, at)
        .await
        .unwrap_err();
    sqlx::query("UPDATE attempt_counters SET failures = 99 WHERE kind = 'account'")
        .execute(&state.pool)
        .await
        .unwrap();
    let later = at + Duration::hours(1);
    assert_eq!(
        sign_in_as(state, EMAIL, "guess 100", &attacker, later)
            .await
            .unwrap_err(),
        Error::InvalidCredentials
    );
    assert_eq!(
        sign_in_as(state, EMAIL, PASSWORD, &attacker, later)
            .await
            .unwrap_err(),
        Error::AccountLocked
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_owners_browser_signs_in_during_a_lockout_attack(pool: PgPool) {
    let state = state(pool);
    let browser = owners_browser(&state).await;
    lock_out(&state, t0()).await;
    let later = t0() + Duration::hours(1);
    // An unknown browser, even with the right password, is held…
    assert_eq!(
        sign_in(&state, PASSWORD, later).await.unwrap_err(),
        Error::AccountLocked
    );
    // …the owner's own browser is not.
    let signed_in = accounts::sign_in(
        &state,
        accounts::SignInRequest::new(EMAIL, PASSWORD, &client()).from_browser(&browser),
        later,
    )
    .await
    .unwrap();
    assert!(!signed_in.needs_second_factor);
    // The lock on unknown browsers stays until an administrator lifts it.
    assert_eq!(
        sign_in(&state, PASSWORD, later).await.unwrap_err(),
        Error::AccountLocked
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn guesses_elsewhere_make_unknown_browsers_wait_but_never_the_owners(pool: PgPool) {
    let state = state(pool);
    let browser = owners_browser(&state).await;
    for _ in 0..two_factor::FREE_ATTEMPTS + 1 {
        let _ = sign_in_as(&state, EMAIL, "a guess", &from("203.0.113.66"), t0()).await;
    }
    assert!(retry_after(sign_in(&state, PASSWORD, t0()).await).is_some());
    accounts::sign_in(
        &state,
        accounts::SignInRequest::new(EMAIL, PASSWORD, &client()).from_browser(&browser),
        t0(),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_recognised_browser_has_a_counter_of_its_own(pool: PgPool) {
    let state = state(pool);
    let browser = owners_browser(&state).await;
    // Whoever has copied the owner's cookie is throttled all the same…
    let guess = |at| {
        let (state, browser) = (&state, &browser);
        async move {
            accounts::sign_in(
                state,
                accounts::SignInRequest::new(EMAIL, "a guess", &client()).from_browser(browser),
                at,
            )
            .await
        }
    };
    for _ in 0..two_factor::FREE_ATTEMPTS {
        assert_eq!(guess(t0()).await.unwrap_err(), Error::InvalidCredentials);
    }
    assert_eq!(
        guess(t0()).await.unwrap_err(),
        Error::TooManyAttempts {
            retry_after_secs: Some(1)
        }
    );
    // …and unknown browsers are not held up by it.
    sign_in(&state, PASSWORD, t0()).await.unwrap();
    let counter = Counter::AccountPassword { email: EMAIL };
    assert_eq!(throttle::failures(&state.pool, counter).await.unwrap(), 0);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_recognised_browser_is_never_refused_by_its_client_addresss_limit(pool: PgPool) {
    let state = state(pool);
    let browser = owners_browser(&state).await;
    // Someone behind the same address (a shared office, a carrier's NAT) guesses widely.
    let shared = from("192.0.2.7");
    for i in 0..CLIENT_MAX_FAILURES {
        let email = format!("person{i}@example.com");
        let _ = sign_in_as(&state, &email, "Summer2026!", &shared, t0()).await;
    }
    assert!(retry_after(sign_in_as(&state, EMAIL, PASSWORD, &shared, t0()).await).is_some());
    accounts::sign_in(
        &state,
        accounts::SignInRequest::new(EMAIL, PASSWORD, &shared).from_browser(&browser),
        t0(),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn another_accounts_browser_is_not_recognised_for_this_one(pool: PgPool) {
    let state = state(pool);
    let signed_up = app::server::auth::accounts::sign_up(
        &state,
        app::server::auth::accounts::SignUpRequest::new(
            "bob@example.com",
            PASSWORD,
            PASSWORD,
            &client(),
        ),
        t0(),
    )
    .await
    .unwrap();
    let bobs = BrowserTokens::recognised(signed_up.recognised_browser.unwrap().expose());
    sign_up(&state, EMAIL).await;
    lock_out(&state, t0()).await;
    let later = t0() + Duration::hours(1);
    assert_eq!(
        accounts::sign_in(
            &state,
            accounts::SignInRequest::new(EMAIL, PASSWORD, &client()).from_browser(&bobs),
            later
        )
        .await
        .unwrap_err(),
        Error::AccountLocked
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn one_client_address_gets_a_bounded_number_of_wrong_passwords_across_accounts(pool: PgPool) {
    let state = state(pool);
    sign_up(&state, EMAIL).await;
    let attacker = from("192.0.2.7");
    for i in 0..CLIENT_MAX_FAILURES {
        let email = format!("person{i}@example.com");
        assert_eq!(
            sign_in_as(&state, &email, "Summer2026!", &attacker, t0())
                .await
                .unwrap_err(),
            Error::InvalidCredentials
        );
    }
    let secs = CLIENT_WINDOW.whole_seconds() as u32;
    assert_eq!(
        retry_after(sign_in_as(&state, "fresh@example.com", "Summer2026!", &attacker, t0()).await),
        Some(secs)
    );
    // Another address is not held up, and the window ends.
    sign_in_as(&state, EMAIL, PASSWORD, &from("198.51.100.1"), t0())
        .await
        .unwrap();
    let after_window = t0() + CLIENT_WINDOW;
    sign_in_as(&state, EMAIL, PASSWORD, &attacker, after_window)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn failures_and_attempts_in_flight_never_pass_the_lock(pool: PgPool) {
    let state = state(pool);
    sign_up(&state, EMAIL).await;
    sign_in(&state, "a guess", t0()).await.unwrap_err();
    // 99 failures and one attempt being checked elsewhere: nothing more may start.
    let at = t0() + Duration::hours(1);
    sqlx::query(
        "UPDATE attempt_counters SET failures = 99, in_flight = 1, in_flight_since = $1 \
         WHERE kind = 'account'",
    )
    .bind(at)
    .execute(&state.pool)
    .await
    .unwrap();
    let soon = at + Duration::seconds(10);
    assert_eq!(retry_after(sign_in(&state, PASSWORD, soon).await), Some(1));
    // An attempt in flight for over a minute was abandoned: it no longer holds others up.
    sign_in(&state, PASSWORD, at + Duration::minutes(2))
        .await
        .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn quiet_addresses_with_few_failures_are_forgotten(pool: PgPool) {
    let state = state(pool);
    for i in 0..3 {
        sign_in_as(
            &state,
            &format!("typo{i}@example.com"),
            "x",
            &client(),
            t0(),
        )
        .await
        .unwrap_err();
    }
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM attempt_counters")
            .fetch_one(&state.pool)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 4, "three addresses and one client");
    throttle::forget_stale(&state.pool, t0() + Duration::minutes(20))
        .await
        .unwrap();
    assert_eq!(count().await, 3, "the client window is over");
    throttle::forget_stale(&state.pool, t0() + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(count().await, 0);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn an_attempt_dropped_half_way_is_taken_back(pool: PgPool) {
    let state = state(pool);
    // As when the client goes away while its password waits for a hasher.
    let counters = [
        Counter::ClientPasswords { ip: "192.0.2.9" },
        Counter::AccountPassword { email: EMAIL },
    ];
    let attempt = throttle::begin(&state.pool, &counters, t0())
        .await
        .unwrap()
        .unwrap();
    drop(attempt);
    let mut counted = i64::MAX;
    for _ in 0..100 {
        counted = sqlx::query_scalar(
            "SELECT coalesce(sum(failures + in_flight), 0)::bigint FROM attempt_counters",
        )
        .fetch_one(&state.pool)
        .await
        .unwrap();
        if counted == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(counted, 0);
}

/// Attempts counted toward the same counters side by side (one client address signing in to
/// several accounts, several addresses at one account) start and settle without waiting on
/// each other in a cycle: every statement that holds several counters locks them in one order.
#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn attempts_on_shared_counters_never_deadlock(pool: PgPool) {
    let state = state(pool);
    let emails = ["a@example.com", "b@example.com", "c@example.com"];
    let ips = ["192.0.2.1", "192.0.2.2"];
    let admitted = std::sync::atomic::AtomicUsize::new(0);
    let workers = (0..12).map(|worker| {
        let state = &state;
        let admitted = &admitted;
        async move {
            for round in 0..25 {
                let email = emails[(worker + round) % emails.len()];
                let ip = ips[(worker / 2 + round) % ips.len()];
                let counters = [
                    Counter::ClientPasswords { ip },
                    Counter::AccountPassword { email },
                ];
                // More than five at one address at once are refused (in flight counts):
                // refused or admitted, no statement may fail.
                let started = throttle::begin(&state.pool, &counters, t0())
                    .await
                    .expect("no database error (a deadlock is one)");
                if let Ok(attempt) = started {
                    attempt.passed().await.expect("no database error");
                    admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    });
    futures::future::join_all(workers).await;
    // Most are admitted (at most five at one address at once are): the settling path ran.
    assert!(
        admitted.load(std::sync::atomic::Ordering::Relaxed) >= 150,
        "admitted {admitted:?} of 300"
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM attempt_counters WHERE failures > 0 OR in_flight > 0",
    )
    .fetch_one(&state.pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "every attempt settled");
}
