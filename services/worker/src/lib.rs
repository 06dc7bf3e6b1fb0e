//! The readme worker: consumes book jobs from the Redis stream and turns PDFs into
//! speakable chunks. One binary, scaled horizontally.

pub mod config;
pub mod health;
pub mod startup;

pub use config::Config;
pub use startup::Worker;
