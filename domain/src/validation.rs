//! The one validation module. Forms run it in the browser (compiled to WASM) as the user types,
//! and server functions run the very same code before anything is stored, so the two can never
//! disagree about what is acceptable.

use serde::{Deserialize, Serialize};

/// A problem with one form field, shown next to that field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// What the validator refused: each problem names its field and says why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn field(field: &str, message: impl Into<String>) -> Invalid {
        Invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// The message for one field, if it has a problem.
    pub fn message_for(&self, field: &str) -> Option<String> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    }
}

pub const MAX_EMAIL_LENGTH: usize = 254;

/// Which extra rules a password must satisfy beyond its length and the common-password list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompositionRules {
    /// NIST SP 800-63B: no composition rules at all (the default).
    #[default]
    None,
    /// At least one upper-case letter, one lower-case letter and one digit, for customers whose
    /// own policies still ask for it.
    UpperLowerDigit,
}

/// The password policy, read from configuration on the server and sent to the browser so that
/// forms give the same verdict before submitting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    /// Minimum length in Unicode code points after NFKC normalisation, a run of spaces counting
    /// as one (so "a" and fourteen spaces is not a long password).
    pub min_length: usize,
    /// Maximum length in code points; long enough for passphrases, short enough to bound hashing.
    pub max_length: usize,
    pub composition: CompositionRules,
}

impl Default for PasswordPolicy {
    /// NIST SP 800-63B-4: at least 15 characters for a password that is the only factor, which
    /// every new account's is; no composition rules.
    fn default() -> Self {
        PasswordPolicy {
            min_length: 15,
            max_length: 128,
            composition: CompositionRules::None,
        }
    }
}

/// A set of passwords refused because attackers try them first.
pub trait CommonPasswords {
    /// `candidate` is already NFKC-normalised and lower-cased.
    fn contains(&self, candidate: &str) -> bool;
}

/// A list that may not have arrived yet (the browser downloads it): empty until it has.
impl<T: CommonPasswords> CommonPasswords for Option<std::sync::Arc<T>> {
    fn contains(&self, candidate: &str) -> bool {
        self.as_ref().is_some_and(|list| list.contains(candidate))
    }
}

/// Used in the browser until the list has been downloaded: the server still checks the list.
pub struct NoCommonPasswords;

impl CommonPasswords for NoCommonPasswords {
    fn contains(&self, _candidate: &str) -> bool {
        false
    }
}

/// The shipped list, sorted for binary search. (A sorted vector rather than a hash set: as fast
/// for a list this size, and without the hashing code in the browser's WebAssembly.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommonPasswordList(Vec<String>);

impl CommonPasswords for CommonPasswordList {
    fn contains(&self, candidate: &str) -> bool {
        self.0
            .binary_search_by(|entry| entry.as_str().cmp(candidate))
            .is_ok()
    }
}

impl CommonPasswordList {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads a list that is already in the form [`parse_common_passwords`] gives: one entry per
/// line, normalised, lower-cased, sorted and without duplicates. The shipped file is (a test in
/// `keyward-core` checks it), so the browser reads it as it arrives: no sorting or per-entry
/// normalising code in its WebAssembly, and no work on 11,000 entries while the person types.
pub fn read_prepared_common_passwords(text: &str) -> CommonPasswordList {
    CommonPasswordList(text.lines().map(str::to_owned).collect())
}

/// Parses a list of passwords (one per line), in any order or case.
pub fn parse_common_passwords(text: &str) -> CommonPasswordList {
    let mut entries: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| lowercase(&normalize_password(line)))
        .collect();
    entries.sort_unstable();
    entries.dedup();
    CommonPasswordList(entries)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort { min: usize },
    TooLong { max: usize },
    Common,
    ContainsEmail,
    MissingUpper,
    MissingLower,
    MissingDigit,
}

impl PasswordProblem {
    pub fn message(&self) -> String {
        match self {
            PasswordProblem::TooShort { min } => format!("Use at least {min} characters."),
            PasswordProblem::TooLong { max } => format!("Use at most {max} characters."),
            PasswordProblem::Common => {
                "This password is too common. Choose one that is harder to guess.".to_owned()
            }
            PasswordProblem::ContainsEmail => {
                "Don't use your email address in your password.".to_owned()
            }
            PasswordProblem::MissingUpper => "Add an upper-case letter.".to_owned(),
            PasswordProblem::MissingLower => "Add a lower-case letter.".to_owned(),
            PasswordProblem::MissingDigit => "Add a digit.".to_owned(),
        }
    }
}

