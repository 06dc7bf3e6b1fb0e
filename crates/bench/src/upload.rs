//! Upload throughput and latency against a running API, with its peak RSS (summed
//! over the process and its children, so a multi-process server counts whole), and
//! the ratios between stacks measured in the same run.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
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
    /// The stack's name in the table (`ours`, `seeds`, …).
    pub label: String,
    /// A TSV file each row is appended to, for [`ratios`].
    pub record: Option<PathBuf>,
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
            "{:<12} {:>6} {:>5} {:>7} {:>10} {:>10} {:>10} {:>10} {:>13}",
            "stack",
            "size",
            "conc",
            "uploads",
            "uploads/s",
            "MiB/s",
            "p50 ms",
            "p99 ms",
            "peak RSS MiB"
        );
    }
    let (size_mib, concurrency) = (opts.size_mib, opts.concurrency);
    // Warm up, unmeasured: the server's connection pools, thread pools and page
    // cache state reach their steady state, for every stack alike.
    scenario(
        &client,
        &opts,
        size_mib.min(1) * MIB,
        concurrency,
        concurrency.max(4),
    )
    .await?;
    clear_storage(&opts.storage)?;
    let count = if size_mib <= 1 {
        (concurrency * 8).max(100)
    } else {
        (concurrency * 2).max(10)
    };
    let row = scenario(&client, &opts, size_mib * MIB, concurrency, count).await?;
    println!(
        "{:<12} {:>4}Mi {:>5} {:>7} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>13.1}",
        opts.label,
        size_mib,
        concurrency,
        count,
        row.per_sec,
        row.mib_per_sec,
        row.p50.as_secs_f64() * 1e3,
        row.p99.as_secs_f64() * 1e3,
        row.peak_rss_mib
    );
    if let Some(record) = &opts.record {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(record)?;
        writeln!(
            file,
            "{}\t{}\t{}\t{}\t{}\t{}",
            opts.label,
            size_mib,
            concurrency,
            row.per_sec,
            row.p99.as_secs_f64() * 1e3,
            row.peak_rss_mib
        )?;
    }
    clear_storage(&opts.storage)?;
    Ok(())
}

/// One stack's row in a record: uploads/s, p99 ms, peak RSS MiB.
type Figures = (f64, f64, f64);

/// Print, per row, `ours` against every other stack recorded: uploads/s ours ÷
/// theirs, p99 ours ÷ theirs, and both peak RSS figures.
pub fn ratios(record: &Path) -> anyhow::Result<()> {
    let mut rows: BTreeMap<(u64, u64), BTreeMap<String, Figures>> = BTreeMap::new();
    for line in std::fs::read_to_string(record)?.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [label, size, conc, per_sec, p99, rss] = f.as_slice() else {
            anyhow::bail!("bad record line {line:?}");
        };
        rows.entry((size.parse()?, conc.parse()?))
            .or_default()
            .insert(
                (*label).to_owned(),
                (per_sec.parse()?, p99.parse()?, rss.parse()?),
            );
    }
    println!(
        "{:>6} {:>5}  {:<12} {:>14} {:>14} {:>16}",
        "size", "conc", "against", "uploads/s ×", "p99 ×", "RSS MiB (them)"
    );
    for ((size, conc), stacks) in &rows {
        let Some(&(ours_rate, ours_p99, ours_rss)) = stacks.get("ours") else {
            continue;
        };
        for (label, &(rate, p99, rss)) in stacks.iter().filter(|(l, _)| *l != "ours") {
            println!(
                "{:>4}Mi {:>5}  {:<12} {:>14.2} {:>14.2} {:>9.1} ({:.1})",
                size,
                conc,
                label,
                ours_rate / rate,
                ours_p99 / p99,
                ours_rss,
                rss
            );
        }
    }
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
    let peak = tree_peak_rss(opts.pid);
    Ok(Row {
        per_sec: count as f64 / elapsed,
        mib_per_sec: mib((size * count) as u64) / elapsed,
        p50: percentile(&mut latencies, 50.0),
        p99: percentile(&mut latencies, 99.0),
        peak_rss_mib: mib(peak),
    })
}

/// The peak resident memory of `pid` and every descendant, summed: an upper bound
/// of the tree's peak (each process's own high-water mark, not necessarily at once).
fn tree_peak_rss(pid: u32) -> u64 {
    let mut parents: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.entry(ppid).or_default().push(child);
        }
    }
    let mut total = 0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        total += proc_status_bytes(p, "VmHWM:").unwrap_or(0);
        todo.extend(parents.get(&p).into_iter().flatten());
    }
    total
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
