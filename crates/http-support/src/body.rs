//! Read deadlines for request bodies.
//!
//! actix-web times out a request's head (`client_request_timeout`), but once the
//! head is in, a client may send its body as slowly as it likes and hold a
//! worker's connection and a storage upload open for hours. A body read through
//! [`paced`] fails with a timeout when nothing arrives for `idle`, or when, past
//! `grace`, it has averaged under `min_bytes_per_second`: a large file on a slow
//! line still goes through, a trickle does not. Time the server spends not
//! reading for its own reasons (waiting for storage) is measured with [`Stalls`]
//! and never charged to the client.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::error::PayloadError;
use actix_web::web::{self, Bytes};
use futures::{Stream, StreamExt};

/// How fast a body must arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyPace {
    /// The longest wait for the next piece.
    pub idle: Duration,
    /// How long a body may arrive at any rate before the minimum applies.
    pub grace: Duration,
    /// The least average rate after `grace`.
    pub min_bytes_per_second: u64,
}

const TOO_SLOW: &str = "the request body is arriving too slowly";

/// Time the server spent not reading a body while it waited on something of its
/// own (a storage write's turn, a part upload): the body's pace is measured
/// without it. Clones share the count.
#[derive(Debug, Clone, Default)]
pub struct Stalls(Arc<AtomicU64>);

impl Stalls {
    /// Run `work`, counting its time as the server's.
    pub async fn during<F: Future>(&self, work: F) -> F::Output {
        let started = Instant::now();
        let out = work.await;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
        out
    }

    fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

/// `payload`, failing with a timed-out I/O error when it breaks `pace`.
pub fn paced(
    payload: web::Payload,
    pace: BodyPace,
) -> impl Stream<Item = Result<Bytes, PayloadError>> + 'static {
    paced_around(payload, pace, Stalls::default())
}

/// [`paced`], not charging the client for the time `stalls` counts.
pub fn paced_around(
    payload: web::Payload,
    pace: BodyPace,
    stalls: Stalls,
) -> impl Stream<Item = Result<Bytes, PayloadError>> + 'static {
    struct State {
        payload: web::Payload,
        started: Instant,
        received: u64,
        done: bool,
    }
    let state = State {
        payload,
        started: Instant::now(),
        received: 0,
        done: false,
    };
    futures::stream::unfold(state, move |mut s| {
        let stalls = stalls.clone();
        async move {
            if s.done {
                return None;
            }
            let next = match tokio::time::timeout(pace.idle, s.payload.next()).await {
                Err(_) => Err(too_slow()),
                Ok(None) => return None,
                Ok(Some(Err(e))) => Err(e),
                Ok(Some(Ok(chunk))) => {
                    s.received += chunk.len() as u64;
                    let elapsed = s.started.elapsed().saturating_sub(stalls.total());
                    let floor = pace.min_bytes_per_second as f64 * elapsed.as_secs_f64();
                    if elapsed > pace.grace && (s.received as f64) < floor {
                        Err(too_slow())
                    } else {
                        Ok(chunk)
                    }
                }
            };
            s.done = next.is_err();
            Some((next, s))
        }
    })
    // Readers (the multipart parser) may poll again after the end.
    .fuse()
}

fn too_slow() -> PayloadError {
    PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, TOO_SLOW))
}

/// Whether `e` is [`paced`]'s timeout.
pub fn is_too_slow(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Whether a request declares a body longer than `limit` (`Content-Length`):
/// answered at once, without reading any of it.
pub fn declares_more_than(req: &actix_web::HttpRequest, limit: u64) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > limit)
}
