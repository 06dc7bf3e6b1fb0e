//! The positions persister: stores the reading positions the bot reported through
//! the gateway (`{ns}:positions`, protocol in [`shared_domain::position_events`]).
//!
//! Each worker reads the stream in the consumer group `workers`, saves every event
//! with the same one-statement upsert the api uses (an older `seq` changes nothing,
//! so a redelivered or late event is harmless), then XACKs and XDELs what it
//! handled. An event that can never be stored (its book was deleted, it points past
//! the end, it is malformed) is logged and dropped; one that meets a Postgres
//! outage stays pending and is tried again. Entries a dead worker had read are
//! taken over after [`CLAIM_IDLE`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use shared_domain::db::positions::{self, SaveError};
use shared_domain::error::error_chain;
use shared_domain::position_events::{CLAIM_IDLE, PositionEvent};
use shared_domain::redis::{Redis, RedisError};
use shared_domain::stream::{self, Entry, GroupStream};
use tokio::sync::watch;

use crate::pacing::{backoff, pause};

/// Events read and stored per round trip.
const BATCH: usize = 100;
/// How often the sweeper's leader takes over events a dead worker had read (each
/// look is a Redis command, and an idle stack should cost next to none).
const CLAIM_EVERY: Duration = Duration::from_secs(300);

pub struct Persister {
    /// This worker's consumer name (the same as on the job stream).
    pub name: String,
    pub db: Pool,
    pub redis: Redis,
    /// How long one blocking read waits for an event.
    pub block: Duration,
    /// Whether this replica leads the sweeper: only the leader looks for events
    /// a dead worker left behind.
    pub is_leader: Arc<AtomicBool>,
}

/// What became of a batch.
enum Stored {
    /// Every entry was handled (stored, or dropped for good).
    All,
    /// Postgres failed part-way: the rest stays pending for another try.
    Interrupted,
}

impl Persister {
    /// Persist until `stop` turns true. A blocking read ends early on SIGTERM; an
    /// event Redis hands over just then stays pending and the leader takes it
    /// over after [`CLAIM_IDLE`].
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut group_ready = false;
        let mut errors = 0u32;
        let mut last_claim: Option<Instant> = None;
        let mut reader = self.stream().reader(&self.name);
        // After a Postgres failure, this consumer's own unacknowledged entries
        // are read again first.
        let mut own_pending = false;
        while !*stop.borrow() {
            if !group_ready {
                match self.ensure_group().await {
                    Ok(()) => group_ready = true,
                    Err(e) => {
                        errors += 1;
                        tracing::warn!(error = %error_chain(&e), "cannot reach the positions stream; retrying");
                        pause(&mut stop, backoff(errors)).await;
                        continue;
                    }
                }
            }
            let due = self.is_leader.load(Ordering::Relaxed)
                && last_claim.is_none_or(|t| t.elapsed() >= CLAIM_EVERY);
            let read = if due {
                last_claim = Some(Instant::now());
                self.autoclaim().await
            } else {
                tokio::select! {
                    read = self.read(&mut reader, own_pending) => read,
                    _ = stop.changed() => continue,
                }
            };
            match read {
                Ok(entries) if entries.is_empty() => {
                    errors = 0;
                    own_pending = false;
                }
                Ok(entries) => match self.store(entries).await {
                    Stored::All => errors = 0,
                    Stored::Interrupted => {
                        errors += 1;
                        own_pending = true;
                        // Wait for Postgres rather than spin.
                        pause(&mut stop, backoff(errors).max(Duration::from_secs(1))).await;
                    }
                },
                Err(e) => {
                    if matches!(&e, RedisError::Command(c) if c.code() == Some("NOGROUP")) {
                        group_ready = false;
                    }
                    errors += 1;
                    tracing::warn!(error = %error_chain(&e), "reading the positions stream failed; retrying");
                    pause(&mut stop, backoff(errors)).await;
                }
            }
        }
    }

    fn stream(&self) -> GroupStream {
        GroupStream::positions(&self.redis)
    }

    async fn ensure_group(&self) -> Result<(), RedisError> {
        self.stream().ensure_group().await
    }

    /// New entries, waiting up to `block` for one; or, with `own_pending`, the
    /// entries this consumer read and has not acknowledged (at once).
    async fn read(
        &self,
        reader: &mut stream::Reader,
        own_pending: bool,
    ) -> Result<Vec<Entry>, RedisError> {
        let from = if own_pending {
            stream::From::OwnPending
        } else {
            stream::From::New(self.block)
        };
        reader.read(BATCH, from).await
    }

    /// Entries read by any consumer (a worker that died, or this one after a
    /// Postgres outage) and not acknowledged for [`CLAIM_IDLE`].
    async fn autoclaim(&self) -> Result<Vec<Entry>, RedisError> {
        self.stream().autoclaim(&self.name, CLAIM_IDLE, BATCH).await
    }

    async fn store(&self, entries: Vec<Entry>) -> Stored {
        let client = match self.db.get().await {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), count = entries.len(), "cannot store reading positions yet; they stay on the stream");
                return Stored::Interrupted;
            }
        };
        let mut handled = Vec::with_capacity(entries.len());
        let mut outcome = Stored::All;
        for (id, fields) in entries {
            let event = match PositionEvent::from_fields(&fields) {
                Ok(event) => event,
                Err(e) => {
                    tracing::warn!(entry = %id, error = %e, "dropping a malformed position event");
                    metrics::counter!("positions_dropped_total", "reason" => "malformed")
                        .increment(1);
                    handled.push(id);
                    continue;
                }
            };
            match positions::save(&client, &event.save()).await {
                Ok(_) => {
                    metrics::counter!("positions_stored_total").increment(1);
                    handled.push(id);
                }
                Err(SaveError::Db(e)) => {
                    tracing::warn!(error = %error_chain(&e), "cannot store a reading position yet; it stays on the stream");
                    outcome = Stored::Interrupted;
                    break;
                }
                Err(e) => {
                    tracing::info!(book_id = %event.book_id, session_id = %event.session_id, reason = %e, "a reported position cannot be stored; dropped");
                    metrics::counter!("positions_dropped_total", "reason" => "rejected")
                        .increment(1);
                    handled.push(id);
                }
            }
        }
        self.ack(&handled).await;
        outcome
    }

    /// XACK + XDEL; a failure leaves the entries to be taken over and stored
    /// again, which changes nothing.
    async fn ack(&self, ids: &[String]) {
        if let Err(e) = self.stream().ack(ids).await {
            tracing::warn!(count = ids.len(), error = %error_chain(&e), "could not acknowledge position events; they will be stored again");
        }
    }
}
