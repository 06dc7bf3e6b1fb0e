//! The readme API: admin upload, book and chunk reads, jobs, health and metrics.

pub mod config;
pub mod error;
pub mod routes;
pub mod startup;

pub use config::Config;
pub use startup::{AppState, Application};