/// NFKC, as NIST SP 800-63B asks, so that a password typed with a different keyboard or input
/// method (full-width digits, ligatures) still matches. The browser's own implementation is used
/// in WASM to keep the Unicode tables out of the bundle; both follow the same Unicode standard.
pub fn normalize_password(password: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(password).normalize("NFKC"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use unicode_normalization::UnicodeNormalization;
        password.nfkc().collect()
    }
}

/// Unicode's default lower-casing (the full mapping, final sigma included), for comparing a
/// password with the common list and the email address. In WASM the browser's own
/// `toLowerCase`: Rust's is a 12 KB table that would sit in the main module of every page (data
/// cannot be split into an island's chunk). Same algorithm; the Unicode versions may differ by
/// a few recent characters, and then the server's check, which decides, says so beside the
/// field with what was typed kept.
fn lowercase(text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(text).to_lower_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.to_lowercase()
    }
}

/// Every rule of `policy` that `password` breaks, in the order a person should fix them.
/// An empty list means the password is acceptable.
pub fn password_problems(
    password: &str,
    email: Option<&str>,
    policy: &PasswordPolicy,
    common: &impl CommonPasswords,
) -> Vec<PasswordProblem> {
    let normalized = normalize_password(password);
    let length = normalized.chars().count();
    let lowered = lowercase(&normalized);
    let mut problems = Vec::new();
    if length_for_minimum(&normalized) < policy.min_length {
        problems.push(PasswordProblem::TooShort {
            min: policy.min_length,
        });
    }
    if length > policy.max_length {
        problems.push(PasswordProblem::TooLong {
            max: policy.max_length,
        });
    }
    if policy.composition == CompositionRules::UpperLowerDigit {
        if !normalized.chars().any(char::is_uppercase) {
            problems.push(PasswordProblem::MissingUpper);
        }
        if !normalized.chars().any(char::is_lowercase) {
            problems.push(PasswordProblem::MissingLower);
        }
        if !normalized.chars().any(|c| c.is_ascii_digit()) {
            problems.push(PasswordProblem::MissingDigit);
        }
    }
    if length > 0 && common.contains(&lowered) {
        problems.push(PasswordProblem::Common);
    }
    if let Some(local_part) = email.and_then(email_local_part) {
        // Short local parts ("jo@…") would refuse too many good passwords by accident.
        if local_part.chars().count() >= 3 && lowered.contains(&local_part) {
            problems.push(PasswordProblem::ContainsEmail);
        }
    }
    problems
}

/// The length the minimum is checked against: code points, each run of whitespace counting as
/// one. (The maximum counts every code point: it bounds what is hashed.)
pub fn length_for_minimum(normalized: &str) -> usize {
    let mut length = 0;
    let mut in_space = false;
    for c in normalized.chars() {
        if c.is_whitespace() {
            if !in_space {
                length += 1;
            }
            in_space = true;
        } else {
            length += 1;
            in_space = false;
        }
    }
    length
}

fn email_local_part(email: &str) -> Option<String> {
    let (local, _) = email.trim().rsplit_once('@')?;
    Some(lowercase(&normalize_password(local)))
}

/// One line of the live checklist shown under a new-password field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub text: String,
    pub met: bool,
}

/// The rules of `policy` as a checklist, each ticked when `password` satisfies it.
pub fn password_requirements(
    password: &str,
    email: Option<&str>,
    policy: &PasswordPolicy,
    common: &impl CommonPasswords,
) -> Vec<Requirement> {
    let problems = password_problems(password, email, policy, common);
    let has = |p: PasswordProblem| problems.contains(&p);
    let mut list = vec![Requirement {
        text: format!(
            "At least {} characters (spaces in a row count once)",
            policy.min_length
        ),
        met: !has(PasswordProblem::TooShort {
            min: policy.min_length,
        }),
    }];
    if policy.composition == CompositionRules::UpperLowerDigit {
        list.push(Requirement {
            text: "An upper-case letter".into(),
            met: !has(PasswordProblem::MissingUpper),
        });
        list.push(Requirement {
            text: "A lower-case letter".into(),
            met: !has(PasswordProblem::MissingLower),
        });
        list.push(Requirement {
            text: "A digit".into(),
            met: !has(PasswordProblem::MissingDigit),
        });
    }
    list.push(Requirement {
        text: "Not a commonly used password".into(),
        met: !password.is_empty() && !has(PasswordProblem::Common),
    });
    list
}

