//! The stream consumer: Redis delivers, Postgres decides.
//!
//! Each process is one consumer (`host-pid-random`) in the `workers` group. It
//! reads with `XREADGROUP … BLOCK` (long: an idle worker costs Redis one command
//! per `QUEUE_BLOCK_MS`, and an `XADD` wakes it at once) only as many entries as
//! it has free slots (`WORKER_CONCURRENCY`), so its pending list never exceeds
//! that. A delivery becomes work only through the Postgres claim; a duplicate, a
//! finished job or a job running elsewhere is acknowledged and dropped. While a
//! job runs, a heartbeat refreshes both `jobs.heartbeat_at` (fenced on the lease)
//! and the entry's idle time (`XCLAIM … JUSTID`). When the outcome is recorded in
//! Postgres the entry is `XACK`ed and `XDEL`eted; if it cannot be recorded the
//! entry stays pending. Entries left pending by a worker that died are the
//! sweeper's: its leader learns of them from Postgres (a job running with an
//! expired heartbeat, or published and never started) and publishes the job again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use rand::Rng;
use redis::Value;
use shared_domain::db::DbError;
use shared_domain::db::jobs::{self, AfterFailure, FinishError, Lease};
use shared_domain::domain::JobId;
use shared_domain::error::error_chain;
use shared_domain::queue::JobMessage;
use shared_domain::redis::{Redis, RedisError, WORKER_GROUP};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::config::QueueConfig;
use crate::pipeline::{Done, Pipeline, PipelineError, Progress};
use futures::future::BoxFuture;

/// The work a claimed job does: the PDF pipeline in production, a no-op in the
/// queue benchmark.
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

pub(crate) type Entry = (String, HashMap<String, String>);
/// Entry ids whose outcome is recorded, for the batching acknowledger.
type Acks = mpsc::UnboundedSender<String>;
/// Successes the runner left to the consumer, for the batching completer.
type Completions = mpsc::UnboundedSender<Completion>;

/// A job that finished without recording its success (see [`Done::recorded`]).
struct Completion {
    job: JobId,
    attempt: i32,
    recorded: oneshot::Sender<Settled>,
}

/// How a job's run ended, as far as the stream entry is concerned.
enum Settled {
    /// Recorded in Postgres: acknowledge and delete the entry.
    Done,
    /// Not recorded (Postgres unreachable) or not ours any more: leave it pending.
    Leave,
}

impl Consumer {
    /// Create the group (from the stream's beginning, so jobs published before any
    /// worker existed are delivered) unless it exists.
    pub async fn ensure_group(&self) -> Result<(), RedisError> {
        group::ensure(&self.redis, &self.redis.keys.job_stream()).await
    }

