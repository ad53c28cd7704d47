//! Account services: sign-up, sign-in, password change. Server functions are thin adapters over
//! these; tests call them directly with an injected `now`.

use crate::CoreState;
use crate::auth::throttle::{self, Attempt, Counter, Subject};
use crate::db::events::record_for as record;
use crate::db::sessions::CompletedSignIn;
use crate::db::{self, factors, sessions as session_repo, trusted_browsers, users};
use crate::error::Error;
use crate::factors::two_factor::{self, ChallengeDecision};
use crate::ids::UserId;
use crate::security_log::{Check, SecurityEvent, SignedInWith, SignedOutElsewhere};
use crate::sessions::browsers::{self, BrowserTokens};
use crate::sessions::{self, ClientInfo, CurrentSession, Level, Proved};
use domain::secret::Secret;
use domain::validation;
use time::OffsetDateTime;

/// The outcome of a successful sign-up or sign-in: the new session's secret, for the cookie,
/// and the browser cookies a completed sign-in hands out.
pub struct SignedIn {
    pub user_id: UserId,
    pub session_secret: String,
    /// The session is only half authenticated: the second-factor challenge comes next.
    pub needs_second_factor: bool,
    /// The recognised-browser token to set (again) as the browser's cookie, once signed in
    /// fully.
    pub recognised_browser: Option<Secret>,
    /// The trusted browser's new token, when a trusted browser skipped the challenge (it
    /// changes at every use).
    pub trusted_browser: Option<Secret>,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("user_id", &self.user_id)
            .field("needs_second_factor", &self.needs_second_factor)
            .finish_non_exhaustive()
    }
}

/// No browser tokens: what a browser presents on its first visit.
static NO_BROWSER_TOKENS: BrowserTokens = BrowserTokens {
    recognised: None,
    trusted: None,
};

/// A sign-up form as the person submitted it, and the browser it came from. Deliberately no
/// `Debug`: it holds the password.
#[derive(Clone, Copy)]
pub struct SignUpRequest<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub password_confirm: &'a str,
    /// The session cookie the browser presented, if any: ended, so whoever signs up in a
    /// browser never inherits an earlier session there.
    pub previous_session: Option<&'a str>,
    pub browser: &'a BrowserTokens,
    pub client: &'a ClientInfo,
}

impl<'a> SignUpRequest<'a> {
    /// From a browser with no cookies.
    pub fn new(
        email: &'a str,
        password: &'a str,
        password_confirm: &'a str,
        client: &'a ClientInfo,
    ) -> Self {
        SignUpRequest {
            email,
            password,
            password_confirm,
            previous_session: None,
            browser: &NO_BROWSER_TOKENS,
            client,
        }
    }
}

/// Creates an account and signs it in. Sign-ups are limited per client address, and their
/// hashing has a smaller share of the hashers than sign-ins.
#[tracing::instrument(skip_all)]
pub async fn sign_up(
    state: &CoreState,
    form: SignUpRequest<'_>,
    now: OffsetDateTime,
) -> Result<SignedIn, Error> {
    let SignUpRequest {
        previous_session: previous_secret,
        browser,
        client,
        ..
    } = form;
    let valid = validation::validate_sign_up(
        form.email,
        form.password,
        form.password_confirm,
        &state.settings.password_policy,
        state.common_passwords.as_ref(),
    )?;
    let counters: Vec<Counter<'_>> = client
        .ip
        .as_deref()
        .map(|ip| Counter::SignUps {
            ip,
            per_hour: state.settings.sign_ups_per_hour,
        })
        .into_iter()
        .collect();
    let attempt = match throttle::begin(&state.pool, &counters, now).await? {
        Ok(attempt) => attempt,
        Err(refused) => {
            return Err(throttle::refused_error(
                &state.pool,
                refused,
                Check::SignUp,
                Subject::Nobody,
                client,
                now,
            ));
        }
    };
    let password_hash = match state
        .hasher
        .hash_new_account(form.password.to_owned())
        .await
    {
        Ok(hash) => hash,
        Err(err) => {
            // Not hashed (the sign-up share of the hashers is busy): not counted either.
            attempt.not_checked().await?;
            return Err(err);
        }
    };
    // Every sign-up that reached the hashers counts, whatever comes of it.
    attempt.passed().await?;
    let mut tx = state.pool.begin().await?;
    // The unique index decides races: of two concurrent sign-ups with one address, exactly one
    // insert succeeds and the other gets the field error.
    let user = match users::insert(&mut *tx, &valid.email, &password_hash, now).await {
        Ok(user) => user,
        Err(err) if db::is_unique_violation(&err) => {
            return Err(Error::EmailTaken);
        }
        Err(err) => return Err(err.into()),
    };
    if let Some(previous) = previous_secret {
        session_repo::delete_by_token_hash(&mut *tx, &crate::primitives::token::hash(previous))
            .await?;
    }
    let session_secret = sessions::start(&mut *tx, user.id, Proved::Password, client, now).await?;
    let recognised_browser = browsers::remember(&mut *tx, user.id, browser, now).await?;
    record(&mut *tx, user.id, SecurityEvent::SignedUp, client, now).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "account created");
    Ok(SignedIn {
        user_id: user.id,
        session_secret,
        needs_second_factor: false,
        recognised_browser: Some(recognised_browser),
        trusted_browser: None,
    })
}

