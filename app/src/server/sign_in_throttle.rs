//! Throttling of password guesses at sign-in (NIST SP 800-63B §5.2.2, OWASP authentication
//! cheat sheet), in PostgreSQL so that every server process behind a load balancer sees the
//! same counts.
//!
//! - Per account address: consecutive failures, answered without delay for the first few, then
//!   with delays doubling up to 15 minutes, and locked at 100 (the same schedule as the second
//!   factor, [`two_factor::delay_after`]); a correct password clears them. Attempts being
//!   checked are counted as in flight, and failures plus attempts in flight never pass the lock,
//!   so a burst of parallel guesses cannot overshoot it, while parallel correct sign-ins (one
//!   person's scripts, a load test) are not refused.
//! - Per client IP address: at most [`CLIENT_MAX_FAILURES`] wrong passwords in a
//!   [`CLIENT_WINDOW`], whatever the accounts, against one address trying many accounts.
//!
//! Addresses without an account are counted exactly like addresses with one: the answers do
//! not tell which accounts exist.

use crate::error::AppError;
use crate::server::db::{sign_in_failures as repo, users};
use crate::server::two_factor;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Wrong passwords one client address may send in a [`CLIENT_WINDOW`].
pub const CLIENT_MAX_FAILURES: i32 = 50;
pub const CLIENT_WINDOW: time::Duration = time::Duration::minutes(15);

/// A sign-in attempt, counted provisionally as a failure until its outcome is known.
#[must_use = "report the outcome: passed, failed or not_checked"]
pub struct Attempt {
    account_key: Vec<u8>,
    client_key: Option<Vec<u8>>,
}

fn account_key(email: &str) -> Vec<u8> {
    key("account", &users::email_lookup(email))
}

fn client_key(ip: &str) -> Vec<u8> {
    key("client", ip)
}

fn key(kind: &str, value: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    hasher.update([0]);
    hasher.update(value.as_bytes());
    hasher.finalize().to_vec()
}

fn seconds_until(at: OffsetDateTime, now: OffsetDateTime) -> u32 {
    two_factor::retry_after_secs(at - now)
}

/// Lets an attempt on `email` from `ip` go ahead, or says how long to wait
/// (`TooManyAttempts`) or that the account is locked (`AccountLocked`).
pub async fn begin(
    pool: &sqlx::PgPool,
    email: &str,
    ip: Option<&str>,
    now: OffsetDateTime,
) -> Result<Attempt, AppError> {
    let client_key = ip.map(client_key);
    if let Some(key) = &client_key
        && let Some(seen) = repo::find(pool, key).await?
        && let Some(first) = seen.first_failure_at
    {
        let window_ends = first + CLIENT_WINDOW;
        if window_ends > now && seen.failures >= CLIENT_MAX_FAILURES {
            return Err(AppError::TooManyAttempts {
                retry_after_secs: Some(seconds_until(window_ends, now)),
            });
        }
    }
    let account_key = account_key(email);
    if let Some(seen) = repo::find(pool, &account_key).await? {
        let delay = two_factor::delay_after(seen.failures).ok_or(AppError::AccountLocked)?;
        if let Some(last) = seen.last_failure_at
            && seen.failures > 0
            && last + delay > now
        {
            return Err(AppError::TooManyAttempts {
                retry_after_secs: Some(seconds_until(last + delay, now)),
            });
        }
    }
    if !repo::start_account_attempt(pool, &account_key, two_factor::LOCK_AFTER).await? {
        // The failures with the attempts now in flight would reach the lock.
        return Err(AppError::TooManyAttempts {
            retry_after_secs: Some(1),
        });
    }
    Ok(Attempt {
        account_key,
        client_key,
    })
}

impl Attempt {
    /// The password was right: the account's consecutive failures are over.
    pub async fn passed(self, pool: &sqlx::PgPool) -> Result<(), AppError> {
        repo::account_attempt_passed(pool, &self.account_key).await?;
        Ok(())
    }

    /// The password was wrong: one more failure for the account and for the client address.
    pub async fn failed(self, pool: &sqlx::PgPool, now: OffsetDateTime) -> Result<(), AppError> {
        repo::account_attempt_failed(pool, &self.account_key, now).await?;
        if let Some(key) = &self.client_key {
            repo::count_client_failure(pool, key, now - CLIENT_WINDOW, now).await?;
        }
        Ok(())
    }

    /// The password could not be checked (the server was busy): not a guess.
    pub async fn not_checked(self, pool: &sqlx::PgPool) -> Result<(), AppError> {
        repo::account_attempt_unchecked(pool, &self.account_key).await?;
        Ok(())
    }
}

/// Clears the failed sign-ins counted against `email` (an administrator lifting the lock).
pub async fn clear_account(pool: &sqlx::PgPool, email: &str) -> Result<bool, AppError> {
    Ok(repo::clear(pool, &account_key(email)).await?)
}

/// Forgets client windows that are over; run now and then.
pub async fn forget_old_client_windows(
    pool: &sqlx::PgPool,
    now: OffsetDateTime,
) -> Result<u64, AppError> {
    Ok(repo::delete_old_client_windows(pool, now - CLIENT_WINDOW).await?)
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
}
