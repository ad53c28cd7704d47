//! Encryption at rest for secrets the server must read back (TOTP secrets): AES-256-GCM with a
//! key ring, so keys can be rotated. New secrets are sealed with the current key; a secret sealed
//! with any key still in the ring opens.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::OsRng;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("encryption key list is empty")]
    NoKeys,
    #[error("encryption key {0:?}: expected `id:base64-of-32-bytes`")]
    MalformedKey(String),
    #[error("encryption key id {0:?} appears twice")]
    DuplicateKeyId(String),
    #[error("no encryption key with id {0:?} (was it removed from the ring?)")]
    UnknownKeyId(String),
    #[error("sealed data failed authentication")]
    Tampered,
}

/// A sealed secret: which key, the nonce, and the ciphertext with its tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

pub struct KeyRing {
    /// The first key seals; all of them open.
    keys: Vec<(String, Aes256Gcm)>,
    /// One key per ring entry for keyed hashes (backup codes), derived so that no key is used
    /// for two purposes. Current first.
    mac_keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

impl KeyRing {
    /// Parses `id:base64key,id:base64key,…`, current key first.
    pub fn parse(spec: &str) -> Result<Self, CryptoError> {
        let mut keys: Vec<(String, Aes256Gcm)> = Vec::new();
        let mut mac_keys = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let malformed =
                || CryptoError::MalformedKey(entry.split(':').next().unwrap_or("").into());
            let (id, encoded) = entry.split_once(':').ok_or_else(malformed)?;
            let bytes = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
            if id.is_empty() || bytes.len() != 32 {
                return Err(malformed());
            }
            if keys.iter().any(|(existing, _)| existing == id) {
                return Err(CryptoError::DuplicateKeyId(id.into()));
            }
            keys.push((
                id.to_owned(),
                Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
            ));
            mac_keys.push(derive_mac_key(&bytes));
        }
        if keys.is_empty() {
            Err(CryptoError::NoKeys)
        } else {
            Ok(KeyRing { keys, mac_keys })
        }
    }

    /// A fresh random key in the `id:base64` form `parse` reads.
    pub fn generate_key_spec(id: &str) -> String {
        let key = Aes256Gcm::generate_key(OsRng);
        format!("{id}:{}", STANDARD.encode(key))
    }

    /// Seals `plaintext`, binding it to `context` (e.g. the factor id) so a ciphertext copied to
    /// another row does not open there.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Sealed, CryptoError> {
        let (key_id, cipher) = self.keys.first().ok_or(CryptoError::NoKeys)?;
        let nonce = Aes256Gcm::generate_nonce(OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        Ok(Sealed {
            key_id: key_id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    pub fn open(&self, sealed: &Sealed, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(id, _)| *id == sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKeyId(sealed.key_id.clone()))?;
        if sealed.nonce.len() != 12 {
            return Err(CryptoError::Tampered);
        }
        cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }

    /// The id of the key that seals and hashes anything new.
    pub fn current_key_id(&self) -> &str {
        self.keys.first().map_or("", |(id, _)| id.as_str())
    }

    /// Every key id of the ring, current first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// Every hashing key with the id of the ring entry it comes from, current first.
    pub fn mac_keys_with_ids(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.key_ids()
            .zip(self.mac_keys.iter().map(|k| k.as_slice()))
    }

    /// The key for new keyed hashes.
    pub fn current_mac_key(&self) -> &[u8] {
        self.mac_keys.first().map_or(&[], |k| k.as_slice())
    }

    /// Every key a stored keyed hash may have been made with, current first.
    pub fn mac_keys(&self) -> impl Iterator<Item = &[u8]> {
        self.mac_keys.iter().map(|k| k.as_slice())
    }

    /// Whether `sealed` should be re-sealed with the current key (after a rotation).
    pub fn is_stale(&self, sealed: &Sealed) -> bool {
        self.keys
            .first()
            .is_some_and(|(current, _)| *current != sealed.key_id)
    }
}

/// HMAC-SHA256(key, label): a separate key for hashing, from the same configured secret.
fn derive_mac_key(key: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(b"keyward backup-code hashing v1");
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_binds_the_context() {
        let ring = KeyRing::parse(&KeyRing::generate_key_spec("k1")).unwrap();
        let sealed = ring.seal(b"totp secret", b"factor:1").unwrap();
        assert_eq!(sealed.key_id, "k1");
        assert_ne!(sealed.ciphertext, b"totp secret");
        assert_eq!(ring.open(&sealed, b"factor:1").unwrap(), b"totp secret");
        assert_eq!(ring.open(&sealed, b"factor:2"), Err(CryptoError::Tampered));
    }

    #[test]
    fn nonces_are_fresh_for_every_seal() {
        let ring = KeyRing::parse(&KeyRing::generate_key_spec("k1")).unwrap();
        let a = ring.seal(b"same", b"").unwrap();
        let b = ring.seal(b"same", b"").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn secrets_sealed_with_an_old_key_open_after_rotation() {
        let old = KeyRing::generate_key_spec("2026-01");
        let new = KeyRing::generate_key_spec("2026-11");
        let before = KeyRing::parse(&old).unwrap();
        let sealed = before.seal(b"secret", b"ctx").unwrap();

        let after = KeyRing::parse(&format!("{new},{old}")).unwrap();
        assert_eq!(after.open(&sealed, b"ctx").unwrap(), b"secret");
        assert!(after.is_stale(&sealed));
        let resealed = after.seal(b"secret", b"ctx").unwrap();
        assert_eq!(resealed.key_id, "2026-11");
        assert!(!after.is_stale(&resealed));

        let retired = KeyRing::parse(&new).unwrap();
        assert_eq!(
            retired.open(&sealed, b"ctx"),
            Err(CryptoError::UnknownKeyId("2026-01".into()))
        );
    }

    #[test]
    fn hashing_keys_are_derived_per_entry_and_differ_from_the_sealing_key() {
        let old = KeyRing::generate_key_spec("old");
        let new = KeyRing::generate_key_spec("new");
        let ring = KeyRing::parse(&format!("{new},{old}")).unwrap();
        let only_old = KeyRing::parse(&old).unwrap();
        assert_eq!(ring.mac_keys().count(), 2);
        assert_eq!(ring.mac_keys().nth(1), Some(only_old.current_mac_key()));
        assert_ne!(ring.current_mac_key(), only_old.current_mac_key());
        let raw = STANDARD.decode(old.split(':').nth(1).unwrap()).unwrap();
        assert_ne!(only_old.current_mac_key(), raw.as_slice());
    }

    #[test]
    fn tampering_is_detected() {
        let ring = KeyRing::parse(&KeyRing::generate_key_spec("k1")).unwrap();
        let mut sealed = ring.seal(b"secret", b"").unwrap();
        sealed.ciphertext[0] ^= 1;
        assert_eq!(ring.open(&sealed, b""), Err(CryptoError::Tampered));
    }

    #[test]
    fn bad_key_lists_are_refused_with_the_key_named() {
        assert_eq!(KeyRing::parse("").unwrap_err(), CryptoError::NoKeys);
        assert_eq!(
            KeyRing::parse("k1:dG9vIHNob3J0").unwrap_err(),
            CryptoError::MalformedKey("k1".into())
        );
        let k = KeyRing::generate_key_spec("k1");
        assert_eq!(
            KeyRing::parse(&format!("{k},{k}")).unwrap_err(),
            CryptoError::DuplicateKeyId("k1".into())
        );
        let ring = KeyRing::parse(&k).unwrap();
        assert!(!format!("{ring:?}").contains(k.split(':').nth(1).unwrap()));
    }
}
