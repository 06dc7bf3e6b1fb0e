//! The API against real Postgres, Redis and storage.

// Test code: a failed step should panic with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod admin;
mod big_upload;
mod conformance;
mod corpus;
mod health;
mod helpers;
mod lifecycle;
mod listening;
mod reads;
mod surface;
mod telemetry;
mod upload;
mod upload_memory;
