//! How the server functions put what the services return into words and pictures for the
//! pages: dates, browsers, QR codes, file names. Services deal in domain values
//! (`OffsetDateTime`s, user-agent strings, secrets); everything a person reads is made here, in
//! one place per kind, ready for translation. Server only.

use crate::api::two_factor::{
    BackupCodeSet, SecurityOverview, SignedOutElsewhere, TotpSetup, TrustedBrowser, TwoFactorStatus,
};
use crate::api::user_agent;
use crate::error::AppError;
use crate::server::Error;
use crate::server::factors::two_factor::{
    IssuedBackupCodes, SecuritySummary, TotpEnrollment, TrustedBrowserSummary, TwoFactorSummary,
};
use crate::server::security_log;
use crate::validation::ProofKind;

/// The words and status of every outcome a service refuses with: one message per outcome,
/// written here and nowhere else.
impl From<Error> for AppError {
    fn from(err: Error) -> Self {
        match err {
            Error::Invalid(invalid) => AppError::from(invalid),
            Error::InvalidCredentials => AppError::InvalidCredentials,
            Error::Unauthenticated => AppError::Unauthenticated,
            Error::StepUpRequired { proof } => AppError::StepUpRequired { proof },
            Error::TooManyAttempts { retry_after_secs } => {
                AppError::TooManyAttempts { retry_after_secs }
            }
            Error::AccountLocked => AppError::AccountLocked,
            Error::Busy { retry_after_secs } => AppError::Busy { retry_after_secs },
            Error::Internal => AppError::Internal,
            Error::EmailTaken => AppError::field(
                "email",
                "An account with this email already exists. Sign in instead?",
            ),
            Error::PasswordMissing => AppError::field("password", "Enter your password."),
            Error::WrongPassword => AppError::field("password", "That is not your password."),
            Error::SecondFactorNeeded => AppError::field(
                "password",
                "Your account has two-factor authentication: confirm with a code from your \
                 authenticator app or a backup code.",
            ),
            Error::NoSecondFactor => AppError::field(
                "code",
                "Your account has no authenticator app. Use your password.",
            ),
            Error::WrongCode {
                kind: ProofKind::AuthenticatorCode,
            } => AppError::field(
                "code",
                "That code didn't match. Wait for the next code and try again.",
            ),
            Error::WrongCode {
                kind: ProofKind::BackupCode,
            } => AppError::field(
                "code",
                "That backup code didn't work. Check it, or use another one.",
            ),
            Error::SetupExpired => AppError::field(
                "code",
                "This setup has expired. Start again to get a new QR code.",
            ),
            Error::WrongSetupCode { attempts_left } => AppError::field(
                "code",
                format!(
                    "That code didn't match. {}.",
                    attempts_left_words(attempts_left)
                ),
            ),
            Error::SetupAttemptsUsedUp => AppError::field(
                "code",
                "Too many wrong codes. Start again to get a new QR code.",
            ),
            Error::TwoFactorOff => {
                AppError::field("two_factor", "Turn on two-factor authentication first.")
            }
            Error::TwoFactorAlreadyOff => {
                AppError::field("two_factor", "Two-factor authentication is already off.")
            }
            Error::WrongCurrentPassword => {
                AppError::field("current_password", "That is not your current password.")
            }
            Error::PasswordChangedElsewhere => AppError::field(
                "current_password",
                "Your password was just changed in another session. Sign in again to continue.",
            ),
        }
    }
}

/// A wrong code at the sign-in challenge, with the tries that remain in it.
pub fn wrong_challenge_code(attempts_left: i32) -> AppError {
    AppError::field(
        "code",
        format!(
            "That code didn't work. {}.",
            attempts_left_words(attempts_left)
        ),
    )
}

/// "1 attempt left", "3 attempts left".
fn attempts_left_words(attempts_left: i32) -> String {
    let plural = if attempts_left == 1 {
        "attempt"
    } else {
        "attempts"
    };
    format!("{attempts_left} {plural} left")
}

/// A date as the pages show it: "27 Nov 2026".
pub fn date(at: time::OffsetDateTime) -> Result<String, AppError> {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    at.format(&format).map_err(AppError::internal)
}

pub fn security_overview(summary: SecuritySummary) -> Result<SecurityOverview, AppError> {
    Ok(SecurityOverview {
        email: summary.email,
        two_factor: summary.two_factor.map(two_factor_status).transpose()?,
        trusted_browsers: summary
            .trusted_browsers
            .into_iter()
            .map(trusted_browser)
            .collect::<Result<_, _>>()?,
    })
}

fn two_factor_status(summary: TwoFactorSummary) -> Result<TwoFactorStatus, AppError> {
    Ok(TwoFactorStatus {
        authenticator_added: date(summary.authenticator_added)?,
        backup_codes_left: summary.backup_codes_left,
        backup_codes_total: summary.backup_codes_total,
    })
}

fn trusted_browser(summary: TrustedBrowserSummary) -> Result<TrustedBrowser, AppError> {
    Ok(TrustedBrowser {
        id: summary.id.to_string(),
        description: user_agent::describe(summary.user_agent.as_deref()),
        trusted_since: date(summary.trusted_since)?,
        last_used: date(summary.last_used)?,
        this_browser: summary.this_browser,
    })
}

