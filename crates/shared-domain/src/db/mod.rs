//! Postgres: the connection pool, TLS, and migrations.
//!
//! Connections honour the URL's `sslmode` as libpq does ([`tls`]): a provider's
//! connection string works as pasted.

pub mod books;
pub mod chunks;
pub mod jobs;
pub mod leases;
mod migrate;
pub mod positions;
mod session;
pub mod tls;

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use secrecy::ExposeSecret;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use migrate::{MIGRATION_LOCK_KEY, SchemaReady, embedded_versions, migrate, prepare_schema};

use crate::config::DatabaseConfig;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL is not a valid Postgres URL")]
    BadUrl(#[source] tokio_postgres::Error),
    #[error("could not set up TLS for Postgres")]
    Tls(#[source] rustls::Error),
    #[error("could not build the Postgres pool")]
    Pool(#[from] deadpool_postgres::BuildError),
    #[error("could not get a Postgres connection")]
    Checkout(#[source] deadpool_postgres::PoolError),
    #[error("Postgres query failed")]
    Query(#[from] tokio_postgres::Error),
    #[error("migrations failed")]
    Migration(#[source] refinery::Error),
    #[error(
        "migrations {0:?} were never applied, but the database already has newer ones; \
         give them versions above the newest applied"
    )]
    MigrationsOutOfOrder(Vec<i32>),
    #[error(
        "DATABASE_URL leads to a connection pooler in transaction mode (such as Supabase's \
         transaction pooler on port 6543), where consecutive statements may run in different \
         sessions; this service needs a session per connection (advisory locks, prepared \
         statements). Use the session pooler (Supabase: the same pooler host on port 5432) \
         or the direct connection"
    )]
    TransactionPooler,
    #[error("timed out connecting to Postgres")]
    Timeout,
    #[error("unexpected data in the database: {0}")]
    Corrupt(String),
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        let reason = match &e {
            deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => {
                "wait_timeout"
            }
            deadpool_postgres::PoolError::Timeout(_) => "connect_timeout",
            deadpool_postgres::PoolError::Backend(_) => "connect_failed",
            _ => "other",
        };
        metrics::counter!("db_pool_errors_total", "reason" => reason).increment(1);
        Self::Checkout(e)
    }
}

impl DbError {
    /// Postgres is down or unreachable (as opposed to a bad query): callers answer 503.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Checkout(_) | Self::Timeout => true,
            Self::Query(e) => {
                // The connection closed or failed at the I/O level, or the server
                // said so (class 08: connection exception; 57P: shutting down).
                // Anything else — a constraint, a bad row conversion — is our bug.
                let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
                let server_going = e
                    .code()
                    .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"));
                e.is_closed() || io || server_going || self.timed_out().is_some()
            }
            _ => false,
        }
    }

    /// Which of the connection's timeouts ended the statement, if one did:
    /// `statement_timeout` (it ran too long) or `lock_timeout` (it waited too
    /// long for a lock another transaction holds). Both count as the database
    /// being unavailable for now: the caller answers 503 or tries again later.
    pub fn timed_out(&self) -> Option<&'static str> {
        use tokio_postgres::error::SqlState;
        match self {
            Self::Query(e) if e.code() == Some(&SqlState::QUERY_CANCELED) => {
                Some("statement_timeout")
            }
            Self::Query(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                Some("lock_timeout")
            }
            _ => None,
        }
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Query(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION))
    }
}

pub(crate) fn pg_config(config: &DatabaseConfig) -> Result<tokio_postgres::Config, DbError> {
    let mut pg =
        tokio_postgres::Config::from_str(config.url.expose_secret()).map_err(DbError::BadUrl)?;
    pg.connect_timeout(config.connect_timeout);
    pg.ssl_mode(config.tls.mode.transport());
    if pg.get_application_name().is_none() {
        pg.application_name("readme");
    }
    Ok(pg)
}

pub(crate) fn tls(config: &DatabaseConfig) -> Result<MakeRustlsConnect, DbError> {
    config.tls.connector().map_err(DbError::Tls)
}

/// Build the pool. Connections are made lazily; call [`ping`] to fail fast.
pub fn pool(config: &DatabaseConfig) -> Result<Pool, DbError> {
    let manager = Manager::from_config(
        pg_config(config)?,
        tls(config)?,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    // Every pooled connection gets the timeouts when it is made: a query cannot
    // hang a request or a worker's loop on a stuck plan or a held lock. `SET` (not
    // a startup option) so that poolers in session mode pass it on.
    let mut settings = String::new();
    if let Some(t) = config.statement_timeout {
        settings.push_str(&format!("SET statement_timeout = {};", t.as_millis()));
    }
    if let Some(t) = config.lock_timeout {
        settings.push_str(&format!("SET lock_timeout = {};", t.as_millis()));
    }
    let settings = std::sync::Arc::new(settings);
    Ok(Pool::builder(manager)
        .post_create(deadpool_postgres::Hook::async_fn(move |client, _| {
            let settings = std::sync::Arc::clone(&settings);
            Box::pin(async move {
                if !settings.is_empty() {
                    client
                        .batch_execute(&settings)
                        .await
                        .map_err(deadpool_postgres::HookError::Backend)?;
                }
                Ok(())
            })
        }))
        .max_size(config.max_connections)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.connect_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .build()?)
}

/// Register `db_pool_errors_total` at 0 for every reason (see [`register_metrics`]
/// in `redis`). Call once the process's recorder is installed.
pub fn register_metrics() {
    metrics::describe_counter!(
        "db_pool_errors_total",
        "Postgres checkouts that failed, by reason: wait_timeout (the pool is exhausted), connect_timeout, connect_failed, other."
    );
    for reason in ["wait_timeout", "connect_timeout", "connect_failed", "other"] {
        metrics::counter!("db_pool_errors_total", "reason" => reason).increment(0);
    }
}

/// The pool's state in the Prometheus text format, read at scrape time: its
/// connections in use and idle, its size limit, and requests waiting for one
/// (waiters mean the pool is exhausted). `db_pool_errors_total` counts the
/// checkouts that failed, by reason (`wait_timeout` is exhaustion).
pub fn pool_metrics(pool: &Pool) -> String {
    let status = pool.status();
    let in_use = status.size.saturating_sub(status.available);
    format!(
        "# HELP db_pool_connections Postgres connections of this process's pool, by state.\n\
         # TYPE db_pool_connections gauge\n\
         db_pool_connections{{state=\"in_use\"}} {in_use}\n\
         db_pool_connections{{state=\"idle\"}} {idle}\n\
         # HELP db_pool_max_connections The pool's limit (DATABASE_MAX_CONNECTIONS).\n\
         # TYPE db_pool_max_connections gauge\n\
         db_pool_max_connections {max}\n\
         # HELP db_pool_waiting Requests waiting for a Postgres connection.\n\
         # TYPE db_pool_waiting gauge\n\
         db_pool_waiting {waiting}\n",
        idle = status.available,
        max = status.max_size,
        waiting = status.waiting,
    )
}

/// One round trip: proves the database answers.
pub async fn ping(pool: &Pool) -> Result<(), DbError> {
    let client = pool.get().await?;
    client.simple_query("SELECT 1").await?;
    Ok(())
}
