//! The work stream's message format and its publisher.
//!
//! Publishing is the second half of the transactional outbox: a job row is
//! committed first with `published_at` NULL, then [`publish`] XADDs it to
//! `{ns}:queue:book-jobs` and marks it published. If Redis is down the row simply
//! stays unpublished and the worker's sweeper publishes it later, so a failure here
//! is logged, never fatal to the caller. A job published twice is harmless: workers
//! claim jobs in Postgres, and only one claim can win.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

use crate::db::jobs::{self, Job};
use crate::domain::{BookId, JobId, JobKind};
use crate::redis::Redis;

/// How long an XADD may take before the caller gives up and leaves the job to the sweeper.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);

/// One entry of the work stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobMessage {
    pub job_id: JobId,
    pub book_id: BookId,
    pub kind: JobKind,
    /// The job's attempt count when published (diagnostics only: Postgres decides).
    pub attempt: i32,
    /// W3C trace context of the publisher, so one trace spans upload → worker.
    pub traceparent: Option<String>,
    pub enqueued_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
#[error("malformed stream entry: {0}")]
pub struct MessageError(String);

impl MessageError {
    pub fn new(what: impl Into<String>) -> Self {
        Self(what.into())
    }
}

impl JobMessage {
    pub fn for_job(job: &Job) -> Self {
        Self {
            job_id: job.id,
            book_id: job.book_id,
            kind: job.kind,
            attempt: job.attempts,
            // The trace of the request that created the job, whoever publishes it.
            traceparent: job
                .traceparent
                .clone()
                .or_else(crate::telemetry::current_traceparent),
            enqueued_at: Utc::now(),
        }
    }

    pub fn to_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("job_id", self.job_id.to_string()),
            ("book_id", self.book_id.to_string()),
            ("kind", self.kind.as_str().to_owned()),
            ("attempt", self.attempt.to_string()),
            ("enqueued_at", self.enqueued_at.to_rfc3339()),
        ];
        if let Some(tp) = &self.traceparent {
            fields.push(("traceparent", tp.clone()));
        }
        fields
    }

    pub fn from_fields(fields: &HashMap<String, String>) -> Result<Self, MessageError> {
        let get = |name: &str| {
            fields
                .get(name)
                .ok_or_else(|| MessageError(format!("no {name}")))
        };
        let bad = |name: &str| MessageError(format!("bad {name}"));
        Ok(Self {
            job_id: get("job_id")?.parse().map_err(|_| bad("job_id"))?,
            book_id: get("book_id")?.parse().map_err(|_| bad("book_id"))?,
            kind: get("kind")?.parse().map_err(|_| bad("kind"))?,
            attempt: get("attempt")?.parse().map_err(|_| bad("attempt"))?,
            traceparent: fields.get("traceparent").cloned(),
            enqueued_at: DateTime::parse_from_rfc3339(get("enqueued_at")?)
                .map_err(|_| bad("enqueued_at"))?
                .with_timezone(&Utc),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("could not add the job to the stream")]
    Redis(#[from] crate::redis::RedisError),
    #[error("timed out adding the job to the stream")]
    Timeout,
    #[error("could not mark the job published")]
    Db(#[from] crate::db::DbError),
}

/// XADD the job and mark it published. On error the job stays unpublished for the
/// sweeper; callers log and carry on.
#[tracing::instrument(skip_all, fields(job_id = %job.id, book_id = %job.book_id))]
pub async fn publish(db: &Pool, redis: &Redis, job: &Job) -> Result<String, PublishError> {
    let message = JobMessage::for_job(job);
    let entry_id = tokio::time::timeout(PUBLISH_TIMEOUT, xadd(redis, &message))
        .await
        .map_err(|_| PublishError::Timeout)??;
    let client = db.get().await.map_err(crate::db::DbError::from)?;
    jobs::mark_published(&client, job.id, message.attempt).await?;
    metrics::counter!("queue_published_total").increment(1);
    Ok(entry_id)
}

async fn xadd(redis: &Redis, message: &JobMessage) -> Result<String, crate::redis::RedisError> {
    let mut conn = redis.conn().await?;
    Ok(xadd_cmd(&redis.keys, message)
        .query_async(&mut conn)
        .await?)
}

/// The XADD of one message to the work stream.
pub fn xadd_cmd(keys: &crate::redis::Keys, message: &JobMessage) -> redis::Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(keys.job_stream()).arg("*");
    for (k, v) in message.to_fields() {
        cmd.arg(k).arg(v);
    }
    cmd
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
    let mut pipe = redis::pipe();
    for job in jobs {
        pipe.add_command(xadd_cmd(&redis.keys, &JobMessage::for_job(job)))
            .ignore();
    }
    let send = async {
        let mut conn = redis.conn().await?;
        pipe.query_async::<()>(&mut conn).await?;
        Ok::<_, crate::redis::RedisError>(())
    };
    tokio::time::timeout(PUBLISH_TIMEOUT, send)
        .await
        .map_err(|_| PublishError::Timeout)??;
    let published: Vec<_> = jobs.iter().map(|j| (j.id, j.attempts)).collect();
    jobs::mark_many_published(client, &published).await?;
    metrics::counter!("queue_published_total").increment(jobs.len() as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_round_trips_through_stream_fields() {
        let msg = JobMessage {
            job_id: JobId::new(),
            book_id: BookId::new(),
            kind: JobKind::ProcessBook,
            attempt: 2,
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            enqueued_at: DateTime::parse_from_rfc3339("2026-11-23T10:00:00.123456Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let map: HashMap<String, String> = msg
            .to_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(JobMessage::from_fields(&map).unwrap(), msg);
        let mut broken = map;
        broken.remove("job_id");
        assert!(JobMessage::from_fields(&broken).is_err());
    }
}
