//! Building and running the worker process.

use std::net::TcpListener;

use actix_web::dev::Server;
use anyhow::Context;
use deadpool_postgres::Pool;
use shared_domain::redis::Redis;
use shared_domain::{Storage, lifecycle};

use crate::config::Config;
use crate::health;

pub struct Worker {
    pub config: Config,
    pub db: Pool,
    pub redis: Redis,
    pub storage: Storage,
    health: Option<(u16, Server)>,
}

impl Worker {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        if config.migrate_on_start {
            shared_domain::db::migrate(&config.database)
                .await
                .context("migrating the database")?;
        }
        let db = shared_domain::db::pool(&config.database).context("building the Postgres pool")?;
        let redis = Redis::connect(&config.redis).context("building the Redis pools")?;
        let storage = Storage::from_config(&config.storage).context("opening object storage")?;
        let health = match config.health_port {
            Some(port) => {
                let listener = TcpListener::bind((config.health_host, port))
                    .with_context(|| format!("binding HEALTH_PORT {port}"))?;
                let port = listener.local_addr()?.port();
                tracing::info!(port, "worker health endpoint listening");
                Some((port, health::server(listener)?))
            }
            None => None,
        };
        Ok(Self {
            config,
            db,
            redis,
            storage,
            health,
        })
    }

    /// The health endpoint's port, when one is served.
    pub fn health_port(&self) -> Option<u16> {
        self.health.as_ref().map(|(port, _)| *port)
    }

    /// Run until SIGTERM/SIGINT.
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        let health = self.health.take().map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        tracing::info!(concurrency = self.config.concurrency, "worker started");
        lifecycle::shutdown_signal().await;
        if let Some((handle, task)) = health {
            handle.stop(true).await;
            task.await
                .context("health server task")?
                .context("health server")?;
        }
        Ok(())
    }
}
