//! Text extraction, isolated in child processes, with a second engine for what
//! the first does badly.
//!
//! The primary engine is pdf-extract (the best paragraph breaks on English), run
//! as `worker extract` children over interleaved page shards, one per allowed
//! core, each under an address-space and CPU limit and all under a wall-clock
//! deadline. Every page is then measured: replacement or private-use characters,
//! empty pages, right-to-left scripts (which pdf-extract writes in reverse) and
//! CJK (whose characters it drops when a font lacks a Unicode map). Pages that
//! look poor are taken from poppler's `pdftotext` instead when its text scores
//! better; a file pdf-extract cannot open (truncated, say) or crashes on goes to
//! pdftotext whole. The book records which engine produced its text.

pub mod child;
pub mod epub;
mod layout;
pub mod ocr;
mod outline;
mod pdftotext;
mod process;
mod quality;
mod shards;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use shared_domain::BookErrorCode;
use tokio::process::Command;
use tokio::sync::Semaphore;

use crate::text::OutlineEntry;
use crate::text::layout::PageLayout;
use child::Limits;
use process::{
    PageCounter, Shard, classify_crash, spawn, timeout, too_much_text, wait_with_output,
};
pub use quality::Quality;

/// How extraction runs; built from the worker's configuration.
#[derive(Debug, Clone)]
pub struct Extractor {
    /// The worker binary re-executed for `extract` and `limit`.
    pub exe: PathBuf,
    pub pdftotext: Option<PathBuf>,
    pub use_pdf_extract: bool,
    /// Child processes per book.
    pub shards: u32,
    /// Child processes across the whole worker (shared by concurrent jobs).
    pub permits: Arc<Semaphore>,
    pub memory_mb: u64,
    pub timeout: Duration,
    pub max_pages: u32,
    /// Most bytes of text accepted from one book.
    pub max_text_bytes: u64,
    /// OCR of scanned pages, when on.
    pub ocr: Option<ocr::OcrConfig>,
}

/// A book's text, page by page.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub pages: Vec<String>,
    /// Each page's line layout, where its engine gave one (empty, or one per page).
    pub layouts: Vec<Option<PageLayout>>,
    pub outline: Vec<OutlineEntry>,
    /// `pdf-extract`, `pdftotext`, or `pdf-extract+pdftotext`.
    pub engine: String,
    /// Pages (1-based) the primary engine flagged as unreliable.
    pub suspect: Vec<u32>,
    /// Pages the primary engine failed on (a panic, a broken content stream).
    pub failed_pages: u32,
}

/// An EPUB's text: each spine document's paragraphs, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub struct EpubText {
    pub sections: Vec<Vec<epub::Block>>,
    /// Chapters, their pages being spine positions.
    pub outline: Vec<OutlineEntry>,
    /// The package's `dc:language`.
    pub language: Option<String>,
}

/// A permanent reason this file yields no text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ExtractError {
    pub code: BookErrorCode,
    pub message: String,
}

