//! Starts Keyward: reads `Leptos.toml` and the environment, connects to Postgres, applies
//! migrations and serves until SIGINT/SIGTERM.

use app::server::AppState;
use app::server::config::Settings;
use app::server::db;
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
        let id = time::OffsetDateTime::now_utc().date().to_string();
        println!("{}", app::server::crypto::KeyRing::generate_key_spec(&id));
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
    // `--unlock-second-factor` is the older name, kept for scripts that use it.
    if matches!(
        std::env::args().nth(1).as_deref(),
        Some("--unlock" | "--unlock-second-factor")
    ) {
        return match unlock(std::env::args().nth(2)).await {
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

/// `server --unlock EMAIL`: lifts the locks after 100 wrong passwords or 100 wrong codes (NIST
/// SP 800-63B asks for a way to unlock), for an administrator with access to the database.
async fn unlock(email: Option<String>) -> Result<String, String> {
    let email = email.ok_or("usage: server --unlock EMAIL")?;
    let database_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&database_url)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    match app::server::accounts::unlock(&pool, &email).await {
        Ok(true) => Ok(format!("Sign-in unlocked for {email}.")),
        Ok(false) => Err(format!("No account with the email address {email}.")),
        Err(err) => Err(format!("could not unlock: {err}")),
    }
}

async fn sweep_now_and_then(state: AppState) {
    let mut ticker = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        ticker.tick().await;
        let now = time::OffsetDateTime::now_utc();
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
