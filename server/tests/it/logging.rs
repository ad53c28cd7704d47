//! An internal error in the log names the operation it happened in (services and repositories
//! are `#[tracing::instrument]`ed), and nothing the caller typed.

use crate::state_with;
use app::server::auth::accounts;
use app::server::sessions::ClientInfo;
use sqlx::PgPool;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn an_internal_error_is_logged_with_its_operation_and_without_the_input(pool: PgPool) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let state = state_with(pool, &[]);
    // The database goes away: the first query fails.
    state.pool.close().await;
    let result = accounts::sign_in(
        &state,
        accounts::SignInRequest::new(
            "ann@example.com",
            "a very secret passphrase",
            &ClientInfo::default(),
        ),
        state.clock.now(),
    )
    .await;
    assert!(result.is_err());

    let log = captured.text();
    assert!(log.contains("internal error"), "{log}");
    assert!(log.contains(" sign_in:"), "the operation is named: {log}");
    assert!(!log.contains("a very secret passphrase"), "{log}");
    assert!(!log.contains("ann@example.com"), "{log}");
}
