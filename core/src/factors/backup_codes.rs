//! Backup (look-up) codes: ten single-use codes shown once, stored only as keyed hashes.

use domain::validation::{
    BACKUP_CODE_ALPHABET as ALPHABET, BACKUP_CODE_CHARS as CHARS_PER_CODE, BackupCode,
};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

pub const CODES_PER_SET: usize = 10;
/// 10 characters × 5 bits: above the 50 bits the issue asks for, far above NIST's 20.
pub const BITS_PER_CODE: usize = CHARS_PER_CODE * 5;

/// A freshly generated code, to be shown to the person once. Not `Debug`-printable.
pub struct IssuedBackupCode(String);

impl std::fmt::Debug for IssuedBackupCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedBackupCode(<redacted>)")
    }
}

impl IssuedBackupCode {
    /// As shown: `xxxxx-xxxxx`.
    pub fn display(&self) -> &str {
        &self.0
    }
}

pub fn generate_set() -> Vec<IssuedBackupCode> {
    (0..CODES_PER_SET).map(|_| generate()).collect()
}

fn generate() -> IssuedBackupCode {
    let mut code = String::with_capacity(CHARS_PER_CODE + 1);
    for i in 0..CHARS_PER_CODE {
        if i == CHARS_PER_CODE / 2 {
            code.push('-');
        }
        // 32 symbols: the low five bits of a random byte are uniform.
        let mut byte = [0u8; 1];
        OsRng.fill_bytes(&mut byte);
        code.push(ALPHABET[usize::from(byte[0] & 31)] as char);
    }
    IssuedBackupCode(code)
}

/// The stored form: HMAC-SHA256 keyed with a server secret over the user id and the normalised
/// code. A database dump alone is not enough to brute-force the codes, and equal codes of two
/// users hash differently. Deterministic, so a code is found and consumed by one atomic
/// `UPDATE … WHERE code_hash = $1 AND used_at IS NULL`.
pub fn hash(server_key: &[u8], user_id: &[u8], code: &BackupCode) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(server_key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(&(user_id.len() as u64).to_be_bytes());
    mac.update(user_id);
    mac.update(code.symbols().as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_set_is_ten_distinct_codes_in_the_shown_format() {
        let set = generate_set();
        assert_eq!(set.len(), 10);
        let distinct: HashSet<&str> = set.iter().map(IssuedBackupCode::display).collect();
        assert_eq!(distinct.len(), 10);
        for code in &set {
            let shown = code.display();
            assert_eq!(shown.len(), 11);
            assert_eq!(&shown[5..6], "-");
            assert!(
                shown
                    .chars()
                    .filter(|c| *c != '-')
                    .all(|c| ALPHABET.contains(&(c as u8)))
            );
            assert!(!format!("{code:?}").contains(shown));
        }
        const { assert!(BITS_PER_CODE >= 50) };
    }

    #[test]
    fn symbols_are_uniformly_used() {
        // 20,000 symbols over 32 buckets: each expected 625; allow a wide margin.
        let mut counts = [0usize; 32];
        for code in (0..2000).map(|_| generate()) {
            for c in code.display().chars().filter(|c| *c != '-') {
                let index = ALPHABET.iter().position(|a| *a as char == c).unwrap();
                counts[index] += 1;
            }
        }
        assert!(counts.iter().all(|n| (450..800).contains(n)), "{counts:?}");
    }

    #[test]
    fn typing_variations_hash_the_same() {
        let hashed = |typed: &str| hash(b"key", b"user-1", &BackupCode::parse(typed).unwrap());
        let expected = hashed("a2b3c-d4e5f");
        for typed in ["A2B3C-D4E5F", "a2b3c d4e5f", " a2b3cd4e5f ", "a2b3c--d4e5f"] {
            assert_eq!(hashed(typed), expected, "{typed}");
        }
        for code in generate_set() {
            assert!(BackupCode::parse(code.display()).is_ok());
        }
    }

    #[test]
    fn hashes_are_keyed_and_per_user() {
        let code = BackupCode::parse("a2b3c-d4e5f").unwrap();
        let h = hash(b"server key", b"user-1", &code);
        assert_eq!(h.len(), 32);
        assert_eq!(h, hash(b"server key", b"user-1", &code));
        assert_ne!(h, hash(b"server key", b"user-2", &code));
        assert_ne!(h, hash(b"other key", b"user-1", &code));
    }
}
