//! Latency percentiles and process memory.

use std::time::{Duration, Instant};

use futures::StreamExt;

/// One answered request.
pub struct Answer {
    /// Its place in the order requests were made (0-based).
    pub index: usize,
    /// When it was sent (open-loop: when it was due).
    pub sent: Instant,
    /// When its last body byte arrived.
    pub done: Instant,
    pub body: bytes::Bytes,
}

impl Answer {
    pub fn latency(&self) -> Duration {
        self.done - self.sent
    }
}

/// Send `count` requests, `concurrency` at a time; each must answer 2xx. Returns
/// every answer, in completion order, and the whole run's wall time.
pub async fn drive(
    count: usize,
    concurrency: usize,
    make: impl Fn(usize) -> reqwest::RequestBuilder,
) -> anyhow::Result<(Vec<Answer>, Duration)> {
    run(count, concurrency, None, make).await
}

/// Like [`drive`], but open-loop: request `i` is due at `i / rate` seconds and at
/// most `concurrency` are in flight. Latency counts from when a request was due, so
/// a request held back because every slot was busy is charged for the wait
/// (no coordinated omission).
pub async fn drive_at_rate(
    count: usize,
    concurrency: usize,
    rate: f64,
    make: impl Fn(usize) -> reqwest::RequestBuilder,
) -> anyhow::Result<(Vec<Answer>, Duration)> {
    run(count, concurrency, Some(rate), make).await
}

async fn run(
    count: usize,
    concurrency: usize,
    rate: Option<f64>,
    make: impl Fn(usize) -> reqwest::RequestBuilder,
) -> anyhow::Result<(Vec<Answer>, Duration)> {
    let started = Instant::now();
    let answers = futures::stream::iter(0..count)
        .map(|i| {
            let request = make(i);
            let due = rate.map(|rate| started + Duration::from_secs_f64(i as f64 / rate));
            async move {
                if let Some(due) = due {
                    tokio::time::sleep_until(due.into()).await;
                }
                let sent = due.unwrap_or_else(Instant::now);
                let res = request.send().await?;
                let status = res.status();
                let body = res.bytes().await?;
                let done = Instant::now();
                anyhow::ensure!(status.is_success(), "answered {status}");
                Ok::<_, anyhow::Error>(Answer {
                    index: i,
                    sent,
                    done,
                    body,
                })
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    Ok((answers, started.elapsed()))
}

/// The `p`th percentile (0–100) of `samples`, nearest-rank.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil().max(1.0) as usize;
    samples[rank.min(samples.len()) - 1]
}

/// A /proc/<pid>/status field in KiB, as bytes.
pub fn proc_status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}
