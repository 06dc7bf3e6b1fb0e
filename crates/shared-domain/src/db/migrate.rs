//! Schema migrations, embedded from `migrations/` and applied under a Postgres
//! advisory lock so that any number of replicas can start at once: the first to
//! take the lock migrates, the rest wait and then find nothing to do.

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
    let result = embedded::migrations::runner()
        .set_abort_divergent(true)
        .run_async(&mut client)
        .await;
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    drop(client);
    let _ = driver.await;

    let report = result.map_err(DbError::Migration)?;
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

/// Versions and names of the embedded migrations, in order.
pub fn embedded_versions() -> Vec<(i32, String)> {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| (m.version(), m.name().to_owned()))
        .collect()
}
