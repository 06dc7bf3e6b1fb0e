//! A 1 GiB upload through the real binary, with its resident memory sampled.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::multipart::{Form, Part};
use test_support::{ServiceProcess, TestEnv, free_port};

use crate::helpers::{ADMIN_TOKEN, HOUSEHOLD, set, vars};

const GIB: u64 = 1024 * 1024 * 1024;
const RSS_LIMIT: u64 = 64 * 1024 * 1024;

#[tokio::test]
async fn a_one_gib_upload_keeps_the_api_under_64_mib_resident() {
    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = vars(&env);
    set(&mut vars, "PORT", port.to_string());
    set(&mut vars, "MAX_UPLOAD_BYTES", (2 * GIB).to_string());
    let mut api = ServiceProcess::spawn(Path::new(env!("CARGO_BIN_EXE_api")), &vars, port);
    api.wait_healthy().await;

    // Sample RSS every 20 ms while the upload runs.
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let pid = api.pid();
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            // The sampling cadence, not a wait for something to happen.
            let mut every = tokio::time::interval(Duration::from_millis(20));
            while !done.load(Ordering::Relaxed) {
                every.tick().await;
                if let Some(now) = rss(pid) {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
            }
        })
    };

    // A generated body: a PDF header, then 1 GiB of filler in 256 KiB pieces.
    let piece = Bytes::from(vec![b'x'; 256 * 1024]);
    let pieces = (GIB / piece.len() as u64) as usize;
    let header = Bytes::from_static(b"%PDF-1.7\n");
    let stream = futures::stream::iter(
        std::iter::once(header.clone())
            .chain(std::iter::repeat_n(piece.clone(), pieces))
            .map(Ok::<_, std::io::Error>),
    );
    let length = header.len() as u64 + GIB;
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), length)
        .file_name("huge.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let res = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/admin/books/upload"))
        .bearer_auth(ADMIN_TOKEN)
        .multipart(
            Form::new()
                .text("household_id", HOUSEHOLD)
                .part("file", part),
        )
        .send()
        .await
        .unwrap();
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();

    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let stored = env
        .storage_dir
        .path()
        .join(body["storage_path"].as_str().unwrap());
    assert_eq!(std::fs::metadata(stored).unwrap().len(), length);
    let peak = peak.load(Ordering::Relaxed);
    eprintln!(
        "peak API RSS during a 1 GiB upload: {:.1} MiB",
        peak as f64 / 1048576.0
    );
    assert!(peak > 0, "RSS was sampled");
    assert!(peak < RSS_LIMIT, "peak RSS {peak} bytes is over 64 MiB");
    assert!(api.terminate().await.success());
}

fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}
