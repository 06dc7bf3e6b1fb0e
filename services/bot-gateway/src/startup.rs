//! Building and running the gateway.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use shared_domain::lifecycle;
use shared_domain::redis::Redis;
use tracing_actix_web::TracingLogger;

use crate::config::Config;
use crate::routes;

pub struct AppState {
    pub config: Config,
    pub redis: Redis,
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let redis = Redis::connect(&config.redis).context("building the Redis pools")?;
        let listener = TcpListener::bind((config.http.host, config.http.port))
            .with_context(|| format!("binding {}:{}", config.http.host, config.http.port))?;
        let port = listener.local_addr()?.port();
        let grace = config.http.shutdown_grace;
        let state = web::Data::new(AppState { config, redis });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .configure(routes::configure)
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(grace.as_secs())
        .run();
        tracing::info!(port, "bot-gateway listening");
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        lifecycle::serve_until_shutdown(self.server, move || handle.stop(true)).await
    }
}