    /// Consume until `stop` turns true; then let in-flight jobs run for `grace`
    /// and hand back whatever is still running.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>, grace: Duration) {
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let (hand_back, hand_back_rx) = watch::channel(false);
        let (acks, ack_rx) = mpsc::unbounded_channel();
        let acker = tokio::spawn(Arc::clone(&self).ack_loop(ack_rx));
        let (completions, completion_rx) = mpsc::unbounded_channel();
        let completer = tokio::spawn(Arc::clone(&self).complete_loop(completion_rx));
        let mut tasks = JoinSet::new();
        let mut errors = 0u32;
        let mut group_ready = false;
        let mut reader = group::Reader::default();
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
                read = self.read(&mut reader, free) => read,
                _ = stop.changed() => continue,
            };
            match read {
                Ok(entries) => {
                    errors = 0;
                    for (entry_id, message, lease) in self.claim_batch(entries, &acks).await {
                        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                            break; // cannot happen: we read at most `free` entries
                        };
                        let me = Arc::clone(&self);
                        let hand_back = hand_back_rx.clone();
                        let acks = acks.clone();
                        let completions = completions.clone();
                        tasks.spawn(async move {
                            me.handle(entry_id, message, lease, hand_back, acks, completions)
                                .await;
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
        drop(completions);
        let _ = completer.await;
        drop(acks);
        let _ = acker.await;
    }

    /// Parse and claim a batch of deliveries in one statement; everything not
    /// claimed (malformed, duplicate, finished, running elsewhere) is acked and dropped.
    async fn claim_batch(
        &self,
        entries: Vec<Entry>,
        acks: &Acks,
    ) -> Vec<(String, JobMessage, Lease)> {
        let mut messages = Vec::with_capacity(entries.len());
        for (entry_id, fields) in entries {
            match JobMessage::from_fields(&fields) {
                Ok(m) => messages.push((entry_id, m)),
                Err(e) => {
                    // Postgres holds the job; a malformed entry carries nothing to lose.
                    tracing::warn!(entry_id, error = %e, "dropping a malformed stream entry");
                    let _ = acks.send(entry_id);
                }
            }
        }
        if messages.is_empty() {
            return Vec::new();
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
                return Vec::new();
            }
        };
        let mut by_job: HashMap<_, Lease> = leases.into_iter().map(|l| (l.job.id, l)).collect();
        let mut out = Vec::with_capacity(by_job.len());
        for (entry_id, message) in messages {
            match by_job.remove(&message.job_id) {
                Some(lease) => out.push((entry_id, message, lease)),
                None => {
                    tracing::debug!(job_id = %message.job_id, "not claimable (duplicate delivery, running elsewhere, finished or deleted); dropping");
                    metrics::counter!("queue_duplicates_total").increment(1);
                    let _ = acks.send(entry_id);
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

    /// Record successes in batches: whatever finished while the previous batch was
    /// committing goes in one fenced UPDATE and one commit (as River's batch
    /// completer does), so short jobs are not bound by one commit each. A job whose
    /// lease is gone, or a batch Postgres refused, is left pending for reclaim.
    async fn complete_loop(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<Completion>) {
        let mut batch = Vec::new();
        while rx.recv_many(&mut batch, 1024).await > 0 {
            let leases: Vec<(JobId, i32)> = batch.iter().map(|c| (c.job, c.attempt)).collect();
            let result = match self.db.get().await {
                Ok(client) => jobs::succeed_many(&client, &leases).await,
                Err(e) => Err(DbError::from(e)),
            };
            let succeeded: HashSet<JobId> = match result {
                Ok(ids) => ids.into_iter().collect(),
                Err(e) => {
                    self.unrecorded(&e);
                    HashSet::new()
                }
            };
            for c in batch.drain(..) {
                let settled = if succeeded.contains(&c.job) {
                    Settled::Done
                } else {
                    Settled::Leave
                };
                let _ = c.recorded.send(settled);
            }
        }
    }

    async fn read(
        &self,
        reader: &mut group::Reader,
        count: usize,
    ) -> Result<Vec<Entry>, RedisError> {
        reader
            .read(
                &self.redis,
                &self.redis.keys.job_stream(),
                &self.name,
                count,
                group::From::New(self.config.block),
            )
            .await
    }

    async fn handle(
        &self,
        entry_id: String,
        message: JobMessage,
        lease: Lease,
        hand_back: watch::Receiver<bool>,
        acks: Acks,
        completions: Completions,
    ) {
        let span = tracing::info_span!("job", job_id = %message.job_id, book_id = %message.book_id, entry_id = %entry_id);
        if let Some(tp) = &message.traceparent {
            shared_domain::telemetry::set_remote_parent(&span, tp);
        }
        async {
            let lag = (chrono::Utc::now() - message.enqueued_at).to_std().unwrap_or_default();
            metrics::histogram!("queue_start_lag_seconds").record(lag.as_secs_f64());
            tracing::info!(job_id = %lease.job.id, attempt = lease.attempt, "processing your book | book_id={}", lease.job.book_id);
            let settled = self
                .run_job(&lease, &entry_id, hand_back, &completions)
                .await;
            if matches!(settled, Settled::Done) {
                let _ = acks.send(entry_id.clone());
            }
        }
        .instrument(span)
        .await;
    }

    async fn run_job(
        &self,
        lease: &Lease,
        entry_id: &str,
        mut hand_back: watch::Receiver<bool>,
        completions: &Completions,
    ) -> Settled {
        let progress = Progress::default();
        let started = Instant::now();
        let outcome = tokio::select! {
            r = self.pipeline.run(lease, &progress) => Some(r),
            () = self.heartbeat(lease, entry_id, &progress) => Some(Err(PipelineError::LostLease)),
            _ = hand_back.wait_for(|v| *v) => None,
        };
        let elapsed = started.elapsed().as_secs_f64();
        let Some(outcome) = outcome else {
            return self.hand_back(lease).await;
        };
        match outcome {
            Ok(done) => {
                if !done.recorded {
                    let (recorded, reply) = oneshot::channel();
                    let completion = Completion {
                        job: lease.job.id,
                        attempt: lease.attempt,
                        recorded,
                    };
                    if completions.send(completion).is_err()
                        || !matches!(reply.await, Ok(Settled::Done))
                    {
                        return Settled::Leave;
                    }
                }
                metrics::counter!("jobs_total", "outcome" => "succeeded").increment(1);
                metrics::histogram!("job_seconds").record(elapsed);
                tracing::info!(pages = done.pages, chunks = done.chunks, engine = %done.engine, seconds = elapsed, "job succeeded");
                Settled::Done
            }
            Err(PipelineError::LostLease) => {
                tracing::warn!(
                    "lost the job to another worker (heartbeat expired); abandoning this run"
                );
                metrics::counter!("jobs_total", "outcome" => "lost").increment(1);
                Settled::Leave
            }
            Err(PipelineError::Permanent(e)) => {
                let mut client = match self.db.get().await {
                    Ok(c) => c,
                    Err(err) => return self.unrecorded(&DbError::from(err)),
                };
                match jobs::fail(&mut client, lease, e.code.as_str(), &e.message).await {
                    Ok(()) => {
                        metrics::counter!("jobs_total", "outcome" => "failed").increment(1);
                        tracing::info!(code = %e.code, reason = %e.message, "book failed");
                        Settled::Done
                    }
                    Err(FinishError::LostLease(_)) => Settled::Leave,
                    Err(FinishError::Db(err)) => self.unrecorded(&err),
                }
            }
            Err(e @ PipelineError::Transient { .. }) => self.retry_later(lease, &e).await,
        }
    }

    async fn retry_later(&self, lease: &Lease, error: &PipelineError) -> Settled {
        let backoff = backoff_delay(&self.config, lease.attempt);
        let mut client = match self.db.get().await {
            Ok(c) => c,
            Err(err) => return self.unrecorded(&DbError::from(err)),
        };
        let reason = error_chain(error);
        match jobs::retry_later(&mut client, lease, &reason, backoff.as_secs_f64()).await {
            Ok(AfterFailure::Retrying { run_after }) => {
                metrics::counter!("jobs_total", "outcome" => "retrying").increment(1);
                tracing::warn!(error = %reason, attempt = lease.attempt, %run_after, "transient failure; will retry");
                Settled::Done
            }
            Ok(AfterFailure::Dead) => {
                metrics::counter!("jobs_total", "outcome" => "dead").increment(1);
                tracing::error!(error = %reason, attempts = lease.attempt, "out of attempts; the job is dead");
                dead_letter(&self.redis, &self.db, &lease.job, &reason, lease.attempt).await;
                Settled::Done
            }
            Err(FinishError::LostLease(_)) => Settled::Leave,
            Err(FinishError::Db(err)) => self.unrecorded(&err),
        }
    }

    fn unrecorded(&self, e: &DbError) -> Settled {
        tracing::warn!(error = %error_chain(e), "cannot record the outcome; the job will be retried after the visibility timeout");
        Settled::Leave
    }

    /// Shutdown: give the job back to the queue without counting the attempt, and
    /// publish it so another worker starts it now.
    async fn hand_back(&self, lease: &Lease) -> Settled {
        let client = match self.db.get().await {
            Ok(c) => c,
            Err(err) => return self.unrecorded(&DbError::from(err)),
        };
        match jobs::hand_back(&client, lease).await {
            Ok(Some(job)) => {
                tracing::info!("handed the job back for another worker");
                metrics::counter!("jobs_total", "outcome" => "handed_back").increment(1);
                if let Err(e) = shared_domain::queue::publish(&self.db, &self.redis, &job).await {
                    tracing::warn!(error = %error_chain(&e), "could not republish the handed-back job; the sweeper will");
                }
                Settled::Done
            }
            Ok(None) => Settled::Leave,
            Err(e) => self.unrecorded(&e),
        }
    }

    /// Until the lease is lost: heartbeat in Postgres (with progress) every couple of
    /// seconds, and reset the entry's idle time at a third of the visibility timeout.
    async fn heartbeat(&self, lease: &Lease, entry_id: &str, progress: &Progress) {
        let claim_every = self.config.visibility_timeout / 3;
        let tick = claim_every.min(Duration::from_secs(2));
        let mut last_claim = Instant::now();
        let mut last_progress = None;
        loop {
            tokio::time::sleep(tick).await;
            let now_progress = progress.get();
            let due = last_claim.elapsed() >= claim_every;
            if !due && now_progress == last_progress {
                continue;
            }
            match self.db.get().await.map_err(DbError::from) {
                Ok(client) => match jobs::heartbeat(&client, lease, now_progress).await {
                    Ok(true) => last_progress = now_progress,
                    Ok(false) => return,
                    Err(e) => tracing::warn!(error = %error_chain(&e), "heartbeat not recorded"),
                },
                Err(e) => tracing::warn!(error = %error_chain(&e), "heartbeat not recorded"),
            }
            if due {
                last_claim = Instant::now();
                if let Err(e) = self.touch(entry_id).await {
                    tracing::warn!(error = %error_chain(&e), "could not refresh the stream entry");
                }
            }
        }
    }

    async fn touch(&self, entry_id: &str) -> Result<(), RedisError> {
        let mut conn = self.redis.conn().await?;
        let _: Value = redis::cmd("XCLAIM")
            .arg(self.redis.keys.job_stream())
            .arg(WORKER_GROUP)
            .arg(&self.name)
            .arg(0)
            .arg(entry_id)
            .arg("JUSTID")
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// XACK + XDEL in one round trip; a failure leaves the entries to be reclaimed and dropped.
    async fn ack(&self, entry_ids: &[String]) {
        if let Err(e) = group::ack(&self.redis, &self.redis.keys.job_stream(), entry_ids).await {
            tracing::warn!(count = entry_ids.len(), error = %error_chain(&e), "could not acknowledge entries; they will be reclaimed and dropped");
        }
    }
}

/// XADD a dead letter (the job row already says `dead`): job id, book id, the
/// error and how many deliveries it had; then record in the row that it is
/// written. If either step fails the sweeper writes it later (`dead_lettered_at`
/// is the outbox), so an entry may repeat but is never missing.
pub async fn dead_letter(redis: &Redis, db: &Pool, job: &jobs::Job, error: &str, deliveries: i32) {
    let written = async {
        let mut conn = redis.conn().await?;
        let _: String = redis::cmd("XADD")
            .arg(redis.keys.dead_letter_stream())
            .arg("*")
            .arg("job_id")
            .arg(job.id.to_string())
            .arg("book_id")
            .arg(job.book_id.to_string())
            .arg("error")
            .arg(error)
            .arg("deliveries")
            .arg(deliveries)
            .arg("failed_at")
            .arg(
                job.finished_at
                    .unwrap_or_else(chrono::Utc::now)
                    .to_rfc3339(),
            )
            .query_async(&mut conn)
            .await?;
        Ok::<_, RedisError>(())
    };
    if let Err(e) = written.await {
        tracing::warn!(job_id = %job.id, error = %error_chain(&e), "could not write the dead letter yet (the job row says dead); the sweeper will");
        return;
    }
    let marked = match db.get().await {
        Ok(client) => jobs::mark_dead_lettered(&client, job.id).await,
        Err(e) => Err(DbError::from(e)),
    };
    if let Err(e) = marked {
        tracing::warn!(job_id = %job.id, error = %error_chain(&e), "dead letter written but not recorded; the sweeper may write it again");
    }
}

/// The consumer-group commands both of the worker's streams use (the job stream
/// and the positions stream), each on the stream it is given, in the group
/// `workers`.
pub(crate) mod group {
    use std::time::Duration;

    use redis::Value;
    use redis::aio::MultiplexedConnection;
    use shared_domain::redis::{Redis, RedisError, WORKER_GROUP};

    use super::{Entry, parse_entries, parse_read_reply};

    /// Which entries a read asks for.
    pub(crate) enum From {
        /// New entries, waiting up to this long for one.
        New(Duration),
        /// This consumer's own entries read and not yet acknowledged (at once).
        OwnPending,
    }

    /// Create the group (from the stream's beginning, so entries added before any
    /// worker existed are delivered) unless it exists.
    pub(crate) async fn ensure(redis: &Redis, stream: &str) -> Result<(), RedisError> {
        let mut conn = redis.conn().await?;
        let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream)
            .arg(WORKER_GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => Ok(other?),
        }
    }

    /// How much longer than its `BLOCK` a read may take before its connection is
    /// taken for dead (a peer or a middlebox that dropped it silently).
    const READ_MARGIN: Duration = Duration::from_secs(15);

    /// One loop's connection for `XREADGROUP`, made from the blocking pool's
    /// settings (no response timeout: the server stays silent while a read
    /// blocks) and then held, so an idle read costs one command: a pooled
    /// checkout would add an `UNWATCH` and a `PING` to every read, which is most
    /// of what an idle worker costs on a per-command-billed Redis. Any failure,
    /// and a read cancelled part-way (its reply may still come), closes it; the
    /// next read makes a new one.
    #[derive(Default)]
    pub(crate) struct Reader {
        conn: Option<MultiplexedConnection>,
    }

    impl Reader {
        pub(crate) async fn read(
            &mut self,
            redis: &Redis,
            stream: &str,
            consumer: &str,
            count: usize,
            from: From,
        ) -> Result<Vec<Entry>, RedisError> {
            // Taken out while the read is in flight: dropped with the future if it
            // is cancelled, so a connection with a reply still owed is never reused.
            let mut conn = match self.conn.take() {
                Some(conn) => conn,
                None => redis.blocking_connection().await?,
            };
            let mut cmd = redis::cmd("XREADGROUP");
            cmd.arg("GROUP")
                .arg(WORKER_GROUP)
                .arg(consumer)
                .arg("COUNT")
                .arg(count);
            let (id, wait) = match from {
                From::New(block) => {
                    cmd.arg("BLOCK")
                        .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX));
                    (">", block + READ_MARGIN)
                }
                From::OwnPending => ("0", READ_MARGIN),
            };
            cmd.arg("STREAMS").arg(stream).arg(id);
            match tokio::time::timeout(wait, cmd.query_async::<Value>(&mut conn)).await {
                Ok(Ok(reply)) => {
                    self.conn = Some(conn);
                    Ok(parse_read_reply(reply))
                }
                Ok(Err(e)) => Err(e.into()),
                Err(_) => Err(redis::RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no reply to a blocking read within its BLOCK time; reconnecting",
                ))
                .into()),
            }
        }
    }

    /// Take over entries any consumer read and left unacknowledged for `idle`.
    pub(crate) async fn autoclaim(
        redis: &Redis,
        stream: &str,
        consumer: &str,
        idle: Duration,
        count: usize,
    ) -> Result<Vec<Entry>, RedisError> {
        let mut conn = redis.conn().await?;
        let reply: Value = redis::cmd("XAUTOCLAIM")
            .arg(stream)
            .arg(WORKER_GROUP)
            .arg(consumer)
            .arg(u64::try_from(idle.as_millis()).unwrap_or(u64::MAX))
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await?;
        // [next-cursor, [entries…], [deleted ids…]]
        let Value::Array(parts) = reply else {
            return Ok(Vec::new());
        };
        Ok(parts
            .into_iter()
            .nth(1)
            .map(parse_entries)
            .unwrap_or_default())
    }

    /// XACK + XDEL in one round trip.
    pub(crate) async fn ack(redis: &Redis, stream: &str, ids: &[String]) -> Result<(), RedisError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = redis.conn().await?;
        let _: Value = redis::pipe()
            .cmd("XACK")
            .arg(stream)
            .arg(WORKER_GROUP)
            .arg(ids)
            .cmd("XDEL")
            .arg(stream)
            .arg(ids)
            .query_async(&mut conn)
            .await?;
        Ok(())
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

/// Waiting between failed attempts at Redis: 0.2 s doubling to 5 s.
pub(crate) fn backoff(errors: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << errors.min(5))).min(Duration::from_secs(5))
}

pub(crate) async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        () = tokio::time::sleep(d) => {}
        _ = stop.changed() => {}
    }
}

fn parse_read_reply(reply: Value) -> Vec<Entry> {
    // [[stream, [entries…]]] (RESP2) or {stream: [entries…]} (RESP3); nil on timeout.
    match reply {
        Value::Array(streams) => streams
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(mut pair) if pair.len() == 2 => pair.pop(),
                _ => None,
            })
            .flat_map(parse_entries)
            .collect(),
        Value::Map(streams) => streams
            .into_iter()
            .flat_map(|(_, v)| parse_entries(v))
            .collect(),
        _ => Vec::new(),
    }
}

fn parse_entries(value: Value) -> Vec<Entry> {
    let Value::Array(entries) = value else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|e| {
            let Value::Array(mut parts) = e else {
                return None;
            };
            if parts.len() != 2 {
                return None;
            }
            let fields = parts.pop()?;
            let id: String = redis::from_redis_value(parts.pop()?).ok()?;
            // A deleted entry comes back with nil fields: an empty map, dropped as malformed.
            let fields: HashMap<String, String> =
                redis::from_redis_value(fields).unwrap_or_default();
            Some((id, fields))
        })
        .collect()
}
