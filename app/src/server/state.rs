use crate::server::config::Settings;
use crate::server::password::PasswordHasher;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::Arc;

/// Everything a request needs, handed to server functions by context (no globals).
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub hasher: PasswordHasher,
    pub common_passwords: Arc<HashSet<String>>,
}

/// The shipped common-password list (see THIRD_PARTY.md), also served to browsers.
pub const COMMON_PASSWORDS: &str = include_str!("../../../public/common-passwords.txt");

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        pool: PgPool,
        settings: Settings,
    ) -> Result<Self, crate::error::AppError> {
        let hasher = PasswordHasher::new(settings.hash_workers(), settings.hash_queue_length)?;
        Ok(AppState {
            leptos_options,
            pool,
            settings: Arc::new(settings),
            hasher,
            common_passwords: Arc::new(crate::validation::parse_common_passwords(COMMON_PASSWORDS)),
        })
    }
}
