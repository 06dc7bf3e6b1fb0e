//! The job stream ([`JobStream`]): its messages, publishing them, and dead letters.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redis::Value;

use super::GroupStream;
use crate::domain::{BookId, JobId, JobKind};
use crate::redis::{Keys, Redis, RedisError};

/// The job stream and its dead letters.
#[derive(Clone)]
pub struct JobStream {
    group: GroupStream,
    dead_letters: String,
}

impl std::ops::Deref for JobStream {
    type Target = GroupStream;

    fn deref(&self) -> &GroupStream {
        &self.group
    }
}

/// A dead letter: a job out of attempts, for people to read.
pub struct DeadLetter<'a> {
    pub job_id: JobId,
    pub book_id: BookId,
    pub error: &'a str,
    pub deliveries: i32,
    pub failed_at: DateTime<Utc>,
}

impl JobStream {
    pub fn new(redis: &Redis) -> Self {
        Self {
            group: GroupStream {
                key: redis.keys.job_stream(),
                redis: redis.clone(),
            },
            dead_letters: redis.keys.dead_letter_stream(),
        }
    }

    /// The XADD of one message.
    pub fn add_cmd(keys: &Keys, message: &JobMessage) -> redis::Cmd {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(keys.job_stream()).arg("*");
        for (k, v) in message.to_fields() {
            cmd.arg(k).arg(v);
        }
        cmd
    }

    /// XADD one message; its entry id.
    pub async fn add(&self, message: &JobMessage) -> Result<String, RedisError> {
        let mut conn = self.group.redis.conn().await?;
        Ok(Self::add_cmd(&self.group.redis.keys, message)
            .query_async(&mut conn)
            .await?)
    }

    /// XADD many messages in one pipelined round trip.
    pub async fn add_many(&self, messages: &[JobMessage]) -> Result<(), RedisError> {
        let mut pipe = redis::pipe();
        for message in messages {
            pipe.add_command(Self::add_cmd(&self.group.redis.keys, message))
                .ignore();
        }
        let mut conn = self.group.redis.conn().await?;
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    pub async fn add_dead_letter(&self, letter: &DeadLetter<'_>) -> Result<(), RedisError> {
        let mut conn = self.group.redis.conn().await?;
        let _: String = redis::cmd("XADD")
            .arg(&self.dead_letters)
            .arg("*")
            .arg("job_id")
            .arg(letter.job_id.to_string())
            .arg("book_id")
            .arg(letter.book_id.to_string())
            .arg("error")
            .arg(letter.error)
            .arg("deliveries")
            .arg(letter.deliveries)
            .arg("failed_at")
            .arg(letter.failed_at.to_rfc3339())
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// Remove dead letters older than `cutoff`, or with `dry_run` only count them.
    pub async fn trim_dead_letters(
        &self,
        cutoff: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<u64, RedisError> {
        let cutoff = cutoff.timestamp_millis();
        let mut conn = self.group.redis.conn().await?;
        if dry_run {
            let old: Vec<Value> = redis::cmd("XRANGE")
                .arg(&self.dead_letters)
                .arg("-")
                .arg(format!("({cutoff}-0"))
                .query_async(&mut conn)
                .await?;
            return Ok(old.len() as u64);
        }
        Ok(redis::cmd("XTRIM")
            .arg(&self.dead_letters)
            .arg("MINID")
            .arg(cutoff)
            .query_async(&mut conn)
            .await?)
    }
}

/// One entry of the job stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobMessage {
    pub job_id: JobId,
    pub book_id: BookId,
    /// What the job does; the consumer dispatches on it.
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
    pub fn for_job(job: &crate::db::jobs::Job) -> Self {
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
