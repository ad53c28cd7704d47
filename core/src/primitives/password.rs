//! Argon2id password hashing, off the async runtime, with a bound on the work in flight and on
//! the memory it uses.

use crate::error::Error;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use domain::validation::normalize_password;
use rand_core::OsRng;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// OWASP's first Argon2id row: m = 19 MiB, t = 2, p = 1.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// Seconds a client is told to wait when every hasher and queue slot is taken.
const RETRY_AFTER_SECS: u32 = 1;

/// Hashes and verifies passwords on the blocking thread pool. At most `workers` hashes run at
/// once, each in one of `workers` preallocated 19 MiB work areas (so memory stays at
/// `workers × 19 MiB` however many sign-ins arrive), and at most `workers + queue` requests wait
/// or run: beyond that a request is refused with [`Error::Busy`] at once, so a flood of
/// sign-ins can neither queue without limit nor exhaust memory.
#[derive(Clone)]
pub struct PasswordHasher {
    admission: Arc<Semaphore>,
    /// Sign-ups' share of `admission` (see [`new_account_share`]).
    new_accounts: Arc<Semaphore>,
    /// Sign-ups' share of `workers`: half of them, at least one.
    new_account_workers: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    /// One work area per worker permit: whoever holds a permit finds one here.
    work_areas: Arc<Mutex<Vec<Vec<Block>>>>,
    worker_count: usize,
    /// A real hash of a random password, verified against when the account does not exist, so an
    /// unknown email costs the same time as a wrong password.
    decoy_hash: Arc<str>,
}

/// How many sign-up hashes may run or wait at once: half the workers (at least one) and a
/// quarter of the queue, leaving sign-ins the rest. Of those, at most half the workers run at
/// once.
pub fn new_account_share(workers: usize, queue: usize) -> usize {
    (workers / 2).max(1) + queue / 4
}

fn params() -> Result<Params, Error> {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(Error::internal)
}

fn work_area(params: &Params) -> Vec<Block> {
    vec![Block::default(); params.block_count()]
}

