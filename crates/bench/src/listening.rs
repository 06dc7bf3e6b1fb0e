//! What a listener would hear, measured: for every text-bearing corpus file, our
//! default reading flow (the `body` chunks) beside a strong peer (pymupdf4llm, the
//! layout model in PyMuPDF 2.x, running heads and feet dropped) and against
//! poppler's `pdftotext` as the reference for what the page says.
//!
//! Figures per file: word recall (all our kinds against the reference, so nothing
//! is lost; the body against the reference's own body lines, so nothing the
//! listener should hear is missing), words a listener should not hear per 10,000
//! words by kind, the share of sentences over the maximum, chapter coverage, and
//! extraction pages/s beside pdftotext. The junk detectors below are the same for
//! both texts and look only at the text (not at our labels), so they cannot flatter
//! us: a table of contents we fail to label still counts as contents.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use regex::Regex;
use shared_domain::domain::ChunkKind;
use unicode_segmentation::UnicodeSegmentation;
use worker::text::chunk_pages;
use worker::text::normalize::is_unspaced_script;

mod junk;
mod recall;

use junk::*;
use recall::*;

pub struct Options {
    pub corpus: PathBuf,
    pub worker_bin: PathBuf,
    /// `python` of a venv with PyMuPDF 2.x, and scripts/lib/peer_text.py.
    pub peer_python: PathBuf,
    pub peer_script: PathBuf,
    /// Where the peer's text is kept between runs (keyed by file name and size).
    pub peer_cache: Option<PathBuf>,
    /// Only these files (comma-separated), for a quick look.
    pub only: Option<String>,
    /// Chunks of an earlier build, one `FILE.txt` per book (the worker example's
    /// `DUMP_DIR` output), shown as a "before" line under each file.
    pub before: Option<PathBuf>,
    /// Print, per file, this many of the reference's body words most often
    /// missing from our body (0: none), to read what a recall figure is made of.
    pub missing: usize,
}

struct Peer {
    text: String,
    seconds: f64,
    error: Option<String>,
}

fn run_peer(opts: &Options, files: &[PathBuf]) -> anyhow::Result<HashMap<PathBuf, Peer>> {
    let cached = |file: &Path| -> Option<PathBuf> {
        let dir = opts.peer_cache.as_ref()?;
        let size = std::fs::metadata(file).ok()?.len();
        let name = file.file_name()?.to_string_lossy().into_owned();
        Some(dir.join(format!("{name}.{size}.json")))
    };
    let mut peers = HashMap::new();
    let mut missing = Vec::new();
    for file in files {
        match cached(file).and_then(|c| std::fs::read_to_string(c).ok()) {
            Some(line) => {
                let v: serde_json::Value = serde_json::from_str(&line)?;
                peers.insert(file.clone(), peer_of(&v));
            }
            None => missing.push(file.clone()),
        }
    }
    if missing.is_empty() {
        return Ok(peers);
    }
    let output = std::process::Command::new(&opts.peer_python)
        .arg(&opts.peer_script)
        .args(&missing)
        .stderr(std::process::Stdio::null())
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "the peer script failed: {}",
        output.status
    );
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let file = PathBuf::from(v["file"].as_str().unwrap_or_default());
        if let Some(path) = cached(&file) {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, line)?;
        }
        peers.insert(file, peer_of(&v));
    }
    Ok(peers)
}

fn peer_of(v: &serde_json::Value) -> Peer {
    Peer {
        text: v["text"].as_str().unwrap_or_default().to_owned(),
        seconds: v["seconds"].as_f64().unwrap_or(0.),
        error: v["error"].as_str().map(str::to_owned),
    }
}

fn pdftotext_pages(path: &Path) -> anyhow::Result<(Vec<String>, f64)> {
    let started = Instant::now();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .stderr(std::process::Stdio::null())
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Ok((pages, seconds))
}

