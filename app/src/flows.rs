//! The wizards' flows as pure state machines: `next(state, event) -> (state, command)`, with no
//! Leptos, no browser and no server in them, so every path through a wizard is a unit test.
//! An island holds the state in a signal, renders its panel with the step components of
//! [`crate::components`], runs the commands (server calls, leaving the page) and feeds what
//! comes back in as events. A new wizard (text message, email, passkey) is a new machine here
//! plus the same kind of small island.

pub mod two_factor;
