//! OCR for the pages of a PDF that have no usable text layer: a scan, or a page
//! whose text the quality checks judge garbage. Each page is rendered by poppler's
//! `pdftoppm` (grey, `OCR_DPI`) and read by Tesseract 5, both as subprocesses under
//! `worker limit` (the extraction memory and CPU limits), pages in parallel across
//! the worker's extraction slots, all under `OCR_TIMEOUT_SECONDS`. Tesseract runs
//! with orientation and script detection (`--psm 1`), so a page scanned at 90° or
//! 180° is read the right way up, and single-threaded (`OMP_THREAD_LIMIT=1`): the
//! parallelism is across pages. Lines Tesseract itself is unsure of (mean
//! confidence under 50: what it "reads" off a chart or a photograph) are left out. A page
//! Tesseract cannot read is left empty; the book as a whole is judged by the
//! pipeline (`ocr_unreadable`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use shared_domain::BookErrorCode;

use super::{ExtractError, Extractor, Failure, OnProgress, spawn, wait_with_output};

/// How OCR runs (`OCR_*`); `None` in the extractor when OCR is off.
#[derive(Debug, Clone)]
pub struct OcrConfig {
    pub tesseract: PathBuf,
    pub pdftoppm: PathBuf,
    /// Tesseract language codes read when the upload names none (`OCR_LANGUAGES`).
    pub languages: Vec<String>,
    /// Tesseract language codes this machine has data for.
    pub installed: Vec<String>,
    pub dpi: u32,
    /// The whole book's OCR (`OCR_TIMEOUT_SECONDS`).
    pub timeout: Duration,
}

/// Most text accepted from one page.
const PAGE_TEXT_BYTES: u64 = 4 * 1024 * 1024;

impl Extractor {
    /// OCR `pages` (1-based) of `pdf` in `languages` (Tesseract codes; the
    /// configured default when empty): each page's text, or `None` where OCR
    /// could not read it. Progress counts pages done of `pages`.
    pub async fn ocr(
        &self,
        pdf: &Path,
        pages: &[u32],
        languages: &[String],
        progress: OnProgress<'_>,
    ) -> Result<Vec<(u32, Option<String>)>, Failure> {
        let Some(ocr) = &self.ocr else {
            return Ok(Vec::new());
        };
        let languages = if languages.is_empty() {
            &ocr.languages
        } else {
            languages
        };
        if let Some(missing) = languages.iter().find(|l| !ocr.installed.contains(l)) {
            return Err(ExtractError::new(
                BookErrorCode::OcrLanguageUnavailable,
                format!(
                    "this worker has no OCR data for the language {missing:?} (it has {})",
                    ocr.installed.join(", ")
                ),
            )
            .into());
        }
        let languages = languages.join("+");
        let work = pdf.parent().unwrap_or_else(|| Path::new("."));
        let total = u32::try_from(pages.len()).unwrap_or(u32::MAX);
        let done = AtomicU32::new(0);
        progress(0, total);
        let deadline = Instant::now() + ocr.timeout;
        let read = futures::stream::iter(pages.iter().copied())
            .map(|page| {
                let (languages, done) = (&languages, &done);
                async move {
                    let _permit = self.permit().await?;
                    let text = tokio::time::timeout_at(
                        deadline.into(),
                        self.ocr_page(ocr, pdf, page, languages, work),
                    )
                    .await
                    .map_err(|_| {
                        Failure::Book(ExtractError::new(
                            BookErrorCode::ExtractionTimeout,
                            format!(
                                "reading the scanned pages took longer than {} s",
                                ocr.timeout.as_secs()
                            ),
                        ))
                    })??;
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    Ok::<_, Failure>((page, text))
                }
            })
            .buffer_unordered(usize::try_from(self.shards.max(1)).unwrap_or(1))
            .try_collect::<Vec<_>>()
            .await?;
        let mut read = read;
        read.sort_by_key(|(page, _)| *page);
        Ok(read)
    }

