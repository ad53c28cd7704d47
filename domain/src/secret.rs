//! A string that must never be printed: a password or code typed into a form, a session or
//! browser token. `Debug` and `Display` show `<redacted>`, so a secret cannot reach a log
//! through `{:?}` of whatever holds it; serde sees the plain string (`transparent`), so forms
//! and server functions carry it unchanged.

use serde::{Deserialize, Serialize};

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (hashing, comparing, a cookie).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize)]
    struct Form {
        password: Secret,
    }

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::new("hunter2 hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert!(!format!("{secret}").contains("hunter2"));
        let form = Form {
            password: secret.clone(),
        };
        assert!(!format!("{form:?}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2 hunter2");
    }

    #[test]
    fn a_secret_crosses_the_wire_as_the_plain_string() {
        let json = serde_json::to_string(&Form {
            password: Secret::new("hunter2 hunter2"),
        })
        .unwrap();
        assert_eq!(json, r#"{"password":"hunter2 hunter2"}"#);
        let back: Form = serde_json::from_str(&json).unwrap();
        assert_eq!(back.password.expose(), "hunter2 hunter2");
    }
}
