use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// A user row. Holds the password hash, so it is explicitly not `Serialize`.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub created_at: OffsetDateTime,
}

/// The key accounts are matched on: case-insensitive, independent of the database locale.
pub fn email_lookup(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    email: &str,
    password_hash: &str,
    now: OffsetDateTime,
) -> Result<UserRow, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"INSERT INTO users (email, email_lookup, password_hash, created_at, password_changed_at)
           VALUES ($1, $2, $3, $4, $4)
           RETURNING id, email, password_hash, created_at"#,
        email,
        email_lookup(email),
        password_hash,
        now,
    )
    .fetch_one(db)
    .await
}

pub async fn find_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        "SELECT id, email, password_hash, created_at FROM users WHERE email_lookup = $1",
        email_lookup(email),
    )
    .fetch_optional(db)
    .await
}

pub async fn find_by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        "SELECT id, email, password_hash, created_at FROM users WHERE id = $1",
        id,
    )
    .fetch_optional(db)
    .await
}

/// Replaces the password hash if it is still `verified_hash` (the one the current password was
/// checked against). Returns false when another change got there first.
pub async fn replace_password_hash(
    db: impl PgExecutor<'_>,
    id: Uuid,
    verified_hash: &str,
    new_hash: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE users SET password_hash = $3, password_changed_at = $4
           WHERE id = $1 AND password_hash = $2"#,
        id,
        verified_hash,
        new_hash,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Locks the user's row until the end of the transaction, so that decisions about the account
/// (enable or replace its authenticator) are made one at a time.
pub async fn lock_for_update(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT id FROM users WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(db)
        .await?;
    Ok(())
}
