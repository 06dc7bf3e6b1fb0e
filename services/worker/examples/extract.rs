//! Run the worker's extraction and text stages over PDFs and print what a listener
//! would get: `cargo build -p worker && cargo run -p worker --example extract -- FILE…`.
//! Reads the worker's own variables (TEXT_ENGINES, EXTRACT_*, CHUNK_*).

#![allow(clippy::print_stdout)] // a command-line tool

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use shared_domain::Vars;
use worker::config::PipelineConfig;
use worker::extract::Extractor;
use worker::text::chunk_pages;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = PipelineConfig::from_vars(
        &Vars::from_env(),
        worker::resources::Resources {
            cpus: 2,
            memory_bytes: None,
        },
    )?;
    let exe = std::env::current_exe()?
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("worker"))
        .unwrap_or_else(|| PathBuf::from("worker"));
    let extractor = Extractor::new(
        &config,
        exe,
        Arc::new(tokio::sync::Semaphore::new(config.parallelism as usize)),
    );
    for file in std::env::args().skip(1) {
        let started = Instant::now();
        match extractor.extract(file.as_ref(), &|_, _| {}).await {
            Err(e) => println!("{file}\tERROR\t{e}"),
            Ok(doc) => {
                let extracted = started.elapsed().as_secs_f64();
                let book = chunk_pages(&doc.pages, &doc.layouts, &doc.outline, config.text);
                let chunks = book.chunks;
                let chars: usize = chunks.iter().map(|c| c.char_count).sum();
                let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
                for c in &chunks {
                    *kinds.entry(c.kind.as_str()).or_default() += 1;
                }
                println!(
                    "{file}\t{}\tpages={}\tchunks={}\tchars={chars}\t{:.2}s (extraction {extracted:.2}s)\tchapter={:?}\tkinds={kinds:?}\tlanguage={:?}",
                    doc.engine,
                    doc.pages.len(),
                    chunks.len(),
                    started.elapsed().as_secs_f64(),
                    chunks.get(1).and_then(|c| c.chapter.clone()),
                    book.language,
                );
                if let Ok(dir) = std::env::var("PAGES_DIR") {
                    let name = std::path::Path::new(&file)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let pages: Vec<String> = doc
                        .pages
                        .iter()
                        .enumerate()
                        .map(|(i, p)| format!("=== page {}\n{p}", i + 1))
                        .collect();
                    std::fs::write(
                        std::path::Path::new(&dir).join(format!("{name}.pages.txt")),
                        pages.join("\n"),
                    )?;
                }
                if let Ok(dir) = std::env::var("DUMP_DIR") {
                    let name = std::path::Path::new(&file)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let text: Vec<String> = chunks
                        .iter()
                        .map(|c| {
                            format!(
                                "[{}-{} {} {:?}] {}",
                                c.page_start, c.page_end, c.kind, c.chapter, c.text
                            )
                        })
                        .collect();
                    std::fs::write(
                        std::path::Path::new(&dir).join(format!("{name}.txt")),
                        text.join("\n----\n"),
                    )?;
                }
                if std::env::var_os("SHOW").is_some() {
                    for c in chunks.iter().take(3) {
                        println!(
                            "  [{}-{}] {}",
                            c.page_start,
                            c.page_end,
                            c.text.chars().take(300).collect::<String>()
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
