//! Reading a book's text: a PDF (extraction, the second engine, OCR of scanned
//! pages, normalization) or an EPUB (its spine's paragraphs), chunked.

use std::time::Instant;

use shared_domain::BookErrorCode;
use shared_domain::db::books::Book;
use shared_domain::domain::ChunkKind;
use tracing::Instrument;

use super::{Pipeline, PipelineError, stage_span, transient};
use crate::extract::{ExtractError, Failure, OnProgress, epub};
use crate::text::{Paragraph, TextChunk, chunk_pages, chunk_structured};

impl Pipeline {
    /// A PDF's chunks: extracted (with the second engine where the first reads
    /// badly), normalized from its layout, chunked; or why it has no text.
    pub(super) async fn read_pdf(
        &self,
        pdf: &std::path::Path,
        report: OnProgress<'_>,
        book: &Book,
    ) -> Result<Read, PipelineError> {
        let started = Instant::now();
        let mut extracted = match self
            .extractor
            .extract(pdf, report)
            .instrument(stage_span("extract"))
            .await
        {
            Ok(doc) => doc,
            Err(Failure::Book(e)) => return Err(PipelineError::Permanent(e)),
            Err(e @ Failure::Spawn(_)) => return Err(transient("extracting", e)),
        };
        let pages = extracted.pages.len();
        metrics::histogram!("pipeline_stage_seconds", "stage" => "extract")
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("pipeline_pages_total").increment(pages as u64);

        let started = Instant::now();
        let scanned = self
            .ocr_scanned_pages(pdf, &mut extracted, book, report)
            .instrument(stage_span("ocr"))
            .await?;
        if scanned.tried > 0 {
            metrics::histogram!("pipeline_stage_seconds", "stage" => "ocr")
                .record(started.elapsed().as_secs_f64());
            metrics::counter!("pipeline_ocr_pages_total").increment(u64::from(scanned.tried));
        }

        let started = Instant::now();
        let sizes = self.config.text;
        let engine = extracted.engine.clone();
        let failed_pages = extracted.failed_pages;
        let text_pages = pages_with_text(&extracted.pages);
        let (text, language) = tokio::task::spawn_blocking(move || {
            let book = chunk_pages(
                &extracted.pages,
                &extracted.layouts,
                &extracted.outline,
                sizes,
            );
            (book.chunks, book.language)
        })
        .instrument(stage_span("chunk"))
        .await
        .map_err(|e| transient("chunking", e))?;
        metrics::histogram!("pipeline_stage_seconds", "stage" => "chunk")
            .record(started.elapsed().as_secs_f64());
        if text.is_empty() && failed_pages > 0 {
            return Err(PipelineError::Permanent(ExtractError {
                code: BookErrorCode::ExtractionFailed,
                message: format!(
                    "no text could be read: {failed_pages} of the {pages} page(s) have broken drawing instructions"
                ),
            }));
        }
        // OCR read the scans, and still there is (mostly) nothing a voice can say.
        if scanned.tried > 0 && (text.is_empty() || mostly_without_text(text_pages, pages)) {
            return Err(PipelineError::Permanent(ExtractError {
                code: BookErrorCode::OcrUnreadable,
                message: format!(
                    "OCR read the {} page(s) of {pages} without usable text and found words on {} \
                     of them ({} words among {} marks): too little for a voice to read",
                    scanned.tried,
                    scanned.used.len(),
                    scanned.words,
                    scanned.tokens
                ),
            }));
        }
        if text.is_empty() {
            return Err(PipelineError::Permanent(ExtractError {
                code: BookErrorCode::NoTextLayer,
                message: format!(
                    "none of the {pages} page(s) has a text layer, and OCR is switched off on this worker"
                ),
            }));
        }
        // A scan whose few pages carry a stray text layer (a chart's labels, a
        // stamp) would otherwise be "ready" with a fragment of the book.
        if mostly_without_text(text_pages, pages) {
            return Err(PipelineError::Permanent(ExtractError {
                code: BookErrorCode::NoTextLayer,
                message: format!(
                    "only {text_pages} of the {pages} page(s) have a text layer; the rest look \
                     scanned, and OCR is switched off on this worker"
                ),
            }));
        }
        let text = text
            .into_iter()
            .map(|mut c| {
                c.ocr = scanned
                    .used
                    .iter()
                    .any(|p| (c.page_start..=c.page_end).contains(p));
                c
            })
            .collect::<Vec<_>>();
        let engine = if scanned.used.is_empty() {
            engine
        } else {
            format!("{engine}+tesseract")
        };
        Ok(Read {
            text,
            language: language.map(str::to_owned),
            pages,
            engine,
        })
    }

