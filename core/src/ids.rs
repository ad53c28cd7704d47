//! Ids, one type per kind of row: a function that takes a [`UserId`] cannot be handed a
//! session's id. Stored as the row's `uuid` (`sqlx(transparent)`): `query_as!` maps a column
//! into the field's id type, and queries bind them as `id as UserId`, so the macro still checks
//! the column's type.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            sqlx::Type, serde::Serialize, serde::Deserialize,
        )]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random id, for a row this process creates.
            pub fn new_random() -> Self {
                $name(Uuid::new_v4())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
            }

            pub const fn as_uuid(self) -> Uuid {
                self.0
            }

            pub const fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        /// What `query_as!` maps a `uuid` column into this id with: ids come from their rows.
        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                $name(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        /// Parses an id from a form or a URL: anything but a well-formed UUID is refused.
        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map($name)
            }
        }
    };
}

id!(
    /// An account (`users.id`).
    UserId
);
id!(
    /// A session (`sessions.id`), not its secret token.
    SessionId
);
id!(
    /// A second factor (`factors.id`), of any kind.
    FactorId
);
id!(
    /// A trusted browser (`trusted_browsers.id`), not its token.
    TrustedBrowserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_as_their_uuid() {
        let id = UserId::from_uuid(Uuid::from_u128(7));
        assert_eq!(id.to_string().parse::<UserId>().ok(), Some(id));
        assert!("not-an-id".parse::<FactorId>().is_err());
        assert_eq!(
            serde_json::to_string(&TrustedBrowserId::from_uuid(Uuid::nil())).ok(),
            Some("\"00000000-0000-0000-0000-000000000000\"".to_owned())
        );
    }
}