/// A rough guess of how hard the password is to guess, for the hint shown while typing. It is
/// advice only: acceptance is decided by [`password_problems`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    VeryWeak,
    Weak,
    Fair,
    Strong,
    VeryStrong,
}

impl Strength {
    pub fn label(self) -> &'static str {
        match self {
            Strength::VeryWeak => "Very weak",
            Strength::Weak => "Weak",
            Strength::Fair => "Fair",
            Strength::Strong => "Strong",
            Strength::VeryStrong => "Very strong",
        }
    }

    pub fn advice(self) -> &'static str {
        match self {
            Strength::VeryWeak | Strength::Weak => {
                "Easy to guess. A few unrelated words make a strong, memorable password."
            }
            Strength::Fair => "Could be stronger: make it longer.",
            Strength::Strong | Strength::VeryStrong => "Hard to guess. Nice.",
        }
    }

    /// 0 to 4, for a `<meter>`.
    pub fn score(self) -> u8 {
        self as u8
    }
}

pub fn estimate_strength(password: &str, common: &impl CommonPasswords) -> Strength {
    let normalized = normalize_password(password);
    if normalized.is_empty() || common.contains(&lowercase(&normalized)) {
        return Strength::VeryWeak;
    }
    let chars: Vec<char> = normalized.chars().collect();
    let mut pool = 0u32;
    if chars.iter().any(char::is_ascii_lowercase) {
        pool += 26;
    }
    if chars.iter().any(char::is_ascii_uppercase) {
        pool += 26;
    }
    if chars.iter().any(char::is_ascii_digit) {
        pool += 10;
    }
    if chars
        .iter()
        .any(|c| c.is_ascii() && !c.is_ascii_alphanumeric())
    {
        pool += 33;
    }
    if chars.iter().any(|c| !c.is_ascii()) {
        pool += 100;
    }
    // Repeats ("aaaa") and runs ("1234", "abcd") add almost nothing for a guesser.
    let mut effective = 1.0f64;
    for pair in chars.windows(2) {
        let step = pair[1] as i64 - pair[0] as i64;
        effective += if step == 0 || step.abs() == 1 {
            0.25
        } else {
            1.0
        };
    }
    let bits = effective * f64::from(pool.max(1)).log2();
    match bits {
        b if b < 28.0 => Strength::VeryWeak,
        b if b < 40.0 => Strength::Weak,
        b if b < 60.0 => Strength::Fair,
        b if b < 80.0 => Strength::Strong,
        _ => Strength::VeryStrong,
    }
}

/// Trims the address, normalises it (NFKC, so a full-width "＠" is an "@") and checks its
/// shape: no invisible format characters (zero-width spaces, direction marks: an address that
/// looks like another must not be a different account), a local part, and a domain that is a
/// valid internet domain once converted to ASCII (IDNA, as browsers do). Returns the address as
/// it will be shown; accounts are matched on a case-folded key on the server.
pub fn validate_email(email: &str) -> Result<String, String> {
    let email = normalize_password(email.trim());
    if email.is_empty() {
        return Err("Enter your email address.".into());
    }
    if email.chars().count() > MAX_EMAIL_LENGTH {
        return Err(format!(
            "Use an email address of at most {MAX_EMAIL_LENGTH} characters."
        ));
    }
    if email.chars().any(is_format_character) {
        return Err(
            "The address contains invisible characters (such as a zero-width space). \
             Type it rather than pasting it."
                .into(),
        );
    }
    let malformed = || "Enter an email address like name@example.com.".to_owned();
    let (local, domain) = email.rsplit_once('@').ok_or_else(malformed)?;
    let local_ok = !local.is_empty()
        && local.chars().count() <= 64
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !local_ok || !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Err(malformed());
    }
    if !is_valid_domain(domain) {
        return Err(
            "The part after the @ is not a valid domain. Check it for typing mistakes.".into(),
        );
    }
    Ok(email)
}

