//! Repositories, one per table. Rows that hold secrets are deliberately not `Serialize`.

pub mod attempt_counters;
pub mod backup_codes;
pub mod events;
pub mod factors;
pub mod recognised_browsers;
pub mod sessions;
pub mod totp_factors;
pub mod trusted_browsers;
pub mod users;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Postgres's code for a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "23505")
}

/// Stores an enum as one of a fixed set of words in a text column (whose check constraint lists
/// the same words): `as_str` writes it, and reading a word this version does not know is a
/// decoding error, never a guess at one.
macro_rules! stored_as_text {
    ($name:ident, $what:literal, { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $name {
            /// The stored form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                match <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)? {
                    $($word => Ok($name::$variant),)+
                    other => Err(format!(concat!("unknown ", $what, " {:?}"), other).into()),
                }
            }
        }
    };
}
pub(crate) use stored_as_text;
