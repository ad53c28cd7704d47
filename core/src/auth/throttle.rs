//! Throttling of every guess at a secret (NIST SP 800-63B §5.2.2, OWASP authentication cheat
//! sheet), in PostgreSQL so that every server process behind a load balancer sees the same
//! counts. Each place that checks a password or a code names the counters its attempt counts
//! toward; an attempt goes ahead only if every one of them lets it.
//!
//! Two shapes of counter:
//! - **Consecutive failures** ([`Counter::AccountPassword`], [`Counter::BrowserPassword`],
//!   [`Counter::SecondFactor`]): the first few answered at once, then waits doubling up to 15
//!   minutes, locked at 100 ([`attempts`]); a success clears them. Attempts being checked
//!   count as in flight: failures plus attempts in flight never pass the free attempts side by
//!   side nor the lock, and past the free attempts only one attempt at a time goes ahead, after
//!   its wait. A burst of parallel guesses at a fresh address gets at most five checked.
//! - **Failures in a window** ([`Counter::ClientPasswords`], [`Counter::StepUp`],
//!   [`Counter::SignUps`]): at most so many per window, counted before the check.
//!
//! An attempt dropped half-way (the client went away, a timeout) is taken back when its
//! [`Attempt`] is dropped, and stale in-flight counts expire.

use crate::auth::attempts;
use crate::db::attempt_counters::{self as repo, ConsecutiveRule};
use crate::db::events;
use crate::db::users;
use crate::error::Error;
use crate::ids::{SessionId, UserId};
use crate::security_log::SecurityEvent;
use crate::sessions::ClientInfo;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

/// Wrong passwords one client address may send in a [`CLIENT_WINDOW`], whatever the accounts.
pub const CLIENT_MAX_FAILURES: i32 = 50;
pub const CLIENT_WINDOW: Duration = Duration::minutes(15);
/// Wrong answers per account at "Confirm it's you" and at the current-password field of
/// "Change password", together, per [`STEP_UP_WINDOW`]: whoever holds a stolen session must not
/// be able to guess there at hashing speed.
pub const STEP_UP_MAX_FAILURES: i32 = 10;
pub const STEP_UP_WINDOW: Duration = Duration::minutes(15);
pub const SIGN_UP_WINDOW: Duration = Duration::hours(1);
/// An attempt in flight for longer than this was abandoned (requests time out after 30 s).
pub const IN_FLIGHT_EXPIRY: Duration = Duration::minutes(1);
/// Counters of consecutive failures holding only a few are forgotten after this long quiet.
pub const QUIET_EXPIRY: Duration = Duration::days(1);
/// Counters past the free attempts but short of the lock are forgotten after this long quiet
/// (their waits were at most 15 minutes long); locked ones stay until an administrator unlocks.
pub const WAITING_EXPIRY: Duration = Duration::days(30);

