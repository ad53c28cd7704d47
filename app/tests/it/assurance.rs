//! What a session has proved (issue 8 §1): while an account has a second factor, changing
//! factors or the password needs a recent second factor, not the password alone; enrolling or
//! replacing a factor signs out everywhere else.

use crate::{
    PASSWORD, Words, backup_code, client, code, is_live, otp_at, proof, sign_up, state, t0,
};
use app::error::StepUpProof;
use app::server::Error;
use app::server::auth::accounts::{self, PasswordChange, SignedIn};
use app::server::db::totp_factors::{self, NewPendingTotp};
use app::server::factors::two_factor::{self, ChallengeAnswer, ChallengeOutcome};
use app::server::primitives::totp::TotpSecret;
use app::server::sessions::browsers::BrowserTokens;
use app::server::sessions::{self, CurrentSession};
use app::server::{AppState, db};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

const EMAIL: &str = "ann@example.com";

async fn full_session(state: &AppState, secret: &str, at: OffsetDateTime) -> CurrentSession {
    sessions::authenticate(&state.pool, &state.settings, secret, at)
        .await
        .unwrap()
        .expect("a full session")
}

fn secret_of_setup(manual_key: &str) -> TotpSecret {
    let key = manual_key.replace(' ', "");
    TotpSecret::from_bytes(
        base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap(),
    )
}

