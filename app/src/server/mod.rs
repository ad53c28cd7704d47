//! The server side of the app: the services and repositories of `keyward-core` (re-exported
//! here, so `app::server::auth::accounts` is `keyward_core::auth::accounts`), the state a request is
//! served with, and the glue between server functions and the services (`context`). Compiled
//! with the `ssr` feature only.

pub use keyward_core::*;

pub mod context;
pub mod cookies;

use crate::error::AppError;
use leptos::config::LeptosOptions;
use std::ops::Deref;

/// Everything a request needs, handed to server functions by context (no globals): the
/// services' state and what rendering needs. Dereferences to [`CoreState`], so services take
/// `&state` as it is.
#[derive(Clone)]
pub struct AppState {
    pub core: CoreState,
    pub leptos_options: LeptosOptions,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        pool: sqlx::PgPool,
        settings: infra::config::Settings,
    ) -> Result<Self, String> {
        Ok(AppState {
            core: CoreState::new(pool, settings)?,
            leptos_options,
        })
    }
}

impl Deref for AppState {
    type Target = CoreState;

    fn deref(&self) -> &CoreState {
        &self.core
    }
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

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
