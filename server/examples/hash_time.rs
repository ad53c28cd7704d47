//! Prints the mean wall-clock time of one Argon2id hash with Keyward's parameters, in ms, over N
//! sequential hashes (default 30). Used by bench/signin_load.sh to compute the ceiling.

use app::server::password::PasswordHasher;
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let hasher = PasswordHasher::new(1, 0).map_err(|e| e.to_string())?;
    let phc = hasher
        .hash("warm-up password".into())
        .await
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    for _ in 0..runs {
        hasher
            .verify("bench passphrase 1".into(), Some(phc.clone()))
            .await
            .map_err(|e| e.to_string())?;
    }
    println!(
        "{:.2}",
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
    );
    Ok(())
}
