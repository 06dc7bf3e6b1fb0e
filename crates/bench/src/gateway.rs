//! How much latency the gateway's `/api/start` adds over calling the upstream
//! directly (JWT check, rate limit, lock, call state in Redis), at a concurrency:
//! per request, the time spent outside the upstream, through the gateway against
//! directly.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;

use crate::fake_upstream::{self, FakeUpstream};
use crate::stats::{drive, drive_at_rate, percentile};

pub struct Options {
    /// The gateway binary; started here so it can point at the in-process upstream.
    pub gateway_bin: String,
    pub requests: usize,
    pub concurrency: usize,
    /// Open-loop: send this many requests per second (at most `concurrency` in
    /// flight) instead of as fast as `concurrency` allows.
    pub rate: Option<f64>,
    /// How long the fake upstream takes to answer each start.
    pub upstream_delay: Duration,
}

const JWT_SECRET: &str = "bench-jwt-secret-0123456789abcdef";

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let redis_url = std::env::var("REDIS_URL")
        .map_err(|_| anyhow::anyhow!("REDIS_URL must point at the Redis the gateway will use"))?;
    // A namespace of its own: the fake upstream's session ids repeat from run to run.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let upstream = fake_upstream::start(opts.upstream_delay).await?;
    let start_url = format!("http://127.0.0.1:{}/v1/public/bench/start", upstream.port);
    let gateway_port = free_port()?;
    let mut gateway = tokio::process::Command::new(&opts.gateway_bin)
        .env("BOT_START_URL", &start_url)
        .env("PORT", gateway_port.to_string())
        .env("HOST", "127.0.0.1")
        .env("REDIS_URL", &redis_url)
        .env("REDIS_NAMESPACE", format!("bench-{run}"))
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
    let tokens: Vec<String> = (0..opts.requests + opts.requests / 10)
        .map(|i| shared_domain::auth::sign_user_token(&secret, &json!({"sub": format!("bench-{run}-{i}"), "exp": exp, "household_id": "11111111-1111-1111-1111-111111111111"})))
        .collect::<Result<_, _>>()?;

    let (ping_p50, ping_p99) = redis_round_trip(&redis_url).await?;
    println!(
        "one Redis round trip here (PING every ms): p50 {:.3} ms, p99 {:.3} ms; a start makes \
         three round trips a direct call does not (Redis, the upstream, Redis)",
        millis(ping_p50),
        millis(ping_p99)
    );
    println!(
        "{:<20} {:>8} {:>5} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8}",
        "target", "requests", "conc", "req/s", "p50 ms", "p99 ms", "max ms", "p50 ms", "p99 ms"
    );
    println!("{:>79}", "outside the upstream:");
    // Each path is driven without a break: the first tenth warms it up (connections,
    // caches) and settles the clients, which all start at once, into their steady
    // pace; the rest is measured.
    let warm = opts.requests / 10;
    let direct = measure(&upstream, &opts, warm, |_| {
        client
            .post(&start_url)
            .header("content-type", "application/json")
            .body(direct_body.clone())
    })
    .await?;
    direct.print("upstream directly", opts.concurrency);
    let via = measure(&upstream, &opts, warm, |i| {
        client
            .post(&gateway_url)
            .bearer_auth(&tokens[i])
            .body(r#"{"body":{"bookId":"b"}}"#)
    })
    .await?;
    via.print("via /api/start", opts.concurrency);
    println!(
        "added by the gateway: p50 {:+.3} ms, p99 {:+.3} ms (target: <= 1 ms at p99)",
        millis(via.outside_p50) - millis(direct.outside_p50),
        millis(via.outside_p99) - millis(direct.outside_p99)
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
    /// Each request's latency less the time the upstream held it: the network and,
    /// through the gateway, everything the gateway does. Subtracting per request
    /// keeps the upstream's own (varying) time out of the comparison.
    outside_p50: Duration,
    outside_p99: Duration,
}

impl Run {
    fn print(&self, label: &str, concurrency: usize) {
        println!(
            "{:<20} {:>8} {:>5} {:>8.0} {:>8.3} {:>8.3} {:>8.3} | {:>8.3} {:>8.3}",
            label,
            self.requests,
            concurrency,
            self.per_sec,
            millis(self.p50),
            millis(self.p99),
            millis(self.max),
            millis(self.outside_p50),
            millis(self.outside_p99),
        );
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Drive `warm + opts.requests` requests; figures from all but the first `warm`.
async fn measure<'a>(
    upstream: &FakeUpstream,
    opts: &Options,
    warm: usize,
    make: impl Fn(usize) -> reqwest::RequestBuilder + 'a,
) -> anyhow::Result<Run> {
    let (count, concurrency) = (warm + opts.requests, opts.concurrency);
    let (mut answers, _) = match opts.rate {
        None => drive(count, concurrency, make).await?,
        Some(rate) => drive_at_rate(count, concurrency, rate, make).await?,
    };
    answers.retain(|a| a.index >= warm);
    let first = answers.iter().map(|a| a.sent).min();
    let last = answers.iter().map(|a| a.done).max();
    let elapsed = match (first, last) {
        (Some(first), Some(last)) => last - first,
        _ => anyhow::bail!("no requests measured"),
    };
    let mut latencies = Vec::with_capacity(answers.len());
    let mut outside = Vec::with_capacity(answers.len());
    for answer in &answers {
        let body: serde_json::Value = serde_json::from_slice(&answer.body)?;
        let session = body["sessionId"].as_str().unwrap_or_default();
        let latency = answer.latency();
        let held = upstream
            .held(session)
            .ok_or_else(|| anyhow::anyhow!("no upstream start answered {session:?}"))?;
        latencies.push(latency);
        outside.push(latency.saturating_sub(held));
    }
    let max = latencies.iter().max().copied().unwrap_or_default();
    Ok(Run {
        requests: answers.len(),
        per_sec: answers.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&mut latencies, 50.0),
        p99: percentile(&mut latencies, 99.0),
        max,
        outside_p50: percentile(&mut outside, 50.0),
        outside_p99: percentile(&mut outside, 99.0),
    })
}

/// The machine's floor for one loopback round trip: 1,000 PINGs, one a millisecond
/// (an idle peer, as between a start's steps).
async fn redis_round_trip(url: &str) -> anyhow::Result<(Duration, Duration)> {
    let mut conn = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let mut samples = Vec::with_capacity(1000);
    for _ in 0..1000 {
        tick.tick().await;
        let sent = Instant::now();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        samples.push(sent.elapsed());
    }
    Ok((
        percentile(&mut samples, 50.0),
        percentile(&mut samples, 99.0),
    ))
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