/// One sign-in as the browser sent it. Deliberately no `Debug`: it holds the password.
#[derive(Clone, Copy)]
pub struct SignInRequest<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// The session cookie the browser presented, if any: ended, so the session id always
    /// changes at sign-in.
    pub previous_session: Option<&'a str>,
    /// The recognised-browser and trusted-browser tokens the browser presented.
    pub browser: &'a BrowserTokens,
    pub client: &'a ClientInfo,
}

impl<'a> SignInRequest<'a> {
    /// From a browser with no cookies.
    pub fn new(email: &'a str, password: &'a str, client: &'a ClientInfo) -> Self {
        SignInRequest {
            email,
            password,
            previous_session: None,
            browser: &NO_BROWSER_TOKENS,
            client,
        }
    }

    /// From a browser presenting these tokens.
    pub fn from_browser(self, browser: &'a BrowserTokens) -> Self {
        SignInRequest { browser, ..self }
    }

    /// Ending the session cookie the browser presented, if any.
    pub fn replacing(self, previous_session: Option<&'a str>) -> Self {
        SignInRequest {
            previous_session,
            ..self
        }
    }
}

/// Checks the password and starts a new session. Guesses are throttled per account address
/// and per client address, except from a browser the account recognises, which has a counter
/// of its own: guessing elsewhere never keeps the owner out of their own browser. An account
/// with a second factor gets a half-authenticated session (the challenge comes next) unless
/// the browser's trusted-browser token is valid for it.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    state: &CoreState,
    request: SignInRequest<'_>,
    now: OffsetDateTime,
) -> Result<SignedIn, Error> {
    let SignInRequest {
        email,
        password,
        previous_session: previous_secret,
        browser,
        client,
    } = request;
    let email = validation::validate_sign_in(email, password)?;
    let recognised = browsers::recognise(&state.pool, &email, browser, now).await?;
    let counters: Vec<Counter<'_>> = match &recognised {
        Some(recognised) => vec![Counter::BrowserPassword {
            user_id: recognised.user_id,
            browser_token_hash: &recognised.token_hash,
        }],
        None => client
            .ip
            .as_deref()
            .map(|ip| Counter::ClientPasswords { ip })
            .into_iter()
            .chain([Counter::AccountPassword { email: &email }])
            .collect(),
    };
    let attempt = match throttle::begin(&state.pool, &counters, now).await? {
        Ok(attempt) => attempt,
        Err(refused) => {
            return Err(throttle::refused_error(
                &state.pool,
                refused,
                Check::SignIn,
                Subject::Address(email.clone()),
                client,
                now,
            ));
        }
    };
    // The account and its second factors as seen now, in one query.
    let found = users::find_for_sign_in(&state.pool, &email).await?;
    let mut seen = found.as_ref().map(|(_, seen)| *seen);
    let user = found.map(|(user, _)| user);
    // Unknown addresses are verified against a decoy hash: same cost, same answer.
    let matches = match state
        .hasher
        .verify(
            password.to_owned(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await
    {
        Ok(matches) => matches,
        Err(err) => {
            attempt.not_checked().await?;
            return Err(err);
        }
    };
    let (user, attempt) = match user {
        // Settled as passed by the statement that starts the session.
        Some(user) if matches => (user, attempt),
        wrong => {
            let after = attempt.failed(now).await?;
            if recognised.is_some()
                && let Some(ip) = client.ip.as_deref()
            {
                // Counted for the client address all the same, though it never refuses a
                // recognised browser's right password.
                throttle::count_failure(&state.pool, Counter::ClientPasswords { ip }, now).await?;
            }
            if let Some(user) = wrong {
                // Logged off the request path: answering only after a database write would
                // make a wrong password on a real account slower than an unknown address.
                let (pool, client) = (state.pool.clone(), client.clone());
                tokio::spawn(async move {
                    let logged = async {
                        record(&pool, user.id, SecurityEvent::SignInFailed, &client, now).await?;
                        if let Some(kind) = after.locked {
                            throttle::log_lock(&pool, user.id, kind, Check::SignIn, &client, now)
                                .await?;
                        }
                        Ok::<(), sqlx::Error>(())
                    };
                    if let Err(err) = logged.await {
                        tracing::warn!(error = %err, "could not record a failed sign-in");
                    }
                });
            }
            return Err(Error::InvalidCredentials);
        }
    };
    if let Some(previous) = previous_secret {
        session_repo::delete_by_token_hash(&state.pool, &crate::primitives::token::hash(previous))
            .await?;
    }
    let Some(mut factors) = seen.take() else {
        return Err(Error::internal("a matched account without its factors"));
    };
    let mut decision =
        two_factor::challenge_needed(&state.pool, user.id, factors.has_factor, browser, now)
            .await?;
    let mut attempt = Some(attempt);
    // The session starts only if the account's factors are still as the decision saw them; if
    // they changed meanwhile (the owner turning two-factor on), decide again.
    for _ in 0..3 {
        let needs_second_factor = matches!(decision, ChallengeDecision::Needed);
        let level = if needs_second_factor {
            Level::PasswordOnly
        } else {
            Level::Full
        };
        let recognised_browser = (!needs_second_factor).then(|| browsers::token_for(browser));
        let recognised_hash = recognised_browser
            .as_ref()
            .map(|secret| crate::primitives::token::hash(secret.expose()));
        let (signed_in_with, trusted_browser) = match &decision {
            ChallengeDecision::TrustedBrowser { id, new_secret } => (
                SignedInWith::TrustedBrowser {
                    trusted_browser: *id,
                },
                Some(new_secret.clone()),
            ),
            ChallengeDecision::NoFactor | ChallengeDecision::Needed => {
                (SignedInWith::Password {}, None)
            }
        };
        let completed = recognised_hash
            .as_deref()
            .map(|browser_token_hash| CompletedSignIn {
                browser_token_hash,
                event: SecurityEvent::SignedIn(signed_in_with),
            });
        // The first try settles the password attempt, whether or not its session starts.
        let settlement = attempt
            .as_ref()
            .map(Attempt::settlement)
            .unwrap_or_default();
        let started = sessions::start_signed_in(
            &state.pool,
            level,
            sessions::AccountAsSeen {
                user_id: user.id,
                password_hash: &user.password_hash,
                factors_version: factors.version,
            },
            completed,
            &settlement,
            client,
            now,
        )
        .await?;
        if let Some(attempt) = attempt.take() {
            attempt.settled();
        }
        if let Some(session_secret) = started {
            return Ok(SignedIn {
                user_id: user.id,
                session_secret,
                needs_second_factor,
                recognised_browser,
                trusted_browser,
            });
        }
        let fresh = users::find_for_sign_in(&state.pool, &email).await?;
        let Some((_, fresh_factors)) =
            fresh.filter(|(fresh, _)| fresh.password_hash == user.password_hash)
        else {
            // The password changed between the check and now: the old one no longer signs in.
            return Err(Error::InvalidCredentials);
        };
        factors = fresh_factors;
        // Every change of factors revokes the trusted browsers: ask for the second factor.
        decision = if factors.has_factor {
            ChallengeDecision::Needed
        } else {
            ChallengeDecision::NoFactor
        };
    }
    // The account's factors kept changing under this sign-in: let the person try again.
    Err(Error::TooManyAttempts {
        retry_after_secs: Some(1),
    })
}

#[tracing::instrument(skip_all)]
pub async fn sign_out(
    state: &CoreState,
    session: &CurrentSession,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let mut tx = state.pool.begin().await?;
    session_repo::delete(&mut *tx, session.session_id).await?;
    record(
        &mut *tx,
        session.user_id,
        SecurityEvent::SignedOut,
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The account of a signed-in session (`Unauthenticated` if it was deleted meanwhile).
#[tracing::instrument(skip_all)]
pub async fn signed_in_user(
    state: &CoreState,
    session: &CurrentSession,
) -> Result<users::UserRow, Error> {
    users::find_by_id(&state.pool, session.user_id)
        .await?
        .ok_or(Error::Unauthenticated)
}

/// What Settings → Account shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSummary {
    pub email: String,
    pub member_since: OffsetDateTime,
    /// Live sessions of the account other than the one asking.
    pub other_sessions: i64,
}

#[tracing::instrument(skip_all)]
pub async fn overview(
    state: &CoreState,
    session: &CurrentSession,
    now: OffsetDateTime,
) -> Result<AccountSummary, Error> {
    let user = signed_in_user(state, session).await?;
    let (idle, absolute) = sessions::cutoffs(&state.settings, now);
    let live = session_repo::count_live_for_user(&state.pool, user.id, idle, absolute).await?;
    Ok(AccountSummary {
        email: user.email,
        member_since: user.created_at,
        other_sessions: (live - 1).max(0),
    })
}

/// A password change as the person submitted it.
pub struct PasswordChange<'a> {
    pub current_password: &'a str,
    pub new_password: &'a str,
    pub new_password_confirm: &'a str,
    pub sign_out_other_sessions: bool,
}

/// What a password change did.
pub struct PasswordChanged {
    /// Other sessions signed out (none unless asked).
    pub other_sessions_signed_out: u64,
    /// The session's new token: the check of the current password is a fresh authentication.
    pub session_secret: String,
}

impl std::fmt::Debug for PasswordChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChanged")
            .field("other_sessions_signed_out", &self.other_sessions_signed_out)
            .finish_non_exhaustive()
    }
}

