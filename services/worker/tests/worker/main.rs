//! The worker against real Postgres, Redis and storage, with the real API as producer.

// Test code: a failed step should panic with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod admin_console;
mod corpus;
mod epub;
mod extraction;
mod helpers;
mod lifecycle;
mod monitoring;
mod ocr;
mod positions;
mod queue;
mod retention;
mod storage;
mod text;
mod traces;
