//! The Redis streams the workers consume, and every command on them.
//!
//! # The protocol
//!
//! Two streams are read through one consumer group, `workers`: the job stream
//! (`{ns}:queue:book-jobs`, [`JobStream`]) and the positions stream
//! (`{ns}:positions`, where listening positions wait to be saved). Each worker
//! process is one consumer, named `host-pid-random`.
//!
//! - **Publish.** The api (and the sweeper's outbox) `XADD`s a [`JobMessage`] once
//!   its job row is committed in Postgres. A message says which job to run; it
//!   carries no state: Postgres decides whether the job runs, so a message
//!   delivered twice, or published again, is harmless.
//! - **Read.** `XREADGROUP … BLOCK` asks for at most as many entries as the worker
//!   has free slots, so a consumer's pending list never exceeds its concurrency.
//!   A [`Reader`] holds its own connection: an idle worker costs Redis one command
//!   per block period.
//! - **Run.** A delivery becomes work only through the Postgres claim. While a job
//!   runs, its worker resets the entry's idle time (`XCLAIM … JUSTID`, [`GroupStream::touch`])
//!   at a third of the visibility timeout.
//! - **Settle.** When the outcome is recorded in Postgres the entry is `XACK`ed and
//!   `XDEL`eted in one round trip ([`GroupStream::ack`]); when it cannot be, the
//!   entry stays pending.
//! - **Recover.** Entries left pending longer than the visibility timeout (their
//!   worker died) are taken over with `XAUTOCLAIM` by the sweeper's leader, which
//!   has their jobs published again; consumers idle for long with nothing pending
//!   are deleted (`XINFO CONSUMERS`, `XGROUP DELCONSUMER`).
//! - **Dead letters.** A job out of attempts is `XADD`ed to
//!   `{ns}:queue:book-jobs:dead` for people to read; retention trims it by age
//!   (`XTRIM MINID`).
//!
//! Replies are parsed here, in RESP2 and RESP3 shapes alike.

use std::collections::HashMap;
use std::time::Duration;

use redis::Value;
use redis::aio::MultiplexedConnection;

use crate::redis::{Redis, RedisError, WORKER_GROUP};

mod jobs;

pub use jobs::{DeadLetter, JobMessage, JobStream, MessageError};

/// One delivered entry: its id and its fields.
pub type Entry = (String, HashMap<String, String>);

/// How much longer than its `BLOCK` a read may take before its connection is
/// taken for dead (a peer or a middlebox that dropped it silently).
const READ_MARGIN: Duration = Duration::from_secs(15);

/// Which entries a read asks for.
pub enum From {
    /// New entries, waiting up to this long for one.
    New(Duration),
    /// This consumer's own entries read and not yet acknowledged (at once).
    OwnPending,
}

/// A stream read through the `workers` group.
#[derive(Clone)]
pub struct GroupStream {
    pub(crate) redis: Redis,
    pub(crate) key: String,
}

/// What `XINFO CONSUMERS` says of one consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerInfo {
    pub name: String,
    pub pending: u64,
    pub idle: Duration,
}

