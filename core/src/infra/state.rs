use crate::infra::clock::Clock;
use crate::infra::config::{ENCRYPTION_KEYS_VAR, Settings};
use crate::primitives::crypto::KeyRing;
use crate::primitives::password::PasswordHasher;
use sqlx::PgPool;
use std::sync::Arc;

/// What the services need: the database, settings, the hasher, keys and the clock. Built once
/// at start-up and shared (no globals); the web layer wraps it with what rendering needs.
#[derive(Clone)]
pub struct CoreState {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub hasher: PasswordHasher,
    pub common_passwords: Arc<domain::validation::CommonPasswordList>,
    /// Seals TOTP secrets and keys backup-code hashes.
    pub keys: Arc<KeyRing>,
    pub clock: Clock,
}

/// The shipped common-password list (see THIRD_PARTY.md), also served to browsers.
pub const COMMON_PASSWORDS: &str = include_str!("../../../public/common-passwords.txt");

impl CoreState {
    pub fn new(pool: PgPool, settings: Settings) -> Result<Self, String> {
        let hasher = PasswordHasher::new(settings.hash_workers(), settings.hash_queue_length)
            .map_err(|e| format!("cannot start the password hasher: {e}"))?;
        let spec = settings.encryption_keys.as_ref().ok_or_else(|| {
            format!(
                "{ENCRYPTION_KEYS_VAR} is not set. It holds the keys that encrypt two-factor \
                 secrets; create one with `server --generate-encryption-key` and keep it safe \
                 (scripts/run.sh makes one for local use in .data/)."
            )
        })?;
        let keys = KeyRing::parse(&spec.0).map_err(|e| format!("{ENCRYPTION_KEYS_VAR}: {e}"))?;
        Ok(CoreState {
            pool,
            settings: Arc::new(settings),
            hasher,
            common_passwords: Arc::new(domain::validation::parse_common_passwords(
                COMMON_PASSWORDS,
            )),
            keys: Arc::new(keys),
            clock: Clock::System,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::COMMON_PASSWORDS;
    use domain::validation::{parse_common_passwords, read_prepared_common_passwords};

    /// Browsers read the shipped file as it is (`read_prepared_common_passwords`), the server
    /// parses it: both must find the same entries, so the file is kept normalised, lower-cased,
    /// sorted and without duplicates (`scripts/common-passwords.sh` writes it so).
    #[test]
    fn the_shipped_list_is_in_the_form_browsers_read_it() {
        let parsed = parse_common_passwords(COMMON_PASSWORDS);
        assert_eq!(parsed.len(), 11_611);
        assert_eq!(read_prepared_common_passwords(COMMON_PASSWORDS), parsed);
    }
}
