use crate::{PASSWORD, Words, backup_code, client, code, otp_at, proof, sign_up, state, t0};
use app::error::StepUpProof;
use app::server::Error;
use app::server::auth::accounts::{self, PasswordChange, SignedIn};
use app::server::auth::throttle::{self, Counter};
use app::server::factors::two_factor::{
    self, ChallengeAnswer, ChallengeOutcome, ChallengePassed, MAX_CHALLENGE_ATTEMPTS,
};
use app::server::primitives::totp::TotpSecret;
use app::server::sessions::browsers::BrowserTokens;
use app::server::sessions::{self, Authenticated, CurrentSession, PendingChallenge};
use app::server::{AppState, factors::authenticator};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

const EMAIL: &str = "ann@example.com";

async fn full_session(state: &AppState, secret: &str, at: OffsetDateTime) -> CurrentSession {
    sessions::authenticate(&state.pool, &state.settings, secret, at)
        .await
        .unwrap()
        .expect("a full session")
}

async fn challenge_of(state: &AppState, secret: &str, at: OffsetDateTime) -> PendingChallenge {
    match sessions::authenticate_any(&state.pool, &state.settings, secret, at)
        .await
        .unwrap()
    {
        Some(Authenticated::Challenge(challenge)) => challenge,
        other => panic!("expected a challenge session, got {other:?}"),
    }
}

/// Signs up and turns two-factor on through the wizard's services, at `t0`. Returns the
/// authenticator secret and the backup codes.
async fn enabled_account(state: &AppState) -> (SignedIn, TotpSecret, Vec<String>) {
    let signed_up = sign_up(state, EMAIL).await;
    let session = full_session(state, &signed_up.session_secret, t0()).await;
    let setup = crate::begin_setup(state, &session, t0()).await.unwrap();
    // The manual key is the secret: read it back as an authenticator app would.
    let key = setup.manual_key.replace(' ', "");
    let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let secret = TotpSecret::from_bytes(bytes);
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
    let codes = confirmed
        .backup_codes
        .expect("backup codes when two-factor is first turned on");
    // Proving the new factor gave the session a new token.
    let signed_in = SignedIn {
        session_secret: confirmed.session_secret,
        ..signed_up
    };
    (signed_in, secret, crate::shown(codes).codes)
}

async fn sign_in(state: &AppState, at: OffsetDateTime, trusted: Option<&str>) -> SignedIn {
    let browser = trusted.map(BrowserTokens::trusted).unwrap_or_default();
    accounts::sign_in(
        state,
        accounts::SignInRequest::new(EMAIL, PASSWORD, &client()).from_browser(&browser),
        at,
    )
    .await
    .unwrap()
}

async fn answer(
    state: &AppState,
    challenge: &PendingChallenge,
    code: &str,
    use_backup_code: bool,
    trust_browser: bool,
    at: OffsetDateTime,
) -> Result<ChallengeOutcome, Error> {
    two_factor::answer_challenge(
        state,
        challenge,
        ChallengeAnswer {
            proof: proof(code, use_backup_code)?,
            trust_browser,
        },
        &BrowserTokens::default(),
        &client(),
        at,
    )
    .await
}

