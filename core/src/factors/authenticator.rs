//! Authenticator-app factors: enrollment (a pending secret that becomes active only once a code
//! from it is verified) and verification of codes at sign-in. Services take `now` from the caller.

use crate::db::factors::{self, FactorState};
use crate::db::totp_factors::{self, NewPendingTotp, TotpFactor};
use crate::error::Error;
use crate::ids::{FactorId, UserId};
use crate::primitives::crypto::KeyRing;
use crate::primitives::totp::TotpSecret;
use domain::validation::OtpCode;
use sqlx::PgPool;
use time::OffsetDateTime;

/// An abandoned wizard's secret stops working after this long.
pub const PENDING_LIFETIME: time::Duration = time::Duration::minutes(15);
/// Wrong codes a pending factor tolerates before the wizard must start again.
pub const MAX_ENROLLMENT_ATTEMPTS: i32 = 5;

/// A secret waiting for its first code. The secret is shown to the person once (QR code and
/// manual key) and never again.
#[derive(Debug)]
pub struct PendingTotp {
    pub factor_id: FactorId,
    pub secret: TotpSecret,
}

/// Starts (or restarts) enrollment: any earlier pending secret of this user is discarded. An
/// active authenticator keeps working until the new one is verified.
#[tracing::instrument(skip_all)]
pub async fn begin(
    pool: &PgPool,
    keys: &KeyRing,
    user_id: UserId,
    label: &str,
    now: OffsetDateTime,
) -> Result<PendingTotp, Error> {
    let factor_id = FactorId::new_random();
    let secret = TotpSecret::generate();
    let sealed = keys
        .seal(secret.as_bytes(), factor_id.as_bytes())
        .map_err(Error::internal)?;
    let mut tx = pool.begin().await?;
    totp_factors::delete_pending(&mut *tx, user_id).await?;
    totp_factors::insert_pending(
        &mut *tx,
        NewPendingTotp {
            id: factor_id,
            user_id,
            label,
            sealed: &sealed,
            expires_at: now + PENDING_LIFETIME,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PendingTotp { factor_id, secret })
}

/// The first code typed for a pending authenticator.
#[derive(Clone, Copy, Debug)]
pub struct Confirmation<'a> {
    pub user_id: UserId,
    pub factor_id: FactorId,
    pub code: &'a OtpCode,
}

/// Verifies the first code of a pending secret and makes it the account's authenticator,
/// replacing the previous one, inside the caller's transaction `tx` (so what goes with it, such
/// as the first backup codes, commits or fails together). Wrong codes are counted on `pool`,
/// outside it: a failed attempt stays counted whatever the caller does next. After the last
/// allowed wrong code the pending secret is discarded.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    pool: &PgPool,
    tx: &mut sqlx::PgConnection,
    keys: &KeyRing,
    confirmation: Confirmation<'_>,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let Confirmation {
        user_id,
        factor_id,
        code,
    } = confirmation;
    let factor = totp_factors::find(pool, user_id, factor_id)
        .await?
        .ok_or(Error::SetupExpired)?;
    if factor.state != FactorState::Pending || factor.expires_at.is_none_or(|at| at <= now) {
        return Err(Error::SetupExpired);
    }
    let secret = open(keys, &factor)?;
    reseal_if_stale(pool, keys, &factor, &secret).await;
    let Some(step) = secret.matching_step(code.digits(), unix(now)?, None) else {
        let failed = factors::count_failed_attempt(pool, factor.id).await?;
        let attempts_left = MAX_ENROLLMENT_ATTEMPTS - failed;
        if attempts_left <= 0 {
            factors::delete(pool, factor.id).await?;
            return Err(Error::SetupAttemptsUsedUp);
        }
        return Err(Error::WrongSetupCode { attempts_left });
    };
    totp_factors::delete_active(&mut *tx, user_id).await?;
    if !totp_factors::activate(&mut *tx, factor.id, to_i64(step)?, now).await? {
        return Err(Error::SetupExpired);
    }
    Ok(())
}

/// What became of a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    /// Not a code of the account's authenticator around now.
    Wrong,
    /// A code of the authenticator, but for a time step already used: accepted once, never
    /// again (RFC 6238 §5.2).
    Replayed,
}

/// Checks a code from the account's authenticator. A code is accepted once: its time step is
/// consumed by a compare-and-set, so a replay, or the same code sent twice at once, fails.
#[tracing::instrument(skip_all)]
pub async fn check(
    pool: &PgPool,
    keys: &KeyRing,
    user_id: UserId,
    code: &OtpCode,
    now: OffsetDateTime,
) -> Result<CodeCheck, Error> {
    let Some(factor) = totp_factors::find_active(pool, user_id).await? else {
        return Ok(CodeCheck::Wrong);
    };
    let secret = open(keys, &factor)?;
    reseal_if_stale(pool, keys, &factor, &secret).await;
    let Some(step) = secret.matching_step(code.digits(), unix(now)?, factor.last_step) else {
        // Not for a fresh step: a code of this authenticator already used, or no code at all.
        return Ok(
            if secret
                .matching_step(code.digits(), unix(now)?, None)
                .is_some()
            {
                CodeCheck::Replayed
            } else {
                CodeCheck::Wrong
            },
        );
    };
    Ok(
        if totp_factors::consume_step(pool, factor.id, to_i64(step)?, now).await? {
            CodeCheck::Accepted
        } else {
            // Another submission of the same code got there first.
            CodeCheck::Replayed
        },
    )
}

