//! The schedule that throttles guessing of one account's secrets, for the second factor and for
//! the password alike (NIST SP 800-63B §5.2.2): a few consecutive failures answered at once,
//! then waits doubling up to 15 minutes, and a lock at 100 that an administrator lifts.

/// Consecutive failed attempts answered without delay.
pub const FREE_ATTEMPTS: i32 = 5;
/// Consecutive failed attempts after which the factor (password or second factor) is locked.
pub const LOCK_AFTER: i32 = 100;
/// The longest wait between attempts, reached after 15 consecutive failures.
pub const MAX_DELAY_SECS: i64 = 15 * 60;

/// How long to wait after `failures` consecutive failed attempts before the next one: none for
/// the first few, then doubling from one second up to [`MAX_DELAY_SECS`]. `None`: locked.
pub fn delay_after(failures: i32) -> Option<time::Duration> {
    if failures >= LOCK_AFTER {
        return None;
    }
    if failures < FREE_ATTEMPTS {
        return Some(time::Duration::ZERO);
    }
    let exponent = u32::try_from(failures - FREE_ATTEMPTS)
        .unwrap_or(u32::MAX)
        .min(20);
    Some(time::Duration::seconds(
        (1_i64 << exponent).min(MAX_DELAY_SECS),
    ))
}

/// A wait in whole seconds, rounded up (someone told "1 second" who waits one second must find
/// the wait over), at least one.
pub fn retry_after_secs(wait: time::Duration) -> u32 {
    let secs = wait.whole_seconds() + i64::from(wait.subsec_nanoseconds() > 0);
    u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_attempts_and_lock_at_one_hundred() {
        assert_eq!(delay_after(0), Some(time::Duration::ZERO));
        assert_eq!(delay_after(4), Some(time::Duration::ZERO));
        assert_eq!(delay_after(5), Some(time::Duration::seconds(1)));
        assert_eq!(delay_after(6), Some(time::Duration::seconds(2)));
        assert_eq!(delay_after(10), Some(time::Duration::seconds(32)));
        assert_eq!(delay_after(15), Some(time::Duration::seconds(900)));
        assert_eq!(delay_after(99), Some(time::Duration::seconds(900)));
        assert_eq!(delay_after(100), None);
    }

    #[test]
    fn waits_are_rounded_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(time::Duration::milliseconds(1)), 1);
        assert_eq!(retry_after_secs(time::Duration::milliseconds(1_700)), 2);
        assert_eq!(retry_after_secs(time::Duration::seconds(2)), 2);
        assert_eq!(retry_after_secs(time::Duration::ZERO), 1);
    }
}
