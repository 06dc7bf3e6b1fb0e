//! The job consumer: Redis delivers, Postgres decides.
//!
//! The stream protocol (reads, claims, acknowledgements, recovery) is
//! [`shared_domain::stream`]'s; this is the loop over it. It reads only as many
//! entries as it has free slots (`WORKER_CONCURRENCY`), waiting up to
//! `QUEUE_BLOCK_MS` for one. A delivery becomes work only through the Postgres
//! claim; a duplicate, a finished job or a job running elsewhere is acknowledged
//! and dropped. While a job runs, a heartbeat refreshes both `jobs.heartbeat_at`
//! (fenced on the lease) and the entry's idle time. When the outcome is recorded
//! in Postgres the entry is acknowledged; if it cannot be recorded the entry stays
//! pending, and the sweeper's leader publishes the job again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use rand::Rng;
use shared_domain::db::DbError;
use shared_domain::db::jobs::{self, Lease};
use shared_domain::error::error_chain;
use shared_domain::redis::{Redis, RedisError};
use shared_domain::stream::{self, Entry, JobMessage, JobStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

mod run;

use crate::config::QueueConfig;
use crate::pacing::{backoff, pause};
use crate::pipeline::{Done, Pipeline, PipelineError, Progress};
use futures::future::BoxFuture;

/// The work a claimed job does: the book pipeline in production, a no-op in the
/// queue benchmark. A runner records its job's success itself, fenced on the
/// lease and in the transaction that stores its output; the consumer records
/// failures, retries and hand-backs.
pub trait Runner: Send + Sync + 'static {
    fn run<'a>(
        &'a self,
        lease: &'a Lease,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Done, PipelineError>>;
}

impl Runner for Pipeline {
    fn run<'a>(
        &'a self,
        lease: &'a Lease,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Done, PipelineError>> {
        Box::pin(Pipeline::run(self, lease, progress))
    }
}

pub struct Consumer {
    pub name: String,
    pub redis: Redis,
    pub db: Pool,
    pub pipeline: Arc<dyn Runner>,
    pub config: QueueConfig,
    pub concurrency: usize,
}

/// A unique consumer name: host, pid and a random suffix (pids repeat across containers).
pub fn consumer_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    let suffix: u32 = rand::rng().random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

/// What one [`Consumer::try_execute_one`] step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An entry was read and settled: its job ran (whatever its result), or it
    /// was not claimable (a duplicate, finished or running elsewhere) and dropped.
    Done,
    /// Nothing was waiting on the stream.
    Empty,
}

/// Deliveries claimed in Postgres, and the entry ids to drop unclaimed.
struct Claimed {
    runs: Vec<(String, JobMessage, Lease)>,
    drop: Vec<String>,
}

/// How a job's run ended, as far as the stream entry is concerned.
enum Settled {
    /// Recorded in Postgres: acknowledge and delete the entry.
    Done,
    /// Not recorded (Postgres unreachable) or not ours any more: leave it pending.
    Leave,
}

impl Consumer {
    fn stream(&self) -> JobStream {
        JobStream::new(&self.redis)
    }

    /// Create the group (from the stream's beginning, so jobs published before any
    /// worker existed are delivered) unless it exists.
    pub async fn ensure_group(&self) -> Result<(), RedisError> {
        self.stream().ensure_group().await
    }

