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

/// OCR: pages/s of ours (pdftoppm + Tesseract children, pages in parallel)
/// beside `ocrmypdf --sidecar` on the corpus's scanned files, with one job and
/// with every core, and the share of each one's words found in a dictionary
/// (Debian's wamerican), and, where the PDF carries a producer's OCR layer, how
/// many of that layer's words each one finds.
async fn ocr(opts: &Options, cores: usize, extractor: &Extractor) -> anyhow::Result<()> {
    let Some(ocrmypdf) = &opts.ocrmypdf else {
        println!("\n(OCR: no --ocrmypdf given, skipped)");
        return Ok(());
    };
    let dictionary: std::collections::HashSet<String> =
        std::fs::read_to_string("/usr/share/dict/american-english")?
            .lines()
            .map(str::to_lowercase)
            .collect();
    let manifest = std::fs::read_to_string(opts.corpus.join("MANIFEST.tsv"))?;
    let scans: Vec<PathBuf> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.get(1) == Some(&"scanned")).then(|| opts.corpus.join(cols[0]))
        })
        .collect();
    println!();
    println!(
        "{:<30} {:>5} {:>4} {:>13} {:>9} {:>13} {:>9} {:>15}",
        "scan (OCR, eng)",
        "pages",
        "jobs",
        "ocrmypdf p/s",
        "ours p/s",
        "ocrmypdf dict",
        "ours dict",
        "layer: ocrmypdf/ours"
    );
    let work = std::env::temp_dir().join(format!("readme-bench-ocr-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&work)?;
    for path in &scans {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The file sits in a folder of its own: OCR renders its pages beside it.
        let copy = work.join(&file);
        std::fs::copy(path, &copy)?;
        let layer = tokio::process::Command::new("pdftotext")
            .arg(&copy)
            .arg("-")
            .output()
            .await?;
        let layer = String::from_utf8_lossy(&layer.stdout).into_owned();
        let pages = page_count(&copy).await?;
        let all: Vec<u32> = (1..=pages).collect();
        let mut jobs_list = vec![1, cores];
        jobs_list.dedup();
        for jobs in jobs_list {
            let sidecar = work.join("sidecar.txt");
            let t = Instant::now();
            let status = tokio::process::Command::new(ocrmypdf)
                .arg("--sidecar")
                .arg(&sidecar)
                .args(["--force-ocr", "--output-type", "pdf", "-l", "eng", "-j"])
                .arg(jobs.to_string())
                .arg(&copy)
                .arg(work.join("out.pdf"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .await?;
            anyhow::ensure!(status.success(), "ocrmypdf failed on {file}");
            let theirs_time = t.elapsed();
            let theirs = std::fs::read_to_string(&sidecar)?;
            let mut ours_extractor = extractor.clone();
            ours_extractor.shards = u32::try_from(jobs)?;
            ours_extractor.permits = Arc::new(tokio::sync::Semaphore::new(jobs));
            let t = Instant::now();
            let read = ours_extractor
                .ocr(&copy, &all, &["eng".to_owned()], &|_, _| {})
                .await?;
            let ours_time = t.elapsed();
            let ours: String = read
                .into_iter()
                .filter_map(|(_, text)| text)
                .collect::<Vec<_>>()
                .join("\n");
            let agreement = if words_of(&layer).len() >= 50 {
                format!(
                    "{:.1}% / {:.1}%",
                    100. * found_share(&layer, &theirs),
                    100. * found_share(&layer, &ours)
                )
            } else {
                "-".to_owned()
            };
            println!(
                "{:<30} {:>5} {:>4} {:>13.2} {:>9.2} {:>12.1}% {:>8.1}% {:>15}",
                file,
                pages,
                jobs,
                f64::from(pages) / theirs_time.as_secs_f64(),
                f64::from(pages) / ours_time.as_secs_f64(),
                100. * dictionary_share(&theirs, &dictionary),
                100. * dictionary_share(&ours, &dictionary),
                agreement
            );
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "(one run each; dict = words of two letters or more found in wamerican; layer = the \
         producer's OCR layer's words each one finds)"
    );
    Ok(())
}

async fn page_count(path: &std::path::Path) -> anyhow::Result<u32> {
    let out = tokio::process::Command::new("pdfinfo")
        .arg(path)
        .output()
        .await?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("pdfinfo gives no page count for {}", path.display()))
}

/// Lower-cased words of letters, two or more.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| w.chars().count() >= 2)
        .collect()
}

fn dictionary_share(text: &str, dictionary: &std::collections::HashSet<String>) -> f64 {
    let words = words_of(text);
    if words.is_empty() {
        return 0.;
    }
    words.iter().filter(|w| dictionary.contains(*w)).count() as f64 / words.len() as f64
}

/// The share of `reference`'s words (with their counts) that `text` has.
fn found_share(reference: &str, text: &str) -> f64 {
    let mut have: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for w in words_of(text) {
        *have.entry(w).or_default() += 1;
    }
    let wanted = words_of(reference);
    if wanted.is_empty() {
        return 0.;
    }
    let mut found = 0;
    for w in wanted.iter() {
        if let Some(n) = have.get_mut(w)
            && *n > 0
        {
            *n -= 1;
            found += 1;
        }
    }
    found as f64 / wanted.len() as f64
}

/// EPUBs: books/s of our reader (the `worker epub` child, then the text stage)
/// beside pandoc's EPUB → plain text on the same files, and each reader's peak
/// RSS, on the corpus's EPUBs and on a 100 MB book (mostly images, as large EPUBs
/// are) written here, against the worker's memory bound.
async fn epubs(
    opts: &Options,
    config: &PipelineConfig,
    extractor: &Extractor,
) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&opts.corpus)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "epub"))
        .collect();
    files.sort();
    let big = std::env::temp_dir().join(format!("readme-bench-{}.epub", uuid::Uuid::new_v4()));
    write_big_epub(&big, 100 * 1024 * 1024)?;
    files.push(big.clone());
    println!();
    println!(
        "{:<30} {:>8} {:>10} {:>12} {:>10} {:>12} {:>12} {:>10}",
        "EPUB", "MB", "documents", "pandoc b/s", "ours b/s", "pandoc RSS", "ours RSS", "chunks"
    );
    for path in &files {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = if *path == big {
            "generated-100MB.epub".to_owned()
        } else {
            file
        };
        let mb = std::fs::metadata(path)?.len() as f64 / 1e6;
        let mut pandoc = Vec::new();
        let mut pandoc_rss = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let args = [
                path.as_os_str(),
                "-t".as_ref(),
                "plain".as_ref(),
                "-o".as_ref(),
                "/dev/null".as_ref(),
            ];
            pandoc_rss = pandoc_rss.max(peak_rss("pandoc".as_ref(), &args)?);
            pandoc.push(t.elapsed());
        }
        let mut ours = Vec::new();
        let (mut documents, mut chunks) = (0, 0);
        for _ in 0..RUNS {
            let t = Instant::now();
            let book = extractor.extract_epub(path, &|_, _| {}).await?;
            documents = book.sections.len();
            let paragraphs = worker::pipeline::epub_paragraphs(book.sections);
            chunks =
                worker::text::chunk_structured(paragraphs, documents, &book.outline, config.text)
                    .chunks
                    .len();
            ours.push(t.elapsed());
        }
        let ours_rss = peak_rss(&opts.worker_bin, &["epub".as_ref(), path.as_os_str()])?;
        println!(
            "{:<30} {:>8.1} {:>10} {:>12.2} {:>10.2} {:>10} MB {:>9} MB {:>10}",
            file,
            mb,
            documents,
            1. / median(pandoc).as_secs_f64(),
            1. / median(ours).as_secs_f64(),
            pandoc_rss / 1024,
            ours_rss / 1024,
            chunks
        );
    }
    let _ = std::fs::remove_file(&big);
    println!(
        "(median of {RUNS} runs; b/s = books per second; RSS = the reader process's peak, \
         the worker's bound being EXTRACT_MEMORY_MB = {} MB per child)",
        config.memory_mb
    );
    Ok(())
}

