//! What the services run on: settings, the clock, the shared state.

pub mod clock;
pub mod config;
pub mod state;