    /// Render one page and read it; `None` when either step fails on it.
    async fn ocr_page(
        &self,
        ocr: &OcrConfig,
        pdf: &Path,
        page: u32,
        languages: &str,
        work: &Path,
    ) -> Result<Option<String>, Failure> {
        let base = work.join(format!("ocr-{page}"));
        let image = base.with_extension("pgm");
        let dpi = match self.page_size(ocr, pdf, page).await {
            Some((width, height)) => render_dpi(ocr.dpi, width, height),
            None => ocr.dpi,
        };
        let mut render = self.child("limit");
        render
            .arg("--")
            .arg(&ocr.pdftoppm)
            .args(["-r", &dpi.to_string(), "-gray", "-singlefile"])
            .args(["-f", &page.to_string(), "-l", &page.to_string()])
            .arg(pdf)
            .arg(&base);
        let (status, _, stderr) =
            wait_with_output(spawn(render)?, 1024, |_, _: &mut ()| {}).await?;
        if !status.success() {
            tracing::info!(page, stderr = %stderr.trim(), "pdftoppm could not render a page for OCR");
            let _ = tokio::fs::remove_file(&image).await;
            return Ok(None);
        }
        let mut read = self.child("limit");
        read.arg("--")
            .arg(&ocr.tesseract)
            .arg(&image)
            .arg("-")
            .args(["-l", languages, "--psm", "1", "tsv"])
            .env("OMP_THREAD_LIMIT", "1");
        let result = wait_with_output(spawn(read)?, PAGE_TEXT_BYTES, |line, text: &mut String| {
            text.push_str(line);
            text.push('\n');
        })
        .await;
        let _ = tokio::fs::remove_file(&image).await;
        let (status, (text, _), stderr) = result?;
        if !status.success() {
            tracing::info!(page, stderr = %stderr.trim(), "tesseract could not read a page");
            return Ok(None);
        }
        Ok(Some(text_of_tsv(&text)))
    }
}

impl Extractor {
    /// The page's size in points, from poppler's `pdfinfo` (beside `pdftoppm`).
    async fn page_size(&self, ocr: &OcrConfig, pdf: &Path, page: u32) -> Option<(f64, f64)> {
        let pdfinfo = ocr.pdftoppm.with_file_name("pdfinfo");
        let mut cmd = self.child("limit");
        cmd.arg("--")
            .arg(pdfinfo)
            .args(["-f", &page.to_string(), "-l", &page.to_string()])
            .arg(pdf);
        let child = spawn(cmd).ok()?;
        let (status, (out, _), _) = wait_with_output(child, 64 * 1024, |line, out: &mut String| {
            out.push_str(line);
            out.push('\n');
        })
        .await
        .ok()?;
        if !status.success() {
            return None;
        }
        // "Page    3 size: 612 x 792 pts (letter)"
        let line = out.lines().find(|l| l.contains(" size: "))?;
        let size = line.split(" size: ").nth(1)?;
        let mut numbers = size.split_whitespace();
        let width = numbers.next()?.parse().ok()?;
        let height = numbers.nth(1)?.parse().ok()?;
        Some((width, height))
    }
}

/// Most pixels one page is rendered to: an A3 page at 300 dpi is 17 million; a
/// poster or a 30-inch scan is rendered coarser rather than at 80 million, which
/// would cost Tesseract minutes and hundreds of megabytes for no better reading.
const MAX_RENDER_PIXELS: f64 = 40e6;

/// The dpi to render a page of `width` × `height` points at: `dpi`, lowered for
/// an oversize page so it stays within [`MAX_RENDER_PIXELS`] (never under 70).
fn render_dpi(dpi: u32, width: f64, height: f64) -> u32 {
    let square_inches = (width / 72.) * (height / 72.);
    if !square_inches.is_finite() || square_inches <= 0. {
        return dpi;
    }
    let fitting = (MAX_RENDER_PIXELS / square_inches).sqrt().floor();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let fitting = fitting.clamp(70., f64::from(dpi)) as u32;
    fitting.min(dpi)
}

/// Lines Tesseract is on average less sure of than this (0–100) are left out:
/// on a chart or a photograph it "reads" shapes at 0–50 ("| VOSS mee WN a ee"),
/// while a line of print scores higher even where one word of it is faint.
const MIN_LINE_CONFIDENCE: f64 = 50.;

