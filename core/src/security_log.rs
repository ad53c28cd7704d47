//! What the security log records: one [`SecurityEvent`] per entry, whose variant is the entry's
//! kind and whose fields are its details. Services say what happened in these terms; the
//! repository (`db::events`) stores the kind and the details side by side, and reads them back
//! into the same type, so the log page (and later an organisation's audit) reads what was
//! written, with no payload that no type describes. Details never contain a secret.

use crate::ids::TrustedBrowserId;
use serde::{Deserialize, Serialize};

/// One entry of an account's security log.
///
/// The serde form is the stored one: `kind` is the tag (the `security_events.kind` column) and
/// the other fields are the `details` JSON. Renaming a variant or a field changes what is
/// stored; tests pin both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecurityEvent {
    SignedUp,
    SignedIn(SignedInWith),
    SignInFailed,
    SignedOut,
    PasswordChanged(SignedOutElsewhere),
    /// A wrong current password at "Change password" (someone holding the session may be
    /// guessing it).
    PasswordChangeRefused,
    StepUpFailed {
        method: Method,
    },
    StepUpPassed {
        method: Method,
    },
    TwoFactorEnabled {
        method: Method,
        #[serde(flatten)]
        signed_out: SignedOutElsewhere,
    },
    AuthenticatorReplaced(SignedOutElsewhere),
    BackupCodesRegenerated,
    TwoFactorDisabled(SignedOutElsewhere),
    /// A wrong or replayed code at the sign-in challenge.
    SecondFactorFailed {
        method: Method,
        reason: CodeRejection,
    },
    TrustedBrowserRevoked,
    /// An attempt refused by a throttle (logged once per failure count).
    AttemptsThrottled {
        check: Check,
        counter: String,
        retry_after_secs: u32,
    },
    /// A counter of consecutive failures reached the lock, or a locked one refused an attempt.
    AttemptsLocked {
        check: Check,
        counter: String,
    },
}

impl SecurityEvent {
    /// The stored kind (the serde tag).
    pub fn kind(&self) -> &'static str {
        match self {
            SecurityEvent::SignedUp => "signed_up",
            SecurityEvent::SignedIn(_) => "signed_in",
            SecurityEvent::SignInFailed => "sign_in_failed",
            SecurityEvent::SignedOut => "signed_out",
            SecurityEvent::PasswordChanged(_) => "password_changed",
            SecurityEvent::PasswordChangeRefused => "password_change_refused",
            SecurityEvent::StepUpFailed { .. } => "step_up_failed",
            SecurityEvent::StepUpPassed { .. } => "step_up_passed",
            SecurityEvent::TwoFactorEnabled { .. } => "two_factor_enabled",
            SecurityEvent::AuthenticatorReplaced(_) => "authenticator_replaced",
            SecurityEvent::BackupCodesRegenerated => "backup_codes_regenerated",
            SecurityEvent::TwoFactorDisabled(_) => "two_factor_disabled",
            SecurityEvent::SecondFactorFailed { .. } => "second_factor_failed",
            SecurityEvent::TrustedBrowserRevoked => "trusted_browser_revoked",
            SecurityEvent::AttemptsThrottled { .. } => "attempts_throttled",
            SecurityEvent::AttemptsLocked { .. } => "attempts_locked",
        }
    }

    /// The stored details: every field but the kind, as a JSON object.
    pub fn details(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}));
        if let Some(map) = value.as_object_mut() {
            map.remove("kind");
        }
        value
    }

    /// The event a stored kind and details describe; an error for a kind or details this
    /// version does not know.
    pub fn from_stored(kind: &str, details: serde_json::Value) -> Result<Self, serde_json::Error> {
        let mut map = match details {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        map.insert("kind".into(), kind.into());
        serde_json::from_value(serde_json::Value::Object(map))
    }
}

/// How a sign-in that completed got past the second factor, if the account has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SignedInWith {
    /// The challenge, answered with `second_factor`; the browser was trusted from now on if
    /// `trusted_browser_added`.
    SecondFactor {
        second_factor: Method,
        trusted_browser_added: bool,
    },
    /// A trusted browser skipped the challenge.
    TrustedBrowser { trusted_browser: TrustedBrowserId },
    /// The password alone (the account has no second factor).
    Password {},
}

/// What a change signed out elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOutElsewhere {
    pub other_sessions_signed_out: u64,
    pub trusted_browsers_revoked: u64,
}

