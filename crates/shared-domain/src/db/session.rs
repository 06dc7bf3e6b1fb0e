//! Every connection must be its own Postgres session: the migration lock and the
//! sweeper's leadership are session-level advisory locks, and tokio-postgres runs
//! each query as a named prepared statement made in one round trip and used in the
//! next. A pooler in transaction mode (PgBouncer's `pool_mode = transaction`,
//! Supabase's transaction pooler on port 6543) hands a client a different server
//! session after every transaction, so those locks would lock nothing and queries
//! would fail under load with "prepared statement does not exist". Such a pooler
//! is found at start and refused, naming what to use instead.

use tokio_postgres::{Client, SimpleQueryMessage};

use super::DbError;

/// Tell a direct connection or a session pooler from a transaction pooler, with a
/// second connection: while `other` holds a transaction open, `client`'s
/// statements must still run in the server session they ran in before.
///
/// Behind a transaction pooler one of two things shows: `other`'s transaction
/// is given the session `client` just used (PgBouncer hands out the most recently
/// used server connection first), or `client` is moved to another session while
/// its own is busy. A direct connection or a session pooler shows neither, so this
/// never refuses them.
pub(crate) async fn refuse_transaction_pooler(
    client: &Client,
    other: &Client,
) -> Result<(), DbError> {
    for _ in 0..3 {
        let before = backend_pid(client).await?;
        other.batch_execute("BEGIN").await?;
        let held = backend_pid(other).await;
        let after = backend_pid(client).await;
        other.batch_execute("ROLLBACK").await?;
        let (held, after) = (held?, after?);
        if held == before || after != before {
            return Err(DbError::TransactionPooler);
        }
    }
    Ok(())
}

async fn backend_pid(client: &Client) -> Result<i64, DbError> {
    // The simple protocol: no prepared statement, so this works behind any pooler.
    let messages = client.simple_query("SELECT pg_backend_pid()").await?;
    messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).and_then(|v| v.parse().ok()),
            _ => None,
        })
        .ok_or_else(|| DbError::Corrupt("pg_backend_pid() returned no number".into()))
}
