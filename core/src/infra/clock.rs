//! The one place the server reads the time.
//!
//! Services never read a clock: they take `now` as an argument, so tests can put them at any
//! instant. The request edge, background tasks and start-up ask the state's [`Clock`]; clippy
//! (`clippy.toml`, `disallowed-methods`) refuses `OffsetDateTime::now_utc` anywhere else, so a
//! second, unreplaceable clock cannot creep back in.

use time::OffsetDateTime;

/// Where "now" comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The operating system's clock, in UTC.
    #[default]
    System,
}

impl Clock {
    pub fn now(self) -> OffsetDateTime {
        match self {
            // The one reading of the system clock the lint allows.
            #[allow(clippy::disallowed_methods)]
            Clock::System => OffsetDateTime::now_utc(),
        }
    }
}