/// Characters that show nothing: Unicode's format characters (general category Cf) and the
/// rest of Default_Ignorable_Code_Point (variation selectors, fillers, the combining grapheme
/// joiner). Invisible, yet they make two addresses that look the same differ. Unicode 15.1.
fn is_format_character(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x034F
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Whether `domain` is a valid internet domain: converted to ASCII (IDNA per UTS #46, as the
/// WHATWG URL standard does it: the `idna` crate on the server, the browser's own `URL` in
/// WebAssembly, keeping the Unicode tables out of the bundle), every label is letters, digits
/// and inner hyphens, at most 63 long, 253 in all, and the last is not all digits.
pub fn is_valid_domain(domain: &str) -> bool {
    // Characters a URL parser would treat specially are refused before either converter sees
    // them, so that both give the same verdict.
    if domain
        .chars()
        .any(|c| c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
    {
        return false;
    }
    let punycode = domain
        .split('.')
        .any(|label| label.to_ascii_lowercase().starts_with("xn--"));
    let ascii = if domain.is_ascii() && !punycode {
        domain.to_ascii_lowercase()
    } else {
        match domain_to_ascii(domain) {
            Some(ascii) => ascii,
            None => return false,
        }
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    ascii.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// The ASCII (Punycode) form of an internationalised domain, `None` when it has none.
fn domain_to_ascii(domain: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        let url = web_sys::Url::new(&format!("http://{domain}/")).ok()?;
        Some(url.hostname())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        idna::domain_to_ascii(domain).ok()
    }
}

/// A sign-up that passed validation.
#[derive(Debug)]
pub struct ValidSignUp {
    pub email: String,
}

pub fn validate_sign_up(
    email: &str,
    password: &str,
    password_confirm: &str,
    policy: &PasswordPolicy,
    common: &impl CommonPasswords,
) -> Result<ValidSignUp, Invalid> {
    let mut errors = Vec::new();
    let email = match validate_email(email) {
        Ok(email) => Some(email),
        Err(message) => {
            errors.push(FieldError {
                field: "email".into(),
                message,
            });
            None
        }
    };
    check_new_password(
        "password",
        "password_confirm",
        password,
        password_confirm,
        email.as_deref(),
        policy,
        common,
        &mut errors,
    );
    match email {
        Some(email) if errors.is_empty() => Ok(ValidSignUp { email }),
        _ => Err(Invalid(errors)),
    }
}

/// No policy allows more than this; anything longer is refused before it reaches the hasher.
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// Sign-in checks only what an address needs to be looked up: present, not overlong, with an
/// "@". The stricter rules of [`validate_email`] are for new addresses; an account made before
/// one of them existed must still be able to sign in.
pub fn validate_sign_in(email: &str, password: &str) -> Result<String, Invalid> {
    let mut errors = Vec::new();
    let trimmed = email.trim();
    let email = if trimmed.is_empty() {
        errors.push(FieldError {
            field: "email".into(),
            message: "Enter your email address.".into(),
        });
        None
    } else if trimmed.chars().count() > MAX_EMAIL_LENGTH || !trimmed.contains('@') {
        errors.push(FieldError {
            field: "email".into(),
            message: "Enter an email address like name@example.com.".into(),
        });
        None
    } else {
        Some(trimmed.to_owned())
    };
    if password.is_empty() {
        errors.push(FieldError {
            field: "password".into(),
            message: "Enter your password.".into(),
        });
    } else if password.len() > MAX_PASSWORD_BYTES {
        errors.push(FieldError {
            field: "password".into(),
            message: "That password is too long.".into(),
        });
    }
    match email {
        Some(email) if errors.is_empty() => Ok(email),
        _ => Err(Invalid(errors)),
    }
}

pub fn validate_password_change(
    current_password: &str,
    new_password: &str,
    new_password_confirm: &str,
    email: &str,
    policy: &PasswordPolicy,
    common: &impl CommonPasswords,
) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    if current_password.is_empty() {
        errors.push(FieldError {
            field: "current_password".into(),
            message: "Enter your current password.".into(),
        });
    } else if current_password.len() > MAX_PASSWORD_BYTES {
        errors.push(FieldError {
            field: "current_password".into(),
            message: "That is not your current password.".into(),
        });
    }
    check_new_password(
        "new_password",
        "new_password_confirm",
        new_password,
        new_password_confirm,
        Some(email),
        policy,
        common,
        &mut errors,
    );
    if errors.is_empty() && normalize_password(current_password) == normalize_password(new_password)
    {
        errors.push(FieldError {
            field: "new_password".into(),
            message: "Choose a password different from your current one.".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid(errors))
    }
}

#[allow(clippy::too_many_arguments)]
fn check_new_password(
    field: &str,
    confirm_field: &str,
    password: &str,
    confirm: &str,
    email: Option<&str>,
    policy: &PasswordPolicy,
    common: &impl CommonPasswords,
    errors: &mut Vec<FieldError>,
) {
    if password.is_empty() {
        errors.push(FieldError {
            field: field.into(),
            message: "Choose a password.".into(),
        });
        return;
    }
    if let Some(problem) = password_problems(password, email, policy, common).first() {
        errors.push(FieldError {
            field: field.into(),
            message: problem.message(),
        });
    } else if let Some(message) = confirmation_problem(password, confirm) {
        errors.push(FieldError {
            field: confirm_field.into(),
            message: message.into(),
        });
    }
}

pub fn confirmation_problem(password: &str, confirm: &str) -> Option<&'static str> {
    if confirm.is_empty() {
        Some("Type the password again.")
    } else if password != confirm {
        Some("The passwords don't match.")
    } else {
        None
    }
}

/// A 6-digit code from an authenticator app, read as people type or paste it ("123 456",
/// "123-456", full-width digits): six ASCII digits. A live credential, so `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    /// The code, or the message to show beside the field.
    pub fn parse(input: &str) -> Result<OtpCode, String> {
        let normalized = normalize_password(input);
        let digits: String = normalized
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>();
        if digits.is_empty() {
            return Err("Enter the 6-digit code from your authenticator app.".into());
        }
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(OtpCode(digits))
        } else {
            Err("The code is 6 digits, like 123 456.".into())
        }
    }

    /// The six digits.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpCode(<redacted>)")
    }
}

