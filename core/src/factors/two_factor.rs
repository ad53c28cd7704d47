//! Two-factor authentication as a person meets it: turning it on (the wizard), backup codes,
//! the challenge after the password at sign-in, trusted browsers, step-up re-authentication and
//! turning it off. Server functions are thin adapters over these; `now` comes from the caller.

use crate::CoreState;
use crate::auth::throttle::{self, Counter, Subject};
use crate::db::events::record_for as record;
use crate::db::{
    backup_codes as code_repo, factors, sessions as session_repo, totp_factors, trusted_browsers,
    users,
};
use crate::error::Error;
use crate::factors::authenticator::CodeCheck;
use crate::factors::backup_codes::{self, IssuedBackupCode};
use crate::ids::{FactorId, TrustedBrowserId, UserId};
use crate::primitives::totp::TotpSecret;
use crate::security_log::{
    Check, CodeRejection, Method, SecurityEvent, SignedInWith, SignedOutElsewhere,
};
use crate::sessions::browsers::{self, BrowserTokens};
use crate::sessions::{self, ClientInfo, CurrentSession, PendingChallenge, Proved};
use crate::{auth::accounts, factors::authenticator};
use crate::{auth::policy, primitives::token};
use domain::secret::Secret;
use domain::validation::{self, BackupCode, OtpCode, SecondFactorProof};
use time::OffsetDateTime;

/// Wrong codes one challenge tolerates; then the person starts again from the password.
pub const MAX_CHALLENGE_ATTEMPTS: i32 = 5;
// The per-account schedule of waits and the lock, shared with password sign-in.
pub use crate::auth::attempts::{FREE_ATTEMPTS, LOCK_AFTER, delay_after, retry_after_secs};
const AUTHENTICATOR_LABEL: &str = "Authenticator app";
/// Wrong answers at the step-up prompt (and wrong current passwords) tolerated per window:
/// whoever holds a stolen session must not be able to guess there at hashing speed.
pub use crate::auth::throttle::{
    STEP_UP_MAX_FAILURES as MAX_STEP_UP_FAILURES, STEP_UP_WINDOW as STEP_UP_FAILURE_WINDOW,
};

// ---------------------------------------------------------------------------------------------
// Step-up re-authentication

/// Refuses a sensitive change unless the session's last check is recent enough
/// (`StepUpRequired`, naming what the browser must ask for). While the account has an active
/// second factor, only a second factor counts: a session that never passed one (signed in
/// before two-factor was turned on, through a trusted browser, or stolen) plus the password
/// must not be able to change factors or the password. Without one, the password does.
#[tracing::instrument(skip_all)]
pub async fn require_recent_authentication(
    state: &CoreState,
    session: &CurrentSession,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let has_factor = factors::has_active(&state.pool, session.user_id).await?;
    recent_enough(has_factor, session, step_up_window(state)?, now)
}

/// [`require_recent_authentication`] made again inside the transaction `tx` of the change,
/// under the account's lock, with the session read afresh: a change checked before two-factor
/// was turned on in another tab (or by its owner, racing an attacker's session) must not go
/// through after it. `Unauthenticated` when the session has ended meanwhile. Returns whether
/// the account has an active second factor.
async fn require_recent_authentication_in(
    tx: &mut sqlx::PgConnection,
    state: &CoreState,
    session: &CurrentSession,
    now: OffsetDateTime,
) -> Result<bool, Error> {
    users::lock_for_update(&mut *tx, session.user_id).await?;
    let fresh = session_repo::find_checks(&mut *tx, session.session_id)
        .await?
        .ok_or(Error::Unauthenticated)?;
    let session = CurrentSession {
        authenticated_at: fresh.authenticated_at,
        second_factor_at: fresh.second_factor_at,
        ..session.clone()
    };
    let has_factor = factors::has_active(&mut *tx, session.user_id).await?;
    recent_enough(has_factor, &session, step_up_window(state)?, now)?;
    Ok(has_factor)
}

fn recent_enough(
    has_factor: bool,
    session: &CurrentSession,
    window: time::Duration,
    now: OffsetDateTime,
) -> Result<(), Error> {
    policy::sensitive_change(has_factor, session, window, now)
        .map_err(|proof| Error::StepUpRequired { proof })
}

