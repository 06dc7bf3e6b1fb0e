//! The transactional outbox: jobs committed in Postgres, published to the job
//! stream ([`crate::stream`]), and dead letters written for jobs out of attempts.
//!
//! Publishing is the second half of the transactional outbox: a job row is
//! committed first with `published_at` NULL, then [`publish`] XADDs it to
//! `{ns}:queue:book-jobs` and marks it published. If Redis is down the row simply
//! stays unpublished and the worker's sweeper publishes it later, so a failure here
//! is logged, never fatal to the caller. A job published twice is harmless: workers
//! claim jobs in Postgres, and only one claim can win.

use std::time::Duration;

use deadpool_postgres::Pool;

use crate::db::DbError;
use crate::db::jobs::{self, Job};
use crate::error::error_chain;
use crate::redis::{Redis, RedisError};
use crate::stream::{DeadLetter, JobMessage, JobStream};

/// How long an XADD may take before the caller gives up and leaves the job to the sweeper.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("could not add the job to the stream")]
    Redis(#[from] RedisError),
    #[error("timed out adding the job to the stream")]
    Timeout,
    #[error("could not mark the job published")]
    Db(#[from] DbError),
}

/// XADD the job and mark it published. On error the job stays unpublished for the
/// sweeper; callers log and carry on.
#[tracing::instrument(skip_all, fields(job_id = %job.id, book_id = %job.book_id))]
pub async fn publish(db: &Pool, redis: &Redis, job: &Job) -> Result<String, PublishError> {
    let message = JobMessage::for_job(job);
    let entry_id = tokio::time::timeout(PUBLISH_TIMEOUT, JobStream::new(redis).add(&message))
        .await
        .map_err(|_| PublishError::Timeout)??;
    let client = db.get().await.map_err(DbError::from)?;
    jobs::mark_published(&client, job.id, message.attempt).await?;
    metrics::counter!("queue_published_total").increment(1);
    Ok(entry_id)
}

/// [`publish`] for many jobs: one pipelined round trip of XADDs, then one update
/// marking them published (only those still queued).
pub async fn publish_many(
    client: &impl deadpool_postgres::GenericClient,
    redis: &Redis,
    jobs: &[Job],
) -> Result<(), PublishError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let messages: Vec<JobMessage> = jobs.iter().map(JobMessage::for_job).collect();
    tokio::time::timeout(PUBLISH_TIMEOUT, JobStream::new(redis).add_many(&messages))
        .await
        .map_err(|_| PublishError::Timeout)??;
    let published: Vec<_> = jobs.iter().map(|j| (j.id, j.attempts)).collect();
    jobs::mark_many_published(client, &published).await?;
    metrics::counter!("queue_published_total").increment(jobs.len() as u64);
    Ok(())
}

/// XADD a dead letter (the job row already says `dead`): job id, book id, the
/// error and how many deliveries it had; then record in the row that it is
/// written. If either step fails the sweeper writes it later (`dead_lettered_at`
/// is the outbox), so an entry may repeat but is never missing.
pub async fn dead_letter(redis: &Redis, db: &Pool, job: &Job, error: &str, deliveries: i32) {
    let letter = DeadLetter {
        job_id: job.id,
        book_id: job.book_id,
        error,
        deliveries,
        failed_at: job.finished_at.unwrap_or_else(chrono::Utc::now),
    };
    if let Err(e) = JobStream::new(redis).add_dead_letter(&letter).await {
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