/// Backup-code symbols: Crockford's base32 (digits and letters without i, l, o and u), 5 bits
/// each. The look-alikes are read as the digits they resemble when typed.
pub const BACKUP_CODE_ALPHABET: &[u8; 32] = b"23456789abcdefghjkmnpqrstvwxyz01";
/// Symbols per backup code, shown as `xxxxx-xxxxx`.
pub const BACKUP_CODE_CHARS: usize = 10;

/// A backup code as a person types it: case, spaces and dashes do not matter, and the
/// look-alikes never issued (o, i, l, u) count as the symbols they resemble. A live credential,
/// so `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct BackupCode(String);

impl BackupCode {
    /// The code, or the message to show beside the field.
    pub fn parse(input: &str) -> Result<BackupCode, String> {
        let mut out = String::with_capacity(BACKUP_CODE_CHARS);
        for c in input.chars() {
            let c = match c.to_ascii_lowercase() {
                ' ' | '-' => continue,
                'o' => '0',
                'i' | 'l' => '1',
                'u' => 'v',
                other => other,
            };
            if !c.is_ascii() || !BACKUP_CODE_ALPHABET.contains(&(c as u8)) {
                return Err("Backup codes use only letters and digits, like a2b3c-d4e5f.".into());
            }
            out.push(c);
        }
        match out.len() {
            0 => Err("Enter one of your backup codes.".into()),
            BACKUP_CODE_CHARS => Ok(BackupCode(out)),
            _ => Err("A backup code has 10 letters and digits, like a2b3c-d4e5f.".into()),
        }
    }

    /// The ten symbols, without the dash: the form a code is hashed in.
    pub fn symbols(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BackupCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupCode(<redacted>)")
    }
}

/// Which second factor a person answers with: the forms' "use a backup code instead" switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofKind {
    AuthenticatorCode,
    BackupCode,
}

impl ProofKind {
    /// The forms send the switch as `use_backup_code`.
    pub fn from_use_backup_code(use_backup_code: bool) -> ProofKind {
        if use_backup_code {
            ProofKind::BackupCode
        } else {
            ProofKind::AuthenticatorCode
        }
    }
}

