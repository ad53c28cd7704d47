//! Signing in and proving who you are: accounts (sign-up, sign-in, sign-out, password change), the
//! throttle and its attempt schedule, and the policy of who may do what.

pub mod accounts;
pub mod attempts;
pub mod policy;
pub mod throttle;
