//! Waiting between failed attempts at Redis, shared by the worker's stream loops.

use std::time::Duration;

use tokio::sync::watch;

/// 0.2 s doubling to 5 s.
pub(crate) fn backoff(errors: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << errors.min(5))).min(Duration::from_secs(5))
}

/// Sleep for `d`, or less if `stop` changes.
pub(crate) async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        () = tokio::time::sleep(d) => {}
        _ = stop.changed() => {}
    }
}
