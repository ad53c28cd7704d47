//! Everything that runs only on the server: configuration, state, repositories, services and the
//! glue between server functions and them. Compiled with the `ssr` feature only.

pub mod accounts;
pub mod attempts;
pub mod authenticator;
pub mod backup_codes;
pub mod browsers;
pub mod clock;
pub mod config;
pub mod context;
pub mod crypto;
pub mod db;
pub mod error;
pub mod maintenance;
pub mod password;
pub mod security_log;
pub mod sessions;
pub mod state;
pub mod throttle;
pub mod token;
pub mod totp;
pub mod two_factor;
pub mod user_agent;

pub use error::Error;
pub use state::AppState;

use crate::error::AppError;

impl AppError {
    /// Logs the detail of a server-side failure and returns the opaque error sent to the browser.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        AppError::Internal
    }

    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::InvalidCredentials | AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::StepUpRequired { .. } => StatusCode::FORBIDDEN,
            AppError::TooManyAttempts { .. } | AppError::AccountLocked => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Transport(_) => StatusCode::BAD_REQUEST,
        }
    }
}