impl GroupStream {
    /// The positions stream.
    pub fn positions(redis: &Redis) -> Self {
        Self {
            key: redis.keys.positions_stream(),
            redis: redis.clone(),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Create the group (from the stream's beginning, so entries added before any
    /// worker existed are delivered) unless it exists.
    pub async fn ensure_group(&self) -> Result<(), RedisError> {
        let mut conn = self.redis.conn().await?;
        let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.key)
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

    /// A reader for `consumer`, with a connection of its own.
    pub fn reader(&self, consumer: &str) -> Reader {
        Reader {
            stream: self.clone(),
            consumer: consumer.to_owned(),
            conn: None,
        }
    }

    /// Up to `count` new entries for `consumer`, without waiting: on the shared
    /// command connection, since a read that does not block cannot hold it up.
    pub async fn read_now(&self, consumer: &str, count: usize) -> Result<Vec<Entry>, RedisError> {
        let mut conn = self.redis.conn().await?;
        let reply: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(WORKER_GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(">")
            .query_async(&mut conn)
            .await?;
        Ok(parse_read_reply(reply))
    }

    /// Take over entries any consumer read and left unacknowledged for `idle`.
    pub async fn autoclaim(
        &self,
        consumer: &str,
        idle: Duration,
        count: usize,
    ) -> Result<Vec<Entry>, RedisError> {
        let mut conn = self.redis.conn().await?;
        let reply: Value = redis::cmd("XAUTOCLAIM")
            .arg(&self.key)
            .arg(WORKER_GROUP)
            .arg(consumer)
            .arg(millis(idle))
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

    /// Reset the idle time of `consumer`'s entry, so nobody takes it over while
    /// its job runs.
    pub async fn touch(&self, consumer: &str, entry_id: &str) -> Result<(), RedisError> {
        let mut conn = self.redis.conn().await?;
        let _: Value = redis::cmd("XCLAIM")
            .arg(&self.key)
            .arg(WORKER_GROUP)
            .arg(consumer)
            .arg(0)
            .arg(entry_id)
            .arg("JUSTID")
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// XACK + XDEL in one round trip.
    pub async fn ack(&self, ids: &[String]) -> Result<(), RedisError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.redis.conn().await?;
        let _: Value = redis::pipe()
            .cmd("XACK")
            .arg(&self.key)
            .arg(WORKER_GROUP)
            .arg(ids)
            .cmd("XDEL")
            .arg(&self.key)
            .arg(ids)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// The group's consumers; none when the stream or group does not exist.
    pub async fn consumers(&self) -> Result<Vec<ConsumerInfo>, RedisError> {
        let mut conn = self.redis.conn().await?;
        let reply: Result<Value, redis::RedisError> = redis::cmd("XINFO")
            .arg("CONSUMERS")
            .arg(&self.key)
            .arg(WORKER_GROUP)
            .query_async(&mut conn)
            .await;
        let list = match reply {
            Ok(Value::Array(list)) => list,
            Ok(_) => return Ok(Vec::new()),
            Err(e) if e.code() == Some("NOGROUP") => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let info = as_map(c);
                let field = |name: &str| info.get(name).cloned();
                Some(ConsumerInfo {
                    name: redis::from_redis_value(field("name")?).ok()?,
                    pending: redis::from_redis_value(field("pending")?).ok()?,
                    idle: Duration::from_millis(redis::from_redis_value(field("idle")?).ok()?),
                })
            })
            .collect())
    }

    pub async fn delete_consumer(&self, name: &str) -> Result<(), RedisError> {
        let mut conn = self.redis.conn().await?;
        let _: i64 = redis::cmd("XGROUP")
            .arg("DELCONSUMER")
            .arg(&self.key)
            .arg(WORKER_GROUP)
            .arg(name)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

/// One loop's connection for `XREADGROUP`, made from the blocking pool's settings
/// (no response timeout: the server stays silent while a read blocks) and then
/// held, so an idle read costs one command: a pooled checkout would add an
/// `UNWATCH` and a `PING` to every read, which is most of what an idle worker costs
/// on a per-command-billed Redis. Any failure, and a read cancelled part-way (its
/// reply may still come), closes it; the next read makes a new one.
pub struct Reader {
    stream: GroupStream,
    consumer: String,
    conn: Option<MultiplexedConnection>,
}

impl Reader {
    pub async fn read(&mut self, count: usize, from: From) -> Result<Vec<Entry>, RedisError> {
        // Taken out while the read is in flight: dropped with the future if it is
        // cancelled, so a connection with a reply still owed is never reused.
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.stream.redis.blocking_connection().await?,
        };
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(WORKER_GROUP)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(count);
        let (id, wait) = match from {
            From::New(block) => {
                cmd.arg("BLOCK").arg(millis(block));
                (">", block + READ_MARGIN)
            }
            From::OwnPending => ("0", READ_MARGIN),
        };
        cmd.arg("STREAMS").arg(&self.stream.key).arg(id);
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

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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

/// `XINFO` answers a flat [k, v, k, v…] list (RESP2) or a map (RESP3).
fn as_map(v: Value) -> HashMap<String, Value> {
    match v {
        Value::Map(pairs) => pairs
            .into_iter()
            .filter_map(|(k, v)| redis::from_redis_value::<String>(k).ok().map(|k| (k, v)))
            .collect(),
        Value::Array(flat) => {
            let mut out = HashMap::new();
            let mut it = flat.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                if let Ok(k) = redis::from_redis_value::<String>(k) {
                    out.insert(k, v);
                }
            }
            out
        }
        _ => HashMap::new(),
    }
}
