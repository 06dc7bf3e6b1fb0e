//! Building and running the worker process: the stream consumer, the positions
//! persister, the sweeper and the optional health endpoint, stopped together on
//! SIGTERM.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use actix_web::dev::Server;
use anyhow::Context;
use deadpool_postgres::Pool;
use shared_domain::redis::Redis;
use shared_domain::{Storage, lifecycle};
use tokio::sync::{Semaphore, watch};

use crate::config::Config;
use crate::consumer::{Consumer, consumer_name};
use crate::extract::Extractor;
use crate::health;
use crate::pipeline::Pipeline;
use crate::positions::Persister;
use crate::resources::Resources;
use crate::scratch::Scratch;
use crate::sweeper::{QueueGauges, Sweeper};

pub struct Worker {
    pub config: Config,
    pub db: Pool,
    pub redis: Redis,
    pub storage: Storage,
    pub consumer_name: String,
    pub is_leader: Arc<AtomicBool>,
    /// The queue's depth the sweeper's leader records and `/metrics` serves.
    pub depth: QueueGauges,
    /// The binary run as the isolated extractor (this one, unless told otherwise).
    pub extractor_exe: PathBuf,
    health: Option<(u16, Server)>,
    /// This process's directory in `WORK_DIR` (jobs download there); removed on
    /// a clean stop, and by the next worker to start after a crash.
    _scratch: Scratch,
}

impl Worker {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        lifecycle::prepare_schema(&config.database, config.migrate_on_start).await?;
        let db = shared_domain::db::pool(&config.database).context("building the Postgres pool")?;
        let redis = Redis::connect(&config.redis).context("building the Redis pools")?;
        let storage = Storage::from_config(&config.storage).context("opening object storage")?;
        let consumer_name = consumer_name();
        let mut config = config;
        let scratch =
            Scratch::claim(&config.pipeline.work_dir, &consumer_name).with_context(|| {
                format!(
                    "preparing WORK_DIR {} (it must be writable)",
                    config.pipeline.work_dir.display()
                )
            })?;
        config.pipeline.work_dir = scratch.path().to_owned();
        let is_leader = Arc::new(AtomicBool::new(false));
        let depth = QueueGauges::default();
        let health = match config.health_port {
            Some(port) => {
                let listener =
                    TcpListener::bind((config.health_host, port)).with_context(|| {
                        format!("binding the health port {port} (HEALTH_PORT or PORT)")
                    })?;
                let port = listener.local_addr()?.port();
                tracing::info!(port, "worker health endpoint listening");
                let status = health::Status {
                    consumer: consumer_name.clone(),
                    is_leader: Arc::clone(&is_leader),
                    db: db.clone(),
                    redis: redis.clone(),
                    storage: storage.clone(),
                    depth: depth.clone(),
                    // Three rounds: a leader whose rounds fail stops reporting.
                    depth_fresh_for: config.sweeper.interval * 3 + Duration::from_secs(5),
                };
                let metrics = http_support::MetricsAccess::at_start(config.metrics_token.as_ref());
                Some((port, health::server(listener, status, metrics)?))
            }
            None => None,
        };
        log_resources(&config);
        let extractor_exe = std::env::current_exe().context("locating the worker binary")?;
        Ok(Self {
            config,
            db,
            redis,
            storage,
            consumer_name,
            is_leader,
            depth,
            extractor_exe,
            health,
            _scratch: scratch,
        })
    }

    /// The health endpoint's port, when one is served.
    pub fn health_port(&self) -> Option<u16> {
        self.health.as_ref().map(|(port, _)| *port)
    }

    /// Run until SIGTERM/SIGINT: stop reading, let in-flight jobs finish within the
    /// grace period, hand back the rest, then stop the sweeper and health endpoint.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(lifecycle::shutdown_signal()).await
    }

    pub async fn run_until(mut self, stop_signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        let health = self.health.take().map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let (stop, stop_rx) = watch::channel(false);
        let pipeline_config = self.config.pipeline.clone();
        let extractor = Extractor::new(
            &pipeline_config,
            self.extractor_exe.clone(),
            Arc::new(Semaphore::new(pipeline_config.parallelism as usize)),
        );
        let consumer = Arc::new(Consumer {
            name: self.consumer_name.clone(),
            redis: self.redis.clone(),
            db: self.db.clone(),
            pipeline: Arc::new(Pipeline {
                db: self.db.clone(),
                storage: self.storage.clone(),
                extractor: Arc::new(extractor),
                config: pipeline_config,
            }),
            config: self.config.queue.clone(),
            concurrency: self.config.concurrency,
        });
        let sweeper = Sweeper {
            name: self.consumer_name.clone(),
            db: self.db.clone(),
            redis: self.redis.clone(),
            storage: self.storage.clone(),
            config: self.config.sweeper.clone(),
            queue: self.config.queue.clone(),
            is_leader: Arc::clone(&self.is_leader),
            depth: self.depth.clone(),
            leadership: Default::default(),
        };
        tracing::info!(
            consumer = %self.consumer_name,
            concurrency = self.config.concurrency,
            extract_parallelism = self.config.pipeline.parallelism,
            "worker started"
        );
        let persister = Persister {
            name: self.consumer_name.clone(),
            db: self.db.clone(),
            redis: self.redis.clone(),
            block: self.config.queue.block,
            is_leader: Arc::clone(&self.is_leader),
        };
        let consuming = tokio::spawn(consumer.run(stop_rx.clone(), self.config.shutdown_grace));
        let persisting = tokio::spawn(persister.run(stop_rx.clone()));
        let sweeping = tokio::spawn(sweeper.run(stop_rx));
        stop_signal.await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
        consuming.await.context("consumer task")?;
        persisting.await.context("positions task")?;
        sweeping.await.context("sweeper task")?;
        if let Some((handle, task)) = health {
            handle.stop(true).await;
            task.await
                .context("health server task")?
                .context("health server")?;
        }
        tracing::info!("worker stopped");
        Ok(())
    }
}

