//! What the schema holds on its own: migrations that reshape stored data keep it (written as the
//! earlier version stored it, migrated, used by the services), and rules that span tables.

use crate::{otp_at, sign_up, state, t0};
use app::server::db::MIGRATOR;
use app::server::factors::authenticator::{self, CodeCheck};
use app::server::primitives::totp::TotpSecret;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use time::Duration;

/// Runs the project's migrations older than `version` only.
async fn migrate_before(pool: &PgPool, version: i64) {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let dir = std::env::temp_dir().join(format!("keyward-migrations-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for migration in MIGRATOR.iter().filter(|m| m.version < version) {
        let name = format!(
            "{}_{}.sql",
            migration.version,
            migration.description.replace(' ', "_")
        );
        std::fs::copy(source.join(&name), dir.join(&name)).unwrap();
    }
    Migrator::new(dir.as_path())
        .await
        .unwrap()
        .run(pool)
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[sqlx::test(migrations = false)]
async fn authenticators_keep_working_when_their_secrets_move_to_a_table_of_their_own(pool: PgPool) {
    migrate_before(&pool, 20261130000009).await;
    let state = state(pool.clone());
    let user = sign_up(&state, "ann@example.com").await.user_id;
    // An active authenticator as the one wide `factors` table held it, last used a minute ago.
    let secret = TotpSecret::generate();
    let factor_id = uuid::Uuid::new_v4();
    let sealed = state
        .keys
        .seal(secret.as_bytes(), factor_id.as_bytes())
        .unwrap();
    let used_step = (t0() - Duration::minutes(1)).unix_timestamp() / 30;
    sqlx::query(
        "INSERT INTO factors (id, user_id, kind, label, state, created_at, activated_at,
                              totp_key_id, totp_nonce, totp_ciphertext, totp_last_step)
         VALUES ($1, $2, 'totp', 'Phone', 'active', $3, $3, $4, $5, $6, $7)",
    )
    .bind(factor_id)
    .bind(user)
    .bind(t0() - Duration::days(1))
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .bind(used_step)
    .execute(&pool)
    .await
    .unwrap();

    MIGRATOR.run(&pool).await.unwrap();

    // The secret still opens and its last used step is still used: an old code is a replay,
    // the current one is accepted once.
    let check = async |at| {
        authenticator::check(&pool, &state.keys, user, &otp_at(&secret, at), at)
            .await
            .unwrap()
    };
    assert_eq!(
        check(t0() - Duration::minutes(1)).await,
        CodeCheck::Replayed
    );
    assert_eq!(check(t0()).await, CodeCheck::Accepted);
    assert_eq!(check(t0()).await, CodeCheck::Replayed);
    let columns: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns
         WHERE table_name = 'factors' AND column_name LIKE 'totp%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(columns, 0, "the wide table's secret columns are gone");
}

/// A factor row of kind `totp` for `user`, written with SQL alone (no secret row).
async fn bare_factor(
    db: &mut sqlx::PgConnection,
    user: app::server::UserId,
    kind: &str,
) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO factors (id, user_id, kind, label, state, created_at)
         VALUES ($1, $2, $3, 'Phone', 'active', now())",
    )
    .bind(id)
    .bind(user)
    .bind(kind)
    .execute(db)
    .await
    .unwrap();
    id
}

#[sqlx::test(migrator = "app::server::db::MIGRATOR")]
async fn an_authenticator_cannot_be_stored_or_left_without_its_secret(pool: PgPool) {
    let state = state(pool.clone());
    let user = sign_up(&state, "ann@example.com").await.user_id;

    // A factor of kind totp with no secret row: refused when the transaction commits.
    let mut tx = pool.begin().await.unwrap();
    bare_factor(&mut tx, user, "totp").await;
    let err = tx.commit().await.unwrap_err();
    assert!(err.to_string().contains("has no secret"), "{err}");

    // A secret row can only belong to an authenticator.
    let mut tx = pool.begin().await.unwrap();
    let phone = bare_factor(&mut tx, user, "sms").await;
    let err = sqlx::query(
        "INSERT INTO totp_factors (factor_id, key_id, nonce, ciphertext)
         VALUES ($1, 'k', '\\x00', '\\x00')",
    )
    .bind(phone)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(err.to_string().contains("foreign key"), "{err}");
    drop(tx);

    // Enrolled through the service, the secret cannot be deleted on its own; the factor can,
    // and takes its secret with it.
    let pending = authenticator::begin(&pool, &state.keys, user, "Phone", t0())
        .await
        .unwrap();
    let err = sqlx::query("DELETE FROM totp_factors WHERE factor_id = $1")
        .bind(pending.factor_id)
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has no secret"), "{err}");
    sqlx::query("DELETE FROM factors WHERE id = $1")
        .bind(pending.factor_id)
        .execute(&pool)
        .await
        .unwrap();
    let secrets: i64 = sqlx::query_scalar("SELECT count(*) FROM totp_factors")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(secrets, 0);
}