#[allow(clippy::too_many_lines, clippy::cast_precision_loss)]
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let d = Detectors::new()?;
    let manifest = std::fs::read_to_string(opts.corpus.join("MANIFEST.tsv"))?;
    let only: Option<Vec<&str>> = opts.only.as_deref().map(|o| o.split(',').collect());
    let files: Vec<PathBuf> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|f| f.ends_with(".pdf"))
        .filter(|f| only.as_ref().is_none_or(|o| o.contains(f)))
        .map(|f| opts.corpus.join(f))
        .collect();
    let (_, config, extractor) = crate::pipeline::extractor(&opts.worker_bin)?;

    // Ours first, then the peer on the files that have text.
    struct Ours {
        body: String,
        all: String,
        /// Everything not in the reading flow.
        others: String,
        sentences: Vec<usize>,
        chunks: usize,
        mean_chars: usize,
        chapter_cover: Option<f64>,
        pages: usize,
        seconds: f64,
    }
    let mut ours: Vec<(PathBuf, Ours)> = Vec::new();
    for path in &files {
        let started = Instant::now();
        let Ok(doc) = extractor.extract(path, &|_, _| {}).await else {
            continue;
        };
        let book = chunk_pages(&doc.pages, &doc.layouts, &doc.outline, config.text);
        let seconds = started.elapsed().as_secs_f64();
        if book.chunks.is_empty() {
            continue;
        }
        let body: Vec<_> = book
            .chunks
            .iter()
            .filter(|c| c.kind == ChunkKind::Body)
            .collect();
        let mut sentences = Vec::new();
        for c in &body {
            let chars: Vec<char> = c.text.chars().collect();
            for (i, s) in c.sentence_starts.iter().enumerate() {
                let end = c
                    .sentence_starts
                    .get(i + 1)
                    .map_or(chars.len(), |e| *e as usize);
                let n = chars[*s as usize..end]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .chars()
                    .count();
                sentences.push(n);
            }
        }
        let chapter_cover = (!doc.outline.is_empty()).then(|| {
            body.iter().filter(|c| c.chapter.is_some()).count() as f64 * 100.
                / body.len().max(1) as f64
        });
        ours.push((
            path.clone(),
            Ours {
                body: body
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                all: book
                    .chunks
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                others: book
                    .chunks
                    .iter()
                    .filter(|c| c.kind != ChunkKind::Body)
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                sentences,
                chunks: book.chunks.len(),
                mean_chars: book.chunks.iter().map(|c| c.char_count).sum::<usize>()
                    / book.chunks.len(),
                chapter_cover,
                pages: doc.pages.len(),
                seconds,
            },
        ));
    }
    let text_files: Vec<PathBuf> = ours.iter().map(|(p, _)| p.clone()).collect();
    let peers = run_peer(&opts, &text_files)?;

    println!(
        "{:<32} {:>6} {:>7} {:>7} {:>7} | {:>8} {:>8} | {:>6} {:>6} | {:>6} {:>6} | {:>5} {:>6} | {:>7} {:>7}",
        "file",
        "words",
        "rec.all",
        "rec.bdy",
        "peer",
        "junk/10k",
        "peer",
        ">250%",
        "peer",
        "chunks",
        "chars",
        "chap%",
        "",
        "p/s",
        "pdftxt"
    );
    let mut totals_ours = Junk::default();
    let mut totals_peer = Junk::default();
    let mut totals_before: BTreeMap<&str, usize> = BTreeMap::new();
    for (path, o) in &ours {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (reference, poppler_s) = pdftotext_pages(path)?;
        let mut heads = running_heads(&reference);
        heads.extend(edge_furniture(path, reference.len())?);
        heads.sort_unstable();
        heads.dedup();
        let ref_body = reference_body(&reference, &heads, &d);
        let j = junk(&o.body, &heads, &d);
        let peer = peers.get(path);
        let pj = peer.map(|p| junk(&p.text, &heads, &d)).unwrap_or_default();
        let peer_sentences: Vec<usize> = peer
            .map(|p| {
                p.text
                    .split("\n\n")
                    .flat_map(|para| {
                        para.split_sentence_bounds()
                            .map(|s| s.trim().chars().count())
                    })
                    .filter(|n| *n > 0)
                    .collect()
            })
            .unwrap_or_default();
        for (kind, n) in &j.by_kind {
            *totals_ours.by_kind.entry(kind).or_default() += n;
        }
        totals_ours.words += j.words;
        for (kind, n) in &pj.by_kind {
            *totals_peer.by_kind.entry(kind).or_default() += n;
        }
        totals_peer.words += pj.words;
        let pages_per_s = |pages: usize, s: f64| if s > 0. { pages as f64 / s } else { 0. };
        println!(
            "{:<32} {:>6} {:>6.1}% {:>6.1}% {:>6.1}% | {:>8.0} {:>8} | {:>6.1} {:>6} | {:>6} {:>6} | {:>5} {:>6} | {:>7.0} {:>7.0}",
            name.chars().take(32).collect::<String>(),
            j.words,
            recall(&ref_body, &o.all) * 100.,
            recall(&without(&ref_body, &o.others), &o.body) * 100.,
            peer.map_or(0., |p| recall(&ref_body, &p.text) * 100.),
            j.total_per_10k(),
            match peer {
                Some(p) if p.error.is_none() => format!("{:.0}", pj.total_per_10k()),
                _ => "failed".into(),
            },
            share_over(&o.sentences),
            format!("{:.1}", share_over(&peer_sentences)),
            o.chunks,
            o.mean_chars,
            o.chapter_cover.map_or("-".into(), |c| format!("{c:.0}")),
            "",
            pages_per_s(o.pages, o.seconds),
            pages_per_s(reference.len(), poppler_s),
        );
        if opts.missing > 0 {
            let missing = most_missing(&without(&ref_body, &o.others), &o.body, opts.missing);
            println!(
                "{:<32}   body words missing: {}",
                "",
                missing
                    .iter()
                    .map(|(w, n)| format!("{w}×{n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        if let Some(dir) = &opts.before
            && let Ok(dump) = std::fs::read_to_string(dir.join(format!("{name}.txt")))
        {
            let text: String = dump
                .split("\n----\n")
                .map(|c| c.split_once("] ").map_or(c, |(_, t)| t))
                .collect::<Vec<_>>()
                .join("\n\n");
            let bj = junk(&text, &heads, &d);
            let sentences: Vec<usize> = text
                .split("\n\n")
                .flat_map(|p| p.split_sentence_bounds().map(|s| s.trim().chars().count()))
                .filter(|n| *n > 0)
                .collect();
            *totals_before.entry("words").or_default() += bj.words;
            for (kind, n) in &bj.by_kind {
                *totals_before.entry(kind).or_default() += n;
            }
            let kinds: Vec<String> = KINDS
                .iter()
                .filter(|k| bj.per_10k(k) >= 1.)
                .map(|k| format!("{k} {:.0}", bj.per_10k(k)))
                .collect();
            println!(
                "{:<32}   before: recall {:.1}%, junk {:.0}/10k ({}), >250 {:.1}%",
                "",
                recall(&ref_body, &text) * 100.,
                bj.total_per_10k(),
                kinds.join(", "),
                share_over(&sentences)
            );
        }
        let worst: Vec<String> = KINDS
            .iter()
            .filter(|k| j.per_10k(k) >= 1. || pj.per_10k(k) >= 1.)
            .map(|k| format!("{k} {:.0}/{:.0}", j.per_10k(k), pj.per_10k(k)))
            .collect();
        if !worst.is_empty() {
            println!(
                "{:<32}   by kind, ours/peer per 10k: {}",
                "",
                worst.join(", ")
            );
        }
        if let Some(p) = peer {
            if let Some(e) = &p.error {
                println!("{:<32}   peer failed: {e}", "");
            }
            let _ = p.seconds;
        }
    }
    println!();
    println!("all files, junk per 10,000 words in the reading flow (ours / peer):");
    for kind in KINDS {
        println!(
            "  {:<14} {:>8.1} {:>8.1}",
            kind,
            totals_ours.per_10k(kind),
            totals_peer.per_10k(kind)
        );
    }
    println!(
        "  {:<14} {:>8.1} {:>8.1}",
        "total",
        totals_ours.total_per_10k(),
        totals_peer.total_per_10k()
    );
    if let Some(words) = totals_before.get("words").copied() {
        let kinds: Vec<String> = KINDS
            .iter()
            .map(|k| {
                format!(
                    "{k} {:.1}",
                    per_10k(totals_before.get(k).copied().unwrap_or(0), words)
                )
            })
            .collect();
        let total: usize = KINDS
            .iter()
            .map(|k| totals_before.get(k).copied().unwrap_or(0))
            .sum();
        println!(
            "  before: total {:.1} ({})",
            per_10k(total, words),
            kinds.join(", ")
        );
    }
    println!(
        "(rec.all: the words of pdftotext's text (its running heads, page numbers, contents lines and \
         links set aside) found in any of our chunks: nothing lost; rec.bdy: the same words, less those \
         our other kinds hold, found in our reading flow; peer: pdftotext's words found in the peer's text; >250%: sentences over {SENTENCE_MAX} chars; \
         chap%: body chunks with a chapter, when the PDF has an outline; p/s: pages/s of ours incl. \
         normalize+chunk, and pdftotext's)"
    );
    Ok(())
}