/// [`check`], as a yes or no.
#[tracing::instrument(skip_all)]
pub async fn verify(
    pool: &PgPool,
    keys: &KeyRing,
    user_id: UserId,
    code: &OtpCode,
    now: OffsetDateTime,
) -> Result<bool, Error> {
    Ok(check(pool, keys, user_id, code, now).await? == CodeCheck::Accepted)
}

fn open(keys: &KeyRing, factor: &TotpFactor) -> Result<TotpSecret, Error> {
    let bytes = keys
        .open(&factor.sealed, factor.id.as_bytes())
        .map_err(Error::internal)?;
    Ok(TotpSecret::from_bytes(bytes))
}

/// Seals the secret again under the current key when it was sealed with an older one, so that
/// old keys stop being needed as the secrets are used. A compare-and-set on the old key id:
/// two processes doing it at once write one result. Best effort: a failure here must not fail
/// the sign-in it happens in (the secret still opens under the old key).
async fn reseal_if_stale(pool: &PgPool, keys: &KeyRing, factor: &TotpFactor, secret: &TotpSecret) {
    if let Err(err) = reseal(pool, keys, factor, secret).await {
        tracing::warn!(factor_id = %factor.id, error = %err, "could not re-seal an authenticator secret");
    }
}

/// Re-seals under the current key if stale; true when it did.
async fn reseal(
    pool: &PgPool,
    keys: &KeyRing,
    factor: &TotpFactor,
    secret: &TotpSecret,
) -> Result<bool, Error> {
    if !keys.is_stale(&factor.sealed) {
        return Ok(false);
    }
    let fresh = keys
        .seal(secret.as_bytes(), factor.id.as_bytes())
        .map_err(Error::internal)?;
    Ok(totp_factors::replace_sealed(pool, factor.id, &factor.sealed.key_id, &fresh).await?)
}

/// What `server --reseal` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resealed {
    pub resealed: u64,
    /// Factors whose secret could not be opened with any key of the ring (their key is
    /// missing): left as they are.
    pub unopenable: Vec<FactorId>,
}

/// Re-seals every authenticator secret still sealed with an old key (`server --reseal`),
/// skipping (and naming) any it cannot open.
#[tracing::instrument(skip_all)]
pub async fn reseal_all(pool: &PgPool, keys: &KeyRing) -> Result<Resealed, Error> {
    let mut done = Resealed::default();
    for factor in totp_factors::find_not_sealed_with(pool, keys.current_key_id()).await? {
        let Ok(secret) = open(keys, &factor) else {
            done.unopenable.push(factor.id);
            continue;
        };
        if reseal(pool, keys, &factor, &secret).await? {
            done.resealed += 1;
        }
    }
    Ok(done)
}

/// What still depends on each key of the ring, and on keys no longer in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyUsage {
    /// (key id, in the ring, authenticators sealed with it, backup-code sets hashed with it)
    pub keys: Vec<(String, bool, i64, i64)>,
    /// Backup-code sets made before the key was recorded (learned when one of their codes is
    /// used).
    pub sets_with_unknown_key: i64,
}

#[tracing::instrument(skip_all)]
pub async fn key_usage(pool: &PgPool, keys: &KeyRing) -> Result<KeyUsage, Error> {
    let sealed = totp_factors::count_per_key(pool).await?;
    let sets = crate::db::backup_codes::sets_per_key(pool).await?;
    let mut usage = KeyUsage::default();
    let mut ids: Vec<String> = keys.key_ids().map(str::to_owned).collect();
    for id in sealed
        .iter()
        .map(|(id, _)| id)
        .chain(sets.iter().filter_map(|(id, _)| id.as_ref()))
    {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    for id in ids {
        let in_ring = keys.key_ids().any(|k| k == id);
        let authenticators = sealed.iter().find(|(k, _)| *k == id).map_or(0, |(_, n)| *n);
        let backup_sets = sets
            .iter()
            .find(|(k, _)| k.as_deref() == Some(id.as_str()))
            .map_or(0, |(_, n)| *n);
        usage.keys.push((id, in_ring, authenticators, backup_sets));
    }
    usage.sets_with_unknown_key = sets
        .iter()
        .find(|(k, _)| k.is_none())
        .map_or(0, |(_, n)| *n);
    Ok(usage)
}

fn unix(now: OffsetDateTime) -> Result<u64, Error> {
    u64::try_from(now.unix_timestamp()).map_err(Error::internal)
}

fn to_i64(step: u64) -> Result<i64, Error> {
    i64::try_from(step).map_err(Error::internal)
}
