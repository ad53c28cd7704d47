//! Who may do what, as pure decisions over what a caller has proved: one place the services ask,
//! so a rule is written once and tested without a database. (The organisations issue adds "must
//! enrol first"; the API-key issue adds "does the scope allow it".)

use crate::sessions::CurrentSession;
use domain::StepUpProof;
use time::{Duration, OffsetDateTime};

/// Whether `session` may make a sensitive change now (change factors or the password), or
/// which proof it must give first ("Confirm it's you").
///
/// While the account has an active second factor only a second factor counts: a session that
/// never passed one (signed in before two-factor was turned on, through a trusted browser, or
/// stolen) plus the password must not be able to change factors or the password (OWASP MFA
/// cheat sheet). Without one, a recent check of either kind does.
pub fn sensitive_change(
    account_has_second_factor: bool,
    session: &CurrentSession,
    window: Duration,
    now: OffsetDateTime,
) -> Result<(), StepUpProof> {
    if account_has_second_factor {
        if session.second_factor_within(window, now) {
            return Ok(());
        }
        return Err(StepUpProof::SecondFactor);
    }
    if session.any_check_within(window, now) {
        Ok(())
    } else {
        Err(StepUpProof::Password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> OffsetDateTime {
        time::macros::datetime!(2026-11-30 12:00 UTC)
    }

    fn session(
        password_at: OffsetDateTime,
        second_factor_at: Option<OffsetDateTime>,
    ) -> CurrentSession {
        CurrentSession {
            session_id: crate::SessionId::from_uuid(uuid::Uuid::nil()),
            user_id: crate::UserId::from_uuid(uuid::Uuid::nil()),
            authenticated_at: password_at,
            second_factor_at,
            email: "ann@example.com".into(),
        }
    }

    #[test]
    fn with_a_second_factor_only_a_recent_second_factor_will_do() {
        let window = Duration::minutes(10);
        let now = t0() + Duration::minutes(30);
        let fresh = now - Duration::minutes(1);
        let stale = now - Duration::minutes(11);
        let decide = |password_at, second_factor_at| {
            sensitive_change(true, &session(password_at, second_factor_at), window, now)
        };
        assert_eq!(decide(stale, Some(fresh)), Ok(()));
        // A fresh password is what whoever stole the session may know.
        assert_eq!(decide(fresh, None), Err(StepUpProof::SecondFactor));
        assert_eq!(decide(fresh, Some(stale)), Err(StepUpProof::SecondFactor));
        // The window's edge still counts.
        assert_eq!(decide(stale, Some(now - window)), Ok(()));
    }

    #[test]
    fn without_a_second_factor_a_recent_check_of_either_kind_will_do() {
        let window = Duration::minutes(10);
        let now = t0() + Duration::minutes(30);
        let fresh = now - Duration::minutes(1);
        let stale = now - Duration::minutes(11);
        let decide = |password_at, second_factor_at| {
            sensitive_change(false, &session(password_at, second_factor_at), window, now)
        };
        assert_eq!(decide(fresh, None), Ok(()));
        assert_eq!(decide(stale, Some(fresh)), Ok(()));
        assert_eq!(decide(stale, None), Err(StepUpProof::Password));
        assert_eq!(decide(stale, Some(stale)), Err(StepUpProof::Password));
    }
}
