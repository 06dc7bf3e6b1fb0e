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

use crate::config::DatabaseConfig;

use super::{DbError, pg_config, tls};

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// The advisory lock key held while migrating ("readme" as a number).
pub const MIGRATION_LOCK_KEY: i64 = 0x7265_6164_6d65;

/// Apply every pending migration; returns the versions applied by this call.
#[tracing::instrument(skip_all)]
pub async fn migrate(config: &DatabaseConfig) -> Result<Vec<i32>, DbError> {
    let (mut client, connection) = tokio::time::timeout(
        config.connect_timeout,
        pg_config(config)?.connect(tls(config)?),
    )
    .await
    .map_err(|_| DbError::Timeout)??;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "migration connection closed with an error");
        }
    });

    // Session-level lock: released by the unlock below or, if we die, by the
    // server when this connection drops.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let result = match check_history(&client).await {
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

/// Compare what the database has applied with what this build embeds (see the
/// module docs).
async fn check_history(client: &tokio_postgres::Client) -> Result<(), DbError> {
    let table: Option<String> = client
        .query_one("SELECT to_regclass('refinery_schema_history')::text", &[])
        .await?
        .get(0);
    if table.is_none() {
        return Ok(());
    }
    let applied: Vec<i32> = client
        .query("SELECT version FROM refinery_schema_history", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
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
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| (m.version(), m.name().to_owned()))
        .collect()
}
