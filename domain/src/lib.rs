//! The vocabulary Keyward's layers share, free of any UI framework and of storage: the one
//! validation module (forms run it in the browser, server functions and services again on what
//! arrives), the typed codes it reads, and the redacted `Secret`. Compiled to WebAssembly for
//! the browser and natively for the server.

pub mod secret;
pub mod validation;

use serde::{Deserialize, Serialize};

/// What "Confirm it's you" asks for before a sensitive change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepUpProof {
    /// The account has no second factor: the password.
    Password,
    /// The account has a second factor: a current code from it or a backup code. Never the
    /// password alone, which whoever holds a stolen session may know.
    SecondFactor,
}