fn hash_with(password: &str, memory: &mut [Block]) -> Result<String, Error> {
    let params = params()?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(Error::internal)?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(Error::internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(Error::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Recomputes the hash with the algorithm, version, parameters and salt stored in `phc` (so
/// hashes made under older parameters keep verifying) and compares in constant time.
fn verify_with(password: &str, phc: &str, memory: &mut Vec<Block>) -> Result<bool, Error> {
    let parsed = PasswordHash::new(phc).map_err(Error::internal)?;
    let params = Params::try_from(&parsed).map_err(Error::internal)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(Error::internal)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(Error::internal)?
        .unwrap_or_default();
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(Error::internal("stored password hash lacks salt or output"));
    };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(Error::internal)?;
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                out,
                &mut memory[..params.block_count()],
            )
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(Error::internal)?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

impl PasswordHasher {
    pub fn new(workers: usize, queue: usize) -> Result<Self, Error> {
        let workers = workers.max(1);
        let params = params()?;
        let mut areas: Vec<Vec<Block>> = (0..workers).map(|_| work_area(&params)).collect();
        let decoy_hash = match areas.first_mut() {
            Some(area) => hash_with(&crate::primitives::token::generate().secret, area)?,
            None => return Err(Error::internal("no hashing work area")),
        };
        Ok(PasswordHasher {
            admission: Arc::new(Semaphore::new(workers + queue)),
            new_accounts: Arc::new(Semaphore::new(new_account_share(workers, queue))),
            new_account_workers: Arc::new(Semaphore::new((workers / 2).max(1))),
            workers: Arc::new(Semaphore::new(workers)),
            work_areas: Arc::new(Mutex::new(areas)),
            worker_count: workers,
            decoy_hash: decoy_hash.into(),
        })
    }

    /// Passwords are NFKC-normalised before hashing and verifying (NIST SP 800-63B), so the same
    /// password typed on another keyboard or OS still matches, and the length rules (counted
    /// after normalisation) describe what is actually hashed.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        let password = normalize_password(&password);
        self.run(move |memory| hash_with(&password, memory)).await
    }

    /// [`hash`](Self::hash) for a new account. Sign-ups may hold only their share of the
    /// hashers ([`new_account_share`]), so a flood of sign-ups can never push sign-ins (or
    /// anything else) past the bound into `Busy`.
    #[tracing::instrument(skip_all)]
    pub async fn hash_new_account(&self, password: String) -> Result<String, Error> {
        let _share = self
            .new_accounts
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy {
                retry_after_secs: RETRY_AFTER_SECS,
            })?;
        // At most half the workers hash new accounts at once; the others wait here, not in the
        // workers' queue ahead of sign-ins.
        let _worker_share = self
            .new_account_workers
            .clone()
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        self.hash(password).await
    }

    /// Verifies `password` against `phc`, or against the decoy when there is no account, in
    /// which case the answer is always `false`.
    #[tracing::instrument(skip_all)]
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, Error> {
        let exists = phc.is_some();
        let password = normalize_password(&password);
        let phc = phc.unwrap_or_else(|| self.decoy_hash.to_string());
        let matches = self
            .run(move |memory| verify_with(&password, &phc, memory))
            .await?;
        Ok(exists && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let admitted = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy {
                retry_after_secs: RETRY_AFTER_SECS,
            })?;
        let worker = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        let areas = self.work_areas.clone();
        let workers = self.worker_count;
        tokio::task::spawn_blocking(move || {
            // The permits live as long as the hash, not as long as the request: a client that
            // hangs up must not free a slot while its hash still runs.
            let _permits = (admitted, worker);
            // Holding a worker permit guarantees an area is free; the fallback only allocates if
            // that invariant were ever broken, and the pool never grows past one per worker.
            let mut area = match lock(&areas)?.pop() {
                Some(area) => area,
                None => work_area(&params()?),
            };
            let result = work(&mut area);
            let mut pool = lock(&areas)?;
            if pool.len() < workers {
                pool.push(area);
            }
            result
        })
        .await
        .map_err(Error::internal)?
    }
}

fn lock(
    areas: &Mutex<Vec<Vec<Block>>>,
) -> Result<std::sync::MutexGuard<'_, Vec<Vec<Block>>>, Error> {
    areas
        .lock()
        .map_err(|_| Error::internal("hashing work areas poisoned"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier as _;

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
    async fn hashes_interoperate_with_the_reference_implementation() {
        // Ours verify with the argon2 crate's own verifier...
        let hasher = PasswordHasher::new(1, 0).unwrap();
        let ours = hasher.hash("interop".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interop", &parsed)
                .is_ok()
        );
        // ...and a hash made elsewhere with other parameters verifies with ours.
        let params = Params::new(8 * 1024, 3, 1, None).unwrap();
        let theirs = argon2::PasswordHasher::hash_password(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            b"interop",
            &SaltString::generate(&mut OsRng),
        )
        .unwrap()
        .to_string();
        assert!(
            hasher
                .verify("interop".into(), Some(theirs.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("interop!".into(), Some(theirs))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn equivalent_unicode_forms_verify() {
        let hasher = PasswordHasher::new(1, 0).unwrap();
        // "é" precomposed (NFC, Windows/Linux) and decomposed (NFD, macOS/iOS); full-width digits.
        let phc = hasher
            .hash("caf\u{e9} 2026 r\u{e9}sum\u{e9}".into())
            .await
            .unwrap();
        let nfd = "cafe\u{301} \u{ff12}\u{ff10}\u{ff12}\u{ff16} re\u{301}sume\u{301}";
        assert!(hasher.verify(nfd.into(), Some(phc)).await.unwrap());
    }

    #[tokio::test]
    async fn a_flood_of_sign_ups_leaves_sign_ins_their_share_of_the_hashers() {
        // Two workers and a queue of four: sign-ups may hold at most two of the six places.
        let hasher = PasswordHasher::new(2, 4).unwrap();
        assert_eq!(new_account_share(2, 4), 2);
        let sign_ups = (0..20).map(|_| hasher.hash_new_account("new passphrase".into()));
        let sign_ins = (0..4).map(|_| hasher.verify("a passphrase".into(), None));
        // Every future is polled (and takes or is refused its place) before any hash finishes.
        let (sign_ups, sign_ins) = futures::future::join(
            futures::future::join_all(sign_ups),
            futures::future::join_all(sign_ins),
        )
        .await;
        let hashed = sign_ups.iter().filter(|r| r.is_ok()).count();
        assert_eq!(hashed, 2, "{sign_ups:?}");
        assert!(
            sign_ins.iter().all(|r| matches!(r, Ok(false))),
            "a sign-in was refused: {sign_ins:?}"
        );
    }

    #[tokio::test]
    async fn work_beyond_the_bound_is_refused_not_queued() {
        let hasher = PasswordHasher::new(1, 1).unwrap();
        let attempts = (0..6).map(|_| hasher.verify("pw".into(), None));
        // join_all polls every attempt before any hash finishes, so exactly two get a slot.
        let results = futures::future::join_all(attempts).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(Error::Busy { .. })))
            .count();
        assert_eq!(busy, 4, "{results:?}");
        assert_eq!(results.iter().filter(|r| matches!(r, Ok(false))).count(), 2);
    }
}