/// The wizard's first step: the secret as a QR code and as a key to type.
pub fn totp_setup(enrollment: TotpEnrollment) -> Result<TotpSetup, AppError> {
    Ok(TotpSetup {
        factor_id: enrollment.factor_id.to_string(),
        qr_code: qr_code_data_uri(&enrollment.key_uri)?,
        manual_key: enrollment.secret.grouped_base32(),
        replacing: enrollment.replacing,
    })
}

pub fn backup_code_set(issued: IssuedBackupCodes) -> BackupCodeSet {
    BackupCodeSet {
        codes: issued
            .codes
            .iter()
            .map(|code| code.display().to_owned())
            .collect(),
        file_name: backup_codes_file_name(&issued.account),
        account: issued.account,
    }
}

pub fn signed_out(signed_out: security_log::SignedOutElsewhere) -> SignedOutElsewhere {
    SignedOutElsewhere {
        other_sessions: signed_out.other_sessions_signed_out,
        trusted_browsers: signed_out.trusted_browsers_revoked,
    }
}

/// The key URI as an SVG QR code in a `data:` URI, for an `<img>`: the QR encoder stays on the
/// server, out of the WASM bundle, and the page needs no inline markup from the server.
pub fn qr_code_data_uri(uri: &str) -> Result<String, AppError> {
    use base64::Engine as _;
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(AppError::internal)?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    ))
}

/// `keyward-backup-codes-ann@example.com.txt`, with anything unsafe in a file name replaced.
pub fn backup_codes_file_name(email: &str) -> String {
    let account: String = email
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("keyward-backup-codes-{account}.txt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_code_files_are_named_after_the_account() {
        assert_eq!(
            backup_codes_file_name("ann@example.com"),
            "keyward-backup-codes-ann@example.com.txt"
        );
        assert_eq!(
            backup_codes_file_name("a/b\\c\"d@example.com"),
            "keyward-backup-codes-a_b_c_d@example.com.txt"
        );
    }

    #[test]
    fn every_refusal_is_worded_beside_its_field() {
        let kind = |kind| Error::WrongCode { kind };
        for (refusal, field) in [
            (Error::EmailTaken, "email"),
            (Error::PasswordMissing, "password"),
            (Error::WrongPassword, "password"),
            (Error::SecondFactorNeeded, "password"),
            (Error::NoSecondFactor, "code"),
            (kind(ProofKind::AuthenticatorCode), "code"),
            (kind(ProofKind::BackupCode), "code"),
            (Error::SetupExpired, "code"),
            (Error::WrongSetupCode { attempts_left: 2 }, "code"),
            (Error::SetupAttemptsUsedUp, "code"),
            (Error::TwoFactorOff, "two_factor"),
            (Error::TwoFactorAlreadyOff, "two_factor"),
            (Error::WrongCurrentPassword, "current_password"),
            (Error::PasswordChangedElsewhere, "current_password"),
        ] {
            let words = AppError::from(refusal.clone());
            assert!(words.message_for(field).is_some(), "{refusal:?}: {words:?}");
        }
        let left = |attempts_left| {
            AppError::from(Error::WrongSetupCode { attempts_left }).message_for("code")
        };
        assert_eq!(
            left(1).as_deref(),
            Some("That code didn't match. 1 attempt left.")
        );
        assert_eq!(
            left(3).as_deref(),
            Some("That code didn't match. 3 attempts left.")
        );
        assert_eq!(
            wrong_challenge_code(4).message_for("code").as_deref(),
            Some("That code didn't work. 4 attempts left.")
        );
        // What is not a refusal keeps its kind (and so its status).
        assert_eq!(
            AppError::from(Error::Busy {
                retry_after_secs: 2
            }),
            AppError::Busy {
                retry_after_secs: 2
            }
        );
    }

    #[test]
    fn dates_read_as_day_month_year() {
        assert_eq!(
            date(time::macros::datetime!(2026-11-07 12:00 UTC)).unwrap(),
            "7 Nov 2026"
        );
    }

    #[test]
    fn the_key_to_type_is_the_secret_in_groups_of_four() {
        let secret = crate::server::primitives::totp::TotpSecret::generate();
        let bytes = secret.as_bytes().to_vec();
        let setup = totp_setup(TotpEnrollment {
            factor_id: crate::server::FactorId::from_uuid(uuid::Uuid::nil()),
            secret,
            key_uri: "otpauth://totp/Keyward:ann%40example.com?secret=ABC".into(),
            replacing: true,
        })
        .unwrap();
        assert!(setup.manual_key.split(' ').all(|group| group.len() <= 4));
        let typed = setup.manual_key.replace(' ', "");
        let decoded = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &typed);
        assert_eq!(decoded, Some(bytes));
        assert!(setup.qr_code.starts_with("data:image/svg+xml;base64,"));
        assert_eq!(setup.factor_id, uuid::Uuid::nil().to_string());
        assert!(setup.replacing);
        // The page's type prints no secret either.
        assert!(!format!("{setup:?}").contains(&setup.manual_key));
    }

    #[test]
    fn the_qr_code_is_an_svg_data_uri() {
        let uri = qr_code_data_uri("otpauth://totp/Keyward:ann%40example.com?secret=ABC").unwrap();
        assert!(uri.starts_with("data:image/svg+xml;base64,"));
    }
}
