//! Backup codes, stored only as keyed hashes.

use crate::ids::UserId;
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// Replaces the user's codes with a new set hashed with the key `key_id` (the old ones stop
/// working in the same transaction).
#[tracing::instrument(skip_all)]
pub async fn replace_set(
    db: &mut sqlx::PgConnection,
    user_id: UserId,
    hashes: &[Vec<u8>],
    key_id: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM backup_codes WHERE user_id = $1",
        user_id as UserId
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        r#"INSERT INTO backup_codes (user_id, code_hash, created_at, key_id)
           SELECT $1, hash, $3, $4 FROM unnest($2::bytea[]) AS hash"#,
        user_id as UserId,
        hashes,
        now,
        key_id,
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Records that the user's set was hashed with `key_id`, where that was not known (a set made
/// before the key was recorded).
#[tracing::instrument(skip_all)]
pub async fn learn_key(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    key_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE backup_codes SET key_id = $2 WHERE user_id = $1 AND key_id IS NULL",
        user_id as UserId,
        key_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// How many users' backup-code sets depend on each key (`None`: not yet known).
#[tracing::instrument(skip_all)]
pub async fn sets_per_key(
    db: impl PgExecutor<'_>,
) -> Result<Vec<(Option<String>, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT key_id, count(DISTINCT user_id) AS "sets!"
           FROM backup_codes GROUP BY key_id ORDER BY key_id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key_id, r.sets)).collect())
}

/// Marks the unused code whose hash is one of `candidates` (the typed code hashed under each key
/// of the ring) as used, and returns that hash. One statement: of concurrent submissions of a
/// code, exactly one updates the row.
#[tracing::instrument(skip_all)]
pub async fn consume(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    candidates: &[Vec<u8>],
    now: OffsetDateTime,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE backup_codes SET used_at = $3
           WHERE user_id = $1 AND code_hash = ANY($2::bytea[]) AND used_at IS NULL
           RETURNING code_hash"#,
        user_id as UserId,
        candidates,
        now,
    )
    .fetch_optional(db)
    .await
}

/// (unused, total) codes of the current set.
#[tracing::instrument(skip_all)]
pub async fn count(db: impl PgExecutor<'_>, user_id: UserId) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE used_at IS NULL) AS "unused!", count(*) AS "total!"
           FROM backup_codes WHERE user_id = $1"#,
        user_id as UserId
    )
    .fetch_one(db)
    .await?;
    Ok((row.unused, row.total))
}

#[tracing::instrument(skip_all)]
pub async fn delete_for_user(db: impl PgExecutor<'_>, user_id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM backup_codes WHERE user_id = $1",
        user_id as UserId
    )
    .execute(db)
    .await?;
    Ok(())
}
