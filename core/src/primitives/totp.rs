//! Time-based one-time passwords (RFC 6238) for authenticator apps: secrets, key URIs, and the
//! verification window. Storage and the single-use rule live with the factor repository; this
//! module decides which time step a code belongs to.

use rand_core::{OsRng, RngCore};
use totp_rs::{Algorithm, TOTP};

/// RFC 4226 §4 recommends 160 bits; NIST 800-63B asks for at least 112.
pub const SECRET_BYTES: usize = 20;
/// Google Authenticator and Authy ignore other values, so these stay fixed (RFC 6238 defaults).
pub const DIGITS: usize = 6;
pub const STEP_SECONDS: u64 = 30;

/// A TOTP shared secret. Deliberately not `Debug`-printable or `Serialize`: it leaves the server
/// only once, during enrollment, as the QR code and the manual key.
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        TotpSecret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Base32 without padding, as authenticator apps expect it.
    pub fn base32(&self) -> String {
        base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &self.0)
    }

    /// The key for manual entry, in groups of four: "ABCD EFGH …".
    pub fn grouped_base32(&self) -> String {
        let encoded = self.base32();
        let groups: Vec<&str> = encoded
            .as_bytes()
            .chunks(4)
            .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
            .collect();
        groups.join(" ")
    }

    /// The Google Authenticator key URI:
    /// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`.
    pub fn key_uri(&self, issuer: &str, account: &str) -> String {
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            uri_component(issuer),
            uri_component(account),
            self.base32(),
            uri_component(issuer),
        )
    }

    fn totp(&self) -> TOTP {
        // `new_unchecked`: the RFC test vectors use secrets and digit counts that the checked
        // constructor refuses; our own secrets are always 160 bits.
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, self.0.clone())
    }

    /// The code for the time step containing `unix_time`.
    pub fn code_at(&self, unix_time: u64) -> String {
        self.totp().generate(unix_time)
    }

    /// The time step that `code` belongs to, if any: the current step or one either side
    /// (RFC 6238 §5.2 allows one step of network delay), never a step at or before
    /// `last_used_step`, so a code is accepted once (the caller stores the returned step with a
    /// compare-and-set). Compares in constant time.
    pub fn matching_step(
        &self,
        code: &str,
        unix_time: u64,
        last_used_step: Option<u64>,
    ) -> Option<u64> {
        let current = unix_time / STEP_SECONDS;
        let totp = self.totp();
        let mut found = None;
        for step in [current.saturating_sub(1), current, current + 1] {
            let fresh = last_used_step.is_none_or(|last| step > last);
            let expected = totp.generate(step * STEP_SECONDS);
            // Every candidate is compared, so timing does not reveal which step matched.
            if constant_time_eq(expected.as_bytes(), code.as_bytes()) && fresh && found.is_none() {
                found = Some(step);
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for the label and issuer.
fn uri_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn totp(algorithm: Algorithm, digits: usize, secret: &[u8]) -> TOTP {
        TOTP::new_unchecked(algorithm, digits, 0, 30, secret.to_vec())
    }

    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        // HOTP is TOTP with the counter as the time step: counter c at time 30·c.
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec());
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(
                secret.code_at(counter as u64 * 30),
                *code,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b_vectors() {
        let sha256_secret = b"12345678901234567890123456789012";
        let sha512_secret = b"1234567890123456789012345678901234567890123456789012345678901234";
        let cases: [(u64, &str, &str, &str); 5] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in cases {
            assert_eq!(
                totp(Algorithm::SHA1, 8, RFC_SECRET).generate(time),
                sha1,
                "SHA1 {time}"
            );
            assert_eq!(
                totp(Algorithm::SHA256, 8, sha256_secret).generate(time),
                sha256
            );
            assert_eq!(
                totp(Algorithm::SHA512, 8, sha512_secret).generate(time),
                sha512
            );
        }
    }

    #[test]
    fn accepts_one_step_either_side_and_no_further() {
        let secret = TotpSecret::generate();
        let now = 1_790_000_015; // 15 s into step 59,666,667
        let step = now / STEP_SECONDS;
        for offset in [-1i64, 0, 1] {
            let at = (now as i64 + offset * 30) as u64;
            let code = secret.code_at(at);
            assert_eq!(
                secret.matching_step(&code, now, None),
                Some(at / 30),
                "offset {offset}"
            );
        }
        for offset in [-2i64, 2] {
            let code = secret.code_at((now as i64 + offset * 30) as u64);
            // A far code may coincide with a near one by chance (1 in 10^6); skip that case.
            let collides = [-1i64, 0, 1]
                .iter()
                .any(|o| secret.code_at((now as i64 + o * 30) as u64) == code);
            if !collides {
                assert_eq!(
                    secret.matching_step(&code, now, None),
                    None,
                    "offset {offset}"
                );
            }
        }
        // Step edges: the last second of a step still accepts the next step's code.
        let edge = (step + 1) * 30 - 1;
        assert_eq!(
            secret.matching_step(&secret.code_at(edge + 1), edge, None),
            Some(step + 1)
        );
    }

    #[test]
    fn a_used_step_and_earlier_ones_are_refused() {
        let secret = TotpSecret::generate();
        let now = 1_790_000_000;
        let step = now / 30;
        let code = secret.code_at(now);
        assert_eq!(secret.matching_step(&code, now, Some(step)), None);
        assert_eq!(
            secret.matching_step(&secret.code_at(now - 30), now, Some(step - 1)),
            None
        );
        assert_eq!(
            secret.matching_step(&secret.code_at(now + 30), now, Some(step)),
            Some(step + 1)
        );
    }

    #[test]
    fn secrets_are_160_bits_and_encode_for_apps() {
        let secret = TotpSecret::generate();
        assert_eq!(secret.as_bytes().len(), 20);
        assert_eq!(secret.base32().len(), 32);
        assert!(!secret.base32().contains('='));
        let grouped = secret.grouped_base32();
        assert_eq!(grouped.split(' ').count(), 8);
        assert_eq!(grouped.replace(' ', ""), secret.base32());
        assert!(!format!("{secret:?}").contains(&secret.base32()));
    }

    #[test]
    fn key_uri_follows_the_google_authenticator_format() {
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec());
        assert_eq!(
            secret.key_uri("Keyward", "ann+2fa@example.com"),
            "otpauth://totp/Keyward:ann%2B2fa%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Keyward&algorithm=SHA1&digits=6&period=30"
        );
        assert!(
            secret
                .key_uri("Acme Corp", "a@b.co")
                .starts_with("otpauth://totp/Acme%20Corp:")
        );
    }
}
