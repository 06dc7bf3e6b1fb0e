//! Named leases in Postgres (`leases`): at most one holder at a time, for a
//! bounded time the holder renews. Unlike a session advisory lock, a lease ends
//! when its holder stops making progress, not only when its connection closes;
//! like one, it ends at once when the holder's session does (the holder renews
//! over one connection of its own, whose backend pid the lease records).

use deadpool_postgres::GenericClient;

use super::DbError;

/// A lease held: its `term` is the same for as long as one holder keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub term: i64,
}

/// Take `name` for `holder` if it is free, expired or its holder's session is
/// gone, or renew it if `holder` has it, for `ttl_secs` from now (the database's
/// clock). Call it on the holder's own long-lived connection: its backend pid
/// is recorded. `None`: another holder has it. A holder whose lease expired and
/// who takes it again gets a new term.
pub async fn acquire_or_renew(
    client: &tokio_postgres::Client,
    name: &str,
    holder: &str,
    ttl_secs: f64,
) -> Result<Option<Held>, DbError> {
    let row = client
        .query_opt(
            "INSERT INTO leases AS l (name, holder, holder_pid, term, expires_at) \
             VALUES ($1, $2, pg_backend_pid(), 1, now() + make_interval(secs => $3)) \
             ON CONFLICT (name) DO UPDATE SET \
               holder = EXCLUDED.holder, \
               holder_pid = EXCLUDED.holder_pid, \
               term = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now() THEN l.term ELSE l.term + 1 END, \
               expires_at = EXCLUDED.expires_at \
             WHERE l.expires_at <= now() OR l.holder = EXCLUDED.holder \
               OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = l.holder_pid) \
             RETURNING term",
            &[&name, &holder, &ttl_secs],
        )
        .await?;
    Ok(row
        .map(|r| r.try_get(0).map(|term| Held { term }))
        .transpose()?)
}

/// A lease a caller acts under: statements fenced on it run only while it is
/// still held, in the same transaction.
#[derive(Debug, Clone, Copy)]
pub struct Fence<'a> {
    pub name: &'a str,
    pub holder: &'a str,
    pub held: Held,
}

impl Fence<'_> {
    /// Inside a transaction: lock the lease row against a takeover until the
    /// transaction ends, and say whether it is still held. A replica taking
    /// over waits for the transaction, and one that lost the lease acts on nothing.
    pub async fn check(&self, tx: &impl GenericClient) -> Result<bool, DbError> {
        Ok(tx
            .query_opt(
                "SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND term = $3 \
                 AND expires_at > now() FOR SHARE",
                &[&self.name, &self.holder, &self.held.term],
            )
            .await?
            .is_some())
    }
}

/// Whether `holder` still holds `name` in `term`, unexpired.
pub async fn holds(
    client: &impl GenericClient,
    name: &str,
    holder: &str,
    held: Held,
) -> Result<bool, DbError> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND term = $3 AND expires_at > now()",
            &[&name, &holder, &held.term],
        )
        .await?
        .is_some())
}

/// Give the lease up at once (a clean stop), so another holder need not wait
/// for it to expire.
pub async fn release(
    client: &tokio_postgres::Client,
    name: &str,
    holder: &str,
    held: Held,
) -> Result<(), DbError> {
    client
        .execute(
            "UPDATE leases SET expires_at = now() WHERE name = $1 AND holder = $2 AND term = $3",
            &[&name, &holder, &held.term],
        )
        .await?;
    Ok(())
}

/// Who holds `name` now, unexpired.
pub async fn current_holder(
    client: &impl GenericClient,
    name: &str,
) -> Result<Option<String>, DbError> {
    Ok(client
        .query_opt(
            "SELECT holder FROM leases WHERE name = $1 AND expires_at > now()",
            &[&name],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}
