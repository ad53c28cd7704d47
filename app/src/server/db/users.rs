use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// A user row. Holds the password hash, so it is explicitly not `Serialize`, and `Debug` leaves
/// the hash out.
#[derive(Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The key accounts are matched on: NFKC, then Unicode case folding ("Straße" and "STRASSE"
/// are one address), independent of the database locale.
pub fn email_lookup(email: &str) -> String {
    let normalized = crate::validation::normalize_password(email.trim());
    unicase::UniCase::new(normalized).to_folded_case()
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

/// The account with `email` for a sign-in, and whether it has an active second factor: one
/// query on the sign-in path.
pub async fn find_for_sign_in(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<(UserRow, bool)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT u.id, u.email, u.password_hash, u.created_at,
                  EXISTS (SELECT 1 FROM factors f
                          WHERE f.user_id = u.id AND f.state = 'active') AS "has_factor!"
           FROM users u WHERE u.email_lookup = $1"#,
        email_lookup(email),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        (
            UserRow {
                id: r.id,
                email: r.email,
                password_hash: r.password_hash,
                created_at: r.created_at,
            },
            r.has_factor,
        )
    }))
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

/// Brings the lookup keys of addresses with non-ASCII characters up to date with
/// [`email_lookup`] (they were lower-cased only before NFKC and case folding). Run at start-up;
/// quick when nothing is left to do. Returns how many keys changed; an address whose new key
/// belongs to another account already is left as it is, and logged.
pub async fn rekey_email_lookups(db: &sqlx::PgPool) -> Result<u64, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, email, email_lookup FROM users WHERE email !~ '^[[:ascii:]]*$'"#
    )
    .fetch_all(db)
    .await?;
    let mut changed = 0;
    for row in rows {
        let key = email_lookup(&row.email);
        if key == row.email_lookup {
            continue;
        }
        match sqlx::query!(
            "UPDATE users SET email_lookup = $2 WHERE id = $1",
            row.id,
            key
        )
        .execute(db)
        .await
        {
            Ok(_) => changed += 1,
            Err(err) if crate::server::db::is_unique_violation(&err) => {
                tracing::warn!(user_id = %row.id, "two accounts fold to one address; left as it is");
            }
            Err(err) => return Err(err),
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_match_whatever_their_case_or_width() {
        assert_eq!(email_lookup(" Ann@Example.COM "), "ann@example.com");
        assert_eq!(
            email_lookup("Straße@example.com"),
            email_lookup("STRASSE@example.com")
        );
        assert_eq!(email_lookup("ａｎｎ@example.com"), "ann@example.com");
        // A final sigma folds like any other.
        assert_eq!(
            email_lookup("\u{39f}\u{394}\u{39f}\u{3a3}@example.com"),
            email_lookup("\u{3bf}\u{3b4}\u{3bf}\u{3c2}@example.com")
        );
    }

    #[test]
    fn debug_leaves_the_password_hash_out() {
        let row = UserRow {
            id: Uuid::nil(),
            email: "ann@example.com".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(!format!("{row:?}").contains("argon2"));
    }
}