/// What an attempt counts toward.
#[derive(Clone, Copy, Debug)]
pub enum Counter<'a> {
    /// Wrong passwords in a row at an account address (whether or not it has an account, so the
    /// answers tell nothing), from browsers the account does not recognise.
    AccountPassword { email: &'a str },
    /// Wrong passwords in a row from one browser that has signed in to the account before: the
    /// owner's own browser is not held by guesses made elsewhere.
    BrowserPassword {
        user_id: UserId,
        browser_token_hash: &'a [u8],
    },
    /// Wrong second-factor codes in a row at the sign-in challenge, from browsers the account
    /// does not recognise (and fed by wrong codes given inside signed-in sessions).
    SecondFactor { user_id: UserId },
    /// Wrong second-factor codes in a row at the sign-in challenge from one recognised browser.
    BrowserSecondFactor {
        user_id: UserId,
        browser_token_hash: &'a [u8],
    },
    /// Wrong answers in a row inside one signed-in session ("Confirm it's you", the current
    /// password): they hold that session, never the owner's others.
    SessionAnswers { session_id: SessionId },
    /// Wrong passwords from one client address (IPv6 by /64), whatever the accounts.
    ClientPasswords { ip: &'a str },
    /// Wrong answers inside one signed-in session, per window.
    StepUp { session_id: SessionId },
    /// Sign-ups from one client address; every one counts.
    SignUps { ip: &'a str, per_hour: i32 },
}

/// How a counter counts.
enum Shape {
    Consecutive,
    Window {
        max: i32,
        length: Duration,
        /// A success is not a failure: taken back (sign-ups count whatever the outcome).
        success_taken_back: bool,
    },
}

impl Counter<'_> {
    /// The kind stored with the count, and the first part of its key.
    pub fn kind(&self) -> &'static str {
        match self {
            Counter::AccountPassword { .. } => "account",
            Counter::BrowserPassword { .. } => "browser",
            Counter::SecondFactor { .. } => "second_factor",
            Counter::BrowserSecondFactor { .. } => "browser_second_factor",
            Counter::SessionAnswers { .. } => "session",
            Counter::ClientPasswords { .. } => "client",
            Counter::StepUp { .. } => "step_up",
            Counter::SignUps { .. } => "sign_up",
        }
    }

    fn shape(&self) -> Shape {
        match self {
            Counter::AccountPassword { .. }
            | Counter::BrowserPassword { .. }
            | Counter::SecondFactor { .. }
            | Counter::BrowserSecondFactor { .. }
            | Counter::SessionAnswers { .. } => Shape::Consecutive,
            Counter::ClientPasswords { .. } => Shape::Window {
                max: CLIENT_MAX_FAILURES,
                length: CLIENT_WINDOW,
                success_taken_back: true,
            },
            Counter::StepUp { .. } => Shape::Window {
                max: STEP_UP_MAX_FAILURES,
                length: STEP_UP_WINDOW,
                success_taken_back: true,
            },
            Counter::SignUps { per_hour, .. } => Shape::Window {
                max: *per_hour,
                length: SIGN_UP_WINDOW,
                success_taken_back: false,
            },
        }
    }

    /// SHA-256 of the kind, a zero byte and the subject: an address is counted exactly like
    /// another whether or not it has an account, and none is stored in clear.
    pub fn key(&self) -> Vec<u8> {
        let subject = match self {
            Counter::AccountPassword { email } => users::email_lookup(email),
            Counter::BrowserPassword {
                user_id,
                browser_token_hash,
            }
            | Counter::BrowserSecondFactor {
                user_id,
                browser_token_hash,
            } => format!("{user_id}:{}", hex(browser_token_hash)),
            Counter::SecondFactor { user_id } => user_id.to_string(),
            Counter::SessionAnswers { session_id } | Counter::StepUp { session_id } => {
                session_id.to_string()
            }
            Counter::ClientPasswords { ip } | Counter::SignUps { ip, .. } => client_network(ip),
        };
        let mut hasher = Sha256::new();
        hasher.update(self.kind().as_bytes());
        hasher.update([0]);
        hasher.update(subject.as_bytes());
        hasher.finalize().to_vec()
    }
}

/// The counters an answer given inside signed-in session `session_id` counts toward: ten
/// wrong ones per fifteen minutes, and the growing waits of consecutive failures, for that
/// session alone. (Its wrong answers also feed the account's own counter, see
/// [`count_failure`].)
pub fn in_session(session_id: SessionId) -> [Counter<'static>; 2] {
    [
        Counter::StepUp { session_id },
        Counter::SessionAnswers { session_id },
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// IPv4 addresses as they are (also when written IPv4-mapped, as a dual-stack listener sees
/// them); IPv6 addresses by their /64 network (what one subscriber usually gets).
fn client_network(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Ok(std::net::IpAddr::V6(v6)) => {
            let segments = v6.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        _ => ip.to_owned(),
    }
}

/// Why an attempt may not go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Try again after this many seconds (rounded up).
    Wait { retry_after_secs: u32 },
    /// 100 consecutive failures: locked until an administrator unlocks it.
    Locked,
}

/// A refused attempt: which counter refused it, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub kind: &'static str,
    pub refusal: Refusal,
    /// The counter's key, to claim the one log entry per failure count.
    key: Vec<u8>,
    /// A refusal at this failure count is in the log already (as last read).
    already_logged: bool,
}

