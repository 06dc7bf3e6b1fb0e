//! shared-domain against real Postgres, Redis and object storage.

mod migrations;
mod redis_pools;
mod schema;
mod storage;
