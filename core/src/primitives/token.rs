//! Random bearer tokens (session cookies, later trusted-browser cookies and API keys).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// 256 bits from the operating system's CSPRNG (OWASP asks for at least 64).
const TOKEN_BYTES: usize = 32;

/// A freshly generated token: `secret` goes to the client once, only `hash` is stored.
pub struct NewToken {
    pub secret: String,
    pub hash: Vec<u8>,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewToken { secret: <redacted>, .. }")
    }
}

pub fn generate() -> NewToken {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&secret);
    NewToken { secret, hash }
}

/// The token's lookup key. A plain SHA-256 is enough: the input has 256 bits of entropy, so
/// there is nothing for a slow hash to protect against.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Tokens we issued are 43 base64url characters; anything else is rejected before any lookup.
pub fn looks_valid(secret: &str) -> bool {
    secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tokens_are_long_unique_and_hashed() {
        let tokens: Vec<NewToken> = (0..1000).map(|_| generate()).collect();
        let secrets: HashSet<&str> = tokens.iter().map(|t| t.secret.as_str()).collect();
        assert_eq!(secrets.len(), 1000);
        for token in &tokens {
            assert!(looks_valid(&token.secret));
            assert_eq!(token.hash.len(), 32);
            assert_eq!(token.hash, hash(&token.secret));
            assert_ne!(token.hash, token.secret.as_bytes());
        }
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        assert!(!looks_valid(""));
        assert!(!looks_valid(&"a".repeat(42)));
        assert!(!looks_valid(&"a".repeat(44)));
        assert!(!looks_valid(&format!("{}=", "a".repeat(42))));
    }

    #[test]
    fn debug_output_does_not_reveal_the_secret() {
        let token = generate();
        assert!(!format!("{token:?}").contains(&token.secret));
    }
}
