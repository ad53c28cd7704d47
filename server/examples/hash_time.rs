//! Argon2id timings with Keyward's parameters, for bench/signin_load.sh.
//!
//! `hash_time N` prints the mean wall-clock time of one verification in ms over N sequential
//! runs (default 30): the basis of the ceiling, cores / time of one hash.
//! `hash_time N --parallel` runs one verifier per CPU core at once, N runs each, and prints the
//! verifications per second they achieve together (memory bandwidth shared, nothing else).

use app::server::primitives::password::PasswordHasher;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), String> {
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let parallel = std::env::args().any(|a| a == "--parallel");
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let workers = if parallel { cores } else { 1 };
    let hasher =
        PasswordHasher::new(workers, runs as usize * workers).map_err(|e| e.to_string())?;
    let phc = hasher
        .hash("warm-up password".into())
        .await
        .map_err(|e| e.to_string())?;
    for _ in 0..3 {
        hasher
            .verify("warm-up".into(), Some(phc.clone()))
            .await
            .map_err(|e| e.to_string())?;
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let hasher = hasher.clone();
            let phc = phc.clone();
            tokio::spawn(async move {
                for _ in 0..runs {
                    hasher
                        .verify("bench".into(), Some(phc.clone()))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let seconds = start.elapsed().as_secs_f64();
    if parallel {
        println!("{:.1}", f64::from(runs) * workers as f64 / seconds);
    } else {
        println!("{:.2}", seconds * 1000.0 / f64::from(runs));
    }
    Ok(())
}