impl ExtractError {
    fn new(code: BookErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Extraction failed for a reason unrelated to the file (the machine, not the book).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Book(#[from] ExtractError),
    #[error("could not run the extractor")]
    Spawn(#[source] std::io::Error),
}

/// Progress of one book: pages done of total.
pub type OnProgress<'a> = &'a (dyn Fn(u32, u32) + Send + Sync);

impl Extractor {
    pub fn new(
        config: &crate::config::PipelineConfig,
        exe: PathBuf,
        permits: Arc<Semaphore>,
    ) -> Self {
        Self {
            exe,
            pdftotext: config.pdftotext.clone(),
            use_pdf_extract: config.use_pdf_extract,
            shards: config.parallelism,
            permits,
            memory_mb: config.memory_mb,
            timeout: config.timeout,
            max_pages: config.max_pages,
            max_text_bytes: 512 * 1024 * 1024,
            ocr: config.ocr.clone(),
        }
    }

    /// A slot among the worker's extraction processes.
    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Failure> {
        self.permits
            .acquire()
            .await
            .map_err(|e| Failure::Spawn(std::io::Error::other(e)))
    }

    /// This binary run as `subcommand` under the extraction limits.
    fn child(&self, subcommand: &str) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.arg(subcommand).args(self.limits().to_args());
        cmd
    }

    fn limits(&self) -> Limits {
        Limits {
            memory_mb: self.memory_mb,
            cpu_seconds: self.timeout.as_secs().saturating_add(1),
        }
    }

    /// Extract `path`'s text, or say why the book cannot be read.
    pub async fn extract(
        &self,
        path: &Path,
        progress: OnProgress<'_>,
    ) -> Result<Extracted, Failure> {
        let primary = if self.use_pdf_extract {
            Some(self.pdf_extract(path, progress).await?)
        } else {
            None
        };
        match primary {
            Some(Ok(doc)) => Ok(self.second_opinion(path, doc).await?),
            Some(Err(failure)) => {
                tracing::info!(code = %failure.code, reason = %failure.message, "pdf-extract failed; trying pdftotext");
                match self.pdftotext(path, None).await? {
                    // The primary's reason is the more telling one when both fail,
                    // unless poppler says the file is encrypted or not a PDF at all.
                    Err(fallback) if fallback.code == BookErrorCode::EncryptedPdf => {
                        Err(fallback.into())
                    }
                    Err(_) => Err(failure.into()),
                    // No text from poppler either: the first engine's reason is the real one.
                    Ok(pages) if pages.iter().all(|p| Quality::of(p).letters == 0) => {
                        Err(failure.into())
                    }
                    Ok(pages) => Ok(Extracted {
                        pages,
                        layouts: Vec::new(),
                        // The outline may still be readable where the text was not.
                        outline: self.outline(path).await,
                        engine: "pdftotext".into(),
                        suspect: Vec::new(),
                        failed_pages: 0,
                    }),
                }
            }
            None => Ok(Extracted {
                pages: self.pdftotext(path, None).await?.map_err(Failure::Book)?,
                layouts: Vec::new(),
                outline: self.outline(path).await,
                engine: "pdftotext".into(),
                suspect: Vec::new(),
                failed_pages: 0,
            }),
        }
    }

    /// Read an EPUB in a `worker epub` child under the same limits and deadline as
    /// a PDF: its spine's paragraphs, each spine document one "page".
    pub async fn extract_epub(
        &self,
        path: &Path,
        progress: OnProgress<'_>,
    ) -> Result<EpubText, Failure> {
        #[derive(Default)]
        struct Read {
            total: u32,
            sections: Vec<(u32, Vec<epub::Block>)>,
            outline: Vec<OutlineEntry>,
            language: Option<String>,
            fatal: Option<ExtractError>,
        }
        let _permit = self.permit().await?;
        let mut cmd = self.child("epub");
        cmd.arg(path);
        let child = spawn(cmd)?;
        let accept = |line: &str, read: &mut Read| {
            let Ok(event) = serde_json::from_str::<epub::EpubEvent>(line) else {
                return;
            };
            match event {
                epub::EpubEvent::Package {
                    sections,
                    outline,
                    language,
                } => {
                    read.total = sections;
                    read.outline = outline;
                    read.language = language;
                    progress(0, sections);
                }
                epub::EpubEvent::Section { section, blocks } => {
                    read.sections.push((section, blocks));
                    progress(section, read.total);
                }
                epub::EpubEvent::Fatal { code, message } => {
                    let code = BookErrorCode::ALL
                        .into_iter()
                        .find(|c| c.as_str() == code)
                        .unwrap_or(BookErrorCode::InvalidEpub);
                    read.fatal = Some(ExtractError::new(code, message));
                }
            }
        };
        let run = wait_with_output(child, self.max_text_bytes, accept);
        let (status, (mut read, overflow), stderr) =
            match tokio::time::timeout(self.timeout, run).await {
                Err(_) => return Err(timeout(self.timeout).into()),
                Ok(r) => r?,
            };
        if let Some(fatal) = read.fatal.take() {
            return Err(fatal.into());
        }
        if overflow {
            return Err(too_much_text().into());
        }
        if !status.success() {
            let mut e = classify_crash(status, &stderr, self.timeout);
            e.message = e.message.replace("the PDF", "the EPUB");
            return Err(e.into());
        }
        if u32::try_from(read.sections.len()).ok() != Some(read.total) {
            return Err(ExtractError::new(
                BookErrorCode::ExtractionFailed,
                "the EPUB reader stopped before the last document",
            )
            .into());
        }
        read.sections.sort_by_key(|(section, _)| *section);
        Ok(EpubText {
            sections: read
                .sections
                .into_iter()
                .map(|(_, blocks)| blocks)
                .collect(),
            outline: read.outline,
            language: read.language,
        })
    }

    /// The document's outline alone, from a child under the same limits; none if
    /// it cannot be read (a book's text never depends on its outline).
    async fn outline(&self, path: &Path) -> Vec<OutlineEntry> {
        let Ok(_permit) = self.permit().await else {
            return Vec::new();
        };
        let mut cmd = self.child("extract");
        cmd.arg("--outline-only").arg(path);
        let Ok(child) = spawn(cmd) else {
            return Vec::new();
        };
        let counter = PageCounter {
            done: AtomicU32::new(0),
            total: AtomicU32::new(0),
            progress: &|_, _| {},
        };
        let run = wait_with_output(child, 64 << 20, |line, shard: &mut Shard| {
            shard.accept(line, &counter);
        });
        match tokio::time::timeout(self.timeout.min(Duration::from_secs(60)), run).await {
            Ok(Ok((_, (shard, _), _))) => shard.outline,
            _ => Vec::new(),
        }
    }
}
