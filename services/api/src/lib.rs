//! The readme API: admin upload, book and chunk reads, jobs, health and metrics.

pub mod auth;
pub mod config;
pub mod error;
pub mod openapi;
pub mod pagination;
pub mod routes;
pub mod startup;

pub use config::Config;
pub use http_support::BoundServer;
pub use startup::{AppState, build};
