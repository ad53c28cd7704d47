//! Argon2id password hashing, off the async runtime and with a bound on the work in flight.

use crate::error::AppError;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::OsRng;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// OWASP's first Argon2id row: m = 19 MiB, t = 2, p = 1.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// Seconds a client is told to wait when every hasher and queue slot is taken.
const RETRY_AFTER_SECS: u32 = 1;

/// Hashes and verifies passwords on the blocking thread pool. At most `workers` hashes run at
/// once (each holds 19 MiB), and at most `workers + queue` requests wait or run: beyond that a
/// request is refused with [`AppError::Busy`] at once, so a flood of sign-ins cannot queue
/// without limit or exhaust memory.
#[derive(Clone)]
pub struct PasswordHasher {
    admission: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the account does not exist, so an
    /// unknown email costs the same time as a wrong password.
    decoy_hash: Arc<str>,
}

fn argon2() -> Result<Argon2<'static>, AppError> {
    let params =
        Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(AppError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(AppError::internal)?
        .to_string())
}

fn verify_blocking(password: &str, phc: &str) -> Result<bool, AppError> {
    let parsed = PasswordHash::new(phc).map_err(AppError::internal)?;
    // Parameters come from the stored hash, so older hashes keep verifying after a change.
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(other) => Err(AppError::internal(other)),
    }
}

impl PasswordHasher {
    pub fn new(workers: usize, queue: usize) -> Result<Self, AppError> {
        let workers = workers.max(1);
        let decoy_hash = hash_blocking(&crate::server::token::generate().secret)?;
        Ok(PasswordHasher {
            admission: Arc::new(Semaphore::new(workers + queue)),
            workers: Arc::new(Semaphore::new(workers)),
            decoy_hash: decoy_hash.into(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash_blocking(&password)).await
    }

    /// Verifies `password` against `phc`, or against the decoy when there is no account, in
    /// which case the answer is always `false`.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, AppError> {
        let exists = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.decoy_hash.to_string());
        let matches = self.run(move || verify_blocking(&password, &phc)).await?;
        Ok(exists && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _admitted = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Busy {
                retry_after_secs: RETRY_AFTER_SECS,
            })?;
        let _worker = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(AppError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(AppError::internal)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hasher = PasswordHasher::new(1, 0).unwrap();
        let phc = hasher.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            hasher
                .verify("correct horse".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("Correct horse".into(), Some(phc))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("correct horse".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn work_beyond_the_bound_is_refused_not_queued() {
        let hasher = PasswordHasher::new(1, 1).unwrap();
        let attempts = (0..6).map(|_| hasher.verify("pw".into(), None));
        // join_all polls every attempt before any hash finishes, so exactly two get a slot.
        let results = futures::future::join_all(attempts).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(AppError::Busy { .. })))
            .count();
        assert_eq!(busy, 4, "{results:?}");
        assert_eq!(results.iter().filter(|r| matches!(r, Ok(false))).count(), 2);
    }
}
