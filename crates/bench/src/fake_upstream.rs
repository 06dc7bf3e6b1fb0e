//! A minimal Pipecat-like upstream for benchmarks: HTTP/1.1 keep-alive, answers every
//! request with a Daily start payload and a fresh session id, at once or after a
//! delay spread around a given figure (a real start creates a room and boots a bot:
//! it takes hundreds of milliseconds at least). It notes how long it held each start, so a client can
//! tell the upstream's time from everything else in its latency. Hand-rolled so
//! that its own cost is as small as it can be.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How long the upstream held each start, by the number in its session id.
type Holds = Arc<Mutex<HashMap<u64, Duration>>>;

pub struct FakeUpstream {
    pub port: u16,
    holds: Holds,
}

impl FakeUpstream {
    /// From reading the start's first line to having written its answer.
    pub fn held(&self, session_id: &str) -> Option<Duration> {
        let n = session_id.strip_prefix(SESSION_PREFIX)?.parse().ok()?;
        self.holds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&n)
            .copied()
    }
}

const SESSION_PREFIX: &str = "bench-";

/// Serve on a free loopback port; each answer first waits 0.5–1.5× `delay`.
pub async fn start(delay: Duration) -> anyhow::Result<FakeUpstream> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let counter = Arc::new(AtomicU64::new(0));
    let holds = Holds::default();
    let served = holds.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (counter, holds) = (counter.clone(), served.clone());
            tokio::spawn(async move {
                let _ = serve(stream, counter, holds, delay).await;
            });
        }
    });
    Ok(FakeUpstream { port, holds })
}

async fn serve(
    stream: tokio::net::TcpStream,
    counter: Arc<AtomicU64>,
    holds: Holds,
    delay: Duration,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    loop {
        let mut length = 0usize;
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let received = Instant::now();
        loop {
            line.clear();
            reader.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let payload = format!(
            r#"{{"dailyRoom":"https://bench.daily.co/room","dailyToken":"bench-token","sessionId":"{SESSION_PREFIX}{n}"}}"#
        );
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{payload}",
            payload.len()
        );
        if !delay.is_zero() {
            // Spread evenly over 0.5–1.5× the delay, as real starts vary: a fixed
            // delay would line every connection up on the same timer tick and turn a
            // steady load into bursts of `concurrency` simultaneous starts.
            tokio::time::sleep(delay.mul_f64(0.5 + unit(n))).await;
        }
        write.write_all(response.as_bytes()).await?;
        holds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(n, received.elapsed());
    }
}

/// A well-mixed number in [0, 1) from `n` (splitmix64), so runs are repeatable.
fn unit(n: u64) -> f64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