/// What a person gives to prove their second factor, read once here, in the browser and again
/// on the server. The sign-in challenge and the step-up match on it, so a new way to prove a
/// second factor (a texted or emailed code, a passkey) is a new variant the compiler walks
/// through each of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecondFactorProof {
    /// A current code from the authenticator app.
    Totp(OtpCode),
    /// One of the account's backup codes, used up by the check.
    BackupCode(BackupCode),
}

impl SecondFactorProof {
    /// Reads what was typed into the code field as `kind`; the message for that field when it
    /// cannot be right.
    pub fn read(kind: ProofKind, typed: &str) -> Result<SecondFactorProof, String> {
        Ok(match kind {
            ProofKind::AuthenticatorCode => SecondFactorProof::Totp(OtpCode::parse(typed)?),
            ProofKind::BackupCode => SecondFactorProof::BackupCode(BackupCode::parse(typed)?),
        })
    }

    pub fn kind(&self) -> ProofKind {
        match self {
            SecondFactorProof::Totp(_) => ProofKind::AuthenticatorCode,
            SecondFactorProof::BackupCode(_) => ProofKind::BackupCode,
        }
    }

    /// The code in its normalised form, as sent to the server (which reads it again).
    pub fn code(&self) -> &str {
        match self {
            SecondFactorProof::Totp(code) => code.digits(),
            SecondFactorProof::BackupCode(code) => code.symbols(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_codes_are_read_forgivingly_and_refused_with_a_reason() {
        assert_eq!(
            BackupCode::parse(" A2B3C-d4e5f ").map(|c| c.symbols().to_owned()),
            Ok("a2b3cd4e5f".to_owned())
        );
        // Look-alikes that are never issued read as the symbols they resemble.
        assert_eq!(
            BackupCode::parse("OIlU2-34567").map(|c| c.symbols().to_owned()),
            Ok("011v234567".to_owned())
        );
        assert!(BackupCode::parse("").unwrap_err().contains("Enter"));
        assert!(
            BackupCode::parse("a2b3c")
                .unwrap_err()
                .contains("10 letters")
        );
        assert!(
            BackupCode::parse("a2b3c-d4e5!")
                .unwrap_err()
                .contains("only letters")
        );
    }

    #[test]
    fn the_common_list_is_found_by_its_normalised_lower_case_form() {
        let list = parse_common_passwords("Password\n\n  baseball \npassword\nzebra\n");
        assert_eq!(list.len(), 3);
        for present in ["password", "baseball", "zebra"] {
            assert!(list.contains(present), "{present}");
        }
        for absent in ["Password", "base", "zebras", ""] {
            assert!(!list.contains(absent), "{absent}");
        }
    }

    fn common() -> CommonPasswordList {
        parse_common_passwords("password\nbaseball\nqwertyuiop\n")
    }

    /// The classic policy: eight characters with an upper-case letter, a lower-case letter and
    /// a digit.
    fn composition() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 8,
            composition: CompositionRules::UpperLowerDigit,
            ..Default::default()
        }
    }

    /// A minimum of eight, for the rules other than the length.
    fn eight() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 8,
            ..Default::default()
        }
    }

    #[test]
    fn nist_default_accepts_any_characters_of_adequate_length() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.min_length, 15);
        for ok in [
            "correct horse battery",
            "ŝtupa-ĵaŭdo-ĉiam",
            "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑",
            "  x  y  z  a  b  c  d  e",
        ] {
            assert!(
                password_problems(ok, None, &policy, &common()).is_empty(),
                "{ok}"
            );
        }
    }

    #[test]
    fn a_run_of_spaces_counts_once_toward_the_minimum() {
        let policy = PasswordPolicy::default();
        let padded = format!("a{}", " ".repeat(14));
        assert_eq!(
            password_problems(&padded, None, &policy, &common()),
            vec![PasswordProblem::TooShort { min: 15 }]
        );
        assert_eq!(length_for_minimum("a  b\t\u{3000}c"), 5);
        // Single spaces between words count as typed.
        assert!(password_problems("tulip stone blue", None, &policy, &common()).is_empty());
    }

    #[test]
    fn length_counts_code_points_after_nfkc() {
        let policy = eight();
        // Seven code points, but 28 bytes of UTF-8: still too short.
        assert_eq!(
            password_problems("🔑🔑🔑🔑🔑🔑🔑", None, &policy, &common()),
            vec![PasswordProblem::TooShort { min: 8 }]
        );
        // "ﬀ" (U+FB00) becomes "ff" under NFKC, so six characters normalise to seven.
        assert_eq!(normalize_password("ﬀabcde").chars().count(), 7);
        // Full-width digits normalise to ASCII digits.
        assert_eq!(normalize_password("１２３"), "123");
        assert!(password_problems(&"a".repeat(128), None, &policy, &common()).is_empty());
        assert_eq!(
            password_problems(&"a".repeat(129), None, &policy, &common()),
            vec![PasswordProblem::TooLong { max: 128 }]
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case_or_width() {
        let policy = eight();
        for bad in ["password", "PassWord", "ＢＡＳＥＢＡＬＬ", "qwertyuiop"] {
            assert_eq!(
                password_problems(bad, None, &policy, &common()),
                vec![PasswordProblem::Common],
                "{bad}"
            );
        }
    }

    #[test]
    fn composition_policy_needs_upper_lower_and_digit() {
        let policy = composition();
        assert_eq!(
            password_problems("alllowercase", None, &policy, &common()),
            vec![PasswordProblem::MissingUpper, PasswordProblem::MissingDigit]
        );
        assert_eq!(
            password_problems("ALLUPPER99", None, &policy, &common()),
            vec![PasswordProblem::MissingLower]
        );
        assert!(password_problems("Mixed3dCase", None, &policy, &common()).is_empty());
        // Off by default, as NIST SP 800-63B rev. 4 requires.
        assert!(
            password_problems(
                "alllowercaselong",
                None,
                &PasswordPolicy::default(),
                &common()
            )
            .is_empty()
        );
    }

    #[test]
    fn email_inside_the_password_is_refused() {
        let policy = eight();
        assert_eq!(
            password_problems("Alice-2026!", Some("alice@example.com"), &policy, &common()),
            vec![PasswordProblem::ContainsEmail]
        );
        assert!(
            password_problems("jo-jo-jo-jo", Some("jo@example.com"), &policy, &common()).is_empty()
        );
    }

    #[test]
    fn requirements_tick_as_the_password_improves() {
        let policy = composition();
        let met = |pw: &str| {
            password_requirements(pw, None, &policy, &common())
                .into_iter()
                .map(|r| r.met)
                .collect::<Vec<_>>()
        };
        assert_eq!(met(""), vec![false, false, false, false, false]);
        assert_eq!(met("abc"), vec![false, false, true, false, true]);
        assert_eq!(met("Abcdefg1"), vec![true, true, true, true, true]);
    }

    #[test]
    fn strength_grows_with_length_and_variety() {
        let none = NoCommonPasswords;
        assert_eq!(estimate_strength("", &none), Strength::VeryWeak);
        assert_eq!(estimate_strength("password", &common()), Strength::VeryWeak);
        assert_eq!(estimate_strength("aaaaaaaaaaaa", &none), Strength::VeryWeak);
        assert_eq!(estimate_strength("12345678", &none), Strength::VeryWeak);
        assert!(estimate_strength("kitchen", &none) <= Strength::Weak);
        assert!(estimate_strength("purple monkey dishwasher", &none) >= Strength::Strong);
        assert!(estimate_strength("xK9#mQ2$vL", &none) >= Strength::Fair);
    }

    #[test]
    fn a_second_factor_is_read_as_the_kind_the_person_chose() {
        let totp = SecondFactorProof::read(ProofKind::AuthenticatorCode, "123 456").unwrap();
        assert_eq!(totp.kind(), ProofKind::AuthenticatorCode);
        assert_eq!(totp.code(), "123456");
        let backup = SecondFactorProof::read(ProofKind::BackupCode, "A2B3C-D4E5F").unwrap();
        assert_eq!(backup.kind(), ProofKind::BackupCode);
        assert_eq!(backup.code(), "a2b3cd4e5f");
        // Read again on the server, the normalised form is the same proof.
        assert_eq!(
            SecondFactorProof::read(backup.kind(), backup.code()),
            Ok(backup.clone())
        );
        // Each kind refuses with its own words.
        assert!(
            SecondFactorProof::read(ProofKind::AuthenticatorCode, "a2b3c-d4e5f")
                .unwrap_err()
                .contains("6 digits")
        );
        assert!(
            SecondFactorProof::read(ProofKind::BackupCode, "123456")
                .unwrap_err()
                .contains("10 letters")
        );
        // Codes are live credentials: never printed.
        assert_eq!(
            format!("{totp:?} {backup:?}"),
            "Totp(OtpCode(<redacted>)) BackupCode(BackupCode(<redacted>))"
        );
    }

    #[test]
    fn otp_codes_are_read_as_typed_or_pasted() {
        for typed in ["123456", "123 456", " 123-456 ", "１２３４５６"] {
            assert_eq!(
                OtpCode::parse(typed).map(|c| c.digits().to_owned()),
                Ok("123456".to_owned()),
                "{typed}"
            );
        }
        assert!(OtpCode::parse("").unwrap_err().contains("6-digit"));
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦"] {
            assert_eq!(
                OtpCode::parse(bad),
                Err("The code is 6 digits, like 123 456.".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn emails_are_trimmed_and_checked() {
        assert_eq!(
            validate_email("  Ann@Example.com ").as_deref(),
            Ok("Ann@Example.com")
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b..c",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(validate_email(&long).is_err());
    }

    #[test]
    fn invisible_characters_in_an_address_are_refused() {
        for hidden in [
            '\u{200B}', '\u{200D}', '\u{202E}', '\u{2066}', '\u{FEFF}', '\u{00AD}',
        ] {
            let email = format!("ann{hidden}@example.com");
            let err = validate_email(&email).unwrap_err();
            assert!(err.contains("invisible"), "{hidden:?}: {err}");
        }
    }

    #[test]
    fn internationalised_domains_must_be_valid() {
        for ok in [
            "jürgen@bücher.example",
            "ann@xn--bcher-kva.example",
            "ann@例え.テスト",
            "ann@sub-domain.example.co.uk",
        ] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ann@exa_mple.com",
            "ann@-example.com",
            "ann@example-.com",
            "ann@xn--a.com",
            "ann@example.123",
            "ann@exa%6dple.com",
            "ann@\u{0301}example.com",
            &format!("ann@{}.com", "a".repeat(64)),
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        // Full-width characters are read as the ones they stand for.
        assert_eq!(
            validate_email("ann＠example.com").as_deref(),
            Ok("ann@example.com")
        );
    }

    #[test]
    fn sign_up_reports_every_field_at_once() {
        let err = validate_sign_up("nope", "short", "", &PasswordPolicy::default(), &common())
            .unwrap_err();
        assert_eq!(
            err.message_for("email").as_deref(),
            Some("Enter an email address like name@example.com.")
        );
        assert_eq!(
            err.message_for("password").as_deref(),
            Some("Use at least 15 characters.")
        );
        let err = validate_sign_up(
            "ann@example.com",
            "long enough pass",
            "long enough pasS",
            &PasswordPolicy::default(),
            &common(),
        )
        .unwrap_err();
        assert_eq!(
            err.message_for("password_confirm").as_deref(),
            Some("The passwords don't match.")
        );
        let ok = validate_sign_up(
            " ann@example.com ",
            "long enough pass",
            "long enough pass",
            &PasswordPolicy::default(),
            &common(),
        )
        .unwrap();
        assert_eq!(ok.email, "ann@example.com");
    }

    #[test]
    fn password_change_needs_the_current_and_a_different_new_password() {
        let policy = PasswordPolicy::default();
        let err = validate_password_change(
            "",
            "a new passphrase 1",
            "a new passphrase 1",
            "a@b.co",
            &policy,
            &common(),
        )
        .unwrap_err();
        assert!(err.message_for("current_password").is_some());
        let err = validate_password_change(
            "the same passphrase",
            "the same passphrase",
            "the same passphrase",
            "a@b.co",
            &policy,
            &common(),
        )
        .unwrap_err();
        assert!(err.message_for("new_password").is_some());
        assert!(
            validate_password_change(
                "old password",
                "a new passphrase 1",
                "a new passphrase 1",
                "a@b.co",
                &policy,
                &common()
            )
            .is_ok()
        );
    }
}
