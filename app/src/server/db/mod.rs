//! Repositories, one per table. Rows that hold secrets are deliberately not `Serialize`.

pub mod attempt_counters;
pub mod backup_codes;
pub mod events;
pub mod factors;
pub mod recognised_browsers;
pub mod sessions;
pub mod trusted_browsers;
pub mod users;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Postgres's code for a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "23505")
}
