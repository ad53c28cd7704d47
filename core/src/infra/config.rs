//! Product settings: the `[keyward]` section of `Leptos.toml` holds the documented defaults, and
//! each key can be overridden by an environment variable named `KEYWARD_` + the key in capitals.

use domain::validation::{CompositionRules, PasswordPolicy};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Settings {
    /// The address people type, e.g. `https://keyward.example.com`. State-changing requests must
    /// come from this origin.
    pub public_url: String,
    /// The issuer shown in authenticator apps.
    pub issuer: String,
    pub password_policy: PasswordPolicy,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    /// Password hashes computed at once; 0 means one per CPU core.
    pub max_concurrent_hashes: usize,
    /// Password checks allowed to wait for a free hasher before new ones get 503.
    pub hash_queue_length: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    pub database_max_connections: u32,
    /// Sensitive changes (second factors, backup codes) need a password or code check this
    /// recent; older sessions are asked again (step-up re-authentication).
    pub step_up_window: Duration,
    /// How long "Don't ask again on this browser" lasts.
    pub trusted_browser_lifetime: Duration,
    /// Sign-ups one client address may make per hour.
    pub sign_ups_per_hour: i32,
    /// Let production serve a plain-http `public_url` off localhost (cookies without `Secure`).
    pub allow_insecure_http: bool,
    /// The AES-256-GCM key ring, `id:base64,…` with the current key first. Read from the
    /// environment only (`KEYWARD_ENCRYPTION_KEYS`), never from the settings file.
    pub encryption_keys: Option<Redacted>,
}

/// A configured secret: printed as `<redacted>` by `Debug`, so settings can be logged.
#[derive(Clone)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

pub const ENCRYPTION_KEYS_VAR: &str = "KEYWARD_ENCRYPTION_KEYS";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("setting `{key}` has an invalid value {value:?}: {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: String,
    },
}

