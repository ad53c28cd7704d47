//! Starts Keyward: reads `Leptos.toml` and the environment, connects to Postgres, applies
//! migrations and serves until SIGINT/SIGTERM.

// The account page's island renders a deep view type; the default limit is not enough.
#![recursion_limit = "256"]

use app::server::AppState;
use app::server::db;
use app::server::db::users::Rekeyed;
use app::server::infra::config::Settings;
use app::server::primitives::crypto::KeyRing;
use sqlx::postgres::PgPoolOptions;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// How often expired sessions, finished attempt windows and the like are swept.
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--generate-encryption-key") {
        // A key for KEYWARD_ENCRYPTION_KEYS, named after today (ids only need to differ).
        let id = app::server::infra::clock::Clock::System
            .now()
            .date()
            .to_string();
        println!(
            "{}",
            app::server::primitives::crypto::KeyRing::generate_key_spec(&id)
        );
        return ExitCode::SUCCESS;
    }
    let json_logs = std::env::var("KEYWARD_LOG_FORMAT").is_ok_and(|f| f == "json");
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,sqlx=warn"));
    if json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    // Administrator commands: each prints what it did and exits.
    let command = match std::env::args().nth(1).as_deref() {
        // `--unlock-second-factor` is the older name, kept for scripts that use it.
        Some("--unlock" | "--unlock-second-factor") => Some(unlock(std::env::args().nth(2)).await),
        Some("--reseal") => Some(reseal().await),
        Some("--key-usage") => Some(key_usage().await),
        _ => None,
    };
    if let Some(result) = command {
        return match result {
            Ok(message) => {
                println!("{message}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("{err}");
                ExitCode::FAILURE
            }
        };
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let config_path = std::env::var("KEYWARD_CONFIG").unwrap_or_else(|_| "Leptos.toml".into());
    let settings = Settings::load(&config_path).map_err(|e| e.to_string())?;
    let leptos = leptos::config::get_configuration(Some(&config_path))
        .map_err(|e| {
            format!("cannot read the [package.metadata.leptos] section of {config_path}: {e}")
        })?
        .leptos_options;
    if leptos.env == leptos::config::Env::PROD {
        settings.check_for_production().map_err(|e| e.to_string())?;
    }
    let database_url = std::env::var("DATABASE_URL")
        .map_err(|_| "DATABASE_URL is not set (scripts/run.sh provides a local database)")?;

    let pool = PgPoolOptions::new()
        .max_connections(settings.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&database_url)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    db::MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    match db::users::rekey_email_lookups(&pool).await {
        Ok(Rekeyed::Done(0)) => {}
        Ok(Rekeyed::Done(n)) => tracing::info!(count = n, "email lookup keys brought up to date"),
        Ok(Rekeyed::Collisions(collisions)) => {
            let list: Vec<String> = collisions
                .iter()
                .map(|(key, ids)| {
                    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                    format!("{key}: accounts {}", ids.join(", "))
                })
                .collect();
            return Err(format!(
                "addresses are now matched after NFKC, case folding and IDNA, and these accounts \
                 would share one: {}. Change the address of all but one of each (UPDATE users \
                 SET email = '…', email_lookup = '…' WHERE id = '…'), then start again.",
                list.join("; ")
            ));
        }
        Err(err) => return Err(format!("cannot update email lookup keys: {err}")),
    }

    let addr: SocketAddr = leptos.site_addr;
    let state = AppState::new(leptos, pool, settings).map_err(|e| e.to_string())?;
    tokio::spawn(sweep_now_and_then(state.clone()));

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    tracing::info!(
        "Keyward is listening on http://{addr} (public URL {})",
        state.settings.public_url
    );
    let app = server::router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| format!("server error: {e}"))
}

async fn admin_pool() -> Result<sqlx::PgPool, String> {
    let database_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    PgPoolOptions::new()
        .max_connections(1)
        .connect(&database_url)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

fn admin_keys() -> Result<KeyRing, String> {
    let spec = std::env::var(app::server::infra::config::ENCRYPTION_KEYS_VAR).map_err(|_| {
        format!(
            "{} is not set",
            app::server::infra::config::ENCRYPTION_KEYS_VAR
        )
    })?;
    KeyRing::parse(&spec)
        .map_err(|e| format!("{}: {e}", app::server::infra::config::ENCRYPTION_KEYS_VAR))
}

/// `server --unlock EMAIL`: lifts the locks after 100 wrong passwords or 100 wrong codes (NIST
/// SP 800-63B asks for a way to unlock), for an administrator with access to the database.
async fn unlock(email: Option<String>) -> Result<String, String> {
    let email = email.ok_or("usage: server --unlock EMAIL")?;
    let pool = admin_pool().await?;
    match app::server::auth::accounts::unlock(&pool, &email).await {
        Ok(true) => Ok(format!("Sign-in unlocked for {email}.")),
        Ok(false) => Err(format!("No account with the email address {email}.")),
        Err(err) => Err(format!("could not unlock: {err}")),
    }
}

/// `server --reseal`: seals every authenticator secret still sealed with an old key under the
/// current one (the first of KEYWARD_ENCRYPTION_KEYS).
async fn reseal() -> Result<String, String> {
    let (pool, keys) = (admin_pool().await?, admin_keys()?);
    let done = app::server::factors::authenticator::reseal_all(&pool, &keys)
        .await
        .map_err(|e| format!("could not re-seal: {e}"))?;
    let mut out = format!(
        "{} authenticator secret(s) re-sealed with key {}.",
        done.resealed,
        keys.current_key_id()
    );
    if !done.unopenable.is_empty() {
        let ids: Vec<String> = done.unopenable.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "\n{} could not be opened with any key of KEYWARD_ENCRYPTION_KEYS (its key is \
             missing) and were left as they are: factors {}",
            ids.len(),
            ids.join(", ")
        ));
    }
    Ok(out)
}

/// `server --key-usage`: what still depends on each key, so an old key can be retired once
/// nothing does.
async fn key_usage() -> Result<String, String> {
    let (pool, keys) = (admin_pool().await?, admin_keys()?);
    let usage = app::server::factors::authenticator::key_usage(&pool, &keys)
        .await
        .map_err(|e| format!("could not read key usage: {e}"))?;
    let mut out = String::new();
    for (id, in_ring, authenticators, sets) in &usage.keys {
        let role = if id == keys.current_key_id() {
            "current"
        } else if *in_ring {
            "old"
        } else {
            "NOT IN KEYWARD_ENCRYPTION_KEYS: these cannot be opened"
        };
        out.push_str(&format!(
            "key {id} ({role}): {authenticators} authenticator(s), {sets} backup-code set(s)\n"
        ));
    }
    if usage.sets_with_unknown_key > 0 {
        out.push_str(&format!(
            "{} backup-code set(s) made before keys were recorded: their key is learned when one \
             of their codes is used. Retire no old key while any remain: one of them may be \
             what these sets need.\n",
            usage.sets_with_unknown_key
        ));
    }
    out.push_str(
        "An old key may be retired once no authenticator and no backup-code set depends on it: \
         run --reseal for the authenticators; backup codes cannot be re-hashed, so their sets \
         keep the key until their owners make new codes.",
    );
    Ok(out)
}

async fn sweep_now_and_then(state: AppState) {
    let mut ticker = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        ticker.tick().await;
        let now = state.clock.now();
        match app::server::maintenance::sweep(&state.pool, &state.settings, now).await {
            Ok(swept) if swept == Default::default() => {}
            Ok(swept) => tracing::info!(?swept, "swept what no longer counts"),
            Err(err) => tracing::warn!(error = %err, "could not sweep"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
