//! Second factors: authenticator apps (enrollment and codes), backup codes, and two-factor as a
//! person meets it (the wizard, the challenge at sign-in, step-up, turning it off). A new kind of
//! factor is a new file here and a new `SecondFactorProof` variant.

pub mod authenticator;
pub mod backup_codes;
pub mod two_factor;
