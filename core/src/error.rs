//! How a service says no: one enum of domain outcomes, free of wording. The server functions
//! (and later the REST API) turn each variant into their own words and status, in one place
//! (`api::present`), so that a message is written once and can be translated.

use domain::StepUpProof;
use domain::validation::{Invalid, ProofKind};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// What was sent breaks the shared validator's rules; each problem names its field.
    #[error("invalid input")]
    Invalid(Invalid),
    /// Wrong email or password at sign-in. Deliberately does not say which.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// No signed-in session (or its account is gone).
    #[error("unauthenticated")]
    Unauthenticated,
    /// A sensitive change needs a fresh check of `proof` first.
    #[error("step-up required")]
    StepUpRequired { proof: StepUpProof },
    /// Too many failed attempts: wait `retry_after_secs`, or, when `None`, the account's second
    /// factor is locked.
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: Option<u32> },
    /// 100 wrong passwords in a row for this address: locked until an administrator lifts it.
    #[error("account locked")]
    AccountLocked,
    /// Too many password checks are running: try again after the delay.
    #[error("busy")]
    Busy { retry_after_secs: u32 },
    /// Something failed on the server; the detail was logged where it happened.
    #[error("internal error")]
    Internal,

    /// Sign-up: the address already has an account.
    #[error("email taken")]
    EmailTaken,
    /// Step-up: the password field was left empty.
    #[error("password missing")]
    PasswordMissing,
    /// Step-up: not the account's password.
    #[error("wrong password")]
    WrongPassword,
    /// Step-up: the password was offered, but the account has a second factor, which is what
    /// must be proved.
    #[error("second factor needed")]
    SecondFactorNeeded,
    /// Step-up: a code was offered, but the account has no second factor.
    #[error("no second factor")]
    NoSecondFactor,
    /// Step-up: the code (of the kind chosen) did not prove the second factor.
    #[error("wrong code")]
    WrongCode { kind: ProofKind },
    /// Enrollment: the pending authenticator is gone (expired, cancelled, or replaced by
    /// another wizard).
    #[error("setup expired")]
    SetupExpired,
    /// Enrollment: a wrong first code; this many tries remain.
    #[error("wrong setup code")]
    WrongSetupCode { attempts_left: i32 },
    /// Enrollment: the last allowed wrong code; the pending authenticator was discarded.
    #[error("setup attempts used up")]
    SetupAttemptsUsedUp,
    /// New backup codes asked for while two-factor is off.
    #[error("two-factor is off")]
    TwoFactorOff,
    /// Two-factor turned off twice.
    #[error("two-factor already off")]
    TwoFactorAlreadyOff,
    /// Password change: not the current password.
    #[error("wrong current password")]
    WrongCurrentPassword,
    /// Password change: another session changed the password meanwhile.
    #[error("password changed elsewhere")]
    PasswordChangedElsewhere,
}

impl Error {
    /// Logs the detail of a server-side failure and returns the opaque error.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Error::Internal
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::internal(err)
    }
}

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Self {
        Error::Invalid(invalid)
    }
}