/// How a person proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Password,
    Totp,
    BackupCode,
}

/// Why a code was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeRejection {
    Wrong,
    /// Right, but already used: someone saw it, or the form was sent twice.
    Replayed,
}

/// Where a refused or locking attempt was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    SignIn,
    SignUp,
    StepUp,
    ChangePassword,
    Challenge,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn signed_out() -> SignedOutElsewhere {
        SignedOutElsewhere {
            other_sessions_signed_out: 2,
            trusted_browsers_revoked: 1,
        }
    }

    /// Every variant with the details it stores: what earlier versions wrote, so that entries
    /// already in the log keep reading back.
    fn every_event() -> Vec<(SecurityEvent, serde_json::Value)> {
        let browser = TrustedBrowserId::from_uuid(uuid::Uuid::from_u128(7));
        let sign_outs = json!({ "other_sessions_signed_out": 2, "trusted_browsers_revoked": 1 });
        vec![
            (SecurityEvent::SignedUp, json!({})),
            (
                SecurityEvent::SignedIn(SignedInWith::Password {}),
                json!({}),
            ),
            (
                SecurityEvent::SignedIn(SignedInWith::TrustedBrowser {
                    trusted_browser: browser,
                }),
                json!({ "trusted_browser": browser.to_string() }),
            ),
            (
                SecurityEvent::SignedIn(SignedInWith::SecondFactor {
                    second_factor: Method::BackupCode,
                    trusted_browser_added: true,
                }),
                json!({ "second_factor": "backup_code", "trusted_browser_added": true }),
            ),
            (SecurityEvent::SignInFailed, json!({})),
            (SecurityEvent::SignedOut, json!({})),
            (
                SecurityEvent::PasswordChanged(signed_out()),
                sign_outs.clone(),
            ),
            (SecurityEvent::PasswordChangeRefused, json!({})),
            (
                SecurityEvent::StepUpFailed {
                    method: Method::Password,
                },
                json!({ "method": "password" }),
            ),
            (
                SecurityEvent::StepUpPassed {
                    method: Method::Totp,
                },
                json!({ "method": "totp" }),
            ),
            (
                SecurityEvent::TwoFactorEnabled {
                    method: Method::Totp,
                    signed_out: signed_out(),
                },
                json!({ "method": "totp", "other_sessions_signed_out": 2,
                        "trusted_browsers_revoked": 1 }),
            ),
            (
                SecurityEvent::AuthenticatorReplaced(signed_out()),
                sign_outs.clone(),
            ),
            (SecurityEvent::BackupCodesRegenerated, json!({})),
            (SecurityEvent::TwoFactorDisabled(signed_out()), sign_outs),
            (
                SecurityEvent::SecondFactorFailed {
                    method: Method::Totp,
                    reason: CodeRejection::Replayed,
                },
                json!({ "method": "totp", "reason": "replayed" }),
            ),
            (SecurityEvent::TrustedBrowserRevoked, json!({})),
            (
                SecurityEvent::AttemptsThrottled {
                    check: Check::ChangePassword,
                    counter: "session".into(),
                    retry_after_secs: 8,
                },
                json!({ "check": "change_password", "counter": "session",
                        "retry_after_secs": 8 }),
            ),
            (
                SecurityEvent::AttemptsLocked {
                    check: Check::SignIn,
                    counter: "account".into(),
                },
                json!({ "check": "sign_in", "counter": "account" }),
            ),
        ]
    }

    #[test]
    fn every_event_stores_the_details_it_always_did_and_reads_back() {
        for (event, details) in every_event() {
            assert_eq!(event.details(), details, "{event:?}");
            let stored = serde_json::to_value(&event).unwrap();
            assert_eq!(stored["kind"], event.kind(), "the tag is the stored kind");
            assert_eq!(
                SecurityEvent::from_stored(event.kind(), details).unwrap(),
                event
            );
        }
    }

    #[test]
    fn an_unknown_kind_or_malformed_details_are_an_error_not_a_guess() {
        assert!(SecurityEvent::from_stored("nothing_happened", json!({})).is_err());
        assert!(SecurityEvent::from_stored("step_up_passed", json!({})).is_err());
        assert!(
            SecurityEvent::from_stored("step_up_passed", json!({ "method": "carrier_pigeon" }))
                .is_err()
        );
    }
}
