//! The one error type every server function returns. It crosses the wire in postcard (as do the
//! answers: a much smaller decoder in the WASM than JSON's), so the browser can show a message
//! next to the field it names.

use leptos::server_fn::codec::PostcardEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

pub use domain::StepUpProof;
pub use domain::validation::FieldError;
use domain::validation::Invalid;

/// On the wire (postcard) a variant is its position: add new ones at the end, never reorder, or
/// open pages and links carrying an error read another one (a test pins the positions).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// The user's input was refused; each entry names the field and says why.
    #[error("Please correct the highlighted fields.")]
    Validation(Vec<FieldError>),
    /// Wrong email or password. Deliberately does not say which.
    #[error("Incorrect email or password.")]
    InvalidCredentials,
    #[error("Please sign in to continue.")]
    Unauthenticated,
    /// A sensitive change needs a fresh check (step-up re-authentication) of `proof`.
    #[error("Confirm it's you to continue.")]
    StepUpRequired { proof: StepUpProof },
    /// Too many wrong codes: wait `retry_after_secs`, or, when `None`, the account's second
    /// factor is locked.
    #[error("{}", too_many_attempts(*retry_after_secs))]
    TooManyAttempts { retry_after_secs: Option<u32> },
    /// 100 wrong passwords in a row for this account address: sign-in is locked until an
    /// administrator lifts it (NIST SP 800-63B §5.2.2).
    #[error(
        "Too many failed sign-ins: this account is locked. Contact your administrator to unlock it."
    )]
    AccountLocked,
    /// Too many password checks are running; the client may retry after the given delay.
    #[error("Keyward is busy right now. Please try again in a few seconds.")]
    Busy { retry_after_secs: u32 },
    /// Something failed on the server. The detail is logged, never sent to the browser.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request did not reach the server function or its answer could not be read.
    #[error("The request could not be completed ({0}). Please try again.")]
    Transport(String),
}

fn too_many_attempts(retry_after_secs: Option<u32>) -> String {
    match retry_after_secs {
        None => "Too many wrong codes: two-factor sign-in is locked for this account. \
                 Contact your administrator."
            .to_owned(),
        Some(secs) if secs < 60 => {
            let unit = if secs == 1 { "second" } else { "seconds" };
            format!("Too many failed attempts. Try again in {secs} {unit}.")
        }
        Some(secs) => {
            let minutes = secs.div_ceil(60);
            let unit = if minutes == 1 { "minute" } else { "minutes" };
            format!("Too many failed attempts. Try again in {minutes} {unit}.")
        }
    }
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// The message for one field, if the error names it.
    pub fn message_for(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }

    /// The message shown above a form: field errors are shown beside their fields instead.
    pub fn form_message(&self) -> Option<String> {
        match self {
            AppError::Validation(_) => None,
            other => Some(other.to_string()),
        }
    }
}

impl From<Invalid> for AppError {
    fn from(invalid: Invalid) -> Self {
        AppError::Validation(invalid.0)
    }
}

impl FromServerFnError for AppError {
    type Encoder = PostcardEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_keep_their_place_on_the_wire() {
        let first_byte = |e: AppError| e.ser()[0];
        assert_eq!(first_byte(AppError::field("email", "x")), 0);
        assert_eq!(first_byte(AppError::InvalidCredentials), 1);
        assert_eq!(first_byte(AppError::Unauthenticated), 2);
        assert_eq!(
            first_byte(AppError::StepUpRequired {
                proof: StepUpProof::SecondFactor
            }),
            3
        );
        assert_eq!(
            first_byte(AppError::TooManyAttempts {
                retry_after_secs: None
            }),
            4
        );
        assert_eq!(first_byte(AppError::AccountLocked), 5);
        assert_eq!(
            first_byte(AppError::Busy {
                retry_after_secs: 1
            }),
            6
        );
        assert_eq!(first_byte(AppError::Internal), 7);
        assert_eq!(first_byte(AppError::Transport(String::new())), 8);
    }

    #[test]
    fn field_messages_are_found_by_name() {
        let err = AppError::field("email", "Enter an email address.");
        assert_eq!(
            err.message_for("email").as_deref(),
            Some("Enter an email address.")
        );
        assert_eq!(err.message_for("password"), None);
        assert_eq!(err.form_message(), None);
        assert_eq!(
            AppError::InvalidCredentials.form_message().as_deref(),
            Some("Incorrect email or password.")
        );
    }

    #[test]
    fn waits_are_said_in_words() {
        let wait = |secs| {
            AppError::TooManyAttempts {
                retry_after_secs: secs,
            }
            .to_string()
        };
        assert_eq!(
            wait(Some(1)),
            "Too many failed attempts. Try again in 1 second."
        );
        assert_eq!(
            wait(Some(30)),
            "Too many failed attempts. Try again in 30 seconds."
        );
        assert_eq!(
            wait(Some(61)),
            "Too many failed attempts. Try again in 2 minutes."
        );
        assert!(wait(None).contains("locked"));
    }

    #[test]
    fn errors_round_trip_through_the_wire_format() {
        let err = AppError::Busy {
            retry_after_secs: 2,
        };
        let bytes = err.ser();
        assert_eq!(AppError::de(bytes), err);
    }
}