impl Refused {
    /// Whether this refusal is the first at the counter's present failure count, so that a
    /// refused party who keeps retrying leaves one log entry, not one per request.
    #[tracing::instrument(skip_all)]
    pub async fn first_of_its_kind(&self, pool: &PgPool) -> Result<bool, sqlx::Error> {
        repo::claim_refusal_log(pool, &self.key).await
    }
}

/// One counter an attempt was counted toward.
struct Counted {
    key: Vec<u8>,
    kind: &'static str,
    consecutive: bool,
    success_taken_back: bool,
}

/// An attempt let through, counted until its outcome is reported: [`Attempt::passed`],
/// [`Attempt::failed`] or [`Attempt::not_checked`]. Dropped without one, it is taken back.
#[must_use = "report the outcome: passed, failed or not_checked"]
pub struct Attempt {
    pool: PgPool,
    counted: Vec<Counted>,
    reported: bool,
}

/// Counts an attempt toward every one of `counters`, or says why it may not go ahead
/// (`Ok(Err(_))`; what was already counted is taken back).
///
/// The usual case, every counter letting the attempt through, takes one statement. When one
/// refuses, what that statement counted is taken back and the counters are asked again one by
/// one, in order, to learn which refuses and why.
#[tracing::instrument(skip_all)]
pub async fn begin(
    pool: &PgPool,
    counters: &[Counter<'_>],
    now: OffsetDateTime,
) -> Result<Result<Attempt, Refused>, sqlx::Error> {
    let counted: Vec<Counted> = counters
        .iter()
        .map(|counter| {
            let (consecutive, success_taken_back) = match counter.shape() {
                Shape::Consecutive => (true, true),
                Shape::Window {
                    success_taken_back, ..
                } => (false, success_taken_back),
            };
            Counted {
                key: counter.key(),
                kind: counter.kind(),
                consecutive,
                success_taken_back,
            }
        })
        .collect();
    let mut starts = repo::AttemptStarts::default();
    for (counter, counted) in counters.iter().zip(&counted) {
        let (window_start, max) = match counter.shape() {
            Shape::Consecutive => (None, None),
            Shape::Window { max, length, .. } => (Some(now - length), Some(max)),
        };
        starts.keys.push(counted.key.clone());
        starts.kinds.push(counted.kind.to_owned());
        starts.window_starts.push(window_start);
        starts.maxima.push(max);
    }
    let started = repo::start_all(pool, &starts, consecutive_rule(now)).await?;
    let (started, refused): (Vec<Counted>, Vec<Counted>) = counted
        .into_iter()
        .partition(|counted| started.contains(&counted.key));
    if refused.is_empty() {
        return Ok(Ok(Attempt {
            pool: pool.clone(),
            counted: started,
            reported: false,
        }));
    }
    take_back(pool, &started).await?;
    begin_one_by_one(pool, counters, now).await
}

async fn begin_one_by_one(
    pool: &PgPool,
    counters: &[Counter<'_>],
    now: OffsetDateTime,
) -> Result<Result<Attempt, Refused>, sqlx::Error> {
    let mut attempt = Attempt {
        pool: pool.clone(),
        counted: Vec::with_capacity(counters.len()),
        reported: false,
    };
    for counter in counters {
        let key = counter.key();
        let (checked, consecutive, success_taken_back) = match counter.shape() {
            Shape::Consecutive => (
                start_consecutive(pool, &key, counter.kind(), now).await?,
                true,
                true,
            ),
            Shape::Window {
                max,
                length,
                success_taken_back,
            } => (
                start_in_window(pool, &key, counter.kind(), max, length, now).await?,
                false,
                success_taken_back,
            ),
        };
        if let Some((refusal, already_logged)) = checked {
            attempt.reported = true;
            take_back(pool, &attempt.counted).await?;
            return Ok(Err(Refused {
                kind: counter.kind(),
                refusal,
                key,
                already_logged,
            }));
        }
        attempt.counted.push(Counted {
            key,
            kind: counter.kind(),
            consecutive,
            success_taken_back,
        });
    }
    Ok(Ok(attempt))
}

fn consecutive_rule(now: OffsetDateTime) -> ConsecutiveRule {
    ConsecutiveRule {
        free: attempts::FREE_ATTEMPTS,
        lock: attempts::LOCK_AFTER,
        max_delay_secs: attempts::MAX_DELAY_SECS,
        now,
        stale_before: now - IN_FLIGHT_EXPIRY,
    }
}

fn wait(until: OffsetDateTime, now: OffsetDateTime) -> Refusal {
    Refusal::Wait {
        retry_after_secs: attempts::retry_after_secs(until - now),
    }
}

/// Whether a refusal at the counts last read is in the log already.
fn logged(counts: Option<repo::Counts>) -> bool {
    counts.is_some_and(|c| c.refusal_logged_at == Some(c.failures))
}

async fn start_consecutive(
    pool: &PgPool,
    key: &[u8],
    kind: &str,
    now: OffsetDateTime,
) -> Result<Option<(Refusal, bool)>, sqlx::Error> {
    for _ in 0..5 {
        if repo::start_consecutive(pool, key, kind, consecutive_rule(now)).await? {
            return Ok(None);
        }
        // Refused: the counts say why.
        let seen = repo::find(pool, key).await?;
        let failures = seen.map_or(0, |s| s.failures);
        let Some(delay) = attempts::delay_after(failures) else {
            return Ok(Some((Refusal::Locked, logged(seen))));
        };
        if let Some(last) = seen.and_then(|s| s.last_failure_at)
            && failures > 0
            && last + delay > now
        {
            return Ok(Some((wait(last + delay, now), logged(seen))));
        }
        let live_in_flight = seen
            .filter(|s| {
                s.in_flight_since
                    .is_some_and(|since| since > now - IN_FLIGHT_EXPIRY)
            })
            .map_or(0, |s| s.in_flight);
        if live_in_flight > 0 {
            // Other attempts are being checked: the free ones are taken (or the lock is near).
            let busy = Refusal::Wait {
                retry_after_secs: 1,
            };
            return Ok(Some((busy, logged(seen))));
        }
        // The counts changed between the two statements: try again.
    }
    let busy = Refusal::Wait {
        retry_after_secs: 1,
    };
    Ok(Some((busy, false)))
}

async fn start_in_window(
    pool: &PgPool,
    key: &[u8],
    kind: &str,
    max: i32,
    length: Duration,
    now: OffsetDateTime,
) -> Result<Option<(Refusal, bool)>, sqlx::Error> {
    if repo::start_in_window(pool, key, kind, now - length, max, now).await? {
        return Ok(None);
    }
    let seen = repo::find(pool, key).await?;
    let window_ends = seen
        .and_then(|seen| seen.first_failure_at)
        .map_or(now, |first| first + length);
    Ok(Some((wait(window_ends, now), logged(seen))))
}

/// What a failure did to the counters it was counted toward.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AfterFailure {
    /// The kind of the counter this failure locked (its 100th in a row), if any.
    pub locked: Option<&'static str>,
}

impl Attempt {
    /// Right: consecutive failures are over, and a window's count is taken back (sign-ups
    /// excepted).
    #[tracing::instrument(skip_all)]
    pub async fn passed(mut self) -> Result<(), sqlx::Error> {
        self.reported = true;
        let settlement = self.settlement();
        if settlement.consecutive.is_empty() && settlement.windows.is_empty() {
            return Ok(());
        }
        repo::settle_passed(&self.pool, &settlement.consecutive, &settlement.windows).await
    }

    /// What [`Attempt::passed`] would settle, for a statement that settles it along with its
    /// own work (the start of a signed-in session); report it with [`Attempt::settled`] once
    /// that statement has run.
    pub fn settlement(&self) -> repo::Settlement {
        let keys = |keep: fn(&Counted) -> bool| {
            self.counted
                .iter()
                .filter(|c| keep(c))
                .map(|c| c.key.clone())
                .collect()
        };
        repo::Settlement {
            consecutive: keys(|c| c.consecutive),
            windows: keys(|c| !c.consecutive && c.success_taken_back),
        }
    }

    /// The attempt's [`Attempt::settlement`] was carried out by another statement.
    pub fn settled(mut self) {
        self.reported = true;
    }

    /// Wrong: one more failure in a row (windows already counted it).
    #[tracing::instrument(skip_all)]
    pub async fn failed(mut self, now: OffsetDateTime) -> Result<AfterFailure, sqlx::Error> {
        self.reported = true;
        let mut after = AfterFailure::default();
        let mut result = Ok(());
        for counted in self.counted.iter().filter(|c| c.consecutive) {
            match repo::consecutive_failed(&self.pool, &counted.key, now).await {
                Ok(failures) if failures == attempts::LOCK_AFTER => {
                    after.locked = Some(counted.kind)
                }
                Ok(_) => {}
                Err(err) => result = result.and(Err(err)),
            }
        }
        result.map(|()| after)
    }

    /// Not checked (the server was busy, the challenge was gone): not a guess.
    #[tracing::instrument(skip_all)]
    pub async fn not_checked(mut self) -> Result<(), sqlx::Error> {
        self.reported = true;
        take_back(&self.pool, &self.counted).await
    }
}

async fn take_back(pool: &PgPool, counted: &[Counted]) -> Result<(), sqlx::Error> {
    let mut result = Ok(());
    for counted in counted {
        let done = if counted.consecutive {
            repo::consecutive_unchecked(pool, &counted.key).await
        } else {
            repo::take_back_in_window(pool, &counted.key).await
        };
        result = result.and(done);
    }
    result
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.reported || self.counted.is_empty() {
            return;
        }
        // Dropped half-way (an early error, the client went away): the attempt checked nothing.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pool = self.pool.clone();
        let counted = std::mem::take(&mut self.counted);
        runtime.spawn(async move {
            if let Err(err) = take_back(&pool, &counted).await {
                tracing::warn!(error = %err, "could not take back an abandoned attempt");
            }
        });
    }
}

