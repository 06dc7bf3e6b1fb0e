//! The bot gateway against a real Redis.

// Test code: a failed step should panic with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod conformance;
mod deadlines;
mod health;
mod helpers;
mod lifecycle;
mod real_peers;
mod sessions;
mod signing_keys;
mod start;
