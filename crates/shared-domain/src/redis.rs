//! Redis: connection pools and the key layout.
//!
//! Two kinds of connection: for ordinary commands, one shared multiplexed
//! connection (`ConnectionManager`: requests from every task pipeline over it, it
//! reconnects by itself, and a response timeout catches a hung server) — no pool
//! checkout and no health-check PING per command; and the `blocking` pool for
//! `XREADGROUP BLOCK` and friends, whose connections have no response timeout
//! because the server legitimately stays silent while a read blocks (and a blocked
//! read must not hold up the shared connection).
//!
//! Every key starts with the configured namespace (`REDIS_NAMESPACE`), so dev, prod
//! and parallel tests can share one server. The layout lives in [`Keys`] and
//! `docs/redis-keys.md`.

use std::fmt;
use std::time::Duration;

use std::sync::Arc;

use deadpool_redis::{Manager, Pool, Runtime};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, IntoConnectionInfo};
use secrecy::ExposeSecret;
use tokio::sync::OnceCell;

use crate::config::RedisConfig;

/// A connection for ordinary commands (cheap to clone; clones share one socket).
pub type Connection = ConnectionManager;

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("REDIS_URL is not usable")]
    BadUrl(#[source] redis::RedisError),
    #[error("could not build the Redis pool")]
    Pool(#[from] deadpool_redis::BuildError),
    #[error("could not get a Redis connection")]
    Checkout(#[from] deadpool_redis::PoolError),
    #[error("Redis command failed")]
    Command(#[source] redis::RedisError),
    #[error(
        "Redis's TLS certificate was refused: set REDIS_CA_CERT (PEM text) or \
         REDIS_CA_CERT_PATH to the CA that signed it"
    )]
    Certificate(#[source] redis::RedisError),
}

impl From<redis::RedisError> for RedisError {
    fn from(e: redis::RedisError) -> Self {
        let kind = if e.is_timeout() {
            "timeout"
        } else if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
            "connection"
        } else {
            "reply"
        };
        metrics::counter!("redis_errors_total", "kind" => kind).increment(1);
        // rustls's verdict reaches us only as text inside the I/O error.
        if e.to_string().contains("invalid peer certificate") {
            Self::Certificate(e)
        } else {
            Self::Command(e)
        }
    }
}

/// Register this module's metrics, so every series exists (at 0) from the first
/// scrape and alert rules see a failure's first increment. Call once the
/// process's recorder is installed.
pub fn register_metrics() {
    metrics::describe_counter!(
        "redis_errors_total",
        "Redis failures by kind: connection (refused, dropped, I/O), timeout, reply (an error reply)."
    );
    metrics::describe_counter!(
        "redis_connections_opened_total",
        "Redis connections this process opened, by use (commands: the shared one; blocking: a stream reader's, made again after a failure)."
    );
    for kind in ["connection", "timeout", "reply"] {
        metrics::counter!("redis_errors_total", "kind" => kind).increment(0);
    }
}

/// The shared command connection, the blocking pool and the key namespace; cheap to clone.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    /// Made on first use, so a service starts (and answers 503s) while Redis is down.
    commands: Arc<OnceCell<ConnectionManager>>,
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
        let info = config
            .url
            .expose_secret()
            .into_connection_info()
            .map_err(RedisError::BadUrl)?;
        // Many tasks' small commands share one connection. With Nagle's algorithm
        // (redis-rs leaves it on) a write waits for the previous one's ACK, which
        // turns concurrent commands into a queue of round trips.
        let tcp = info.tcp_settings().clone().set_nodelay(true);
        let mut info = info.set_tcp_settings(tcp);
        if let Some(ca) = &config.ca_cert {
            // The connection info then carries the root store to every connection.
            let certs = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca.pem.clone()),
            };
            info = redis::Client::build_with_tls(info, certs)
                .map_err(RedisError::BadUrl)?
                .get_connection_info()
                .clone();
        }
        let blocking = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None);
        let build = |cfg: AsyncConnectionConfig, size: usize| -> Result<Pool, RedisError> {
            let manager =
                Manager::new_with_config(info.clone(), cfg).map_err(RedisError::BadUrl)?;
            Ok(Pool::builder(manager)
                .max_size(size)
                .runtime(Runtime::Tokio1)
                .wait_timeout(Some(CONNECT_TIMEOUT))
                .create_timeout(Some(CONNECT_TIMEOUT))
                .recycle_timeout(Some(CONNECT_TIMEOUT))
                .build()?)
        };
        Ok(Self {
            client: redis::Client::open(info.clone()).map_err(RedisError::BadUrl)?,
            commands: Arc::new(OnceCell::new()),
            blocking: build(blocking, config.pool_size)?,
            keys: Keys::new(&config.namespace),
        })
    }

    pub async fn conn(&self) -> Result<Connection, RedisError> {
        let manager = self
            .commands
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(std::time::Duration::from_millis(500));
                metrics::counter!("redis_connections_opened_total", "use" => "commands")
                    .increment(1);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await?;
        Ok(manager.clone())
    }

    /// A connection of the caller's own for a loop of blocking reads, with the
    /// blocking pool's settings (no response timeout); closed when dropped.
    pub async fn blocking_connection(&self) -> Result<MultiplexedConnection, RedisError> {
        let conn = self.blocking.get().await.inspect_err(|_| {
            metrics::counter!("redis_errors_total", "kind" => "connection").increment(1);
        })?;
        metrics::counter!("redis_connections_opened_total", "use" => "blocking").increment(1);
        Ok(deadpool_redis::Connection::take(conn))
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

    /// The work stream that wakes workers.
    pub fn job_stream(&self) -> String {
        format!("{}:queue:book-jobs", self.ns)
    }

    /// Dead letters: jobs that ran out of attempts.
    pub fn dead_letter_stream(&self) -> String {
        format!("{}:queue:book-jobs:dead", self.ns)
    }

    /// Reading positions the bot reported through the gateway, for workers to
    /// store in Postgres (stream, group `workers`).
    pub fn positions_stream(&self) -> String {
        format!("{}:positions", self.ns)
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
        assert_eq!(k.positions_stream(), "readme:positions");
    }

    #[tokio::test]
    async fn connections_turn_nagle_off() {
        for url in [
            "redis://127.0.0.1:6379",
            "rediss://user:secret@example.com:6380/0",
        ] {
            let redis = Redis::connect(&RedisConfig {
                url: url.to_owned().into(),
                namespace: "readme".into(),
                pool_size: 1,
                ca_cert: None,
            })
            .expect("a valid URL");
            let info = redis.client.get_connection_info();
            assert!(info.tcp_settings().nodelay(), "{url}");
        }
    }
}
