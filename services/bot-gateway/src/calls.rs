//! Call state in Redis (layout: `docs/redis-keys.md`).
//!
//! A user has at most one call. `user:{uid}:active_call` is taken with `SET NX`
//! before the (billed) upstream start, holding a one-off token with a TTL just over
//! the upstream timeout, so a gateway that dies mid-start frees the user soon. On
//! success it is re-pointed at the session id with the active-call TTL, which every
//! bot event refreshes; a failed start, a `DELETE` or an `ended` event releases it.
//! Releases compare before deleting, so a stale release never frees another call.
//!
//! `call:{sid}:state` (hash) and `call:{sid}:events` (stream, trimmed) live for the
//! configured state TTL, refreshed on every event.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use shared_domain::position_events::{self, PositionEvent};
use shared_domain::redis::{Redis, RedisError};

use crate::config::CallPolicy;

/// Delete KEYS[1] only while it still holds ARGV[1].
const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/// Before a start, in one round trip: count it in the user's fixed rate window
/// (KEYS[1], ARGV[1] seconds, ARGV[2] allowed), then take the call lock (KEYS[2] =
/// ARGV[3] with TTL ARGV[4], NX). Returns {0, 0} when both pass, {1, ttl} when over
/// the limit, {2, 0} when a call is active.
const BEGIN_START: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then return {1, redis.call('TTL', KEYS[1])} end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[4]) then return {0, 0} end
return {2, 0}";
/// After a start, in one round trip: refuse a session id already tracked (returns
/// 0), else write the state hash (KEYS[1]) and the first event (KEYS[2]) with the
/// state TTL, and re-point the lock (KEYS[3]) from the start token to the session.
/// ARGV: session, user, household, transport, started_at, state ttl, lock token,
/// active-call ttl, max events, event data.
const FINISH_START: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'session_id', ARGV[1], 'user_id', ARGV[2], 'household_id', ARGV[3],
  'transport', ARGV[4], 'status', 'active', 'started_at', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'type', 'started', 'at', ARGV[5], 'data', ARGV[10])
redis.call('EXPIRE', KEYS[2], ARGV[6])
if redis.call('GET', KEYS[3]) == ARGV[7] then redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[8]) end
return 1";
/// Refresh KEYS[1]'s TTL to ARGV[2] only while it holds ARGV[1].
const REFRESH: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) else return 0 end";

/// Each script hashed once (its SHA-1 names it for EVALSHA), not on every call.
static RELEASE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE));
static BEGIN_START_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(BEGIN_START));
static FINISH_START_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(FINISH_START));
static REFRESH_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(REFRESH));

/// Events kept per call; older ones are trimmed (a timeline, not a queue).
const MAX_EVENTS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallState {
    pub session_id: String,
    pub user_id: String,
    pub household_id: String,
    pub transport: String,
    pub status: CallStatus,
    pub started_at: String,
    pub ended_at: Option<String>,
}

/// Where a call is; stored as its lowercase name in the call's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallStatus {
    Active,
    Ended,
}

impl CallStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Ended => "ended",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Ended]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub data: serde_json::Value,
}

/// The outcome of [`Calls::begin_start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    Locked,
    RateLimited(Duration),
    CallActive,
}

pub struct Calls {
    redis: Redis,
    policy: CallPolicy,
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

impl Calls {
    pub fn new(redis: Redis, policy: CallPolicy) -> Self {
        Self { redis, policy }
    }

