//! Pages/s of our extraction (isolated children, one shard per core, plus the
//! quality checks, second opinions, normalization and chunking) beside poppler's
//! `pdftotext` on the same long corpus files in the same run; and, with a running
//! stack, upload→ready wall time. Then EPUBs: books/s and peak RSS of our reader
//! beside pandoc's, on the corpus's EPUBs and a generated 100 MB book.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared_domain::Vars;
use worker::config::PipelineConfig;
use worker::extract::Extractor;
use worker::text::chunk_pages;

mod epubs;
mod ocr;

use epubs::epubs;
use ocr::ocr;

pub struct Options {
    pub corpus: PathBuf,
    pub worker_bin: PathBuf,
    pub api: Option<String>,
    pub token: Option<String>,
    pub read_token: Option<String>,
    /// Long books from outside the corpus (paths), measured the same way after it.
    pub extra: Vec<PathBuf>,
    /// The `ocrmypdf` program OCR is compared with.
    pub ocrmypdf: Option<PathBuf>,
}

const RUNS: usize = 3;

/// The worker's own pipeline settings (from the environment, sized to this
/// machine's cores) and an extractor running `worker_bin` as its children.
pub fn extractor(
    worker_bin: &std::path::Path,
) -> anyhow::Result<(usize, PipelineConfig, Extractor)> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let config = PipelineConfig::from_vars(
        &Vars::from_env(),
        worker::resources::Resources {
            cpus: cores,
            memory_bytes: None,
        },
    )?;
    let extractor = Extractor::new(
        &config,
        worker_bin.to_path_buf(),
        Arc::new(tokio::sync::Semaphore::new(config.parallelism as usize)),
    );
    Ok((cores, config, extractor))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let manifest = std::fs::read_to_string(opts.corpus.join("MANIFEST.tsv"))?;
    let long: Vec<PathBuf> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.get(1) == Some(&"long")).then(|| opts.corpus.join(cols[0]))
        })
        .chain(opts.extra.iter().cloned())
        .collect();
    let (cores, config, extractor) = extractor(&opts.worker_bin)?;
    // PARTS=pdf,epub,ocr (any of them) measures only those.
    let parts = std::env::var("PARTS").unwrap_or_else(|_| "pdf,epub,ocr".to_owned());
    let part = |name: &str| parts.split(',').any(|p| p.trim() == name);
    let long = if part("pdf") { long } else { Vec::new() };
    println!(
        "{:<30} {:>6} {:>13} {:>13} {:>7} {:>22} {:>14}",
        "file", "pages", "pdftotext p/s", "ours p/s", "ratio", "engine", "upload→ready s"
    );
    for path in long {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut poppler = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let status = tokio::process::Command::new("pdftotext")
                .args(["-enc", "UTF-8"])
                .arg(&path)
                .arg("/dev/null")
                .stderr(std::process::Stdio::null())
                .status()
                .await?;
            anyhow::ensure!(status.success(), "pdftotext failed on {file}");
            poppler.push(t.elapsed());
        }
        let mut ours = Vec::new();
        let mut pages = 0;
        let mut engine = String::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let doc = extractor.extract(&path, &|_, _| {}).await?;
            let chunks = chunk_pages(&doc.pages, &doc.layouts, &doc.outline, config.text).chunks;
            anyhow::ensure!(!chunks.is_empty(), "no chunks from {file}");
            ours.push(t.elapsed());
            pages = doc.pages.len();
            engine = doc.engine;
        }
        let (p, o) = (median(poppler), median(ours));
        let ready = match (&opts.api, &opts.token, &opts.read_token) {
            (Some(api), Some(token), Some(read)) => {
                format!(
                    "{:.2}",
                    upload_to_ready(api, token, read, &path)
                        .await?
                        .as_secs_f64()
                )
            }
            _ => "-".to_owned(),
        };
        println!(
            "{:<30} {:>6} {:>13.0} {:>13.0} {:>7.2} {:>22} {:>14}",
            file,
            pages,
            pages as f64 / p.as_secs_f64(),
            pages as f64 / o.as_secs_f64(),
            p.as_secs_f64() / o.as_secs_f64(),
            engine,
            ready
        );
    }
    println!(
        "(median of {RUNS} runs; ours = {} extraction processes per book on {cores} cores, incl. normalize + chunk)",
        config.parallelism
    );
    if part("epub") {
        epubs(&opts, &config, &extractor).await?;
    }
    if part("ocr") {
        ocr(&opts, cores, &extractor).await?;
    }
    Ok(())
}

async fn upload_to_ready(
    api: &str,
    token: &str,
    read_token: &str,
    path: &std::path::Path,
) -> anyhow::Result<Duration> {
    let client = reqwest::Client::new();
    let mut bytes = std::fs::read(path)?;
    // A unique trailing comment so the upload is never deduplicated against an earlier run.
    bytes.extend_from_slice(format!("\n% {}\n", uuid::Uuid::new_v4()).as_bytes());
    let started = Instant::now();
    let form = reqwest::multipart::Form::new()
        .text("household_id", uuid::Uuid::new_v4().to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("book.pdf"),
        );
    let body: serde_json::Value = client
        .post(format!("{api}/admin/books/upload"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = body["book_id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no book_id in {body}"))?
        .to_owned();
    loop {
        let status: serde_json::Value = client
            .get(format!("{api}/books/{id}/status"))
            .bearer_auth(read_token)
            .send()
            .await?
            .json()
            .await?;
        match status["status"].as_str() {
            Some("ready") => return Ok(started.elapsed()),
            Some("failed") => anyhow::bail!("the book failed: {status}"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "not ready after 600 s"
        );
    }
}
