//! Worker transitions. A claim makes the job `running` and bumps `attempts`; the
//! attempt number is the lease: every later write by that worker is fenced on
//! `status = 'running' AND attempts = lease`, so a worker that lost its job (its
//! heartbeat expired and another took over) can never overwrite the new run.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::{COLUMNS, Job};
use crate::BookErrorCode;
use crate::db::DbError;
use crate::domain::{BookId, JobId, JobStatus};

/// A claimed job: the row after the claim, and the lease to fence writes with.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job: Job,
    pub attempt: i32,
}

/// Still ours? Record that the worker is alive (and how far it got).
pub async fn heartbeat(
    client: &impl GenericClient,
    lease: &Lease,
    progress: Option<(i32, i32)>,
) -> Result<bool, DbError> {
    let (done, total) = progress.unzip();
    Ok(client
        .execute(
            "UPDATE jobs SET heartbeat_at = now(), \
             progress_total = COALESCE($3, progress_total), progress_done = COALESCE(LEAST($4, COALESCE($3, progress_total)), progress_done) \
             WHERE id = $1 AND status = 'running' AND attempts = $2",
            &[&lease.job.id.0, &lease.attempt, &total, &done],
        )
        .await?
        == 1)
}

/// The lease was lost: another worker owns the job now.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error("the job is no longer ours (lease {0} lost)")]
    LostLease(i32),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<tokio_postgres::Error> for FinishError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Lock the leased row inside `tx`, or report the lease lost.
pub async fn lock_lease(tx: &impl GenericClient, lease: &Lease) -> Result<(), FinishError> {
    let row = tx
        .query_opt(
            "SELECT 1 FROM jobs WHERE id = $1 AND status = 'running' AND attempts = $2 FOR UPDATE",
            &[&lease.job.id.0, &lease.attempt],
        )
        .await?;
    row.map(|_| ()).ok_or(FinishError::LostLease(lease.attempt))
}

/// Mark the leased job succeeded (inside the transaction that stored its output).
pub async fn succeed(tx: &impl GenericClient, lease: &Lease) -> Result<(), FinishError> {
    tx.execute(
        "UPDATE jobs SET status = 'succeeded', finished_at = now(), heartbeat_at = now(), last_error = NULL, \
         progress_done = COALESCE(progress_total, progress_done) WHERE id = $1 AND attempts = $2",
        &[&lease.job.id.0, &lease.attempt],
    )
    .await?;
    Ok(())
}

/// A permanent failure: the job is `failed` and so is its book (unless the book
/// is ready from an earlier run and keeps its chunks).
pub async fn fail(
    client: &mut deadpool_postgres::Object,
    lease: &Lease,
    code: BookErrorCode,
    message: &str,
) -> Result<(), FinishError> {
    let tx = client.transaction().await?;
    lock_lease(&tx, lease).await?;
    tx.execute(
        "UPDATE jobs SET status = 'failed', finished_at = now(), last_error = $2 WHERE id = $1",
        &[&lease.job.id.0, &format!("{code}: {message}")],
    )
    .await?;
    fail_book(&tx, lease.job.book_id, code, message).await?;
    tx.commit().await?;
    Ok(())
}

async fn fail_book(
    tx: &impl GenericClient,
    book: BookId,
    code: BookErrorCode,
    message: &str,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE books SET status = 'failed', error_code = $2, error_message = $3 WHERE id = $1 AND status = 'processing'",
        &[&book.0, &code.as_str(), &message],
    )
    .await?;
    Ok(())
}

/// What became of a job after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Back in the queue, due after the backoff.
    Retrying { run_after: DateTime<Utc> },
    /// Out of attempts: `dead`, its book `failed` with `retries_exhausted`.
    Dead,
}

/// The message a book shows once its job has run out of attempts.
pub const RETRIES_EXHAUSTED_MESSAGE: &str =
    "processing kept failing for a temporary reason; an admin can retry it";