    /// Consume until `stop` turns true; then let in-flight jobs run for `grace`
    /// and hand back whatever is still running.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>, grace: Duration) {
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let (hand_back, hand_back_rx) = watch::channel(false);
        let (acks, ack_rx) = mpsc::unbounded_channel();
        let acker = tokio::spawn(Arc::clone(&self).ack_loop(ack_rx));
        let mut tasks = JoinSet::new();
        let mut errors = 0u32;
        let mut group_ready = false;
        let mut reader = self.stream().reader(&self.name);
        while !*stop.borrow() {
            while tasks.try_join_next().is_some() {}
            if !group_ready {
                match self.ensure_group().await {
                    Ok(()) => group_ready = true,
                    Err(e) => {
                        errors += 1;
                        tracing::warn!(error = %error_chain(&e), "cannot reach the job stream; retrying");
                        pause(&mut stop, backoff(errors)).await;
                        continue;
                    }
                }
            }
            let free = slots.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = tasks.join_next() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            // A long blocking read ends early on SIGTERM. An entry Redis hands
            // over just as the read is dropped stays pending under this consumer;
            // the sweeper's leader finds it from Postgres (a job published and not
            // started) and publishes the job again.
            let read = tokio::select! {
                read = reader.read(free, stream::From::New(self.config.block)) => read,
                _ = stop.changed() => continue,
            };
            match read {
                Ok(entries) => {
                    errors = 0;
                    let claimed = self.claim_batch(entries).await;
                    for entry_id in claimed.drop {
                        let _ = acks.send(entry_id);
                    }
                    for (entry_id, message, lease) in claimed.runs {
                        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                            break; // cannot happen: we read at most `free` entries
                        };
                        let me = Arc::clone(&self);
                        let hand_back = hand_back_rx.clone();
                        let acks = acks.clone();
                        tasks.spawn(async move {
                            if let Settled::Done =
                                me.handle(&entry_id, &message, &lease, hand_back).await
                            {
                                let _ = acks.send(entry_id);
                            }
                            drop(permit);
                        });
                    }
                }
                Err(e) => {
                    if matches!(&e, RedisError::Command(c) if c.code() == Some("NOGROUP")) {
                        group_ready = false; // the stream or group was deleted: make it again
                    }
                    errors += 1;
                    tracing::warn!(error = %error_chain(&e), "reading the job stream failed; retrying");
                    pause(&mut stop, backoff(errors)).await;
                }
            }
        }
        tracing::info!(
            in_flight = tasks.len(),
            grace_seconds = grace.as_secs(),
            "stopped reading; finishing in-flight jobs"
        );
        let finished =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            tracing::warn!(
                in_flight = tasks.len(),
                "grace period over; handing back unfinished jobs"
            );
            let _ = hand_back.send(true);
            while tasks.join_next().await.is_some() {}
        }
        drop(acks);
        if let Err(e) = acker.await {
            tracing::error!(error = %e, "the acknowledging task failed; unacknowledged entries will be reclaimed and dropped");
        }
    }

    /// One deterministic step, for tests and tools: read at most one new entry
    /// without waiting, claim it, run it, record the outcome and acknowledge it,
    /// all before returning. Shutdown never interrupts it.
    pub async fn try_execute_one(&self) -> Result<Outcome, RedisError> {
        let entries = self.stream().read_now(&self.name, 1).await?;
        if entries.is_empty() {
            return Ok(Outcome::Empty);
        }
        let claimed = self.claim_batch(entries).await;
        let mut settled = claimed.drop;
        let (_keep, never) = watch::channel(false);
        for (entry_id, message, lease) in claimed.runs {
            if let Settled::Done = self
                .handle(&entry_id, &message, &lease, never.clone())
                .await
            {
                settled.push(entry_id);
            }
        }
        self.stream().ack(&settled).await?;
        Ok(Outcome::Done)
    }

    /// Parse and claim a batch of deliveries in one statement; everything not
    /// claimed (malformed, duplicate, finished, running elsewhere) is acked and dropped.
    async fn claim_batch(&self, entries: Vec<Entry>) -> Claimed {
        let mut out = Claimed {
            runs: Vec::new(),
            drop: Vec::new(),
        };
        let mut messages = Vec::with_capacity(entries.len());
        for (entry_id, fields) in entries {
            match JobMessage::from_fields(&fields) {
                Ok(m) => messages.push((entry_id, m)),
                Err(e) => {
                    // Postgres holds the job; a malformed entry carries nothing to lose.
                    tracing::warn!(entry_id, error = %e, "dropping a malformed stream entry");
                    out.drop.push(entry_id);
                }
            }
        }
        if messages.is_empty() {
            return out;
        }
        let ids: Vec<_> = messages.iter().map(|(_, m)| m.job_id).collect();
        let stale = self.config.visibility_timeout.as_secs_f64();
        let claimed = match self.db.get().await.map_err(DbError::from) {
            Ok(client) => jobs::claim_many(&client, &ids, &self.name, stale).await,
            Err(e) => Err(e),
        };
        let leases = match claimed {
            Ok(leases) => leases,
            Err(e) => {
                // Leave the entries pending: the sweeper's leader publishes their
                // jobs again after the visibility timeout, and the loop reads on.
                match e.timed_out() {
                    Some(timeout) => tracing::warn!(
                        timeout,
                        count = ids.len(),
                        "gave up claiming jobs: another transaction holds their rows (DATABASE_LOCK_TIMEOUT_SECONDS); they will be published again"
                    ),
                    None => {
                        tracing::warn!(error = %error_chain(&e), "cannot claim jobs: database unavailable");
                    }
                }
                return out;
            }
        };
        let mut by_job: HashMap<_, Lease> = leases.into_iter().map(|l| (l.job.id, l)).collect();
        for (entry_id, message) in messages {
            match by_job.remove(&message.job_id) {
                Some(lease) => out.runs.push((entry_id, message, lease)),
                None => {
                    tracing::debug!(job_id = %message.job_id, "not claimable (duplicate delivery, running elsewhere, finished or deleted); dropping");
                    metrics::counter!("queue_duplicates_total").increment(1);
                    out.drop.push(entry_id);
                }
            }
        }
        out
    }

    /// XACK + XDEL whatever has been settled, many entries per round trip.
    async fn ack_loop(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<String>) {
        let mut ids = Vec::new();
        while rx.recv_many(&mut ids, 512).await > 0 {
            self.ack(&ids).await;
            ids.clear();
        }
    }

    /// XACK + XDEL in one round trip; a failure leaves the entries to be reclaimed and dropped.
    async fn ack(&self, entry_ids: &[String]) {
        if let Err(e) = self.stream().ack(entry_ids).await {
            tracing::warn!(count = entry_ids.len(), error = %error_chain(&e), "could not acknowledge entries; they will be reclaimed and dropped");
        }
    }
}

/// Exponential backoff with jitter: base·2^(attempt-1), capped, then scaled by 0.5–1.0.
pub fn backoff_delay(config: &QueueConfig, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let raw = config
        .retry_base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(config.retry_max);
    raw.mul_f64(rand::rng().random_range(0.5..=1.0))
}