fn passed(outcome: ChallengeOutcome) -> ChallengePassed {
    match outcome {
        ChallengeOutcome::Passed(passed) => passed,
        other => panic!("expected a pass, got {other:?}"),
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_password_alone_gives_a_session_that_only_the_challenge_accepts(pool: PgPool) {
    let state = state(pool);
    let (_, secret, _) = enabled_account(&state).await;
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    assert!(half.needs_second_factor);
    // Not a session for the app…
    assert!(
        sessions::authenticate(&state.pool, &state.settings, &half.session_secret, at)
            .await
            .unwrap()
            .is_none()
    );
    // …only for the challenge, which rotates it into a full one.
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    let done = passed(
        answer(&state, &challenge, &code(&secret, at), false, false, at)
            .await
            .unwrap(),
    );
    assert_ne!(done.session_secret, half.session_secret);
    assert!(
        sessions::authenticate_any(&state.pool, &state.settings, &half.session_secret, at)
            .await
            .unwrap()
            .is_none(),
        "the half-authenticated session must end when the challenge is passed"
    );
    full_session(&state, &done.session_secret, at).await;
    assert!(done.trusted_browser.is_none());
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_challenge_ends_after_five_wrong_codes(pool: PgPool) {
    let state = state(pool);
    let (_, secret, _) = enabled_account(&state).await;
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    let wrong = if code(&secret, at) == "000000" {
        "111111"
    } else {
        "000000"
    };
    for left in (1..MAX_CHALLENGE_ATTEMPTS).rev() {
        match answer(&state, &challenge, wrong, false, false, at)
            .await
            .unwrap()
        {
            ChallengeOutcome::Wrong { attempts_left } => assert_eq!(attempts_left, left),
            other => panic!("expected a wrong code, got {other:?}"),
        }
    }
    assert!(matches!(
        answer(&state, &challenge, wrong, false, false, at).await,
        Ok(ChallengeOutcome::Restart)
    ));
    // The right code no longer helps: the challenge is over (a second later, past the delay
    // the account now has).
    let next = at + Duration::seconds(1);
    assert!(matches!(
        answer(&state, &challenge, &code(&secret, next), false, false, next).await,
        Ok(ChallengeOutcome::Gone)
    ));
    assert!(
        sessions::authenticate_any(&state.pool, &state.settings, &half.session_secret, at)
            .await
            .unwrap()
            .is_none()
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn malformed_codes_name_the_field_and_are_not_counted(pool: PgPool) {
    let state = state(pool);
    enabled_account(&state).await;
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    for _ in 0..10 {
        let err = answer(&state, &challenge, "12ab", false, false, at)
            .await
            .unwrap_err();
        assert!(err.message_for("code").is_some(), "{err:?}");
    }
    let err = answer(&state, &challenge, "too-short", true, false, at)
        .await
        .unwrap_err();
    assert!(err.message_for("code").is_some(), "{err:?}");
    assert_eq!(
        challenge_of(&state, &half.session_secret, at)
            .await
            .attempts,
        0
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn consecutive_failures_bring_growing_delays_then_a_lock(pool: PgPool) {
    let state = state(pool);
    let (signed_up, secret, _) = enabled_account(&state).await;
    let mut at = t0() + Duration::minutes(1);
    let wrong = |at| {
        if code(&secret, at) == "000000" {
            "111111"
        } else {
            "000000"
        }
    };
    // Five free attempts in the first challenge.
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    for _ in 0..5 {
        answer(&state, &challenge, wrong(at), false, false, at)
            .await
            .unwrap();
    }
    // A new challenge: the account must now wait before each attempt, longer each time.
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    let err = answer(&state, &challenge, wrong(at), false, false, at)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooManyAttempts {
            retry_after_secs: Some(1)
        }
    );
    at += Duration::seconds(1);
    answer(&state, &challenge, wrong(at), false, false, at)
        .await
        .unwrap();
    let err = answer(&state, &challenge, wrong(at), false, false, at)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooManyAttempts {
            retry_after_secs: Some(2)
        }
    );
    // A success clears the count.
    at += Duration::seconds(2);
    passed(
        answer(&state, &challenge, &code(&secret, at), false, false, at)
            .await
            .unwrap(),
    );
    assert_eq!(second_factor_failures(&state, &signed_up).await, 0);

    // At one hundred consecutive failures the second factor is locked, whatever the wait.
    set_second_factor_failures(&state, &signed_up, 100).await;
    at += Duration::days(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    let err = answer(&state, &challenge, &code(&secret, at), false, false, at)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooManyAttempts {
            retry_after_secs: None
        }
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_backup_code_works_once_and_the_rest_are_counted(pool: PgPool) {
    let state = state(pool);
    let (_, _, codes) = enabled_account(&state).await;
    assert_eq!(codes.len(), 10);
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM backup_codes")
        .fetch_all(&state.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    for code in &codes {
        assert!(
            !stored
                .iter()
                .any(|h| h.windows(code.len()).any(|w| w == code.as_bytes())),
            "backup code stored in clear"
        );
    }
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    // Typed in capitals, without the dash: still the code.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let done = passed(
        answer(&state, &challenge, &typed, true, false, at)
            .await
            .unwrap(),
    );
    assert_eq!(done.backup_codes_left, Some(9));

    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    assert!(matches!(
        answer(&state, &challenge, &codes[0], true, false, at)
            .await
            .unwrap(),
        ChallengeOutcome::Wrong { attempts_left: 4 }
    ));
    passed(
        answer(&state, &challenge, &codes[1], true, false, at)
            .await
            .unwrap(),
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn one_backup_code_sent_twenty_times_at_once_is_accepted_exactly_once(pool: PgPool) {
    let state = state(pool);
    let (signed_up, _, codes) = enabled_account(&state).await;
    let code = backup_code(&codes[3]);
    let attempts =
        (0..20).map(|_| two_factor::use_backup_code(&state, signed_up.user_id, &code, t0()));
    let results = futures::future::join_all(attempts).await;
    let accepted = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(accepted, 1);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn regenerating_voids_the_old_codes(pool: PgPool) {
    let state = state(pool);
    let (signed_up, _, old) = enabled_account(&state).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    let new = crate::shown(
        two_factor::regenerate_backup_codes(&state, &session, &client(), t0())
            .await
            .unwrap(),
    );
    assert_eq!(new.codes.len(), 10);
    assert!(new.codes.iter().all(|c| !old.contains(c)));
    assert_eq!(new.file_name, "keyward-backup-codes-ann@example.com.txt");
    let user = signed_up.user_id;
    assert!(
        !two_factor::use_backup_code(&state, user, &backup_code(&old[0]), t0())
            .await
            .unwrap()
    );
    assert!(
        two_factor::use_backup_code(&state, user, &backup_code(&new.codes[0]), t0())
            .await
            .unwrap()
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_trusted_browser_skips_the_challenge_until_the_password_changes(pool: PgPool) {
    let state = state(pool);
    let (_, secret, _) = enabled_account(&state).await;
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    let done = passed(
        answer(&state, &challenge, &code(&secret, at), false, true, at)
            .await
            .unwrap(),
    );
    let trusted = done.trusted_browser.expect("a trusted-browser token");

    // The same browser, later: no challenge, and its token changes with the use. Another
    // browser: challenge.
    let later = at + Duration::days(29);
    let skipped = sign_in(&state, later, Some(trusted.expose())).await;
    assert!(!skipped.needs_second_factor);
    let trusted = skipped
        .trusted_browser
        .expect("the trusted browser's new token");
    assert!(sign_in(&state, later, None).await.needs_second_factor);
    let forged = app::server::primitives::token::generate().secret;
    assert!(
        sign_in(&state, later, Some(&forged))
            .await
            .needs_second_factor
    );
    // Thirty days after it was trusted, it is asked again.
    assert!(
        sign_in(&state, at + Duration::days(31), Some(trusted.expose()))
            .await
            .needs_second_factor
    );

    // Trusted again, then the password changes: every trusted browser is revoked.
    let half = sign_in(&state, later, None).await;
    let challenge = challenge_of(&state, &half.session_secret, later).await;
    let done = passed(
        answer(
            &state,
            &challenge,
            &code(&secret, later),
            false,
            true,
            later,
        )
        .await
        .unwrap(),
    );
    let trusted = done.trusted_browser.unwrap();
    let session = full_session(&state, &done.session_secret, later).await;
    accounts::change_password(
        &state,
        &session,
        PasswordChange {
            current_password: PASSWORD,
            new_password: "a brand new passphrase",
            new_password_confirm: "a brand new passphrase",
            sign_out_other_sessions: false,
        },
        &BrowserTokens::default(),
        &client(),
        later,
    )
    .await
    .unwrap();
    let again = accounts::sign_in(
        &state,
        accounts::SignInRequest::new(EMAIL, "a brand new passphrase", &client())
            .from_browser(&BrowserTokens::trusted(trusted.expose())),
        later,
    )
    .await
    .unwrap();
    assert!(again.needs_second_factor);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn sensitive_changes_need_a_recent_password_check(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let later = t0() + Duration::minutes(11);
    let session = full_session(&state, &signed_up.session_secret, later).await;
    assert_eq!(
        crate::begin_setup(&state, &session, later)
            .await
            .unwrap_err(),
        Error::StepUpRequired {
            proof: StepUpProof::Password
        }
    );
    let wrong = two_factor::confirm_identity(&state, &session, "not it", &client(), later)
        .await
        .unwrap_err();
    assert!(wrong.message_for("password").is_some());
    let rotated = two_factor::confirm_identity(&state, &session, PASSWORD, &client(), later)
        .await
        .unwrap();
    // The session id changes with the privilege: the old cookie no longer works.
    assert!(
        sessions::authenticate(
            &state.pool,
            &state.settings,
            &signed_up.session_secret,
            later
        )
        .await
        .unwrap()
        .is_none()
    );
    let session = full_session(&state, &rotated, later).await;
    crate::begin_setup(&state, &session, later).await.unwrap();
    // Within the window nothing is asked.
    let session = full_session(&state, &rotated, later).await;
    crate::begin_setup(&state, &session, later + Duration::minutes(9))
        .await
        .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn turning_off_removes_everything_and_signs_out_other_sessions(pool: PgPool) {
    let state = state(pool);
    let (signed_up, secret, _) = enabled_account(&state).await;
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    let other = passed(
        answer(&state, &challenge, &code(&secret, at), false, true, at)
            .await
            .unwrap(),
    );
    let session = full_session(&state, &signed_up.session_secret, at).await;
    let overview = two_factor::overview(&state, &session, None, at)
        .await
        .unwrap();
    let status = overview.two_factor.expect("on");
    assert_eq!(
        (status.backup_codes_left, status.backup_codes_total),
        (10, 10)
    );
    assert_eq!(overview.trusted_browsers.len(), 1);

    let ended = two_factor::disable(&state, &session, &BrowserTokens::default(), &client(), at)
        .await
        .unwrap();
    assert_eq!(ended.other_sessions_signed_out, 1);
    assert_eq!(ended.trusted_browsers_revoked, 1);
    assert!(
        sessions::authenticate(&state.pool, &state.settings, &other.session_secret, at)
            .await
            .unwrap()
            .is_none()
    );
    let overview = two_factor::overview(&state, &session, None, at)
        .await
        .unwrap();
    assert!(overview.two_factor.is_none());
    assert!(overview.trusted_browsers.is_empty());
    for table in ["factors", "backup_codes", "trusted_browsers"] {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&state.pool)
            .await
            .unwrap();
        assert_eq!(rows, 0, "{table}");
    }
    assert!(!sign_in(&state, at, None).await.needs_second_factor);
    let kinds = app::server::db::events::kinds_for_user(&state.pool, signed_up.user_id)
        .await
        .unwrap();
    assert!(kinds.contains(&"two_factor_enabled".to_owned()));
    assert!(kinds.contains(&"two_factor_disabled".to_owned()));
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn replacing_keeps_the_backup_codes_and_switches_apps_once_verified(pool: PgPool) {
    let state = state(pool);
    let (signed_up, old_secret, codes) = enabled_account(&state).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    let setup = crate::begin_setup(&state, &session, t0()).await.unwrap();
    assert!(setup.replacing);
    let key = setup.manual_key.replace(' ', "");
    let new_secret = TotpSecret::from_bytes(
        base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap(),
    );
    let at = t0() + Duration::seconds(60);
    let result = two_factor::confirm_totp_setup(
        &state,
        &session,
        setup.factor_id.parse().unwrap(),
        &otp_at(&new_secret, at),
        &BrowserTokens::default(),
        &client(),
        at,
    )
    .await
    .unwrap();
    assert!(result.backup_codes.is_none(), "no new codes when replacing");
    let later = at + Duration::seconds(60);
    let user = signed_up.user_id;
    assert!(
        !authenticator::verify(
            &state.pool,
            &state.keys,
            user,
            &otp_at(&old_secret, later),
            later
        )
        .await
        .unwrap()
    );
    assert!(
        authenticator::verify(
            &state.pool,
            &state.keys,
            user,
            &otp_at(&new_secret, later),
            later
        )
        .await
        .unwrap()
    );
    assert!(
        two_factor::use_backup_code(&state, user, &backup_code(&codes[0]), later)
            .await
            .unwrap()
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_password_prompt_stops_answering_after_ten_wrong_passwords(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    // Spaced by the password's own growing waits (it counts like a wrong sign-in too), so it is
    // the prompt's limit of ten per fifteen minutes that speaks.
    let mut at = t0();
    for failures in 0..two_factor::MAX_STEP_UP_FAILURES {
        at += two_factor::delay_after(failures).unwrap();
        let err = two_factor::confirm_identity(&state, &session, "a guess", &client(), at)
            .await
            .unwrap_err();
        assert!(err.message_for("password").is_some(), "{err:?}");
    }
    // Even the right password waits now: the guesses must not be able to go on.
    at += two_factor::delay_after(two_factor::MAX_STEP_UP_FAILURES).unwrap();
    let err = two_factor::confirm_identity(&state, &session, PASSWORD, &client(), at)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooManyAttempts { .. }), "{err:?}");
    let later = t0() + two_factor::STEP_UP_FAILURE_WINDOW + Duration::seconds(1);
    two_factor::confirm_identity(&state, &session, PASSWORD, &client(), later)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn an_administrator_can_lift_the_lock(pool: PgPool) {
    let state = state(pool);
    let (signed_up, secret, _) = enabled_account(&state).await;
    set_second_factor_failures(&state, &signed_up, 100).await;
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    assert_eq!(
        answer(&state, &challenge, &code(&secret, at), false, false, at)
            .await
            .unwrap_err(),
        Error::TooManyAttempts {
            retry_after_secs: None
        },
        "locked"
    );
    assert!(
        accounts::unlock(&state.pool, "ANN@example.com")
            .await
            .unwrap()
    );
    assert!(
        !accounts::unlock(&state.pool, "bob@example.com")
            .await
            .unwrap()
    );
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    passed(
        answer(&state, &challenge, &code(&secret, at), false, false, at)
            .await
            .unwrap(),
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_challenge_answered_twice_is_gone_not_failed(pool: PgPool) {
    let state = state(pool);
    let (_, secret, _) = enabled_account(&state).await;
    let at = t0() + Duration::minutes(1);
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    passed(
        answer(&state, &challenge, &code(&secret, at), false, false, at)
            .await
            .unwrap(),
    );
    // The same form sent again (a double click): nothing to answer any more, and no sign of a
    // wrong code.
    let again = answer(&state, &challenge, &code(&secret, at), false, false, at).await;
    assert!(matches!(again, Ok(ChallengeOutcome::Gone)), "{again:?}");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn parallel_guesses_at_the_password_prompt_are_all_counted(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    let guesses = (0..20).map(|i| {
        let guess = format!("guess number {i}");
        let (state, session) = (&state, &session);
        async move { two_factor::confirm_identity(state, session, &guess, &client(), t0()).await }
    });
    let results = futures::future::join_all(guesses).await;
    let checked = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.message_for("password").is_some()))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::TooManyAttempts { .. })))
        .count();
    // The password's own limit lets at most its five free attempts run side by side; the
    // prompt's ten per window would stop them anyway.
    assert!(
        (1..=two_factor::FREE_ATTEMPTS as usize).contains(&checked),
        "{checked} checked"
    );
    assert_eq!(checked + refused, 20);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_current_code_confirms_identity_instead_of_the_password(pool: PgPool) {
    let state = state(pool);
    let (signed_up, secret, _) = enabled_account(&state).await;
    let later = t0() + Duration::minutes(11);
    let session = full_session(&state, &signed_up.session_secret, later).await;
    assert_eq!(
        two_factor::regenerate_backup_codes(&state, &session, &client(), later)
            .await
            .unwrap_err(),
        Error::StepUpRequired {
            proof: StepUpProof::SecondFactor
        }
    );

    // A typing mistake is named (by the shared validator, before the service is called) and
    // not counted; a wrong code is counted.
    let typo = proof("12345", false).unwrap_err();
    assert!(typo.message_for("code").is_some(), "{typo:?}");
    let wrong = wrong_code(&secret, later);
    let err = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&wrong, false).unwrap(),
        &client(),
        later,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message_for("code").as_deref(),
        Some("That code didn't match. Wait for the next code and try again.")
    );
    assert_eq!(second_factor_failures(&state, &signed_up).await, 1);

    let current = code(&secret, later);
    let rotated = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&current, false).unwrap(),
        &client(),
        later,
    )
    .await
    .unwrap();
    // Passed: the session id has changed with the privilege. The wrong code stays counted for
    // the account (it holds unknown browsers at sign-in); this session's own count is clear.
    assert_eq!(second_factor_failures(&state, &signed_up).await, 1);
    assert!(
        sessions::authenticate(
            &state.pool,
            &state.settings,
            &signed_up.session_secret,
            later
        )
        .await
        .unwrap()
        .is_none()
    );
    let session = full_session(&state, &rotated, later).await;
    two_factor::regenerate_backup_codes(&state, &session, &client(), later)
        .await
        .unwrap();

    // The code was spent: the same code again is refused, as at sign-in.
    let replay = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&current, false).unwrap(),
        &client(),
        later,
    )
    .await
    .unwrap_err();
    assert!(replay.message_for("code").is_some(), "{replay:?}");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn code_guesses_at_the_prompt_feed_the_accounts_count_but_hold_only_their_session(
    pool: PgPool,
) {
    let state = state(pool);
    let (signed_up, secret, _) = enabled_account(&state).await;
    let at = t0() + Duration::minutes(11);
    // Three wrong codes at a sign-in challenge elsewhere…
    let half = sign_in(&state, at, None).await;
    let challenge = challenge_of(&state, &half.session_secret, at).await;
    for _ in 0..3 {
        let outcome = answer(
            &state,
            &challenge,
            &wrong_code(&secret, at),
            false,
            false,
            at,
        )
        .await
        .unwrap();
        assert!(
            matches!(outcome, ChallengeOutcome::Wrong { .. }),
            "{outcome:?}"
        );
    }
    // …and two at the prompt make five in a row for the account.
    let session = full_session(&state, &signed_up.session_secret, at).await;
    for _ in 0..2 {
        let err = two_factor::confirm_identity_with_code(
            &state,
            &session,
            &proof(&wrong_code(&secret, at), false).unwrap(),
            &client(),
            at,
        )
        .await
        .unwrap_err();
        assert!(err.message_for("code").is_some(), "{err:?}");
    }
    assert_eq!(second_factor_failures(&state, &signed_up).await, 5);
    // The next code at a challenge from an unknown browser must wait, right or not…
    let err = answer(&state, &challenge, &code(&secret, at), false, false, at)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooManyAttempts { .. }), "{err:?}");
    // …but the signed-in owner is held only by their own session's count.
    two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&code(&secret, at), false).unwrap(),
        &client(),
        at,
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn with_an_authenticator_the_prompt_refuses_the_password_without_counting_it(pool: PgPool) {
    let state = state(pool);
    let (signed_up, secret, _) = enabled_account(&state).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    for guess in ["a guess", PASSWORD] {
        for _ in 0..two_factor::MAX_STEP_UP_FAILURES {
            let err = two_factor::confirm_identity(&state, &session, guess, &client(), t0())
                .await
                .unwrap_err();
            assert!(
                err.message_for("password")
                    .is_some_and(|m| m.contains("two-factor")),
                "{err:?}"
            );
        }
    }
    // Nothing was checked, so nothing was counted: a code still goes through.
    let at = t0() + Duration::minutes(1);
    two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&code(&secret, at), false).unwrap(),
        &client(),
        at,
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn without_an_authenticator_only_the_password_confirms_identity(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    let err = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof("123456", false).unwrap(),
        &client(),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message_for("code").as_deref(),
        Some("Your account has no authenticator app. Use your password.")
    );
    assert_eq!(second_factor_failures(&state, &signed_up).await, 0);
}

/// Six digits that are not a valid code around `at`.
fn wrong_code(secret: &TotpSecret, at: OffsetDateTime) -> String {
    let valid: Vec<String> = (-1..=1)
        .map(|offset| code(secret, at + Duration::seconds(30 * offset)))
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|candidate| !valid.contains(candidate))
        .unwrap()
}

async fn second_factor_failures(state: &AppState, signed_up: &SignedIn) -> i32 {
    let counter = Counter::SecondFactor {
        user_id: signed_up.user_id,
    };
    throttle::failures(&state.pool, counter).await.unwrap()
}

/// Sets the account's consecutive second-factor failures, as days of guessing would leave them.
async fn set_second_factor_failures(state: &AppState, signed_up: &SignedIn, failures: i32) {
    let counter = Counter::SecondFactor {
        user_id: signed_up.user_id,
    };
    sqlx::query(
        "INSERT INTO attempt_counters (key, kind, failures, last_failure_at) \
         VALUES ($1, 'second_factor', $2, $3) \
         ON CONFLICT (key) DO UPDATE SET failures = $2, last_failure_at = $3",
    )
    .bind(counter.key())
    .bind(failures)
    .bind(t0())
    .execute(&state.pool)
    .await
    .unwrap();
}