/// Say what the defaults were derived from, and warn when explicit settings let
/// extraction use more memory than the container has.
fn log_resources(config: &Config) {
    let resources = Resources::detect();
    let pipeline = &config.pipeline;
    tracing::info!(
        cpus = resources.cpus,
        memory_mb = resources.memory_bytes.map(|b| b / (1024 * 1024)),
        concurrency = config.concurrency,
        extract_parallelism = pipeline.parallelism,
        extract_memory_mb = pipeline.memory_mb,
        "resources"
    );
    if let Some(budget) = resources.extract_budget_mb()
        && u64::from(pipeline.parallelism) * pipeline.memory_mb > budget
    {
        tracing::warn!(
            budget_mb = budget,
            "EXTRACT_PARALLELISM × EXTRACT_MEMORY_MB exceeds the memory this container leaves for extraction: a large book can drive the worker out of memory"
        );
    }
}

/// `worker retention [--dry-run]`: one retention round now (dead letters, the
/// uploaded files of long-failed books, orphan objects, abandoned staging files)
/// with this worker's configuration, printed to stdout, then exit. It takes no
/// sweeper leadership: everything retention does is safe to do twice, so it can
/// run beside live workers (and their leader's own hourly round).
pub async fn retention_once(mut config: Config, dry_run: bool) -> anyhow::Result<()> {
    lifecycle::prepare_schema(&config.database, config.migrate_on_start).await?;
    let db = shared_domain::db::pool(&config.database).context("building the Postgres pool")?;
    let redis = Redis::connect(&config.redis).context("building the Redis pools")?;
    let storage = Storage::from_config(&config.storage).context("opening object storage")?;
    config.sweeper.retention_dry_run = dry_run;
    let sweeper = Sweeper {
        name: format!("{}-retention", consumer_name()),
        db,
        redis,
        storage,
        config: config.sweeper,
        queue: config.queue,
        is_leader: Arc::new(AtomicBool::new(false)),
        depth: QueueGauges::default(),
        leadership: Default::default(),
    };
    let report = sweeper.retention().await.context("retention")?;
    // The command's output, for the operator (logs stay on their own lines).
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(report.to_string().as_bytes())
        .and_then(|()| out.flush())
        .context("writing the report")?;
    Ok(())
}
