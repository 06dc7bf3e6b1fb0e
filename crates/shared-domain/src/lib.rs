//! Everything the readme services share: configuration, telemetry, the error-code
//! table, domain types, and the clients for Postgres, Redis and object storage.
//!
//! This crate knows nothing of HTTP frameworks: each service maps these types onto
//! its own responses.

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod lifecycle;
pub mod position_events;
pub mod queue;
pub mod redis;
pub mod storage;
pub mod stream;
pub mod telemetry;

pub use config::{ConfigError, DatabaseConfig, HttpConfig, JwtConfig, RedisConfig, Vars};
pub use error::{BookErrorCode, ErrorCode};
pub use storage::{Storage, StorageConfig};
pub use telemetry::TelemetryConfig;