/// A transient failure: queue the job again after `backoff_secs`, or bury it.
pub async fn retry_later(
    client: &mut deadpool_postgres::Object,
    lease: &Lease,
    error: &str,
    backoff_secs: f64,
) -> Result<AfterFailure, FinishError> {
    let tx = client.transaction().await?;
    lock_lease(&tx, lease).await?;
    let row = tx
        .query_one(
            "UPDATE jobs SET \
               status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
               finished_at = CASE WHEN attempts >= max_attempts THEN now() END, dead_lettered_at = NULL, \
               run_after = now() + make_interval(secs => $2), published_at = NULL, \
               heartbeat_at = NULL, worker = NULL, last_error = $3 \
             WHERE id = $1 RETURNING status, run_after",
            &[&lease.job.id.0, &backoff_secs, &error],
        )
        .await?;
    let status: String = row.try_get(0).map_err(DbError::from)?;
    let outcome = if status == "dead" {
        fail_book(
            &tx,
            lease.job.book_id,
            BookErrorCode::RetriesExhausted,
            RETRIES_EXHAUSTED_MESSAGE,
        )
        .await?;
        AfterFailure::Dead
    } else {
        AfterFailure::Retrying {
            run_after: row.try_get(1).map_err(DbError::from)?,
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Dead jobs whose dead-letter entry was never written (Redis was down, or the
/// process died after the commit), dead for at least `grace_secs` so the worker
/// that buried them has had its chance first.
pub async fn owed_dead_letters(
    client: &impl GenericClient,
    grace_secs: f64,
    limit: i64,
) -> Result<Vec<Job>, DbError> {
    client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM jobs WHERE status = 'dead' AND dead_lettered_at IS NULL \
                 AND finished_at < now() - make_interval(secs => $1) ORDER BY finished_at LIMIT $2"
            ),
            &[&grace_secs, &limit],
        )
        .await?
        .iter()
        .map(Job::from_row)
        .collect()
}

/// The dead-letter entry of this death is written.
pub async fn mark_dead_lettered(client: &impl GenericClient, job: JobId) -> Result<(), DbError> {
    client
        .execute(
            "UPDATE jobs SET dead_lettered_at = now() WHERE id = $1 AND status = 'dead' AND dead_lettered_at IS NULL",
            &[&job.0],
        )
        .await?;
    Ok(())
}

/// Give an unfinished job back (shutdown): queued again, due now, the attempt not
/// counted. Returns the job to publish.
pub async fn hand_back(client: &impl GenericClient, lease: &Lease) -> Result<Option<Job>, DbError> {
    client
        .query_opt(
            &format!(
                "UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_after = now(), published_at = NULL, \
                 started_at = NULL, heartbeat_at = NULL, worker = NULL \
                 WHERE id = $1 AND status = 'running' AND attempts = $2 RETURNING {COLUMNS}"
            ),
            &[&lease.job.id.0, &lease.attempt],
        )
        .await?
        .as_ref()
        .map(Job::from_row)
        .transpose()
}

/// A job the sweeper found with an expired heartbeat.
#[derive(Debug, Clone)]
pub struct Expired {
    pub job: Job,
    pub dead: bool,
}

/// Requeue `running` jobs silent for longer than `stale_after_secs`, burying those
/// out of attempts (their books fail with `retries_exhausted`). With a `fence`,
/// only while that lease is held (nothing otherwise).
pub async fn requeue_expired(
    client: &mut deadpool_postgres::Object,
    stale_after_secs: f64,
    limit: i64,
    fence: Option<&crate::db::leases::Fence<'_>>,
) -> Result<Vec<Expired>, DbError> {
    let tx = client.transaction().await?;
    if let Some(fence) = fence
        && !fence.check(&tx).await?
    {
        return Ok(Vec::new());
    }
    let rows = tx
        .query(
            &format!(
                "UPDATE jobs SET \
                   status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
                   finished_at = CASE WHEN attempts >= max_attempts THEN now() END, dead_lettered_at = NULL, \
                   run_after = now(), published_at = NULL, heartbeat_at = NULL, worker = NULL, \
                   last_error = COALESCE(worker, 'a worker') || ' stopped while running it (no heartbeat)' \
                 WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1) \
                              ORDER BY heartbeat_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING {COLUMNS}"
            ),
            &[&stale_after_secs, &limit],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let job = Job::from_row(row)?;
        let dead = job.status == JobStatus::Dead;
        if dead {
            fail_book(
                &tx,
                job.book_id,
                BookErrorCode::RetriesExhausted,
                RETRIES_EXHAUSTED_MESSAGE,
            )
            .await?;
        }
        out.push(Expired { job, dead });
    }
    tx.commit().await?;
    Ok(out)
}

/// Queued jobs that are due and not on the stream (or were published so long ago
/// that the message may be lost), oldest due first.
pub async fn due_for_publishing(
    client: &impl GenericClient,
    republish_after_secs: f64,
    limit: i64,
) -> Result<Vec<Job>, DbError> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM jobs WHERE status = 'queued' AND run_after <= now() \
                 AND (published_at IS NULL OR published_at < now() - make_interval(secs => $1)) \
                 ORDER BY run_after LIMIT $2"
            ),
            &[&republish_after_secs, &limit],
        )
        .await?;
    rows.iter().map(Job::from_row).collect()
}

