//! Throttling of password guesses at sign-in (NIST SP 800-63B §5.2.2, OWASP authentication
//! cheat sheet), in PostgreSQL so that every server process behind a load balancer sees the
//! same counts.
//!
//! - Per account address: consecutive failures, answered without delay for the first few, then
//!   with delays doubling up to 15 minutes, and locked at 100 (the same schedule as the second
//!   factor, [`attempts::delay_after`]); a correct password clears them. Attempts being
//!   checked are counted as in flight: failures plus attempts in flight never pass the lock,
//!   and once the free attempts are used up only one attempt at a time goes ahead, after its
//!   wait, so parallel guesses cannot skip the waits. Parallel sign-ins of an account without
//!   failures (one person's scripts, a load test) are not held up.
//! - Per client IP address (IPv6 by /64, what one subscriber usually gets): at most
//!   [`CLIENT_MAX_FAILURES`] wrong passwords in a [`CLIENT_WINDOW`], whatever the accounts,
//!   against one address trying many accounts. Counted before the check, taken back when the
//!   password was right.
//!
//! Addresses without an account are counted exactly like addresses with one: the answers do
//! not tell which accounts exist. An attempt dropped half-way (the client went away, a
//! timeout) is taken back when its [`Attempt`] is dropped, and stale in-flight counts expire.

use crate::error::AppError;
use crate::server::attempts;
use crate::server::db::sign_in_failures::{self as repo, AccountAttemptRule};
use crate::server::db::users;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

/// Wrong passwords one client address may send in a [`CLIENT_WINDOW`].
pub const CLIENT_MAX_FAILURES: i32 = 50;
pub const CLIENT_WINDOW: time::Duration = time::Duration::minutes(15);
/// An attempt in flight for longer than this was abandoned (requests time out after 30 s).
pub const IN_FLIGHT_EXPIRY: time::Duration = time::Duration::minutes(1);
/// Account addresses with only a few failures are forgotten after this long without any.
pub const QUIET_ADDRESS_EXPIRY: time::Duration = time::Duration::days(1);

/// A sign-in attempt let through, counted until its outcome is reported: [`Attempt::passed`],
/// [`Attempt::failed`] or [`Attempt::not_checked`]. Dropped without one, it is taken back.
#[must_use = "report the outcome: passed, failed or not_checked"]
pub struct Attempt {
    pool: PgPool,
    /// `None` until the account's attempt is counted.
    account_key: Option<Vec<u8>>,
    client_key: Option<Vec<u8>>,
    reported: bool,
}

fn account_key(email: &str) -> Vec<u8> {
    key("account", &users::email_lookup(email))
}

/// IPv4 addresses as they are; IPv6 addresses by their /64 network.
fn client_key(ip: &str) -> Vec<u8> {
    let network = match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let segments = v6.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        _ => ip.to_owned(),
    };
    key("client", &network)
}

fn key(kind: &str, value: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    hasher.update([0]);
    hasher.update(value.as_bytes());
    hasher.finalize().to_vec()
}

fn wait(until: OffsetDateTime, now: OffsetDateTime) -> AppError {
    AppError::TooManyAttempts {
        retry_after_secs: Some(attempts::retry_after_secs(until - now)),
    }
}

