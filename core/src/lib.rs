//! Keyward's services and repositories, free of any UI framework and of wire formats: accounts
//! and sessions, second factors, throttles, the security log, and one repository per table.
//! Services take and return domain values (`OffsetDateTime`s, ids, typed codes) and refuse with
//! [`Error`]; the `app` crate's server functions (and later the REST API and background
//! workers) call them and do all wording. The compiler holds the layering: this crate does not
//! depend on Leptos, axum or the wire types.

pub mod accounts;
pub mod attempts;
pub mod authenticator;
pub mod backup_codes;
pub mod browsers;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod maintenance;
pub mod password;
pub mod policy;
pub mod security_log;
pub mod sessions;
pub mod state;
pub mod throttle;
pub mod token;
pub mod totp;
pub mod two_factor;

pub use error::Error;
pub use state::CoreState;