/// Turns the authenticator on from the session `secret` at `at`; returns the session's new
/// token, the app's secret and the backup codes.
async fn turn_on(
    state: &AppState,
    session_secret: &str,
    at: OffsetDateTime,
) -> (two_factor::TotpConfirmed, TotpSecret) {
    let session = full_session(state, session_secret, at).await;
    let setup = crate::begin_setup(state, &session, at).await.unwrap();
    let secret = secret_of_setup(&setup.manual_key);
    let confirmed = two_factor::confirm_totp_setup(
        state,
        &session,
        setup.factor_id.parse().unwrap(),
        &otp_at(&secret, at),
        &BrowserTokens::default(),
        &client(),
        at,
    )
    .await
    .unwrap();
    (confirmed, secret)
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

/// Signs in with the password and a code, trusting the browser when asked; returns the full
/// session's token and the trusted-browser token.
async fn sign_in_with_code(
    state: &AppState,
    secret: &TotpSecret,
    at: OffsetDateTime,
    trust_browser: bool,
) -> (String, Option<String>) {
    let half = sign_in(state, at, None).await;
    let challenge = crate::challenge_of(state, &half.session_secret, at).await;
    let outcome = two_factor::answer_challenge(
        state,
        &challenge,
        ChallengeAnswer {
            proof: proof(&code(secret, at), false).unwrap(),
            trust_browser,
        },
        &BrowserTokens::default(),
        &client(),
        at,
    )
    .await
    .unwrap();
    match outcome {
        ChallengeOutcome::Passed(passed) => (
            passed.session_secret,
            passed.trusted_browser.map(|t| t.expose().to_owned()),
        ),
        other => panic!("expected a pass, got {other:?}"),
    }
}

fn needs_second_factor(result: Result<impl std::fmt::Debug, Error>) {
    match result {
        Err(Error::StepUpRequired {
            proof: StepUpProof::SecondFactor,
        }) => {}
        other => panic!("expected a second factor to be asked for, got {other:?}"),
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn turning_two_factor_on_signs_out_every_other_session(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let elsewhere = sign_in(&state, t0(), None).await;
    let (confirmed, _) = turn_on(&state, &signed_up.session_secret, t0()).await;
    assert_eq!(confirmed.signed_out.other_sessions_signed_out, 1);
    assert!(!is_live(&state, &elsewhere.session_secret, t0()).await);
    // This session proved the new factor: new token, and the assurance to change factors.
    assert!(!is_live(&state, &signed_up.session_secret, t0()).await);
    let session = full_session(&state, &confirmed.session_secret, t0()).await;
    assert_eq!(session.second_factor_at, Some(t0()));
    let kinds = db::events::kinds_for_user(&state.pool, signed_up.user_id)
        .await
        .unwrap();
    assert!(
        kinds.contains(&"two_factor_enabled".to_owned()),
        "{kinds:?}"
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn replacing_the_authenticator_signs_out_everywhere_else_and_revokes_trusted_browsers(
    pool: PgPool,
) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let (confirmed, secret) = turn_on(&state, &signed_up.session_secret, t0()).await;
    let at = t0() + Duration::minutes(1);
    let (other, trusted) = sign_in_with_code(&state, &secret, at, true).await;
    let trusted = trusted.unwrap();

    let later = at + Duration::minutes(1);
    let (replaced, _) = turn_on(&state, &other, later).await;
    assert!(replaced.backup_codes.is_none());
    assert_eq!(replaced.signed_out.other_sessions_signed_out, 1);
    assert_eq!(replaced.signed_out.trusted_browsers_revoked, 1);
    assert!(!is_live(&state, &confirmed.session_secret, later).await);
    assert!(is_live(&state, &replaced.session_secret, later).await);
    // The trusted browser is asked for a code again.
    assert!(
        sign_in(&state, later, Some(&trusted))
            .await
            .needs_second_factor
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_trusted_browser_session_must_pass_a_code_before_changing_factors(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let (_, secret) = turn_on(&state, &signed_up.session_secret, t0()).await;
    let at = t0() + Duration::minutes(1);
    let (_, trusted) = sign_in_with_code(&state, &secret, at, true).await;

    // Password + trusted browser: signed in at once, with a fresh password check…
    let later = at + Duration::minutes(1);
    let signed_in = sign_in(&state, later, trusted.as_deref()).await;
    assert!(!signed_in.needs_second_factor);
    let session = full_session(&state, &signed_in.session_secret, later).await;
    assert_eq!(session.second_factor_at, None);
    // …but no second factor: every change to factors or the password asks for one.
    needs_second_factor(
        two_factor::regenerate_backup_codes(&state, &session, &client(), later).await,
    );
    needs_second_factor(crate::begin_setup(&state, &session, later).await);
    needs_second_factor(
        two_factor::disable(
            &state,
            &session,
            &BrowserTokens::default(),
            &client(),
            later,
        )
        .await,
    );
    needs_second_factor(
        accounts::change_password(
            &state,
            &session,
            PasswordChange {
                current_password: PASSWORD,
                new_password: "a brand new passphrase",
                new_password_confirm: "a brand new passphrase",
                sign_out_other_sessions: true,
            },
            &BrowserTokens::default(),
            &client(),
            later,
        )
        .await,
    );
    // The password at the prompt does not count.
    let err = two_factor::confirm_identity(&state, &session, PASSWORD, &client(), later)
        .await
        .unwrap_err();
    assert!(err.message_for("password").is_some(), "{err:?}");

    // A code does.
    let step = later + Duration::seconds(30);
    let rotated = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&code(&secret, step), false).unwrap(),
        &client(),
        step,
    )
    .await
    .unwrap();
    let session = full_session(&state, &rotated, step).await;
    assert_eq!(session.second_factor_at, Some(step));
    two_factor::regenerate_backup_codes(&state, &session, &client(), step)
        .await
        .unwrap();
    let kinds = db::events::kinds_for_user(&state.pool, signed_up.user_id)
        .await
        .unwrap();
    assert!(kinds.contains(&"step_up_passed".to_owned()), "{kinds:?}");
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_backup_code_confirms_it_is_you_and_is_used_up(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let (confirmed, _) = turn_on(&state, &signed_up.session_secret, t0()).await;
    let codes = confirmed.backup_codes.map(crate::shown).unwrap().codes;
    let later = t0() + Duration::minutes(11);
    let session = full_session(&state, &confirmed.session_secret, later).await;
    needs_second_factor(
        two_factor::disable(
            &state,
            &session,
            &BrowserTokens::default(),
            &client(),
            later,
        )
        .await,
    );

    let typed = codes[0].to_uppercase();
    let rotated = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&typed, true).unwrap(),
        &client(),
        later,
    )
    .await
    .unwrap();
    let session = full_session(&state, &rotated, later).await;
    let overview = two_factor::overview(&state, &session, None, later)
        .await
        .unwrap();
    assert_eq!(overview.two_factor.unwrap().backup_codes_left, 9);
    let again = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&codes[0], true).unwrap(),
        &client(),
        later,
    )
    .await
    .unwrap_err();
    assert_eq!(
        again.message_for("code").as_deref(),
        Some("That backup code didn't work. Check it, or use another one.")
    );
    two_factor::disable(
        &state,
        &session,
        &BrowserTokens::default(),
        &client(),
        later,
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn changing_the_password_needs_a_recent_second_factor_and_rotates_the_session(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let (confirmed, secret) = turn_on(&state, &signed_up.session_secret, t0()).await;
    let later = t0() + Duration::minutes(11);
    let session = full_session(&state, &confirmed.session_secret, later).await;
    let change = |current: &'static str| PasswordChange {
        current_password: current,
        new_password: "a brand new passphrase",
        new_password_confirm: "a brand new passphrase",
        sign_out_other_sessions: false,
    };
    // Asked before the current password is even checked: a guess here is not a guess.
    needs_second_factor(
        accounts::change_password(
            &state,
            &session,
            change("not my password"),
            &BrowserTokens::default(),
            &client(),
            later,
        )
        .await,
    );
    let rotated = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&code(&secret, later), false).unwrap(),
        &client(),
        later,
    )
    .await
    .unwrap();
    let session = full_session(&state, &rotated, later).await;
    let changed = accounts::change_password(
        &state,
        &session,
        change(PASSWORD),
        &BrowserTokens::default(),
        &client(),
        later,
    )
    .await
    .unwrap();
    // The session goes on under a new token.
    assert!(!is_live(&state, &rotated, later).await);
    let session = full_session(&state, &changed.session_secret, later).await;
    assert_eq!(session.authenticated_at, later);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn without_a_second_factor_changing_the_password_rotates_the_session(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    // Long after the last check: the current password is the check.
    let later = t0() + Duration::minutes(25);
    let session = full_session(&state, &signed_up.session_secret, later).await;
    let changed = accounts::change_password(
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
    assert!(!is_live(&state, &signed_up.session_secret, later).await);
    assert!(is_live(&state, &changed.session_secret, later).await);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn the_check_is_made_again_when_the_new_authenticator_is_confirmed(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let (confirmed, old_secret) = turn_on(&state, &signed_up.session_secret, t0()).await;
    let at = t0() + Duration::minutes(9);
    let session = full_session(&state, &confirmed.session_secret, at).await;
    let setup = crate::begin_setup(&state, &session, at).await.unwrap();
    let new_secret = secret_of_setup(&setup.manual_key);
    // Scanning took a while: the check made at the start has run out by the confirmation.
    let later = at + Duration::minutes(3);
    needs_second_factor(
        two_factor::confirm_totp_setup(
            &state,
            &session,
            setup.factor_id.parse().unwrap(),
            &otp_at(&new_secret, later),
            &BrowserTokens::default(),
            &client(),
            later,
        )
        .await,
    );
    let rotated = two_factor::confirm_identity_with_code(
        &state,
        &session,
        &proof(&code(&old_secret, later), false).unwrap(),
        &client(),
        later,
    )
    .await
    .unwrap();
    let session = full_session(&state, &rotated, later).await;
    two_factor::confirm_totp_setup(
        &state,
        &session,
        setup.factor_id.parse().unwrap(),
        &otp_at(&new_secret, later),
        &BrowserTokens::default(),
        &client(),
        later,
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn two_tabs_confirming_at_once_leave_the_codes_that_were_shown_working(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    // Two wizards begun at the same moment, each with its own pending secret.
    let setup = crate::begin_setup(&state, &session, t0()).await.unwrap();
    let first = secret_of_setup(&setup.manual_key);
    let second = TotpSecret::generate();
    let second_id = app::server::FactorId::new_random();
    let sealed = state
        .keys
        .seal(second.as_bytes(), second_id.as_bytes())
        .unwrap();
    totp_factors::insert_pending(
        &state.pool,
        NewPendingTotp {
            id: second_id,
            user_id: signed_up.user_id,
            label: "Authenticator app",
            sealed: &sealed,
            expires_at: t0() + Duration::minutes(15),
            now: t0(),
        },
    )
    .await
    .unwrap();

    let at = t0() + Duration::seconds(30);
    let (first_code, second_code) = (otp_at(&first, at), otp_at(&second, at));
    let (second_id, client) = (second_id.to_string(), client());
    let browser = BrowserTokens::default();
    let (a, b) = futures::join!(
        two_factor::confirm_totp_setup(
            &state,
            &session,
            setup.factor_id.parse().unwrap(),
            &first_code,
            &browser,
            &client,
            at
        ),
        two_factor::confirm_totp_setup(
            &state,
            &session,
            second_id.parse().unwrap(),
            &second_code,
            &browser,
            &client,
            at
        ),
    );
    let shown: Vec<Vec<String>> = [a, b]
        .into_iter()
        .filter_map(|result| result.ok()?.backup_codes)
        .map(|set| crate::shown(set).codes)
        .collect();
    // Two-factor was turned on once, and the codes that tab showed are the ones that work.
    assert_eq!(shown.len(), 1, "two sets of backup codes were shown");
    assert!(
        two_factor::use_backup_code(&state, signed_up.user_id, &backup_code(&shown[0][0]), at)
            .await
            .unwrap()
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn turning_off_what_is_not_on_changes_nothing(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    // The owner is in the middle of the wizard in one tab…
    crate::begin_setup(&state, &session, t0()).await.unwrap();
    let elsewhere = sign_in(&state, t0(), None).await;
    // …while another session asks to turn two-factor off, again and again.
    let other = full_session(&state, &elsewhere.session_secret, t0()).await;
    for _ in 0..3 {
        let err = two_factor::disable(&state, &other, &BrowserTokens::default(), &client(), t0())
            .await
            .unwrap_err();
        assert!(err.message_for("two_factor").is_some(), "{err:?}");
    }
    // Nothing was removed or signed out, and nothing was logged as turned off.
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM factors WHERE state = 'pending'")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    assert_eq!(pending, 1, "the wizard's pending secret survives");
    assert!(is_live(&state, &signed_up.session_secret, t0()).await);
    let kinds = db::events::kinds_for_user(&state.pool, signed_up.user_id)
        .await
        .unwrap();
    assert!(
        !kinds.contains(&"two_factor_disabled".to_owned()),
        "{kinds:?}"
    );
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_session_signed_out_by_turning_two_factor_on_changes_nothing(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let attacker = sign_in(&state, t0(), None).await;
    let attackers_session = full_session(&state, &attacker.session_secret, t0()).await;
    // The owner turns two-factor on; the attacker's request, checked a moment before (when the
    // account had no second factor), arrives at its transaction after.
    turn_on(&state, &signed_up.session_secret, t0()).await;
    for result in [
        two_factor::disable(
            &state,
            &attackers_session,
            &BrowserTokens::default(),
            &client(),
            t0(),
        )
        .await
        .map(|_| ()),
        two_factor::regenerate_backup_codes(&state, &attackers_session, &client(), t0())
            .await
            .map(|_| ()),
    ] {
        assert!(
            matches!(
                result,
                Err(Error::Unauthenticated | Error::StepUpRequired { .. })
            ),
            "{result:?}"
        );
    }
    let active: i64 = sqlx::query_scalar("SELECT count(*) FROM factors WHERE state = 'active'")
        .fetch_one(&state.pool)
        .await
        .unwrap();
    assert_eq!(active, 1);
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn turning_off_racing_the_owners_enrollment_never_undoes_it(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let mut owner_secret = signed_up.session_secret.clone();
    let client = client();
    for round in 0..10 {
        // Each round a minute later, so every code is for a step of its own.
        let at = t0() + Duration::minutes(round);
        let owner = full_session(&state, &owner_secret, at).await;
        let attacker = sign_in(&state, at, None).await;
        let attackers_session = full_session(&state, &attacker.session_secret, at).await;
        let setup = crate::begin_setup(&state, &owner, at).await.unwrap();
        let typed = otp_at(&secret_of_setup(&setup.manual_key), at);
        // The attacker's request may be checked while the account has no second factor yet,
        // and reach its change while the owner's confirmation commits.
        let browser = BrowserTokens::default();
        let (confirmed, disabled) = futures::join!(
            two_factor::confirm_totp_setup(
                &state,
                &owner,
                setup.factor_id.parse().unwrap(),
                &typed,
                &browser,
                &client,
                at
            ),
            two_factor::disable(&state, &attackers_session, &browser, &client, at),
        );
        let confirmed = confirmed.unwrap();
        assert!(
            disabled.is_err(),
            "round {round}: turned off behind the owner's back"
        );
        let active: i64 = sqlx::query_scalar("SELECT count(*) FROM factors WHERE state = 'active'")
            .fetch_one(&state.pool)
            .await
            .unwrap();
        assert_eq!(active, 1, "round {round}");
        // The owner turns it off again for the next round.
        let owner = full_session(&state, &confirmed.session_secret, at).await;
        two_factor::disable(&state, &owner, &BrowserTokens::default(), &client, at)
            .await
            .unwrap();
        owner_secret = confirmed.session_secret;
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn a_sign_in_racing_the_owners_enrollment_keeps_no_full_session(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let mut owner_secret = signed_up.session_secret.clone();
    let client = client();
    for round in 0..10 {
        let at = t0() + Duration::minutes(round);
        let owner = full_session(&state, &owner_secret, at).await;
        let setup = crate::begin_setup(&state, &owner, at).await.unwrap();
        let typed = otp_at(&secret_of_setup(&setup.manual_key), at);
        let browser = BrowserTokens::default();
        // Someone with the password signs in while the owner turns two-factor on.
        let (confirmed, attacker) = futures::join!(
            two_factor::confirm_totp_setup(
                &state,
                &owner,
                setup.factor_id.parse().unwrap(),
                &typed,
                &browser,
                &client,
                at
            ),
            accounts::sign_in(
                &state,
                accounts::SignInRequest::new(EMAIL, PASSWORD, &client),
                at
            ),
        );
        let confirmed = confirmed.unwrap();
        if let Ok(attacker) = attacker
            && !attacker.needs_second_factor
        {
            assert!(
                !is_live(&state, &attacker.session_secret, at).await,
                "round {round}: a full session without a second factor outlived the enrollment"
            );
        }
        let owner = full_session(&state, &confirmed.session_secret, at).await;
        two_factor::disable(&state, &owner, &browser, &client, at)
            .await
            .unwrap();
        owner_secret = confirmed.session_secret;
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn turning_two_factor_on_forgets_every_other_recognised_browser(pool: PgPool) {
    let state = state(pool);
    let signed_up = sign_up(&state, EMAIL).await;
    let owners = BrowserTokens::recognised(signed_up.recognised_browser.unwrap().expose());
    // A browser that signed in with the password alone, before two-factor.
    let other = sign_in(&state, t0(), None).await;
    let others = BrowserTokens::recognised(other.recognised_browser.unwrap().expose());
    let recognised = |tokens: BrowserTokens| {
        let state = &state;
        async move {
            app::server::sessions::browsers::recognise_for_user(
                &state.pool,
                signed_up.user_id,
                &tokens,
                t0(),
            )
            .await
            .unwrap()
            .is_some()
        }
    };
    assert!(recognised(others.clone()).await);

    let session = full_session(&state, &signed_up.session_secret, t0()).await;
    let setup = crate::begin_setup(&state, &session, t0()).await.unwrap();
    let secret = secret_of_setup(&setup.manual_key);
    two_factor::confirm_totp_setup(
        &state,
        &session,
        setup.factor_id.parse().unwrap(),
        &otp_at(&secret, t0()),
        &owners,
        &client(),
        t0(),
    )
    .await
    .unwrap();
    assert!(
        recognised(owners).await,
        "the browser that made the change stays recognised"
    );
    assert!(!recognised(others).await);
}
