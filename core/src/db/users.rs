use crate::ids::UserId;
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// A user row. Holds the password hash, so it is explicitly not `Serialize`, and `Debug` leaves
/// the hash out.
#[derive(Clone)]
pub struct UserRow {
    pub id: UserId,
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

/// The key accounts are matched on, independent of the database locale: the local part after
/// NFKC and Unicode case folding ("Straße" and "STRASSE" are one mailbox name), the domain in
/// its ASCII (IDNA) form, lower case, as mail is routed ("bücher.example",
/// "xn--bcher-kva.example" and "BÜCHER．example" are one domain; "straße.example" and
/// "strasse.example" are two).
pub fn email_lookup(email: &str) -> String {
    let normalized = domain::validation::normalize_password(email.trim());
    match normalized.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = idna::domain_to_ascii(domain)
                .unwrap_or_else(|_| domain.to_owned())
                .to_ascii_lowercase();
            format!("{}@{domain}", unicase::UniCase::new(local).to_folded_case())
        }
        None => unicase::UniCase::new(normalized.as_str()).to_folded_case(),
    }
}

#[tracing::instrument(skip_all)]
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

#[tracing::instrument(skip_all)]
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

/// What a sign-in needs to know about the account besides its password hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FactorsSeen {
    /// Whether the account has an active second factor.
    pub has_factor: bool,
    /// The account's factors version when this was read (see the migration).
    pub version: i64,
}

/// The account with `email` for a sign-in, with its second factors as seen now: one query on
/// the sign-in path.
#[tracing::instrument(skip_all)]
pub async fn find_for_sign_in(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<(UserRow, FactorsSeen)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT u.id AS "id: UserId", u.email, u.password_hash, u.created_at, u.factors_version,
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
            FactorsSeen {
                has_factor: r.has_factor,
                version: r.factors_version,
            },
        )
    }))
}

/// Records a change to the account's second factors, inside the change's transaction: sign-ins
/// that read the account before it start no session (they decide again).
#[tracing::instrument(skip_all)]
pub async fn bump_factors_version(db: impl PgExecutor<'_>, id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET factors_version = factors_version + 1 WHERE id = $1",
        id as UserId
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn find_by_id(
    db: impl PgExecutor<'_>,
    id: UserId,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        "SELECT id, email, password_hash, created_at FROM users WHERE id = $1",
        id as UserId,
    )
    .fetch_optional(db)
    .await
}

/// Replaces the password hash if it is still `verified_hash` (the one the current password was
/// checked against). Returns false when another change got there first.
#[tracing::instrument(skip_all)]
pub async fn replace_password_hash(
    db: impl PgExecutor<'_>,
    id: UserId,
    verified_hash: &str,
    new_hash: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE users SET password_hash = $3, password_changed_at = $4
           WHERE id = $1 AND password_hash = $2"#,
        id as UserId,
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
#[tracing::instrument(skip_all)]
pub async fn lock_for_update(db: impl PgExecutor<'_>, id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT id FROM users WHERE id = $1 FOR UPDATE",
        id as UserId
    )
    .fetch_optional(db)
    .await?;
    Ok(())
}

/// What bringing the lookup keys up to date found.
#[derive(Debug, PartialEq, Eq)]
pub enum Rekeyed {
    /// This many keys changed (none needs to any more).
    Done(u64),
    /// These accounts' addresses now match another account's: nothing was changed, and an
    /// administrator must change one address of each pair (new key, user ids).
    Collisions(Vec<(String, Vec<UserId>)>),
}

/// Brings the lookup keys of addresses with non-ASCII characters or non-ASCII-looking domains
/// up to date with [`email_lookup`] (they were lower-cased only before NFKC, case folding and
/// IDNA). Run at start-up; quick when nothing is left to do. If two accounts would now share a
/// key, changes nothing and says which: one of them would otherwise become unreachable.
#[tracing::instrument(skip_all)]
pub async fn rekey_email_lookups(db: &sqlx::PgPool) -> Result<Rekeyed, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: UserId", email, email_lookup FROM users
           WHERE email !~ '^[[:ascii:]]*$' OR email ~* '@(.*[.])?xn--'"#
    )
    .fetch_all(db)
    .await?;
    let changes: Vec<(UserId, String)> = rows
        .into_iter()
        .filter_map(|row| {
            let key = email_lookup(&row.email);
            (key != row.email_lookup).then_some((row.id, key))
        })
        .collect();
    if changes.is_empty() {
        return Ok(Rekeyed::Done(0));
    }
    let keys: Vec<String> = changes.iter().map(|(_, key)| key.clone()).collect();
    let holders = sqlx::query!(
        r#"SELECT id AS "id: UserId", email_lookup FROM users WHERE email_lookup = ANY($1::text[])"#,
        &keys
    )
    .fetch_all(db)
    .await?;
    let mut collisions: Vec<(String, Vec<UserId>)> = Vec::new();
    for (_, key) in &changes {
        let mut ids: Vec<UserId> = holders
            .iter()
            .filter(|h| &h.email_lookup == key)
            .map(|h| h.id)
            .chain(changes.iter().filter(|(_, k)| k == key).map(|(i, _)| *i))
            .collect();
        ids.sort();
        ids.dedup();
        if ids.len() > 1 && !collisions.iter().any(|(k, _)| k == key) {
            collisions.push((key.clone(), ids));
        }
    }
    if !collisions.is_empty() {
        return Ok(Rekeyed::Collisions(collisions));
    }
    let mut tx = db.begin().await?;
    for (id, key) in &changes {
        sqlx::query!(
            "UPDATE users SET email_lookup = $2 WHERE id = $1",
            *id as UserId,
            key
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Rekeyed::Done(changes.len() as u64))
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
            id: UserId::from_uuid(uuid::Uuid::nil()),
            email: "ann@example.com".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(!format!("{row:?}").contains("argon2"));
    }
}