impl Settings {
    /// Reads `[keyward]` from the file at `path` (a missing file means built-in defaults), then
    /// applies `KEYWARD_*` environment overrides.
    pub fn load(path: &str) -> Result<Settings, ConfigError> {
        let table = match std::fs::read_to_string(path) {
            Ok(text) => {
                let doc: toml::Table = text.parse().map_err(|source| ConfigError::Parse {
                    path: path.to_owned(),
                    source,
                })?;
                doc.get("keyward")
                    .and_then(|v| v.as_table())
                    .cloned()
                    .unwrap_or_default()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Settings::from_sources(&table, |key| std::env::var(key).ok())
    }

    pub fn from_sources(
        table: &toml::Table,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let source = Source { table, env: &env };
        let composition = match source
            .get::<String>("password_composition", "none".into())?
            .as_str()
        {
            "none" => CompositionRules::None,
            "upper_lower_digit" => CompositionRules::UpperLowerDigit,
            other => {
                return Err(ConfigError::Invalid {
                    key: "password_composition".into(),
                    value: other.into(),
                    reason: "expected \"none\" or \"upper_lower_digit\"".into(),
                });
            }
        };
        // NIST SP 800-63B-4: 15 characters when the password is the only factor (every new
        // account's is). The classic policy (8 + upper + lower + digit) stays one setting away:
        // choosing the composition rules brings their usual minimum of 8 unless one is given.
        let default_min = match composition {
            CompositionRules::None => PasswordPolicy::default().min_length,
            CompositionRules::UpperLowerDigit => 8,
        };
        let min_length: usize = source.get("password_min_length", default_min)?;
        let max_length: usize = source.get("password_max_length", 128)?;
        if min_length < 1 || max_length < min_length {
            return Err(ConfigError::Invalid {
                key: "password_max_length".into(),
                value: max_length.to_string(),
                reason: "must be at least password_min_length, which must be at least 1".into(),
            });
        }
        let public_url: String = source.get("public_url", "http://localhost:3000".into())?;
        // Browsers send the Origin lower-cased; compare like with like.
        let public_url = public_url.trim_end_matches('/').to_lowercase();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "public_url".into(),
                value: public_url,
                reason: "must start with http:// or https://".into(),
            });
        }
        Ok(Settings {
            public_url,
            issuer: source.get("issuer", "Keyward".into())?,
            password_policy: PasswordPolicy {
                min_length,
                max_length,
                composition,
            },
            session_idle_timeout: Duration::from_secs(
                60 * source.get_in_range::<u64>("session_idle_minutes", 30, 1..=7 * 24 * 60)?,
            ),
            session_absolute_timeout: Duration::from_secs(
                3600 * source.get_in_range::<u64>("session_absolute_hours", 8, 1..=365 * 24)?,
            ),
            max_concurrent_hashes: source.get("max_concurrent_hashes", 0)?,
            hash_queue_length: source.get("hash_queue_length", 32)?,
            trust_forwarded_for: source.get("trust_forwarded_for", false)?,
            database_max_connections: source.get("database_max_connections", 10)?,
            step_up_window: Duration::from_secs(
                60 * source.get_in_range::<u64>("step_up_minutes", 10, 1..=24 * 60)?,
            ),
            trusted_browser_lifetime: Duration::from_secs(
                86_400 * source.get_in_range::<u64>("trusted_browser_days", 30, 1..=365)?,
            ),
            sign_ups_per_hour: source.get_in_range::<i32>(
                "sign_ups_per_hour",
                10,
                1..=1_000_000,
            )?,
            allow_insecure_http: source.get("allow_insecure_http", false)?,
            encryption_keys: env(ENCRYPTION_KEYS_VAR)
                .filter(|v| !v.trim().is_empty())
                .map(Redacted),
        })
    }

    /// `__Host-` cookies must be `Secure`, which browsers accept only over HTTPS or on localhost.
    pub fn secure_cookies(&self) -> bool {
        match self.public_url.strip_prefix("http://") {
            None => self.public_url.starts_with("https://"),
            // Browsers treat plain-http loopback as secure, so Secure cookies work there.
            Some(authority) => {
                let host = match authority.strip_prefix('[') {
                    Some(v6) => v6.split(']').next().unwrap_or_default(),
                    None => authority.split([':', '/']).next().unwrap_or_default(),
                };
                matches!(host, "localhost" | "127.0.0.1" | "::1")
            }
        }
    }

    /// Refuses what must not run in production: a plain-http `public_url` off localhost would
    /// send session cookies and passwords in the clear, unless `allow_insecure_http` says that
    /// is meant (an isolated network).
    pub fn check_for_production(&self) -> Result<(), ConfigError> {
        if self.secure_cookies() || self.allow_insecure_http {
            return Ok(());
        }
        Err(ConfigError::Invalid {
            key: "public_url".into(),
            value: self.public_url.clone(),
            reason: "plain http off localhost would send passwords and session cookies in the \
                     clear: serve Keyward over https (behind your TLS proxy, give its https \
                     address), or set allow_insecure_http = true if that is really meant"
                .into(),
        })
    }

    pub fn hash_workers(&self) -> usize {
        if self.max_concurrent_hashes > 0 {
            self.max_concurrent_hashes
        } else {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        }
    }
}

struct Source<'a, E: Fn(&str) -> Option<String>> {
    table: &'a toml::Table,
    env: &'a E,
}