    /// OCR for the pages without usable text (none, a stray line, or garbage):
    /// each page whose OCR'd text is mostly words and says more than its text
    /// layer takes the OCR'd text (its layout dropped).
    pub(super) async fn ocr_scanned_pages(
        &self,
        pdf: &std::path::Path,
        extracted: &mut crate::extract::Extracted,
        book: &Book,
        report: OnProgress<'_>,
    ) -> Result<Scanned, PipelineError> {
        let mut scanned = Scanned::default();
        if self.extractor.ocr.is_none() {
            return Ok(scanned);
        }
        let wanted: Vec<u32> = extracted
            .pages
            .iter()
            .enumerate()
            .filter(|(_, text)| needs_ocr(text))
            .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
            .collect();
        if wanted.is_empty() {
            return Ok(scanned);
        }
        let languages = book.ocr_languages.clone().unwrap_or_default();
        let read = match self.extractor.ocr(pdf, &wanted, &languages, report).await {
            Ok(read) => read,
            Err(Failure::Book(e)) => return Err(PipelineError::Permanent(e)),
            Err(e @ Failure::Spawn(_)) => return Err(transient("OCR", e)),
        };
        scanned.tried = u32::try_from(wanted.len()).unwrap_or(u32::MAX);
        for (page, text) in read {
            let Some(text) = text else { continue };
            let (words, tokens) = crate::extract::ocr::word_share(&text);
            scanned.words += words;
            scanned.tokens += tokens;
            let index = usize::try_from(page).unwrap_or(usize::MAX) - 1;
            let (layer_words, _) = crate::extract::ocr::word_share(&extracted.pages[index]);
            // A page of writing says a few words at least; two letters read
            // off a drawing ("ua") are not a page of the book.
            if words >= 3 && words > layer_words && words * 2 >= tokens {
                extracted.pages[index] = text;
                if let Some(layout) = extracted.layouts.get_mut(index) {
                    *layout = None;
                }
                scanned.used.push(page);
            }
        }
        Ok(scanned)
    }

    /// An EPUB's chunks: its spine documents' paragraphs (each document a
    /// "page"), chapters from its navigation; or why it cannot be read.
    pub(super) async fn read_epub(
        &self,
        epub: &std::path::Path,
        report: OnProgress<'_>,
    ) -> Result<Read, PipelineError> {
        let started = Instant::now();
        let book = match self
            .extractor
            .extract_epub(epub, report)
            .instrument(stage_span("extract"))
            .await
        {
            Ok(book) => book,
            Err(Failure::Book(e)) => return Err(PipelineError::Permanent(e)),
            Err(e @ Failure::Spawn(_)) => return Err(transient("extracting", e)),
        };
        let pages = book.sections.len();
        metrics::histogram!("pipeline_stage_seconds", "stage" => "extract")
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("pipeline_pages_total").increment(pages as u64);

        let started = Instant::now();
        let sizes = self.config.text;
        let declared = book.language.clone();
        let (text, language) = tokio::task::spawn_blocking(move || {
            let paragraphs = epub_paragraphs(book.sections);
            let text = chunk_structured(paragraphs, pages, &book.outline, sizes);
            (text.chunks, text.language)
        })
        .instrument(stage_span("chunk"))
        .await
        .map_err(|e| transient("chunking", e))?;
        metrics::histogram!("pipeline_stage_seconds", "stage" => "chunk")
            .record(started.elapsed().as_secs_f64());
        if text.is_empty() {
            return Err(PipelineError::Permanent(ExtractError {
                code: BookErrorCode::NoTextLayer,
                message: format!(
                    "none of the EPUB's {pages} document(s) holds text (a book of images?)"
                ),
            }));
        }
        // The text says its language best; the package's `dc:language` where it
        // cannot ("en-GB" → "en").
        let language = language.map(str::to_owned).or_else(|| {
            declared
                .as_deref()
                .and_then(|l| l.split(['-', '_']).next())
                .map(str::to_ascii_lowercase)
                .filter(|l| {
                    (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic())
                })
        });
        Ok(Read {
            text,
            language,
            pages,
            engine: "epub".to_owned(),
        })
    }
}

/// What OCR did for a book.
#[derive(Debug, Default)]
pub(super) struct Scanned {
    /// Pages OCR read.
    pub(super) tried: u32,
    /// Pages that took their text from OCR.
    pub(super) used: Vec<u32>,
    /// Words, and marks of any kind, in all the OCR'd text.
    pub(super) words: usize,
    pub(super) tokens: usize,
}

/// A page worth OCR: no text layer, a stray line or two (a scan's page number),
/// or text the quality checks judge garbage.
pub(super) fn needs_ocr(text: &str) -> bool {
    let quality = crate::extract::Quality::of(text);
    quality.letters < 20 || quality.bad * 50 > quality.letters
}

/// A book's chunks and what the book records beside them.
pub(super) struct Read {
    pub(super) text: Vec<TextChunk>,
    pub(super) language: Option<String>,
    pub(super) pages: usize,
    pub(super) engine: String,
}

/// Spine documents' blocks as paragraphs, each document its own "page".
pub fn epub_paragraphs(sections: Vec<Vec<epub::Block>>) -> Vec<Paragraph> {
    sections
        .into_iter()
        .enumerate()
        .flat_map(|(i, blocks)| {
            let page = u32::try_from(i + 1).unwrap_or(u32::MAX);
            blocks.into_iter().map(move |b| Paragraph {
                text: b.text,
                page_start: page,
                page_end: page,
                kind: match b.kind {
                    epub::BlockKind::Body => ChunkKind::Body,
                    epub::BlockKind::Notes => ChunkKind::Notes,
                    epub::BlockKind::Code => ChunkKind::Code,
                    epub::BlockKind::Table => ChunkKind::Table,
                    epub::BlockKind::BackMatter => ChunkKind::BackMatter,
                },
                heading: b.heading,
            })
        })
        .collect()
}

/// Pages holding any letter or digit (as the extractor's own quality measure counts them).
pub(super) fn pages_with_text(pages: &[String]) -> usize {
    pages
        .iter()
        .filter(|p| crate::extract::Quality::of(p).letters > 0)
        .count()
}

/// Fewer than half the pages carry text: the book cannot be read, only a fragment.
pub(super) fn mostly_without_text(text_pages: usize, pages: usize) -> bool {
    text_pages * 2 < pages
}
