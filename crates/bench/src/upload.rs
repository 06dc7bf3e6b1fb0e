//! Upload throughput and latency against a running API, with its peak RSS.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use reqwest::multipart::{Form, Part};

use crate::stats::{drive, mib, percentile, proc_status_bytes};

pub struct Options {
    pub api: String,
    pub token: String,
    pub pid: u32,
    pub storage: PathBuf,
    pub size_mib: usize,
    pub concurrency: usize,
    /// Print the column header first.
    pub header: bool,
}

const MIB: usize = 1024 * 1024;

/// One scenario (a size at a concurrency) against a freshly started API, so the
/// peak RSS is this scenario's alone.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()?;
    if opts.header {
        println!(
            "{:>6} {:>5} {:>7} {:>10} {:>10} {:>10} {:>10} {:>13}",
            "size", "conc", "uploads", "uploads/s", "MiB/s", "p50 ms", "p99 ms", "peak RSS MiB"
        );
    }
    let (size_mib, concurrency) = (opts.size_mib, opts.concurrency);
    let count = if size_mib <= 1 {
        (concurrency * 8).max(100)
    } else {
        (concurrency * 2).max(10)
    };
    let row = scenario(&client, &opts, size_mib * MIB, concurrency, count).await?;
    println!(
        "{:>4}Mi {:>5} {:>7} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>13.1}",
        size_mib,
        concurrency,
        count,
        row.per_sec,
        row.mib_per_sec,
        row.p50.as_secs_f64() * 1e3,
        row.p99.as_secs_f64() * 1e3,
        row.peak_rss_mib
    );
    clear_storage(&opts.storage)?;
    Ok(())
}

struct Row {
    per_sec: f64,
    mib_per_sec: f64,
    p50: Duration,
    p99: Duration,
    peak_rss_mib: f64,
}

async fn scenario(
    client: &reqwest::Client,
    opts: &Options,
    size: usize,
    concurrency: usize,
    count: usize,
) -> anyhow::Result<Row> {
    // One shared body per size; each upload gets a unique first line so none is deduplicated.
    let filler = Bytes::from(vec![b'x'; size]);
    let url = format!("{}/admin/books/upload", opts.api);
    let (answers, elapsed) = drive(count, concurrency, |_| {
        let header = Bytes::from(format!("%PDF-1.7\n% {}\n", uuid::Uuid::new_v4()));
        let length = (header.len() + filler.len()) as u64;
        let body = reqwest::Body::wrap_stream(futures::stream::iter([
            Ok::<_, std::io::Error>(header),
            Ok(filler.clone()),
        ]));
        // No part type: the API decides by content.
        let part = Part::stream_with_length(body, length).file_name("bench.pdf");
        let form = Form::new()
            .text("household_id", uuid::Uuid::new_v4().to_string())
            .part("file", part);
        client.post(&url).bearer_auth(&opts.token).multipart(form)
    })
    .await?;
    let mut latencies: Vec<Duration> = answers.iter().map(|a| a.latency()).collect();
    let elapsed = elapsed.as_secs_f64();
    let peak = proc_status_bytes(opts.pid, "VmHWM:").unwrap_or(0);
    Ok(Row {
        per_sec: count as f64 / elapsed,
        mib_per_sec: mib((size * count) as u64) / elapsed,
        p50: percentile(&mut latencies, 50.0),
        p99: percentile(&mut latencies, 99.0),
        peak_rss_mib: mib(peak),
    })
}

fn clear_storage(root: &std::path::Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root)?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            std::fs::remove_dir_all(path)?;
        } else {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}
