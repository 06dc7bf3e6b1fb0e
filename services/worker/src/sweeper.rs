//! The sweeper: periodic duties done by exactly one worker at a time.
//!
//! Leadership is a lease in Postgres (`leases`, name `sweeper`) with a deadline
//! `SWEEPER_LEASE_SECONDS` ahead, on the database's clock. Every replica tries
//! for it each `SWEEP_INTERVAL_SECONDS`; the leader renews it each round and
//! before each step of a round. A leader that dies, or stops making progress
//! while still connected (frozen, stuck), stops renewing, and another replica
//! takes the lease once it expires. A leader that wakes late finds a newer term
//! and steps down before acting; its requeue of expired jobs is fenced on the
//! lease in the same transaction, and everything else it might still do
//! (publishing, dead letters) is harmless twice.
//!
//! Each round asks Postgres, and touches Redis only when Postgres says there is
//! something to do there, so an idle stack costs Redis nothing per round. The
//! leader: requeues `running` jobs whose heartbeat expired (burying those out of
//! attempts); when a queued job was published long ago and never started, takes
//! over the stream entries a stopped worker left pending and has their jobs
//! published again; publishes queued jobs that are due and not on the stream (the
//! outbox: uploads made while Redis was down, retries whose backoff passed,
//! requeued jobs, and messages lost to a Redis restore); writes owed dead letters;
//! and records the queue's depth from Postgres (served on `/metrics` by the
//! leader only, so a replica that stopped leading reports nothing stale). Every
//! `RETENTION_INTERVAL_SECONDS` it also tidies Redis (drops pending entries of
//! stopped workers, deletes idle consumers with nothing pending) and runs
//! retention.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::{ClientWrapper, Pool};
use shared_domain::db::DbError;
use shared_domain::db::{jobs, leases};
use shared_domain::error::error_chain;
use shared_domain::queue::{self, PublishError, dead_letter};
use shared_domain::redis::{Redis, RedisError};
use shared_domain::stream::{GroupStream, JobMessage, JobStream};
use shared_domain::{Storage, storage::StorageError};
use tokio::sync::watch;

use crate::config::{QueueConfig, SweeperConfig};

mod retention;
pub use retention::Retention;

/// The name of the sweeper's lease in `leases`.
pub const LEASE: &str = "sweeper";

/// Jobs handled per query in one round.
const BATCH: i64 = 500;
/// How long a dead job's own worker has to write its dead letter before the
/// sweeper writes it instead.
const DEAD_LETTER_GRACE_SECS: f64 = 60.0;

pub struct Sweeper {
    /// This worker's consumer name: entries the leader takes over are claimed
    /// under it (and dropped at once).
    pub name: String,
    pub db: Pool,
    pub redis: Redis,
    pub storage: Storage,
    pub config: SweeperConfig,
    pub queue: QueueConfig,
    /// Shown on `/health`.
    pub is_leader: Arc<AtomicBool>,
    /// The queue's depth as of the leader's last round, for `/metrics`.
    pub depth: QueueGauges,
    /// The lease this replica holds now, if it leads.
    pub leadership: Leadership,
}

/// The sweeper lease as this replica holds it: the term (what its rounds are
/// fenced on), and the connection of its own it takes and renews the lease over
/// (the lease records that session, so it ends at once if this process dies).
#[derive(Default)]
pub struct Leadership {
    held: Mutex<Option<leases::Held>>,
    conn: tokio::sync::Mutex<Option<ClientWrapper>>,
}

impl Leadership {
    fn get(&self) -> Option<leases::Held> {
        self.held.lock().ok().and_then(|held| *held)
    }

    fn set(&self, held: Option<leases::Held>) {
        if let Ok(mut slot) = self.held.lock() {
            *slot = held;
        }
    }
}

/// The leader's last reading of the queue's depth, rendered on `/metrics` only
/// while this replica leads and the reading is fresh: a replica that stopped
/// leading (or whose rounds fail) reports nothing rather than an old value.
#[derive(Clone, Default)]
pub struct QueueGauges(Arc<Mutex<Option<(Instant, jobs::Depth)>>>);

impl QueueGauges {
    fn set(&self, depth: Option<jobs::Depth>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = depth.map(|d| (Instant::now(), d));
        }
    }

    /// The gauges in the Prometheus text format, or nothing when the last reading
    /// is older than `fresh_for`.
    pub fn render(&self, fresh_for: Duration) -> String {
        let Some((at, d)) = self.0.lock().ok().and_then(|slot| *slot) else {
            return String::new();
        };
        if at.elapsed() > fresh_for {
            return String::new();
        }
        let gauges: [(&str, &str, f64); 4] = [
            (
                "queue_backlog",
                "Jobs queued and due, waiting for a worker (from Postgres; served by the sweeper leader only).",
                d.backlog as f64,
            ),
            (
                "queue_pending",
                "Jobs running now (from Postgres; served by the sweeper leader only).",
                d.running as f64,
            ),
            (
                "queue_oldest_pending_seconds",
                "How long the longest-waiting due job has waited for a worker, 0 when none waits (served by the sweeper leader only).",
                d.oldest_waiting_seconds,
            ),
            (
                "queue_dead_jobs",
                "Jobs out of attempts and not retried (served by the sweeper leader only).",
                d.dead as f64,
            ),
        ];
        let mut out = String::new();
        for (name, help, value) in gauges {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
            ));
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("this replica no longer holds the sweeper lease; stepping down")]
    LostLease,
}

