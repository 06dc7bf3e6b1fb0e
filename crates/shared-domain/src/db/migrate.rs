//! Schema migrations, embedded from `migrations/` and applied under a Postgres
//! advisory lock so that any number of replicas can start at once: the first to
//! take the lock migrates, the rest wait and then find nothing to do.
//!
//! Migrations only add, so a build runs on a schema newer than its own: the
//! previous release during a rolling deploy, or after a rollback. A version the
//! database has and this build does not know is therefore logged, not refused
//! (refinery would refuse it). What is refused: a migration of this build that
//! was never applied though newer ones were (refinery would skip it silently), and
//! an applied migration whose text changed.
//!
//! A build never runs on a schema older than its own: at start a service either
//! migrates ([`migrate`]) or, with `MIGRATE_ON_START=false`, waits until another
//! process (the release's `api migrate`) has applied every migration it embeds
//! ([`prepare_schema`]). Either way a transaction-mode pooler is refused first
//! ([`super::session`]): the migration lock would lock nothing behind it.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::Client;

use crate::config::DatabaseConfig;

use super::session::refuse_transaction_pooler;
use super::{DbError, pg_config, tls};

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// The advisory lock key held while migrating ("readme" as a number).
pub const MIGRATION_LOCK_KEY: i64 = 0x7265_6164_6d65;

/// Apply every pending migration; returns the versions applied by this call.
#[tracing::instrument(skip_all)]
pub async fn migrate(config: &DatabaseConfig) -> Result<Vec<i32>, DbError> {
    let (mut client, driver) = session(config).await?;

    // Session-level lock: released by the unlock below or, if we die, by the
    // server when this connection drops.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let history = match applied_versions(&client).await {
        Ok(applied) => check_history(&applied),
        Err(e) => Err(e),
    };
    let result = match history {
        Ok(()) => embedded::migrations::runner()
            .set_abort_divergent(true)
            .set_abort_missing(false)
            .run_async(&mut client)
            .await
            .map_err(DbError::Migration),
        Err(e) => Err(e),
    };
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    drop(client);
    let _ = driver.await;

    let report = result?;
    unlock?;
    let applied: Vec<i32> = report
        .applied_migrations()
        .iter()
        .map(refinery::Migration::version)
        .collect();
    if applied.is_empty() {
        tracing::info!("database schema is up to date");
    } else {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(applied)
}

/// One plain connection (not from the pool), driven on its own task, after
/// making sure it is a session of its own (no transaction-mode pooler).
async fn session(config: &DatabaseConfig) -> Result<(Client, JoinHandle<()>), DbError> {
    let (client, driver) = connect(config).await?;
    let (other, other_driver) = connect(config).await?;
    let probe = refuse_transaction_pooler(&client, &other).await;
    drop(other);
    let _ = other_driver.await;
    probe?;
    Ok((client, driver))
}

async fn connect(config: &DatabaseConfig) -> Result<(Client, JoinHandle<()>), DbError> {
    let (client, connection) = tokio::time::timeout(
        config.connect_timeout,
        pg_config(config)?.connect(tls(config)?),
    )
    .await
    .map_err(|_| DbError::Timeout)??;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "schema connection closed with an error");
        }
    });
    Ok((client, driver))
}

/// How [`prepare_schema`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaReady {
    /// Every migration this build embeds is applied.
    Current,
    /// `stop` resolved while waiting: the process should exit.
    Stopped,
}

/// How often a service without `MIGRATE_ON_START` looks for its migrations.
const SCHEMA_POLL: Duration = Duration::from_secs(2);
/// How often the wait says what it waits for.
const SCHEMA_WAIT_LOG: Duration = Duration::from_secs(30);

/// Make sure this build runs on its own schema or a newer one: migrate when
/// `migrate_on_start`, else wait (polling, until `stop`) for another process to
/// apply every migration this build embeds. Postgres being unreachable is waited
/// out too; a transaction-mode pooler or migrations out of order are errors.
pub async fn prepare_schema(
    config: &DatabaseConfig,
    migrate_on_start: bool,
    stop: impl Future<Output = ()>,
) -> Result<SchemaReady, DbError> {
    if migrate_on_start {
        migrate(config).await?;
        return Ok(SchemaReady::Current);
    }
    tokio::pin!(stop);
    let mut next_log = tokio::time::Instant::now();
    loop {
        let waiting_for = match missing_migrations(config).await {
            Ok(missing) if missing.is_empty() => {
                tracing::info!("database schema is current (MIGRATE_ON_START=false)");
                return Ok(SchemaReady::Current);
            }
            Ok(missing) => format!(
                "migrations {missing:?} (MIGRATE_ON_START=false: the release's `api migrate` applies them)"
            ),
            Err(e) if e.is_unavailable() => {
                format!("Postgres ({})", crate::error::error_chain(&e))
            }
            Err(e) => return Err(e),
        };
        if tokio::time::Instant::now() >= next_log {
            tracing::warn!(waiting_for, "not starting on an older schema: waiting");
            next_log += SCHEMA_WAIT_LOG;
        }
        tokio::select! {
            () = &mut stop => return Ok(SchemaReady::Stopped),
            () = tokio::time::sleep(SCHEMA_POLL) => {}
        }
    }
}

/// Embedded migrations the database has not applied.
async fn missing_migrations(config: &DatabaseConfig) -> Result<Vec<i32>, DbError> {
    let (client, driver) = session(config).await?;
    let result = async {
        let applied = applied_versions(&client).await?;
        check_history(&applied)?;
        Ok(embedded_versions()
            .into_iter()
            .map(|(v, _)| v)
            .filter(|v| !applied.contains(v))
            .collect())
    }
    .await;
    drop(client);
    let _ = driver.await;
    result
}

async fn applied_versions(client: &Client) -> Result<Vec<i32>, DbError> {
    let table: Option<String> = client
        .query_one("SELECT to_regclass('refinery_schema_history')::text", &[])
        .await?
        .get(0);
    if table.is_none() {
        return Ok(Vec::new());
    }
    Ok(client
        .query("SELECT version FROM refinery_schema_history", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// Compare what the database has applied with what this build embeds (see the
/// module docs).
fn check_history(applied: &[i32]) -> Result<(), DbError> {
    let embedded: Vec<i32> = embedded_versions().into_iter().map(|(v, _)| v).collect();
    let unknown: Vec<i32> = applied
        .iter()
        .copied()
        .filter(|v| !embedded.contains(v))
        .collect();
    if !unknown.is_empty() {
        tracing::warn!(
            ?unknown,
            "the database has migrations this build does not know (a newer release applied them); running on, as migrations only add"
        );
    }
    let newest = applied.iter().copied().max().unwrap_or(i32::MIN);
    let skipped: Vec<i32> = embedded
        .into_iter()
        .filter(|v| *v < newest && !applied.contains(v))
        .collect();
    if skipped.is_empty() {
        Ok(())
    } else {
        Err(DbError::MigrationsOutOfOrder(skipped))
    }
}

/// Versions and names of the embedded migrations, in order.
pub fn embedded_versions() -> Vec<(i32, String)> {
    // Embedded in file-name order (V10 before V2): sort by version.
    let mut versions: Vec<(i32, String)> = embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| (m.version(), m.name().to_owned()))
        .collect();
    versions.sort_unstable_by_key(|(v, _)| *v);
    versions
}