/// Mark many jobs published at once: those still queued at the attempt their
/// message carries (see [`mark_published`]).
pub async fn mark_many_published(
    client: &impl GenericClient,
    published: &[(JobId, i32)],
) -> Result<u64, DbError> {
    let ids: Vec<Uuid> = published.iter().map(|(j, _)| j.0).collect();
    let attempts: Vec<i32> = published.iter().map(|(_, a)| *a).collect();
    Ok(client
        .execute(
            "UPDATE jobs SET published_at = now() WHERE id IN \
             (SELECT j.id FROM jobs j JOIN unnest($1::uuid[], $2::int4[]) AS p(id, attempts) \
              ON j.id = p.id AND j.attempts = p.attempts WHERE j.status = 'queued' ORDER BY j.id FOR UPDATE OF j)",
            &[&ids, &attempts],
        )
        .await?)
}

/// Claim a batch of deliveries for `worker` in one statement: each a queued job
/// that is due, or a running one whose heartbeat is older than `stale_after_secs`
/// (its worker died). Rows are locked in id
/// order (as [`mark_many_published`] does), so concurrent batches never deadlock;
/// a row locked by someone else is waited for, never skipped: skipping a row the
/// sweeper is marking published would drop its only message. Returns the leases won; every other id is a duplicate, finished, running
/// elsewhere, not due, out of attempts or gone.
pub async fn claim_many(
    client: &impl GenericClient,
    ids: &[JobId],
    worker: &str,
    stale_after_secs: f64,
) -> Result<Vec<Lease>, DbError> {
    let ids: Vec<Uuid> = ids.iter().map(|j| j.0).collect();
    // The hot path of the queue: a cached prepared statement saves a round trip.
    let statement = client
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = now(), heartbeat_at = now(), \
             worker = $2, progress_done = 0, progress_total = NULL, finished_at = NULL \
             WHERE id IN (SELECT id FROM jobs WHERE id = ANY($1) AND attempts < max_attempts AND run_after <= now() \
               AND (status = 'queued' OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $3))) \
               ORDER BY id FOR UPDATE) \
             RETURNING {COLUMNS}"
        ))
        .await?;
    let rows = client
        .query(&statement, &[&ids, &worker, &stale_after_secs])
        .await?;
    rows.iter()
        .map(|r| {
            let job = Job::from_row(r)?;
            Ok(Lease {
                attempt: job.attempts,
                job,
            })
        })
        .collect()
}

/// Whether some queued job was published over `after_secs` ago and is due but
/// has not started: its stream entry may be stuck in the pending list of a
/// worker that read it and died before claiming it (or behind a long backlog,
/// which the caller cannot tell apart and need not: looking costs one command).
pub async fn any_published_unstarted(
    client: &impl GenericClient,
    after_secs: f64,
) -> Result<bool, DbError> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE status = 'queued' AND run_after <= now() \
             AND published_at < now() - make_interval(secs => $1))",
            &[&after_secs],
        )
        .await?
        .try_get(0)?)
}

/// Mark queued jobs unpublished (their stream entry was dropped), so the outbox
/// publishes them again. Returns how many were still queued.
pub async fn unpublish(client: &impl GenericClient, ids: &[JobId]) -> Result<u64, DbError> {
    let ids: Vec<Uuid> = ids.iter().map(|j| j.0).collect();
    Ok(client
        .execute(
            "UPDATE jobs SET published_at = NULL WHERE id = ANY($1) AND status = 'queued'",
            &[&ids],
        )
        .await?)
}

/// The queue's state as Postgres knows it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Depth {
    /// Queued and due: waiting for a worker.
    pub backlog: i64,
    /// Running now.
    pub running: i64,
    /// How long the longest-waiting due job has waited for a worker (0 when none waits).
    pub oldest_waiting_seconds: f64,
    /// Out of attempts and not retried.
    pub dead: i64,
}

pub async fn depth(client: &impl GenericClient) -> Result<Depth, DbError> {
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'queued' AND run_after <= now()), \
                    count(*) FILTER (WHERE status = 'running'), \
                    COALESCE(EXTRACT(EPOCH FROM now() - min(run_after) \
                      FILTER (WHERE status = 'queued' AND run_after <= now()))::float8, 0), \
                    count(*) FILTER (WHERE status = 'dead') \
             FROM jobs WHERE status IN ('queued', 'running', 'dead')",
            &[],
        )
        .await?;
    Ok(Depth {
        backlog: row.try_get(0)?,
        running: row.try_get(1)?,
        oldest_waiting_seconds: row.try_get::<_, f64>(2)?.max(0.0),
        dead: row.try_get(3)?,
    })
}