impl<E: Fn(&str) -> Option<String>> Source<'_, E> {
    fn get_in_range<T>(
        &self,
        key: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + std::fmt::Display,
        T::Err: std::fmt::Display,
    {
        let value = self.get(key, default)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::Invalid {
                key: key.to_owned(),
                value: value.to_string(),
                reason: format!("must be between {} and {}", range.start(), range.end()),
            })
        }
    }

    fn get<T>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let env_key = format!("KEYWARD_{}", key.to_uppercase());
        let raw = match (self.env)(&env_key) {
            Some(value) => value,
            None => match self.table.get(key) {
                Some(toml::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Ok(default),
            },
        };
        raw.trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                key: key.to_owned(),
                value: raw.clone(),
                reason: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn defaults_follow_nist_and_owasp() {
        let s = Settings::from_sources(&toml::Table::new(), |_| None).unwrap();
        assert_eq!(s.password_policy, PasswordPolicy::default());
        assert_eq!(s.session_idle_timeout, Duration::from_secs(30 * 60));
        assert_eq!(s.session_absolute_timeout, Duration::from_secs(8 * 3600));
        assert_eq!(s.issuer, "Keyward");
        assert_eq!(s.step_up_window, Duration::from_secs(10 * 60));
        assert_eq!(s.trusted_browser_lifetime, Duration::from_secs(30 * 86_400));
        assert_eq!(s.sign_ups_per_hour, 10);
        assert!(s.secure_cookies());
        assert!(s.encryption_keys.is_none());
    }

    #[test]
    fn encryption_keys_come_from_the_environment_only_and_never_print() {
        let t = table("encryption_keys = \"k1:from-the-file\"");
        let s = Settings::from_sources(&t, |_| None).unwrap();
        assert!(s.encryption_keys.is_none());
        let s = Settings::from_sources(&t, |k| {
            (k == ENCRYPTION_KEYS_VAR).then(|| "k1:c2VjcmV0".to_owned())
        })
        .unwrap();
        assert_eq!(s.encryption_keys.as_ref().unwrap().0, "k1:c2VjcmV0");
        assert!(!format!("{s:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn the_classic_composition_policy_is_one_setting_away() {
        let s = Settings::from_sources(&toml::Table::new(), |_| None).unwrap();
        assert_eq!(s.password_policy.min_length, 15);
        let t = table("password_composition = \"upper_lower_digit\"");
        let s = Settings::from_sources(&t, |_| None).unwrap();
        assert_eq!(s.password_policy.min_length, 8);
        assert_eq!(
            s.password_policy.composition,
            CompositionRules::UpperLowerDigit
        );
    }

    #[test]
    fn file_values_are_overridden_by_environment() {
        let t = table("password_min_length = 12\npassword_composition = \"upper_lower_digit\"\n");
        let s = Settings::from_sources(&t, |k| {
            (k == "KEYWARD_PASSWORD_MIN_LENGTH").then(|| "10".to_owned())
        })
        .unwrap();
        assert_eq!(s.password_policy.min_length, 10);
        assert_eq!(
            s.password_policy.composition,
            CompositionRules::UpperLowerDigit
        );
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = Settings::from_sources(&table("session_idle_minutes = \"soon\""), |_| None)
            .unwrap_err();
        assert!(err.to_string().contains("session_idle_minutes"), "{err}");
        let err = Settings::from_sources(&table("password_composition = \"strict\""), |_| None)
            .unwrap_err();
        assert!(err.to_string().contains("password_composition"), "{err}");
    }

    #[test]
    fn timeouts_are_range_checked() {
        let err = Settings::from_sources(&table("session_idle_minutes = 0"), |_| None).unwrap_err();
        assert!(err.to_string().contains("between 1 and"), "{err}");
        let huge = "session_absolute_hours = 99999999999";
        assert!(Settings::from_sources(&table(huge), |_| None).is_err());
    }

    #[test]
    fn only_real_loopback_hosts_count_as_local() {
        for (url, secure) in [
            ("http://localhost:3000", true),
            ("http://LOCALHOST", true),
            ("http://[::1]:8080", true),
            ("http://127.0.0.1", true),
            ("http://localhost.example.com", false),
            ("https://keyward.example.com", true),
        ] {
            let t = table(&format!("public_url = \"{url}\""));
            assert_eq!(
                Settings::from_sources(&t, |_| None)
                    .unwrap()
                    .secure_cookies(),
                secure,
                "{url}"
            );
        }
    }

    #[test]
    fn production_refuses_plain_http_off_localhost_unless_allowed() {
        let plain = table("public_url = \"http://keyward.example.com\"");
        let s = Settings::from_sources(&plain, |_| None).unwrap();
        let err = s.check_for_production().unwrap_err();
        assert!(err.to_string().contains("public_url"), "{err}");
        let s = Settings::from_sources(&plain, |k| {
            (k == "KEYWARD_ALLOW_INSECURE_HTTP").then(|| "true".to_owned())
        })
        .unwrap();
        s.check_for_production().unwrap();
        for ok in ["https://keyward.example.com", "http://localhost:3000"] {
            let t = table(&format!("public_url = \"{ok}\""));
            Settings::from_sources(&t, |_| None)
                .unwrap()
                .check_for_production()
                .unwrap();
        }
    }

    #[test]
    fn plain_http_off_localhost_cannot_use_secure_cookies() {
        let s = Settings::from_sources(&table("public_url = \"http://10.0.0.5:3000\""), |_| None)
            .unwrap();
        assert!(!s.secure_cookies());
    }
}