    /// Count a start against the user's rate limit and take their call lock
    /// (holding `token` for `ttl`), in one round trip.
    pub async fn begin_start(
        &self,
        user: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<Begin, RedisError> {
        let keys = &self.redis.keys;
        let mut conn = self.redis.conn().await?;
        let (outcome, retry): (i64, i64) = BEGIN_START_SCRIPT
            .key(keys.start_rate(user))
            .key(keys.active_call(user))
            .arg(secs(self.policy.start_window))
            .arg(self.policy.start_limit)
            .arg(token)
            .arg(secs(ttl))
            .invoke_async(&mut conn)
            .await?;
        Ok(match outcome {
            0 => Begin::Locked,
            1 => Begin::RateLimited(Duration::from_secs(
                u64::try_from(retry).unwrap_or(1).max(1),
            )),
            _ => Begin::CallActive,
        })
    }

    /// Release the lock if it still holds `value`.
    pub async fn release(&self, user: &str, value: &str) -> Result<(), RedisError> {
        let mut conn = self.redis.conn().await?;
        let _: i64 = RELEASE_SCRIPT
            .key(self.redis.keys.active_call(user))
            .arg(value)
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }

    /// Record a started call and point the user's lock at it, in one atomic step.
    /// `Ok(false)`: the session id is already tracked, and nothing was written.
    pub async fn finish_start(
        &self,
        state: &CallState,
        lock_token: &str,
    ) -> Result<bool, RedisError> {
        let keys = &self.redis.keys;
        let mut conn = self.redis.conn().await?;
        let recorded: i64 = FINISH_START_SCRIPT
            .key(keys.call_state(&state.session_id))
            .key(keys.call_events(&state.session_id))
            .key(keys.active_call(&state.user_id))
            .arg(&state.session_id)
            .arg(&state.user_id)
            .arg(&state.household_id)
            .arg(&state.transport)
            .arg(&state.started_at)
            .arg(secs(self.policy.state_ttl))
            .arg(lock_token)
            .arg(secs(self.policy.active_call_ttl))
            .arg(MAX_EVENTS)
            .arg(serde_json::json!({"transport": state.transport}).to_string())
            .invoke_async(&mut conn)
            .await?;
        Ok(recorded == 1)
    }

    pub async fn get(&self, session_id: &str) -> Result<Option<CallState>, RedisError> {
        let mut conn = self.redis.conn().await?;
        let map: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.redis.keys.call_state(session_id))
            .query_async(&mut conn)
            .await?;
        let field = |k: &str| map.get(k).cloned();
        Ok(
            match (
                field("user_id"),
                field("household_id"),
                field("transport"),
                field("status"),
                field("started_at"),
            ) {
                (
                    Some(user_id),
                    Some(household_id),
                    Some(transport),
                    Some(status),
                    Some(started_at),
                ) => CallStatus::parse(&status).map(|status| CallState {
                    session_id: session_id.to_owned(),
                    user_id,
                    household_id,
                    transport,
                    status,
                    started_at,
                    ended_at: field("ended_at"),
                }),
                _ => None,
            },
        )
    }

    /// Append a bot event; refresh the call's TTLs and the owner's lock.
    /// Add an event to the call's timeline and refresh the call's TTLs; a position
    /// also goes onto the positions stream for the workers to store, in the same
    /// MULTI, so the timeline and the durable copy agree.
    pub async fn append_event(
        &self,
        state: &CallState,
        kind: &str,
        data: &serde_json::Value,
        position: Option<&PositionEvent>,
    ) -> Result<String, RedisError> {
        let keys = &self.redis.keys;
        let (state_key, events_key) = (
            keys.call_state(&state.session_id),
            keys.call_events(&state.session_id),
        );
        let ttl = secs(self.policy.state_ttl) as i64;
        let at = chrono::Utc::now().to_rfc3339();
        let mut conn = self.redis.conn().await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XADD")
            .arg(&events_key)
            .arg("MAXLEN")
            .arg("~")
            .arg(MAX_EVENTS)
            .arg("*")
            .arg("type")
            .arg(kind)
            .arg("at")
            .arg(&at)
            .arg("data")
            .arg(data.to_string())
            .expire(&events_key, ttl)
            .ignore()
            .expire(&state_key, ttl)
            .ignore();
        if let Some(position) = position {
            pipe.add_command(position_events::xadd_cmd(keys, position))
                .ignore();
        }
        let (id,): (String,) = pipe.query_async(&mut conn).await?;
        let _: i64 = REFRESH_SCRIPT
            .key(keys.active_call(&state.user_id))
            .arg(&state.session_id)
            .arg(secs(self.policy.active_call_ttl))
            .invoke_async(&mut conn)
            .await?;
        Ok(id)
    }

    pub async fn events(&self, session_id: &str) -> Result<Vec<CallEvent>, RedisError> {
        let mut conn = self.redis.conn().await?;
        let entries: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
            .arg(self.redis.keys.call_events(session_id))
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await?;
        Ok(entries
            .into_iter()
            .map(|(id, mut fields)| CallEvent {
                id,
                kind: fields.remove("type").unwrap_or_default(),
                at: fields.remove("at").unwrap_or_default(),
                data: fields
                    .remove("data")
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }

    /// Mark the call ended and free its owner for another call.
    pub async fn end(&self, state: &CallState) -> Result<(), RedisError> {
        let mut conn = self.redis.conn().await?;
        let () = redis::cmd("HSET")
            .arg(self.redis.keys.call_state(&state.session_id))
            .arg("status")
            .arg(CallStatus::Ended.as_str())
            .arg("ended_at")
            .arg(chrono::Utc::now().to_rfc3339())
            .query_async(&mut conn)
            .await
            .map(|_: i64| ())?;
        drop(conn);
        self.release(&state.user_id, &state.session_id).await
    }
}