/// Changes the password after checking the current one. While the account has a second
/// factor, the session must also have passed it recently: the password alone is what a thief
/// of the session would know.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    state: &CoreState,
    session: &CurrentSession,
    change: PasswordChange<'_>,
    browser: &BrowserTokens,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<PasswordChanged, Error> {
    let PasswordChange {
        current_password,
        new_password,
        new_password_confirm,
        sign_out_other_sessions,
    } = change;
    let user = signed_in_user(state, session).await?;
    validation::validate_password_change(
        current_password,
        new_password,
        new_password_confirm,
        &user.email,
        &state.settings.password_policy,
        state.common_passwords.as_ref(),
    )?;
    if factors::has_active(&state.pool, user.id).await? {
        two_factor::require_recent_authentication(state, session, now).await?;
    }
    let attempt = throttle::begin_in_session(
        &state.pool,
        session,
        None,
        Check::ChangePassword,
        client,
        now,
    )
    .await?;
    let current_ok = match state
        .hasher
        .verify(
            current_password.to_owned(),
            Some(user.password_hash.clone()),
        )
        .await
    {
        Ok(matches) => matches,
        Err(err) => {
            attempt.not_checked().await?;
            return Err(err);
        }
    };
    if !current_ok {
        attempt.failed(now).await?;
        // Someone holding this session may be guessing the password: leave a trace, and count
        // it for the address as a wrong sign-in would be.
        record(
            &state.pool,
            user.id,
            SecurityEvent::PasswordChangeRefused,
            client,
            now,
        )
        .await?;
        throttle::feed_account(
            &state.pool,
            Counter::AccountPassword { email: &user.email },
            user.id,
            Check::ChangePassword,
            client,
            now,
        )
        .await?;
        return Err(Error::WrongCurrentPassword);
    }
    attempt.passed().await?;
    let new_hash = state.hasher.hash(new_password.to_owned()).await?;
    let mut tx = state.pool.begin().await?;
    // Compare-and-set on the hash just verified: of two concurrent changes, one wins.
    if !users::replace_password_hash(&mut *tx, user.id, &user.password_hash, &new_hash, now).await?
    {
        return Err(Error::PasswordChangedElsewhere);
    }
    // Whoever learned the old password must not keep skipping the second factor.
    let untrusted = trusted_browsers::delete_for_user(&mut *tx, user.id).await?;
    // Nor keep a counter of their own for guessing the new one from a browser they signed in
    // with: only this browser stays recognised.
    browsers::forget_all_but(&mut tx, user.id, browser, now).await?;
    let ended = if sign_out_other_sessions {
        session_repo::delete_others(&mut *tx, user.id, session.session_id).await?
    } else {
        0
    };
    record(
        &mut *tx,
        user.id,
        SecurityEvent::PasswordChanged(SignedOutElsewhere {
            other_sessions_signed_out: ended,
            trusted_browsers_revoked: untrusted,
        }),
        client,
        now,
    )
    .await?;
    let checked = sessions::Checked {
        password: true,
        second_factor: false,
    };
    let session_secret = sessions::rotate_after(&mut *tx, session, checked, now).await?;
    tx.commit().await?;
    Ok(PasswordChanged {
        other_sessions_signed_out: ended,
        session_secret,
    })
}

/// Lifts the locks on the account with `email` (the administrator's way out, NIST SP 800-63B
/// §5.2.2): failed password sign-ins at its address and failed second-factor attempts. False
/// when there is no such account (its address's failed sign-ins are cleared all the same).
#[tracing::instrument(skip_all)]
pub async fn unlock(pool: &sqlx::PgPool, email: &str) -> Result<bool, Error> {
    throttle::clear(pool, Counter::AccountPassword { email }).await?;
    let Some(user) = users::find_by_email(pool, email).await? else {
        return Ok(false);
    };
    throttle::clear(pool, Counter::SecondFactor { user_id: user.id }).await?;
    Ok(true)
}