/// Tesseract's TSV (one row per block, paragraph, line and word) as text: words
/// of a line joined by spaces, lines by newlines, paragraphs by a blank line,
/// without the lines it is unsure of.
pub fn text_of_tsv(tsv: &str) -> String {
    /// A line of the page: (block, paragraph, line), and its words with their
    /// confidences, in order.
    type Line<'a> = ((&'a str, &'a str, &'a str), Vec<(f64, &'a str)>);
    let mut lines: Vec<Line> = Vec::new();
    for row in tsv.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let [
            level,
            _page,
            block,
            par,
            line,
            _word,
            _left,
            _top,
            _width,
            _height,
            conf,
            text,
        ] = cols.as_slice()
        else {
            continue;
        };
        let Ok(conf) = conf.parse::<f64>() else {
            continue;
        };
        if *level != "5" || text.trim().is_empty() {
            continue;
        }
        let key = (*block, *par, *line);
        match lines.last_mut() {
            Some((last, words)) if *last == key => words.push((conf, text.trim())),
            _ => lines.push((key, vec![(conf, text.trim())])),
        }
    }
    let mut out = String::new();
    let mut previous: Option<(&str, &str)> = None;
    for ((block, par, _), words) in &lines {
        #[allow(clippy::cast_precision_loss)]
        let mean = words.iter().map(|(c, _)| c).sum::<f64>() / words.len() as f64;
        if mean < MIN_LINE_CONFIDENCE {
            continue;
        }
        match previous {
            Some(p) if p != (*block, *par) => out.push_str("\n\n"),
            Some(_) => out.push('\n'),
            None => {}
        }
        out.push_str(&words.iter().map(|(_, w)| *w).collect::<Vec<_>>().join(" "));
        previous = Some((*block, *par));
    }
    out
}

/// The share of a text's tokens that are words: letters only (apostrophes and
/// inner hyphens allowed), two or more of them, or a single CJK character. OCR of
/// a page that holds no writing (a photograph, noise) is mostly not words.
pub fn word_share(text: &str) -> (usize, usize) {
    let mut words = 0;
    let mut tokens = 0;
    for token in text.split_whitespace() {
        let token = token.trim_matches(|c: char| !c.is_alphanumeric());
        if token.is_empty() {
            continue;
        }
        tokens += 1;
        let letters = token.chars().filter(|c| c.is_alphabetic()).count();
        let wordlike = token
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-'));
        let cjk = token.chars().any(|c| {
            matches!(c, '\u{3040}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}')
        });
        if wordlike && (letters >= 2 || cjk) {
            words += 1;
        }
    }
    (words, tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tesseract_tsv_becomes_lines_and_paragraphs_without_unsure_words() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t
5\t1\t1\t1\t1\t1\t0\t0\t9\t9\t96.1\tWELL,
5\t1\t1\t1\t1\t2\t0\t0\t9\t9\t93.0\tI
5\t1\t1\t1\t2\t1\t0\t0\t9\t9\t91.5\tgot
5\t1\t1\t1\t2\t2\t0\t0\t9\t9\t31.0\tI
5\t1\t2\t1\t1\t1\t0\t0\t9\t9\t88.0\tNext.
5\t1\t3\t1\t1\t1\t0\t0\t9\t9\t12.0\tVOSS
5\t1\t3\t1\t1\t2\t0\t0\t9\t9\t46.7\tmee
";
        // A faint "I" in a sure line stays; a line read off a drawing goes.
        assert_eq!(text_of_tsv(tsv), "WELL, I\ngot I\n\nNext.");
    }

    #[test]
    fn oversize_pages_are_rendered_coarser() {
        // A letter page keeps 300 dpi; a 30-inch square scan (ocr_multipage_scan.pdf
        // page 2) drops to fit 40 million pixels.
        assert_eq!(render_dpi(300, 612., 792.), 300);
        assert_eq!(render_dpi(300, 2160., 2160.), 210);
        assert_eq!(render_dpi(300, 1e6, 1e6), 70);
        assert_eq!(render_dpi(300, 0., 792.), 300);
    }

    #[test]
    fn words_are_told_from_noise() {
        assert_eq!(
            word_share("WELL, I got a good going-over in the morning."),
            (7, 9)
        );
        assert_eq!(word_share("~ ,. |l1 %; ¢ ii i ' 3"), (1, 4));
        assert_eq!(word_share("说明 文档"), (2, 2));
    }
}
