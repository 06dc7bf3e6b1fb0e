//! Redis: connection pools and the key layout.
//!
//! Two pools: `commands` for ordinary requests (a response timeout catches a hung
//! server), and `blocking` for `XREADGROUP BLOCK` and friends, whose connections
//! have no response timeout because the server legitimately stays silent while a
//! read blocks. Sharing one pool would either time out blocking reads or let a hung
//! server stall every request.
//!
//! Every key starts with the configured namespace (`REDIS_NAMESPACE`), so dev, prod
//! and parallel tests can share one server. The layout lives in [`Keys`] and
//! `docs/redis-keys.md`.

use std::fmt;
use std::time::Duration;

use deadpool_redis::{Manager, Pool, Runtime};
use redis::AsyncConnectionConfig;
use secrecy::ExposeSecret;

use crate::config::RedisConfig;

pub use deadpool_redis::Connection;

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("REDIS_URL is not usable")]
    BadUrl(#[source] redis::RedisError),
    #[error("could not build the Redis pool")]
    Pool(#[from] deadpool_redis::BuildError),
    #[error("could not get a Redis connection")]
    Checkout(#[from] deadpool_redis::PoolError),
    #[error("Redis command failed")]
    Command(#[from] redis::RedisError),
}

/// The two pools and the key namespace; cheap to clone.
#[derive(Clone)]
pub struct Redis {
    pub commands: Pool,
    pub blocking: Pool,
    pub keys: Keys,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Timeout for establishing a connection, on both pools.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Timeout for one ordinary command's reply.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

impl Redis {
    /// Build both pools. Connections are made lazily; call [`Redis::ping`] to fail fast.
    pub fn connect(config: &RedisConfig) -> Result<Self, RedisError> {
        let url = config.url.expose_secret();
        let commands = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let blocking = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None);
        let build = |cfg: AsyncConnectionConfig, size: usize| -> Result<Pool, RedisError> {
            let manager = Manager::new_with_config(url, cfg).map_err(RedisError::BadUrl)?;
            Ok(Pool::builder(manager)
                .max_size(size)
                .runtime(Runtime::Tokio1)
                .wait_timeout(Some(CONNECT_TIMEOUT))
                .create_timeout(Some(CONNECT_TIMEOUT))
                .recycle_timeout(Some(CONNECT_TIMEOUT))
                .build()?)
        };
        Ok(Self {
            commands: build(commands, config.pool_size)?,
            blocking: build(blocking, config.pool_size)?,
            keys: Keys::new(&config.namespace),
        })
    }

    pub async fn conn(&self) -> Result<Connection, RedisError> {
        Ok(self.commands.get().await?)
    }

    /// One round trip: proves Redis answers.
    pub async fn ping(&self) -> Result<(), RedisError> {
        let mut conn = self.conn().await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

/// The key layout, every key under `{namespace}:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    ns: String,
}

impl Keys {
    pub fn new(namespace: &str) -> Self {
        Self {
            ns: namespace.to_owned(),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.ns
    }

    /// The work stream that wakes workers.
    pub fn job_stream(&self) -> String {
        format!("{}:queue:book-jobs", self.ns)
    }

    /// Dead letters: jobs that ran out of attempts.
    pub fn dead_letter_stream(&self) -> String {
        format!("{}:queue:book-jobs:dead", self.ns)
    }

    /// Bot-gateway call state (hash).
    pub fn call_state(&self, session_id: &str) -> String {
        format!("{}:call:{session_id}:state", self.ns)
    }

    /// Bot-gateway call timeline (stream).
    pub fn call_events(&self, session_id: &str) -> String {
        format!("{}:call:{session_id}:events", self.ns)
    }

    /// A user's single active call (string, SET NX).
    pub fn active_call(&self, user_id: &str) -> String {
        format!("{}:user:{user_id}:active_call", self.ns)
    }

    /// A user's bot-start rate-limit window.
    pub fn start_rate(&self, user_id: &str) -> String {
        format!("{}:user:{user_id}:start_rate", self.ns)
    }

    /// A glob matching every key of this namespace.
    pub fn all_pattern(&self) -> String {
        format!("{}:*", self.ns)
    }
}

/// The consumer group every worker joins.
pub const WORKER_GROUP: &str = "workers";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_as_designed() {
        let k = Keys::new("readme");
        assert_eq!(k.job_stream(), "readme:queue:book-jobs");
        assert_eq!(k.dead_letter_stream(), "readme:queue:book-jobs:dead");
        assert_eq!(k.call_state("s1"), "readme:call:s1:state");
        assert_eq!(k.call_events("s1"), "readme:call:s1:events");
        assert_eq!(k.active_call("u1"), "readme:user:u1:active_call");
    }
}
