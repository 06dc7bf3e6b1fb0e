//! shared-domain against real Postgres, Redis and object storage.

// Test code: a failed step should panic with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod connections;
mod leases;
mod migrations;
mod publishing;
mod redis_pools;
mod schema;
mod storage;