impl From<tokio_postgres::Error> for SweepError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e.into())
    }
}

impl From<redis::RedisError> for SweepError {
    fn from(e: redis::RedisError) -> Self {
        Self::Redis(e.into())
    }
}

impl Sweeper {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut held: Option<leases::Held> = None;
        let mut last_housekeeping: Option<Instant> = None;
        metrics::gauge!("sweeper_leader").set(0.0);
        loop {
            held = self.take_or_renew(held).await;
            self.leadership.set(held);
            if held.is_some() {
                match self.sweep().await {
                    Ok(()) => {}
                    Err(SweepError::LostLease) => {
                        // Found mid-round; the next attempt says where leadership went.
                        tracing::warn!("lost the sweeper lease mid-round; stopped acting");
                    }
                    Err(e) => {
                        tracing::warn!(error = %error_chain(&e), "sweep round failed; next round retries");
                    }
                }
                if last_housekeeping.is_none_or(|t| t.elapsed() >= self.config.retention_interval) {
                    last_housekeeping = Some(Instant::now());
                    if let Err(e) = self.tidy_streams().await {
                        tracing::warn!(error = %error_chain(&e), "tidying the streams failed; next run retries");
                    }
                    if let Err(e) = self.retention().await {
                        tracing::warn!(error = %error_chain(&e), "retention failed; next run retries");
                    }
                }
            } else {
                last_housekeeping = None;
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.interval) => {}
                _ = stop.changed() => break,
            }
        }
        self.depth.set(None);
        self.leadership.set(None);
        if let Some(held) = held {
            if let Some(client) = self.leadership.conn.lock().await.as_ref() {
                let _ = leases::release(client, LEASE, &self.name, held).await;
            }
            self.is_leader.store(false, Ordering::Relaxed);
            metrics::gauge!("sweeper_leader").set(0.0);
            tracing::info!("sweeper leadership released");
        }
    }

    /// Take the lease if it is free, expired or its holder is gone, or renew
    /// ours. Returns what this replica holds now; a failure to reach Postgres
    /// counts as not leading (the lease then expires for another replica).
    async fn take_or_renew(&self, before: Option<leases::Held>) -> Option<leases::Held> {
        let now = self.lease_statement().await.unwrap_or_else(|e| {
            tracing::debug!(error = %error_chain(&e), "cannot try for the sweeper lease");
            None
        });
        match (before, now) {
            (None, Some(held)) => tracing::info!(term = held.term, "sweeper leadership acquired"),
            (Some(_), None) => tracing::warn!(
                "the sweeper lease was taken over (this replica stopped renewing it in time) or cannot be renewed; stepping down"
            ),
            (Some(a), Some(b)) if a != b => tracing::warn!(
                term = b.term,
                "the sweeper lease had expired; taken again under a new term"
            ),
            _ => {}
        }
        if before.is_some() != now.is_some() {
            self.is_leader.store(now.is_some(), Ordering::Relaxed);
            metrics::gauge!("sweeper_leader").set(if now.is_some() { 1.0 } else { 0.0 });
            if now.is_none() {
                self.depth.set(None);
            }
        }
        now
    }

    /// Take or renew the lease over this replica's own connection (made on
    /// first use, and again after it fails).
    async fn lease_statement(&self) -> Result<Option<leases::Held>, DbError> {
        let mut conn = self.leadership.conn.lock().await;
        if conn.is_none() {
            let client = self.db.get().await?;
            *conn = Some(deadpool_postgres::Object::take(client));
        }
        let Some(client) = conn.as_ref() else {
            return Ok(None);
        };
        let ttl = self.config.lease.as_secs_f64();
        let result = leases::acquire_or_renew(client, LEASE, &self.name, ttl).await;
        if result.is_err() {
            *conn = None;
        }
        result
    }

    /// Before each step of a round: renew the lease this round runs under, and
    /// stop if it is no longer ours (or was lost and taken again meanwhile). A
    /// sweeper run by hand (tests), with no lease, always goes on.
    async fn keep_lease(&self) -> Result<(), SweepError> {
        let Some(held) = self.leadership.get() else {
            return Ok(());
        };
        match self.lease_statement().await? {
            Some(now) if now == held => Ok(()),
            _ => Err(SweepError::LostLease),
        }
    }

    /// One round of the leader's duties.
    pub async fn sweep(&self) -> Result<(), SweepError> {
        let mut client = self.db.get().await.map_err(DbError::from)?;
        let stale = self.queue.visibility_timeout.as_secs_f64();
        let held = self.leadership.get();
        let fence = held.map(|held| leases::Fence {
            name: LEASE,
            holder: &self.name,
            held,
        });
        loop {
            self.keep_lease().await?;
            let expired = jobs::requeue_expired(&mut client, stale, BATCH, fence.as_ref()).await?;
            for e in &expired {
                if e.dead {
                    metrics::counter!("jobs_total", "outcome" => "dead").increment(1);
                    tracing::error!(job_id = %e.job.id, book_id = %e.job.book_id, "job out of attempts after its worker stopped; dead");
                    let error = e.job.last_error.as_deref().unwrap_or_default();
                    dead_letter(&self.redis, &self.db, &e.job, error, e.job.attempts).await;
                } else {
                    tracing::warn!(job_id = %e.job.id, book_id = %e.job.book_id, "requeued a job whose worker stopped heartbeating");
                }
            }
            if (expired.len() as i64) < BATCH {
                break;
            }
        }
        self.keep_lease().await?;
        if jobs::any_published_unstarted(&client, stale).await? {
            self.recover_entries(&client).await?;
        }
        loop {
            self.keep_lease().await?;
            let due =
                jobs::due_for_publishing(&client, self.config.republish_after.as_secs_f64(), BATCH)
                    .await?;
            if due.is_empty() {
                break;
            }
            queue::publish_many(&client, &self.redis, &due).await?;
            tracing::info!(count = due.len(), "published queued jobs (outbox)");
            if (due.len() as i64) < BATCH {
                break;
            }
        }
        // Dead letters owed: Redis was down when the job died, or its worker died
        // right after.
        self.keep_lease().await?;
        for job in jobs::owed_dead_letters(&client, DEAD_LETTER_GRACE_SECS, BATCH).await? {
            let error = job.last_error.as_deref().unwrap_or_default();
            tracing::warn!(job_id = %job.id, "writing a dead letter the job's worker could not");
            dead_letter(&self.redis, &self.db, &job, error, job.attempts).await;
        }
        self.depth.set(Some(jobs::depth(&client).await?));
        Ok(())
    }

    /// Take over job-stream entries left pending longer than the visibility
    /// timeout (their worker died before claiming them, or could not record the
    /// outcome), drop them, and mark their jobs unpublished if still queued so the
    /// outbox publishes them again at once. Live workers refresh the entries of
    /// jobs they run, so none of theirs is taken.
    async fn recover_entries(&self, client: &deadpool_postgres::Object) -> Result<(), SweepError> {
        let stream = JobStream::new(&self.redis);
        loop {
            let entries = match stream
                .autoclaim(&self.name, self.queue.visibility_timeout, BATCH as usize)
                .await
            {
                Ok(entries) => entries,
                Err(RedisError::Command(e)) if e.code() == Some("NOGROUP") => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            if entries.is_empty() {
                return Ok(());
            }
            let ids: Vec<String> = entries.iter().map(|(id, _)| id.clone()).collect();
            let job_ids: Vec<_> = entries
                .iter()
                .filter_map(|(_, fields)| JobMessage::from_fields(fields).ok().map(|m| m.job_id))
                .collect();
            let republishing = jobs::unpublish(client, &job_ids).await?;
            stream.ack(&ids).await?;
            metrics::counter!("queue_reclaimed_total").increment(ids.len() as u64);
            tracing::info!(
                entries = ids.len(),
                republishing,
                "took over stream entries a stopped worker left pending"
            );
            if ids.len() < BATCH as usize {
                return Ok(());
            }
        }
    }

    /// Hourly: drop entries of stopped workers whatever their jobs' state (a job
    /// finished elsewhere leaves its old entry behind), and delete consumers that
    /// are gone.
    async fn tidy_streams(&self) -> Result<(), SweepError> {
        let client = self.db.get().await.map_err(DbError::from)?;
        self.keep_lease().await?;
        self.recover_entries(&client).await?;
        self.reap_consumers().await
    }

    /// Delete consumers idle for long with nothing pending (workers that stopped),
    /// in the job stream's group and the positions stream's.
    async fn reap_consumers(&self) -> Result<(), SweepError> {
        // A live worker's consumer looks idle for up to one blocking read.
        let idle_limit = (self.queue.visibility_timeout * 4)
            .max(self.queue.block * 2)
            .max(Duration::from_secs(600));
        for stream in [
            GroupStream::clone(&JobStream::new(&self.redis)),
            GroupStream::positions(&self.redis),
        ] {
            for c in stream.consumers().await? {
                if c.pending == 0 && c.idle > idle_limit {
                    stream.delete_consumer(&c.name).await?;
                    tracing::info!(consumer = %c.name, stream = stream.key(), idle_seconds = c.idle.as_secs(), "deleted an idle consumer with nothing pending");
                }
            }
        }
        Ok(())
    }
}