/// Lets an attempt on `email` from `ip` go ahead, or says how long to wait
/// (`TooManyAttempts`) or that the account is locked (`AccountLocked`).
pub async fn begin(
    pool: &PgPool,
    email: &str,
    ip: Option<&str>,
    now: OffsetDateTime,
) -> Result<Attempt, AppError> {
    let client_key = ip.map(client_key);
    if let Some(key) = &client_key
        && !repo::start_client_attempt(pool, key, now - CLIENT_WINDOW, CLIENT_MAX_FAILURES, now)
            .await?
    {
        let window_ends = repo::find(pool, key)
            .await?
            .and_then(|seen| seen.first_failure_at)
            .map_or(now, |first| first + CLIENT_WINDOW);
        return Err(wait(window_ends, now));
    }
    // From here on the attempt is counted for the client: taken back on drop unless reported.
    let mut attempt = Attempt {
        pool: pool.clone(),
        account_key: None,
        client_key,
        reported: false,
    };
    let account_key = account_key(email);
    for _ in 0..20 {
        let seen = repo::find(pool, &account_key).await?;
        let failures = seen.map_or(0, |s| s.failures);
        let delay = attempts::delay_after(failures).ok_or(AppError::AccountLocked)?;
        if let Some(last) = seen.and_then(|s| s.last_failure_at)
            && failures > 0
            && last + delay > now
        {
            return Err(wait(last + delay, now));
        }
        let rule = AccountAttemptRule {
            observed_failures: failures,
            one_at_a_time: failures >= attempts::FREE_ATTEMPTS,
            cap: attempts::LOCK_AFTER,
            now,
            stale_before: now - IN_FLIGHT_EXPIRY,
        };
        if repo::start_account_attempt(pool, &account_key, rule).await? {
            attempt.account_key = Some(account_key);
            return Ok(attempt);
        }
        let again = repo::find(pool, &account_key).await?;
        if again.map_or(0, |s| s.failures) == failures {
            // Another attempt at this address is being checked (or the lock is near).
            return Err(AppError::TooManyAttempts {
                retry_after_secs: Some(1),
            });
        }
    }
    Err(AppError::TooManyAttempts {
        retry_after_secs: Some(1),
    })
}

impl Attempt {
    /// The password was right: the account's consecutive failures are over, and the attempt
    /// does not count for the client address.
    pub async fn passed(mut self) -> Result<(), AppError> {
        if let Some(key) = &self.account_key {
            repo::account_attempt_passed(&self.pool, key).await?;
        }
        if let Some(key) = &self.client_key {
            repo::take_back_client_attempt(&self.pool, key).await?;
        }
        self.reported = true;
        Ok(())
    }

    /// The password was wrong: one more failure for the account (and it stays counted for the
    /// client address).
    pub async fn failed(mut self, now: OffsetDateTime) -> Result<(), AppError> {
        if let Some(key) = &self.account_key {
            repo::account_attempt_failed(&self.pool, key, now).await?;
        }
        self.reported = true;
        Ok(())
    }

    /// The password could not be checked (the server was busy): not a guess.
    pub async fn not_checked(mut self) -> Result<(), AppError> {
        take_back(
            &self.pool,
            self.account_key.as_deref(),
            self.client_key.as_deref(),
        )
        .await?;
        self.reported = true;
        Ok(())
    }
}

async fn take_back(
    pool: &PgPool,
    account_key: Option<&[u8]>,
    client_key: Option<&[u8]>,
) -> Result<(), sqlx::Error> {
    if let Some(key) = account_key {
        repo::account_attempt_unchecked(pool, key).await?;
    }
    if let Some(key) = client_key {
        repo::take_back_client_attempt(pool, key).await?;
    }
    Ok(())
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.reported {
            return;
        }
        // Dropped half-way (an early error, the client went away): the attempt checked nothing.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pool = self.pool.clone();
        let account_key = self.account_key.take();
        let client_key = self.client_key.take();
        runtime.spawn(async move {
            if let Err(err) = take_back(&pool, account_key.as_deref(), client_key.as_deref()).await
            {
                tracing::warn!(error = %err, "could not take back an abandoned sign-in attempt");
            }
        });
    }
}

/// Clears the failed sign-ins counted against `email` (an administrator lifting the lock).
pub async fn clear_account(pool: &PgPool, email: &str) -> Result<bool, AppError> {
    Ok(repo::clear(pool, &account_key(email)).await?)
}

/// Forgets counts that no longer matter; run now and then.
pub async fn forget_stale(pool: &PgPool, now: OffsetDateTime) -> Result<u64, AppError> {
    Ok(repo::delete_stale(
        pool,
        now - CLIENT_WINDOW,
        attempts::FREE_ATTEMPTS,
        now - QUIET_ADDRESS_EXPIRY,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_keep_kinds_apart() {
        assert_eq!(
            account_key("Ann@Example.com "),
            account_key("ann@example.com")
        );
        assert_ne!(account_key("127.0.0.1"), client_key("127.0.0.1"));
        assert_eq!(account_key("ann@example.com").len(), 32);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        assert_eq!(
            client_key("2001:db8:1:2::1"),
            client_key("2001:db8:1:2:ffff:0:0:7")
        );
        assert_ne!(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
        assert_ne!(client_key("192.0.2.1"), client_key("192.0.2.2"));
    }
}
