//! Backup codes, stored only as keyed hashes.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// Replaces the user's codes with a new set (the old ones stop working in the same transaction).
pub async fn replace_set(
    db: &mut sqlx::PgConnection,
    user_id: Uuid,
    hashes: &[Vec<u8>],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM backup_codes WHERE user_id = $1", user_id)
        .execute(&mut *db)
        .await?;
    sqlx::query!(
        r#"INSERT INTO backup_codes (user_id, code_hash, created_at)
           SELECT $1, hash, $3 FROM unnest($2::bytea[]) AS hash"#,
        user_id,
        hashes,
        now,
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Marks the unused code whose hash is one of `candidates` (the typed code hashed under each key
/// of the ring) as used. One statement: of concurrent submissions of a code, exactly one
/// updates the row.
pub async fn consume(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    candidates: &[Vec<u8>],
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE backup_codes SET used_at = $3
           WHERE user_id = $1 AND code_hash = ANY($2::bytea[]) AND used_at IS NULL"#,
        user_id,
        candidates,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// (unused, total) codes of the current set.
pub async fn count(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE used_at IS NULL) AS "unused!", count(*) AS "total!"
           FROM backup_codes WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(db)
    .await?;
    Ok((row.unused, row.total))
}

pub async fn delete_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM backup_codes WHERE user_id = $1", user_id)
        .execute(db)
        .await?;
    Ok(())
}
