//! Keyward's services and repositories, free of any UI framework and of wire formats: accounts
//! and sessions, second factors, throttles, the security log, and one repository per table.
//! Services take and return domain values (`OffsetDateTime`s, ids, typed codes) and refuse with
//! [`Error`]; the `app` crate's server functions (and later the REST API and background
//! workers) call them and do all wording. The compiler holds the layering: this crate does not
//! depend on Leptos, axum or the wire types.

pub mod auth;
pub mod client;
pub mod db;
pub mod error;
pub mod factors;
pub mod ids;
pub mod infra;
pub mod maintenance;
pub mod primitives;
pub mod security_log;
pub mod sessions;

pub use error::Error;
pub use ids::{FactorId, SessionId, TrustedBrowserId, UserId};
pub use infra::state::CoreState;
