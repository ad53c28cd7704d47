//! What Keyward's integration tests share, whichever layer they drive (services in
//! `app/tests/it`, HTTP through the router in `server/tests/it`): settings with a throw-away
//! encryption key, the fixed time the tests start at, and a way to hold the password hashers.
//! A dev-dependency only.

// Helpers may panic: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyward_core::error::Error;
use keyward_core::factors::authenticator::{self, Confirmation};
use keyward_core::infra::config::Settings;
use keyward_core::primitives::crypto::KeyRing;
use keyward_core::primitives::password::PasswordHasher;
use time::OffsetDateTime;

/// Settings as the defaults give them, with `overrides` as if set in the environment
/// (`("max_concurrent_hashes", "1")` is `KEYWARD_MAX_CONCURRENT_HASHES=1`) and a fresh test
/// encryption key.
pub fn settings(overrides: &[(&str, &str)]) -> Settings {
    let mut overrides: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (format!("KEYWARD_{}", k.to_uppercase()), v.to_string()))
        .collect();
    overrides.push((
        "KEYWARD_ENCRYPTION_KEYS".into(),
        KeyRing::generate_key_spec("test"),
    ));
    Settings::from_sources(&toml::Table::new(), |key| {
        overrides
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

/// When the tests' clock starts.
pub fn t0() -> OffsetDateTime {
    time::macros::datetime!(2026-11-27 12:00 UTC)
}

/// A stored hash whose parameters (64 MiB, 20 passes) make one verification take far longer
/// than a test's requests: verifying against it holds a hashing slot.
pub const SLOW_PHC: &str = "$argon2id$v=19$m=65536,t=20,p=1$c29tZXNhbHRzb21lc2FsdA$\
                            AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Takes one of `hasher`'s slots with a deliberately slow verification, admitted before this
/// returns (on a one-thread runtime): whatever the test sends next meets a hasher that is busy,
/// however the requests interleave. The handle gives the verification's answer (never a
/// match: the hash is made up).
pub async fn hold_a_hashing_slot(hasher: &PasswordHasher) -> tokio::task::JoinHandle<bool> {
    let hasher = hasher.clone();
    let slow = tokio::spawn(async move {
        hasher
            .verify("anything".to_owned(), Some(SLOW_PHC.to_owned()))
            .await
            .unwrap()
    });
    // Let the spawned verification run up to its wait for the blocking thread: the task has
    // been polled, and admitted, once we are polled again.
    tokio::task::yield_now().await;
    slow
}

/// Confirms a pending authenticator in a transaction of its own, as enrollment does with the
/// first backup codes beside it: the tests of the authenticator alone need nothing beside it.
pub async fn confirm_authenticator(
    pool: &sqlx::PgPool,
    keys: &KeyRing,
    confirmation: Confirmation<'_>,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    authenticator::confirm(pool, &mut tx, keys, confirmation, now).await?;
    tx.commit().await?;
    Ok(())
}
