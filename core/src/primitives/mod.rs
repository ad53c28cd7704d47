//! Building blocks with no business rules: sealing secrets, tokens, password hashing, TOTP.

pub mod crypto;
pub mod password;
pub mod token;
pub mod totp;