/// Counts a failure toward `counter` without refusing anything: a wrong password from a
/// browser whose right passwords the client window must never refuse, or a wrong answer inside
/// a session, which feeds the account's count but is held by the session's own. Returns what
/// the failure did (a lock it reached).
#[tracing::instrument(skip_all)]
pub async fn count_failure(
    pool: &PgPool,
    counter: Counter<'_>,
    now: OffsetDateTime,
) -> Result<AfterFailure, sqlx::Error> {
    match counter.shape() {
        Shape::Window { length, .. } => {
            repo::count_in_window(pool, &counter.key(), counter.kind(), now - length, now).await?;
            Ok(AfterFailure::default())
        }
        Shape::Consecutive => {
            let failures =
                repo::count_consecutive_failure(pool, &counter.key(), counter.kind(), now).await?;
            Ok(AfterFailure {
                locked: (failures == attempts::LOCK_AFTER).then_some(counter.kind()),
            })
        }
    }
}

/// How many consecutive failures `counter` holds.
#[tracing::instrument(skip_all)]
pub async fn failures(pool: &PgPool, counter: Counter<'_>) -> Result<i32, sqlx::Error> {
    Ok(repo::find(pool, &counter.key())
        .await?
        .map_or(0, |counts| counts.failures))
}

/// Clears `counter` (an administrator lifting a lock).
#[tracing::instrument(skip_all)]
pub async fn clear(pool: &PgPool, counter: Counter<'_>) -> Result<bool, sqlx::Error> {
    repo::clear(pool, &counter.key()).await
}

