//! The readme worker: consumes book jobs from the Redis stream and turns PDFs into
//! speakable chunks. One binary, scaled horizontally.

pub mod config;
pub mod consumer;
pub mod extract;
pub mod health;
mod pacing;
pub mod pipeline;
pub mod positions;
pub mod resources;
pub mod scratch;
pub mod startup;
pub mod sweeper;
pub mod text;

pub use config::Config;
pub use startup::Worker;
