//! How much latency the gateway's `/api/start` adds over calling the upstream
//! directly (JWT check, rate limit, lock, call state in Redis), at a concurrency.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;

use crate::fake_upstream;
use crate::stats::{drive, drive_at_rate, percentile};

pub struct Options {
    /// The gateway binary; started here so it can point at the in-process upstream.
    pub gateway_bin: String,
    pub requests: usize,
    pub concurrency: usize,
    /// Open-loop: send this many requests per second (at most `concurrency` in
    /// flight) instead of as fast as `concurrency` allows.
    pub rate: Option<f64>,
}

const JWT_SECRET: &str = "bench-jwt-secret-0123456789abcdef";

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let upstream_port = fake_upstream::start().await?;
    let start_url = format!("http://127.0.0.1:{upstream_port}/v1/public/bench/start");
    let gateway_port = free_port()?;
    let mut gateway = tokio::process::Command::new(&opts.gateway_bin)
        .env("BOT_START_URL", &start_url)
        .env("PORT", gateway_port.to_string())
        .env("HOST", "127.0.0.1")
        .env("SUPABASE_JWT_SECRET", JWT_SECRET)
        .env("SERVICE_API_TOKEN", "bench-service-token-0123456789")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.concurrency * 2)
        .tcp_nodelay(true)
        .build()?;
    let gateway_url = format!("http://127.0.0.1:{gateway_port}/api/start");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("http://127.0.0.1:{gateway_port}/health"))
        .send()
        .await
        .is_err()
    {
        anyhow::ensure!(Instant::now() < deadline, "the gateway did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // What the gateway itself would send upstream, for the direct baseline.
    let direct_body = json!({"transport": "daily", "createDailyRoom": true, "body": {"bookId": "b", "user_id": "u", "household_id": "11111111-1111-1111-1111-111111111111", "session_started_at": "2026-01-01T00:00:00Z"}}).to_string();
    let secret = SecretString::from(JWT_SECRET.to_owned());
    let exp = chrono::Utc::now().timestamp() + 3600;
    // One user per start: each holds its call, as real users would.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tokens: Vec<String> = (0..opts.requests * 2)
        .map(|i| shared_domain::auth::sign_user_token(&secret, &json!({"sub": format!("bench-{run}-{i}"), "exp": exp, "household_id": "11111111-1111-1111-1111-111111111111"})))
        .collect::<Result<_, _>>()?;

    println!(
        "{:<22} {:>9} {:>6} {:>10} {:>9} {:>9} {:>9}",
        "target", "requests", "conc", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    // Warm up both paths (connections, caches), then measure.
    let warm = opts.requests / 10;
    measure(opts.concurrency, None, warm, |_| {
        client
            .post(&start_url)
            .header("content-type", "application/json")
            .body(direct_body.clone())
    })
    .await?;
    measure(opts.concurrency, None, warm, |i| {
        client
            .post(&gateway_url)
            .bearer_auth(&tokens[opts.requests + i])
            .body(r#"{"body":{"bookId":"b"}}"#)
    })
    .await?;
    let direct = measure(opts.concurrency, opts.rate, opts.requests, |_| {
        client
            .post(&start_url)
            .header("content-type", "application/json")
            .body(direct_body.clone())
    })
    .await?;
    direct.print("upstream directly", opts.concurrency);
    let via = measure(opts.concurrency, opts.rate, opts.requests, |i| {
        client
            .post(&gateway_url)
            .bearer_auth(&tokens[i])
            .body(r#"{"body":{"bookId":"b"}}"#)
    })
    .await?;
    via.print("via /api/start", opts.concurrency);
    println!(
        "added by the gateway: p50 {:+.3} ms, p99 {:+.3} ms (target: <= 1 ms at p99)",
        (via.p50.as_secs_f64() - direct.p50.as_secs_f64()) * 1e3,
        (via.p99.as_secs_f64() - direct.p99.as_secs_f64()) * 1e3
    );
    gateway.kill().await?;
    Ok(())
}

struct Run {
    requests: usize,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Run {
    fn print(&self, label: &str, concurrency: usize) {
        println!(
            "{:<22} {:>9} {:>6} {:>10.0} {:>9.3} {:>9.3} {:>9.3}",
            label,
            self.requests,
            concurrency,
            self.per_sec,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.max.as_secs_f64() * 1e3
        );
    }
}

async fn measure<'a>(
    concurrency: usize,
    rate: Option<f64>,
    requests: usize,
    make: impl Fn(usize) -> reqwest::RequestBuilder + 'a,
) -> anyhow::Result<Run> {
    let (mut latencies, elapsed) = match rate {
        None => drive(requests, concurrency, make).await?,
        Some(rate) => drive_at_rate(requests, concurrency, rate, make).await?,
    };
    let elapsed = elapsed.as_secs_f64();
    let max = latencies.iter().max().copied().unwrap_or_default();
    Ok(Run {
        requests,
        per_sec: requests as f64 / elapsed,
        p50: percentile(&mut latencies, 50.0),
        p99: percentile(&mut latencies, 99.0),
        max,
    })
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