fn step_up_window(state: &CoreState) -> Result<time::Duration, Error> {
    time::Duration::try_from(state.settings.step_up_window).map_err(Error::internal)
}

/// Checks the password again and marks the session freshly authenticated, for accounts without
/// a second factor (with one, only [`confirm_identity_with_code`] will do). Each try counts
/// toward the step-up window and the password's consecutive failures, as at sign-in. The
/// session gets a new token (returned, for the cookie): its id changes with the privilege.
#[tracing::instrument(skip_all)]
pub async fn confirm_identity(
    state: &CoreState,
    session: &CurrentSession,
    password: &str,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<String, Error> {
    if password.is_empty() {
        return Err(Error::PasswordMissing);
    }
    if password.len() > validation::MAX_PASSWORD_BYTES {
        return Err(Error::WrongPassword);
    }
    if factors::has_active(&state.pool, session.user_id).await? {
        // Refused before any check: not a guess, and nothing is counted.
        return Err(Error::SecondFactorNeeded);
    }
    let user = accounts::signed_in_user(state, session).await?;
    let attempt =
        throttle::begin_in_session(&state.pool, session, None, Check::StepUp, client, now).await?;
    let matches = match state
        .hasher
        .verify(password.to_owned(), Some(user.password_hash.clone()))
        .await
    {
        Ok(matches) => matches,
        Err(err) => {
            // Not checked (busy server): not a failure either.
            attempt.not_checked().await?;
            return Err(err);
        }
    };
    if !matches {
        attempt.failed(now).await?;
        step_up_failed(state, session, Method::Password, client, now).await?;
        throttle::feed_account(
            &state.pool,
            Counter::AccountPassword { email: &user.email },
            user.id,
            Check::StepUp,
            client,
            now,
        )
        .await?;
        return Err(Error::WrongPassword);
    }
    attempt.passed().await?;
    let checked = sessions::Checked {
        password: true,
        second_factor: false,
    };
    step_up_passed(state, session, checked, Method::Password, client, now).await
}

/// Records a wrong answer at the prompt.
async fn step_up_failed(
    state: &CoreState,
    session: &CurrentSession,
    method: Method,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<(), Error> {
    record(
        &state.pool,
        session.user_id,
        SecurityEvent::StepUpFailed { method },
        client,
        now,
    )
    .await?;
    Ok(())
}

/// Step-up with the account's second factor: a current code from the authenticator app (as
/// GitHub's sudo mode allows) or one of the backup codes, which is used up. Either is
/// single-use like any other. Each try counts toward the step-up window shared with passwords
/// (a stolen session gets few guesses) and toward the account's second-factor failures shared
/// with the sign-in challenge (delays from the sixth in a row, the lock at [`LOCK_AFTER`]).
#[tracing::instrument(skip_all)]
pub async fn confirm_identity_with_code(
    state: &CoreState,
    session: &CurrentSession,
    proof: &SecondFactorProof,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<String, Error> {
    if !factors::has_active(&state.pool, session.user_id).await? {
        return Err(Error::NoSecondFactor);
    }
    let method = method_of(proof);
    // A session that has never passed a second factor (a trusted browser's, say) may be one of
    // many its holder can open with the password alone: its code guesses are held by the
    // account's own count too, or each new session would bring a fresh budget of guesses.
    let account = Counter::SecondFactor {
        user_id: session.user_id,
    };
    let account_guard = session.second_factor_at.is_none().then_some(account);
    let attempt = throttle::begin_in_session(
        &state.pool,
        session,
        account_guard,
        Check::StepUp,
        client,
        now,
    )
    .await?;
    let check = check_proof(state, session.user_id, proof, now).await?;
    if check != CodeCheck::Accepted {
        let after = attempt.failed(now).await?;
        step_up_failed(state, session, method, client, now).await?;
        if account_guard.is_some() {
            // Counted above, as one of the attempt's counters.
            if let Some(kind) = after.locked {
                throttle::log_lock(
                    &state.pool,
                    session.user_id,
                    kind,
                    Check::StepUp,
                    client,
                    now,
                )
                .await?;
            }
        } else {
            throttle::feed_account(
                &state.pool,
                account,
                session.user_id,
                Check::StepUp,
                client,
                now,
            )
            .await?;
        }
        return Err(Error::WrongCode { kind: proof.kind() });
    }
    attempt.passed().await?;
    let checked = sessions::Checked {
        password: false,
        second_factor: true,
    };
    step_up_passed(state, session, checked, method, client, now).await
}

/// Ends a passed step-up: the session gets a new token (its id changes with the privilege)
/// and a fresh time for what was checked, and the log says so. Returns the token for the
/// cookie.
async fn step_up_passed(
    state: &CoreState,
    session: &CurrentSession,
    checked: sessions::Checked,
    method: Method,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<String, Error> {
    let mut tx = state.pool.begin().await?;
    let secret = sessions::rotate_after(&mut *tx, session, checked, now).await?;
    record(
        &mut *tx,
        session.user_id,
        SecurityEvent::StepUpPassed { method },
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

// ---------------------------------------------------------------------------------------------
// Settings → Security

/// What Settings → Security shows: the account's second factor and its trusted browsers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecuritySummary {
    pub email: String,
    /// `None` while two-factor authentication is off.
    pub two_factor: Option<TwoFactorSummary>,
    pub trusted_browsers: Vec<TrustedBrowserSummary>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwoFactorSummary {
    pub authenticator_added: OffsetDateTime,
    pub backup_codes_left: i64,
    pub backup_codes_total: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedBrowserSummary {
    pub id: TrustedBrowserId,
    /// As the browser sent it when it was trusted.
    pub user_agent: Option<String>,
    pub trusted_since: OffsetDateTime,
    pub last_used: OffsetDateTime,
    /// The browser asking (it presented this trusted browser's token).
    pub this_browser: bool,
}

#[tracing::instrument(skip_all)]
pub async fn overview(
    state: &CoreState,
    session: &CurrentSession,
    trusted_secret: Option<&str>,
    now: OffsetDateTime,
) -> Result<SecuritySummary, Error> {
    let user = accounts::signed_in_user(state, session).await?;
    let added = totp_factors::active_activated_at(&state.pool, user.id).await?;
    let two_factor = match added {
        Some(authenticator_added) => {
            let (left, total) = code_repo::count(&state.pool, user.id).await?;
            Some(TwoFactorSummary {
                authenticator_added,
                backup_codes_left: left,
                backup_codes_total: total,
            })
        }
        None => None,
    };
    let this_browser = trusted_secret.map(token::hash);
    let trusted_browsers = trusted_browsers::list_for_user(&state.pool, user.id, now)
        .await?
        .into_iter()
        .map(|row| TrustedBrowserSummary {
            id: row.id,
            this_browser: this_browser.as_deref() == Some(row.token_hash.as_slice()),
            user_agent: row.user_agent,
            trusted_since: row.created_at,
            last_used: row.last_used_at,
        })
        .collect();
    Ok(SecuritySummary {
        email: user.email,
        two_factor,
        trusted_browsers,
    })
}

/// Wizard step 1: a new pending secret, to be shown once (as a QR code of `key_uri` and as a
/// key to type) and never again. `Debug` leaves the secret out, and the key URI, which holds it.
pub struct TotpEnrollment {
    pub factor_id: FactorId,
    pub secret: TotpSecret,
    /// `otpauth://totp/…`, naming the issuer and the account.
    pub key_uri: String,
    /// An authenticator is already active and keeps working until this one is verified.
    pub replacing: bool,
}

#[tracing::instrument(skip_all)]
pub async fn begin_totp_setup(
    state: &CoreState,
    session: &CurrentSession,
    now: OffsetDateTime,
) -> Result<TotpEnrollment, Error> {
    require_recent_authentication(state, session, now).await?;
    let user = accounts::signed_in_user(state, session).await?;
    let replacing = totp_factors::active_activated_at(&state.pool, user.id)
        .await?
        .is_some();
    let pending =
        authenticator::begin(&state.pool, &state.keys, user.id, AUTHENTICATOR_LABEL, now).await?;
    let key_uri = pending.secret.key_uri(&state.settings.issuer, &user.email);
    Ok(TotpEnrollment {
        factor_id: pending.factor_id,
        secret: pending.secret,
        key_uri,
        replacing,
    })
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("factor_id", &self.factor_id)
            .field("replacing", &self.replacing)
            .finish_non_exhaustive()
    }
}

/// A fresh set of backup codes for `account` (its address), shown once. `Debug` shows no code.
#[derive(Debug)]
pub struct IssuedBackupCodes {
    pub account: String,
    pub codes: Vec<IssuedBackupCode>,
}

/// What confirming a new authenticator did.
pub struct TotpConfirmed {
    /// The first backup codes, when two-factor was just turned on (replacing an authenticator
    /// keeps the codes).
    pub backup_codes: Option<IssuedBackupCodes>,
    pub signed_out: SignedOutElsewhere,
    /// The session's new token: it has just proved the new factor.
    pub session_secret: String,
}

impl std::fmt::Debug for TotpConfirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpConfirmed")
            .field("backup_codes", &self.backup_codes)
            .field("signed_out", &self.signed_out)
            .finish_non_exhaustive()
    }
}

/// Wizard step 2: the first code. Turning two-factor on for the first time also creates the
/// backup codes (step 3), returned once; replacing an authenticator keeps the codes. Either
/// way every other session ends and every trusted browser is revoked (people turn two-factor
/// on when they suspect someone else is signed in), and this session, having just proved the
/// new factor, gets a new token.
#[tracing::instrument(skip_all)]
pub async fn confirm_totp_setup(
    state: &CoreState,
    session: &CurrentSession,
    factor_id: FactorId,
    code: &OtpCode,
    browser: &BrowserTokens,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<TotpConfirmed, Error> {
    // The check made when the wizard began may have run out while the person was scanning.
    require_recent_authentication(state, session, now).await?;
    let user = accounts::signed_in_user(state, session).await?;
    // Activation, the first backup codes, the sign-outs and the log entry commit together:
    // two-factor is never on without its codes.
    let mut tx = state.pool.begin().await?;
    // Enabling or replacing is decided under the account's lock: of two tabs confirming at
    // once, the second sees the first one's authenticator and replaces it (keeping its codes)
    // instead of turning two-factor on again with a second set.
    require_recent_authentication_in(&mut tx, state, session, now).await?;
    let replacing = totp_factors::active_activated_at(&mut *tx, user.id)
        .await?
        .is_some();
    authenticator::confirm(
        &state.pool,
        &mut tx,
        &state.keys,
        authenticator::Confirmation {
            user_id: user.id,
            factor_id,
            code,
        },
        now,
    )
    .await?;
    let backup_codes = if replacing {
        None
    } else {
        Some(store_new_backup_codes(state, &mut tx, user.id, now).await?)
    };
    users::bump_factors_version(&mut *tx, user.id).await?;
    let signed_out = sign_out_elsewhere(&mut tx, session, browser, now).await?;
    let session_secret = sessions::rotate_after(
        &mut *tx,
        session,
        sessions::Checked {
            password: false,
            second_factor: true,
        },
        now,
    )
    .await?;
    let event = if replacing {
        SecurityEvent::AuthenticatorReplaced(signed_out)
    } else {
        SecurityEvent::TwoFactorEnabled {
            method: Method::Totp,
            signed_out,
        }
    };
    record(&mut *tx, user.id, event, client, now).await?;
    tx.commit().await?;
    Ok(TotpConfirmed {
        backup_codes: backup_codes.map(|codes| IssuedBackupCodes {
            account: user.email,
            codes,
        }),
        signed_out,
        session_secret,
    })
}

/// Ends every session of the account but `session`, revokes every trusted browser, and forgets
/// every recognised browser but this one (`browser`, kept recognised): browsers recognised
/// before the change (an attacker's, signed in with the password alone) must not keep the
/// counters of their own that let them guess past the account's.
async fn sign_out_elsewhere(
    tx: &mut sqlx::PgConnection,
    session: &CurrentSession,
    browser: &BrowserTokens,
    now: OffsetDateTime,
) -> Result<SignedOutElsewhere, Error> {
    let other_sessions =
        session_repo::delete_others(&mut *tx, session.user_id, session.session_id).await?;
    let trusted_browsers = trusted_browsers::delete_for_user(&mut *tx, session.user_id).await?;
    browsers::forget_all_but(&mut *tx, session.user_id, browser, now).await?;
    Ok(SignedOutElsewhere {
        other_sessions_signed_out: other_sessions,
        trusted_browsers_revoked: trusted_browsers,
    })
}

/// Discards an unfinished wizard's secret (Cancel).
#[tracing::instrument(skip_all)]
pub async fn cancel_totp_setup(state: &CoreState, session: &CurrentSession) -> Result<(), Error> {
    totp_factors::delete_pending(&state.pool, session.user_id).await?;
    Ok(())
}

/// New backup codes; the old ones stop working at once.
#[tracing::instrument(skip_all)]
pub async fn regenerate_backup_codes(
    state: &CoreState,
    session: &CurrentSession,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<IssuedBackupCodes, Error> {
    require_recent_authentication(state, session, now).await?;
    let user = accounts::signed_in_user(state, session).await?;
    let mut tx = state.pool.begin().await?;
    if !require_recent_authentication_in(&mut tx, state, session, now).await? {
        return Err(Error::TwoFactorOff);
    }
    let codes = store_new_backup_codes(state, &mut tx, user.id, now).await?;
    record(
        &mut *tx,
        user.id,
        SecurityEvent::BackupCodesRegenerated,
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedBackupCodes {
        account: user.email,
        codes,
    })
}

/// Turns two-factor off: every factor, backup code and trusted browser goes, and every other
/// session ends.
#[tracing::instrument(skip_all)]
pub async fn disable(
    state: &CoreState,
    session: &CurrentSession,
    browser: &BrowserTokens,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<SignedOutElsewhere, Error> {
    require_recent_authentication(state, session, now).await?;
    let mut tx = state.pool.begin().await?;
    if !require_recent_authentication_in(&mut tx, state, session, now).await? {
        return Err(Error::TwoFactorAlreadyOff);
    }
    factors::delete_for_user(&mut *tx, session.user_id).await?;
    code_repo::delete_for_user(&mut *tx, session.user_id).await?;
    users::bump_factors_version(&mut *tx, session.user_id).await?;
    let signed_out = sign_out_elsewhere(&mut tx, session, browser, now).await?;
    record(
        &mut *tx,
        session.user_id,
        SecurityEvent::TwoFactorDisabled(signed_out),
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(signed_out)
}

/// Revokes one of the user's trusted browsers. Idempotent: a browser that is already gone (or
/// never was this user's) is what was asked for, so it is not an error.
#[tracing::instrument(skip_all)]
pub async fn revoke_trusted_browser(
    state: &CoreState,
    session: &CurrentSession,
    id: TrustedBrowserId,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<(), Error> {
    if !trusted_browsers::delete(&state.pool, session.user_id, id).await? {
        return Ok(());
    }
    record(
        &state.pool,
        session.user_id,
        SecurityEvent::TrustedBrowserRevoked,
        client,
        now,
    )
    .await?;
    Ok(())
}

async fn store_new_backup_codes(
    state: &CoreState,
    tx: &mut sqlx::PgConnection,
    user_id: UserId,
    now: OffsetDateTime,
) -> Result<Vec<IssuedBackupCode>, Error> {
    let codes = backup_codes::generate_set();
    let hashes: Vec<Vec<u8>> = codes
        .iter()
        .map(|code| {
            let code = BackupCode::parse(code.display()).map_err(Error::internal)?;
            Ok(backup_codes::hash(
                state.keys.current_mac_key(),
                user_id.as_bytes(),
                &code,
            ))
        })
        .collect::<Result<_, Error>>()?;
    code_repo::replace_set(tx, user_id, &hashes, state.keys.current_key_id(), now).await?;
    Ok(codes)
}

// ---------------------------------------------------------------------------------------------
// The challenge at sign-in

/// The end of a passed challenge: a new, fully signed-in session (the id changes), the
/// recognised-browser token (renewed), and the trusted-browser token when the person asked not
/// to be asked again.
pub struct ChallengePassed {
    pub session_secret: String,
    pub recognised_browser: Secret,
    pub trusted_browser: Option<Secret>,
    /// Backup codes still unused, when a backup code was just spent.
    pub backup_codes_left: Option<i64>,
}

impl std::fmt::Debug for ChallengePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengePassed")
            .field("backup_codes_left", &self.backup_codes_left)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub enum ChallengeOutcome {
    Passed(ChallengePassed),
    /// Wrong code; this many attempts remain in this challenge.
    Wrong {
        attempts_left: i32,
    },
    /// Too many wrong codes: the challenge session has ended, back to the password.
    Restart,
    /// The challenge was already answered or has expired (a second submit of the same form,
    /// another tab): nothing to do here any more.
    Gone,
}

/// What the person gave at the challenge.
#[derive(Debug)]
pub struct ChallengeAnswer {
    pub proof: SecondFactorProof,
    pub trust_browser: bool,
}

#[tracing::instrument(skip_all)]
pub async fn answer_challenge(
    state: &CoreState,
    challenge: &PendingChallenge,
    answer: ChallengeAnswer,
    browser: &BrowserTokens,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<ChallengeOutcome, Error> {
    // Guessing codes elsewhere must not lock the owner's own browser out: a browser the account
    // recognises has a counter of its own, as for passwords.
    let recognised =
        browsers::recognise_for_user(&state.pool, challenge.user_id, browser, now).await?;
    let counter = match &recognised {
        Some(recognised) => Counter::BrowserSecondFactor {
            user_id: challenge.user_id,
            browser_token_hash: &recognised.token_hash,
        },
        None => Counter::SecondFactor {
            user_id: challenge.user_id,
        },
    };
    let attempt = match throttle::begin(&state.pool, &[counter], now).await? {
        Ok(attempt) => attempt,
        Err(refused) => {
            return Err(throttle::refused_error(
                &state.pool,
                refused,
                Check::Challenge,
                Subject::User(challenge.user_id),
                client,
                now,
            ));
        }
    };
    let Some(attempts) =
        session_repo::count_challenge_attempt(&state.pool, challenge.session_id).await?
    else {
        // Answered or expired meanwhile: nothing was checked, so nothing is counted.
        attempt.not_checked().await?;
        return Ok(ChallengeOutcome::Gone);
    };
    if attempts > MAX_CHALLENGE_ATTEMPTS {
        attempt.not_checked().await?;
        session_repo::delete_challenge(&state.pool, challenge.session_id).await?;
        return Ok(ChallengeOutcome::Restart);
    }

    let method = method_of(&answer.proof);
    let check = check_proof(state, challenge.user_id, &answer.proof, now).await?;
    if let CodeCheck::Wrong | CodeCheck::Replayed = check {
        let after = attempt.failed(now).await?;
        // A replayed code (right, but already used) is told apart from a wrong one: it means
        // someone saw a code, or the form was sent twice.
        let reason = if check == CodeCheck::Replayed {
            CodeRejection::Replayed
        } else {
            CodeRejection::Wrong
        };
        record(
            &state.pool,
            challenge.user_id,
            SecurityEvent::SecondFactorFailed { method, reason },
            client,
            now,
        )
        .await?;
        if let Some(kind) = after.locked {
            throttle::log_lock(
                &state.pool,
                challenge.user_id,
                kind,
                Check::Challenge,
                client,
                now,
            )
            .await?;
        }
        let attempts_left = MAX_CHALLENGE_ATTEMPTS - attempts;
        if attempts_left <= 0 {
            session_repo::delete_challenge(&state.pool, challenge.session_id).await?;
            return Ok(ChallengeOutcome::Restart);
        }
        return Ok(ChallengeOutcome::Wrong { attempts_left });
    }
    attempt.passed().await?;

    let mut tx = state.pool.begin().await?;
    // Rotating the session: the half-authenticated one ends, a new full one begins. If it is
    // already gone, a concurrent attempt has passed (or ended) it first.
    if !session_repo::delete_challenge(&mut *tx, challenge.session_id).await? {
        return Ok(ChallengeOutcome::Gone);
    }
    let session_secret = sessions::start(
        &mut *tx,
        challenge.user_id,
        Proved::PasswordAndSecondFactor,
        client,
        now,
    )
    .await?;
    let recognised_browser = browsers::remember(&mut *tx, challenge.user_id, browser, now).await?;
    let trusted_browser = if answer.trust_browser {
        let new_token = token::generate();
        let lifetime = time::Duration::try_from(state.settings.trusted_browser_lifetime)
            .map_err(Error::internal)?;
        trusted_browsers::insert(
            &mut *tx,
            trusted_browsers::NewTrustedBrowser {
                user_id: challenge.user_id,
                token_hash: &new_token.hash,
                expires_at: now + lifetime,
                ip: client.ip.as_deref(),
                user_agent: client.user_agent.as_deref(),
                now,
            },
        )
        .await?;
        Some(Secret::new(new_token.secret))
    } else {
        None
    };
    let backup_codes_left = match answer.proof {
        SecondFactorProof::BackupCode(_) => {
            Some(code_repo::count(&mut *tx, challenge.user_id).await?.0)
        }
        SecondFactorProof::Totp(_) => None,
    };
    record(
        &mut *tx,
        challenge.user_id,
        SecurityEvent::SignedIn(SignedInWith::SecondFactor {
            second_factor: method,
            trusted_browser_added: answer.trust_browser,
        }),
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ChallengeOutcome::Passed(ChallengePassed {
        session_secret,
        recognised_browser,
        trusted_browser,
        backup_codes_left,
    }))
}

/// Spends one of the user's backup codes; false when `code` is not an unused one. The code is
/// hashed under every key of the ring (it may predate a rotation) and consumed by one atomic
/// update, so of concurrent submissions of one code exactly one succeeds.
#[tracing::instrument(skip_all)]
pub async fn use_backup_code(
    state: &CoreState,
    user_id: UserId,
    code: &BackupCode,
    now: OffsetDateTime,
) -> Result<bool, Error> {
    Ok(spend_backup_code(state, user_id, code, now).await? == CodeCheck::Accepted)
}

/// Checks a proof of the user's second factor, using it up (a code's time step, a backup code).
async fn check_proof(
    state: &CoreState,
    user_id: UserId,
    proof: &SecondFactorProof,
    now: OffsetDateTime,
) -> Result<CodeCheck, Error> {
    match proof {
        SecondFactorProof::Totp(code) => {
            authenticator::check(&state.pool, &state.keys, user_id, code, now).await
        }
        SecondFactorProof::BackupCode(code) => spend_backup_code(state, user_id, code, now).await,
    }
}

/// How the security log names the way a proof was given.
fn method_of(proof: &SecondFactorProof) -> Method {
    match proof {
        SecondFactorProof::Totp(_) => Method::Totp,
        SecondFactorProof::BackupCode(_) => Method::BackupCode,
    }
}

async fn spend_backup_code(
    state: &CoreState,
    user_id: UserId,
    code: &BackupCode,
    now: OffsetDateTime,
) -> Result<CodeCheck, Error> {
    let candidates: Vec<(&str, Vec<u8>)> = state
        .keys
        .mac_keys_with_ids()
        .map(|(key_id, key)| (key_id, backup_codes::hash(key, user_id.as_bytes(), code)))
        .collect();
    let hashes: Vec<Vec<u8>> = candidates.iter().map(|(_, hash)| hash.clone()).collect();
    let Some(used) = code_repo::consume(&state.pool, user_id, &hashes, now).await? else {
        return Ok(CodeCheck::Wrong);
    };
    // The code tells which key made its set: recorded where it was not known yet, so that
    // `server --key-usage` can say when an old key may be retired.
    if let Some((key_id, _)) = candidates.iter().find(|(_, hash)| *hash == used) {
        code_repo::learn_key(&state.pool, user_id, key_id).await?;
    }
    Ok(CodeCheck::Accepted)
}

/// Whether a person who just proved their password must still pass a second factor here.
#[derive(Debug)]
pub enum ChallengeDecision {
    /// The account has no active second factor.
    NoFactor,
    /// The browser is one the person trusts: no challenge. Its token was rotated (the cookie
    /// must be set to `new_secret`).
    TrustedBrowser {
        id: TrustedBrowserId,
        new_secret: Secret,
    },
    Needed,
}

/// Yes if the account has a second factor (`has_factor`, as read with the account), unless this
/// browser presented a valid
/// trusted-browser token for it (which is then rotated: a copied cookie stops working once
/// either copy is used).
#[tracing::instrument(skip_all)]
pub async fn challenge_needed(
    db: &sqlx::PgPool,
    user_id: UserId,
    has_factor: bool,
    browser: &BrowserTokens,
    now: OffsetDateTime,
) -> Result<ChallengeDecision, Error> {
    if !has_factor {
        return Ok(ChallengeDecision::NoFactor);
    }
    if let Some(secret) = &browser.trusted {
        let new_token = token::generate();
        if let Some(id) = trusted_browsers::use_and_rotate(
            db,
            user_id,
            &token::hash(secret.expose()),
            &new_token.hash,
            now,
        )
        .await?
        {
            return Ok(ChallengeDecision::TrustedBrowser {
                id,
                new_secret: Secret::new(new_token.secret),
            });
        }
    }
    Ok(ChallengeDecision::Needed)
}