/// Run `program args` (output discarded) and return its peak resident set, in
/// KiB, measured by `readme-bench rss` in a process of its own.
fn peak_rss(program: &std::path::Path, args: &[&std::ffi::OsStr]) -> anyhow::Result<i64> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("rss")
        .arg(program)
        .args(args)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// An EPUB of about `bytes`: a few hundred chapters of prose (a few MB) and the
/// rest in images (incompressible, stored), as large EPUBs are.
fn write_big_epub(path: &std::path::Path, bytes: usize) -> anyhow::Result<()> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path)?);
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("mimetype", stored)?;
    zip.write_all(b"application/epub+zip")?;
    zip.start_file("META-INF/container.xml", deflated)?;
    zip.write_all(
        br#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#,
    )?;
    const CHAPTERS: usize = 300;
    const IMAGES: usize = 95;
    let sentence =
        "The keeper climbed the stairs as the wind rose over the bay, counting each step. ";
    let mut manifest = String::new();
    let mut spine = String::new();
    let mut nav = String::new();
    for c in 1..=CHAPTERS {
        let mut body = format!("<h1>Chapter {c}</h1>");
        for p in 0..40 {
            body.push_str(&format!(
                "<p>{}Paragraph {p}.</p><img src=\"../images/{}.jpg\"/>",
                sentence.repeat(8),
                c % IMAGES
            ));
        }
        zip.start_file(format!("OEBPS/text/ch{c}.xhtml"), deflated)?;
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{c}</title></head><body>{body}</body></html>"#
        )?;
        manifest.push_str(&format!(
            r#"<item id="c{c}" href="text/ch{c}.xhtml" media-type="application/xhtml+xml"/>"#
        ));
        spine.push_str(&format!(r#"<itemref idref="c{c}"/>"#));
        nav.push_str(&format!(
            r#"<li><a href="text/ch{c}.xhtml">Chapter {c}</a></li>"#
        ));
    }
    // Incompressible bytes (a fixed xorshift sequence), like photographs.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let image = bytes.saturating_sub(8 * 1024 * 1024) / IMAGES;
    for i in 0..IMAGES {
        zip.start_file(format!("OEBPS/images/{i}.jpg"), stored)?;
        let mut buf = vec![0u8; image];
        for chunk in buf.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = chunk.len();
            chunk.copy_from_slice(&state.to_le_bytes()[..n]);
        }
        zip.write_all(&buf)?;
        manifest.push_str(&format!(
            r#"<item id="i{i}" href="images/{i}.jpg" media-type="image/jpeg"/>"#
        ));
    }
    zip.start_file("OEBPS/nav.xhtml", deflated)?;
    write!(
        zip,
        r#"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>{nav}</ol></nav></body></html>"#
    )?;
    zip.start_file("OEBPS/content.opf", deflated)?;
    write!(
        zip,
        r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Big</dc:title><dc:language>en</dc:language></metadata><manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{manifest}</manifest><spine>{spine}</spine></package>"#
    )?;
    zip.finish()?;
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