pub use crate::security_log::Check;

/// Whose account a refusal concerns, if any: a known user, or the address someone tried (an
/// address without an account is logged nowhere).
#[derive(Clone, Debug)]
pub enum Subject {
    User(UserId),
    Address(String),
    Nobody,
}

/// The error a refused attempt gets, after logging the refusal to the account's security log
/// once per failure count. The log is written off the request path: an address with an account
/// must not be answered more slowly than one without.
pub fn refused_error(
    pool: &PgPool,
    refused: Refused,
    check: Check,
    subject: Subject,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Error {
    let error = match refused.refusal {
        Refusal::Wait { retry_after_secs } => Error::TooManyAttempts {
            retry_after_secs: Some(retry_after_secs),
        },
        // The second factor's lock is told apart from the password's.
        Refusal::Locked if refused.kind.ends_with("second_factor") => Error::TooManyAttempts {
            retry_after_secs: None,
        },
        Refusal::Locked => Error::AccountLocked,
    };
    // Logged once per failure count, by a bounded number of tasks at a time: refused requests
    // arriving in a flood must not become a flood of database work. A refusal not logged now
    // (all slots busy) is logged by the next one.
    if refused.already_logged || matches!(subject, Subject::Nobody) {
        return error;
    }
    let Ok(permit) = REFUSAL_LOGS.try_acquire() else {
        return error;
    };
    let (pool, client) = (pool.clone(), client.clone());
    tokio::spawn(async move {
        let _permit = permit;
        if let Err(err) = log_refusal(&pool, &refused, check, subject, &client, now).await {
            tracing::warn!(error = %err, "could not log a refused attempt");
        }
    });
    error
}

/// Refusal log entries being written at once, at most.
static REFUSAL_LOGS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn log_refusal(
    pool: &PgPool,
    refused: &Refused,
    check: Check,
    subject: Subject,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let user_id = match subject {
        Subject::User(user_id) => user_id,
        Subject::Address(email) => match users::find_by_email(pool, &email).await? {
            Some(user) => user.id,
            None => return Ok(()),
        },
        Subject::Nobody => return Ok(()),
    };
    if !refused.first_of_its_kind(pool).await? {
        return Ok(());
    }
    let event = match refused.refusal {
        Refusal::Wait { retry_after_secs } => SecurityEvent::AttemptsThrottled {
            check,
            counter: refused.kind.to_owned(),
            retry_after_secs,
        },
        Refusal::Locked => SecurityEvent::AttemptsLocked {
            check,
            counter: refused.kind.to_owned(),
        },
    };
    events::record_for(pool, user_id, event, client, now).await
}

/// Counts an answer given inside signed-in session `session` ("Confirm it's you", the current
/// password) toward that session's own limits ([`in_session`]) and, when given, toward
/// `account_guard` too (which may refuse it), or says why it may not go ahead. A session with a
/// hundred wrong answers in a row is ended.
#[tracing::instrument(skip_all)]
pub async fn begin_in_session(
    pool: &PgPool,
    session: &crate::sessions::CurrentSession,
    account_guard: Option<Counter<'_>>,
    check: Check,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<Attempt, Error> {
    let mut counters = in_session(session.session_id).to_vec();
    counters.extend(account_guard);
    match begin(pool, &counters, now).await? {
        Ok(attempt) => Ok(attempt),
        Err(refused) if refused.refusal == Refusal::Locked && refused.kind == "session" => {
            crate::db::sessions::delete(pool, session.session_id).await?;
            Err(Error::Unauthenticated)
        }
        Err(refused) => Err(refused_error(
            pool,
            refused,
            check,
            Subject::User(session.user_id),
            client,
            now,
        )),
    }
}

/// Feeds a wrong answer given inside a session to the account's own `counter` (the password's,
/// or the second factor's), and logs the lock it may reach. The session is held by its own
/// counters; the account's hold unknown browsers at sign-in.
#[tracing::instrument(skip_all)]
pub async fn feed_account(
    pool: &PgPool,
    counter: Counter<'_>,
    user_id: UserId,
    check: Check,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let after = count_failure(pool, counter, now).await?;
    if let Some(kind) = after.locked {
        log_lock(pool, user_id, kind, check, client, now).await?;
    }
    Ok(())
}

/// Logs that a failure has just locked `counter_kind` (its 100th in a row).
#[tracing::instrument(skip_all)]
pub async fn log_lock(
    db: impl sqlx::PgExecutor<'_>,
    user_id: UserId,
    counter_kind: &'static str,
    check: Check,
    client: &ClientInfo,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    events::record_for(
        db,
        user_id,
        SecurityEvent::AttemptsLocked {
            check,
            counter: counter_kind.to_owned(),
        },
        client,
        now,
    )
    .await
}

/// Forgets counts that no longer matter; run now and then.
#[tracing::instrument(skip_all)]
pub async fn forget_stale(pool: &PgPool, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    repo::delete_stale(
        pool,
        &repo::Stale {
            windows: vec![
                ("client", now - CLIENT_WINDOW),
                ("step_up", now - STEP_UP_WINDOW),
                ("sign_up", now - SIGN_UP_WINDOW),
            ],
            consecutive_kinds: vec![
                "account",
                "browser",
                "second_factor",
                "browser_second_factor",
                "session",
            ],
            below: attempts::FREE_ATTEMPTS,
            quiet_since: now - QUIET_EXPIRY,
            in_flight_before: now - IN_FLIGHT_EXPIRY,
            waiting_below: attempts::LOCK_AFTER,
            waiting_quiet_since: now - WAITING_EXPIRY,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(email: &str) -> Vec<u8> {
        Counter::AccountPassword { email }.key()
    }

    fn client(ip: &str) -> Vec<u8> {
        Counter::ClientPasswords { ip }.key()
    }

    #[test]
    fn keys_ignore_case_and_keep_kinds_apart() {
        assert_eq!(account("Ann@Example.com "), account("ann@example.com"));
        assert_ne!(account("127.0.0.1"), client("127.0.0.1"));
        assert_eq!(account("ann@example.com").len(), 32);
        let user_id = UserId::from_uuid(uuid::Uuid::nil());
        assert_ne!(
            Counter::SecondFactor { user_id }.key(),
            Counter::SessionAnswers {
                session_id: SessionId::from_uuid(uuid::Uuid::nil())
            }
            .key()
        );
    }

    #[test]
    fn keys_are_unchanged_for_counts_kept_across_the_upgrade() {
        // 'account' and 'client' rows were counted before the table was renamed; the second
        // factor's rows are written by the migration with SQL's sha256: same derivation.
        let mut hasher = Sha256::new();
        hasher.update(b"account\0ann@example.com");
        assert_eq!(account("ann@example.com"), hasher.finalize().to_vec());
        let user_id = UserId::from_uuid(uuid::Uuid::nil());
        let mut hasher = Sha256::new();
        hasher.update(format!("second_factor\0{user_id}").as_bytes());
        assert_eq!(
            Counter::SecondFactor { user_id }.key(),
            hasher.finalize().to_vec()
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        // IPv4 seen through a dual-stack listener is still counted per address.
        assert_eq!(client("::ffff:192.0.2.1"), client("192.0.2.1"));
        assert_ne!(client("::ffff:192.0.2.1"), client("::ffff:192.0.2.2"));
        assert_eq!(client("2001:db8:1:2::1"), client("2001:db8:1:2:ffff:0:0:7"));
        assert_ne!(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
        assert_ne!(client("192.0.2.1"), client("192.0.2.2"));
    }
}
