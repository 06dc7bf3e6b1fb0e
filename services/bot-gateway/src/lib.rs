//! The bot gateway: starts Pipecat bot sessions for signed-in users, holding the
//! provider's secret and the call state (in Redis) on the server side.

pub mod auth;
pub mod body;
pub mod calls;
pub mod config;
pub mod error;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod upstream;

pub use config::Config;
pub use http_support::BoundServer;
pub use startup::{AppState, build};
