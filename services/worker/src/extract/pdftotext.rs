//! The second engine: poppler's `pdftotext`, under the same limits as the first.

use std::path::Path;
use std::time::Duration;

use shared_domain::BookErrorCode;

use super::process::{
    classify_crash, spawn, timeout, too_many_pages, too_much_text, wait_with_output,
};
use super::{ExtractError, Extractor, Failure};

impl Extractor {
    /// pdftotext (poppler) under the same limits; pages split at form feeds.
    pub(super) async fn pdftotext(
        &self,
        path: &Path,
        range: Option<(u32, u32)>,
    ) -> Result<Result<Vec<String>, ExtractError>, Failure> {
        // A whole book is read as page ranges in parallel, one per shard.
        if range.is_none()
            && self.shards > 1
            && let Some(pages) = self.page_count(path).await
        {
            if pages > self.max_pages {
                return Ok(Err(too_many_pages(pages as usize)));
            }
            let per = pages.div_ceil(self.shards).max(1);
            let ranges: Vec<(u32, u32)> = (0..self.shards)
                .map(|k| (k * per + 1, ((k + 1) * per).min(pages)))
                .filter(|(first, last)| first <= last)
                .collect();
            if ranges.len() > 1 {
                let parts = futures::future::join_all(
                    ranges.iter().map(|r| self.pdftotext_range(path, Some(*r))),
                )
                .await;
                let mut all = Vec::with_capacity(pages as usize);
                for part in parts {
                    match part? {
                        Ok(p) => all.extend(p),
                        Err(e) => return Ok(Err(e)),
                    }
                }
                return Ok(Ok(all));
            }
        }
        self.pdftotext_range(path, range).await
    }

    /// The page count from poppler's `pdfinfo` (beside `pdftotext`), if it can tell.
    pub(super) async fn page_count(&self, path: &Path) -> Option<u32> {
        let pdfinfo = self.pdftotext.as_ref()?.with_file_name("pdfinfo");
        let mut cmd = self.child("limit");
        cmd.arg("--").arg(pdfinfo).arg(path);
        let child = spawn(cmd).ok()?;
        let run = wait_with_output(child, 1 << 20, |line, pages: &mut Option<u32>| {
            if let Some(n) = line.strip_prefix("Pages:") {
                *pages = n.trim().parse().ok();
            }
        });
        let (status, (pages, _), _) = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .ok()?
            .ok()?;
        status.success().then_some(pages).flatten()
    }

    pub(super) async fn pdftotext_range(
        &self,
        path: &Path,
        range: Option<(u32, u32)>,
    ) -> Result<Result<Vec<String>, ExtractError>, Failure> {
        let Some(bin) = &self.pdftotext else {
            return Ok(Err(ExtractError::new(
                BookErrorCode::InvalidPdf,
                "the file could not be read",
            )));
        };
        let _permit = self.permit().await?;
        let mut cmd = self.child("limit");
        cmd.arg("--").arg(bin).args(["-enc", "UTF-8"]);
        if let Some((first, last)) = range {
            cmd.args(["-f", &first.to_string(), "-l", &last.to_string()]);
        }
        cmd.arg(path).arg("-");
        let child = spawn(cmd)?;
        let run = wait_with_output(child, self.max_text_bytes, |line, text: &mut String| {
            text.push_str(line);
            text.push('\n');
        });
        let (status, (text, overflow), stderr) = match tokio::time::timeout(self.timeout, run).await
        {
            Err(_) => return Ok(Err(timeout(self.timeout))),
            Ok(r) => r?,
        };
        if overflow {
            return Ok(Err(too_much_text()));
        }
        if !status.success() {
            if stderr.contains("Incorrect password") {
                return Ok(Err(ExtractError::new(
                    BookErrorCode::EncryptedPdf,
                    "the PDF is protected by a password",
                )));
            }
            if status.code() == Some(1) {
                return Ok(Err(ExtractError::new(
                    BookErrorCode::InvalidPdf,
                    "the file is not a readable PDF",
                )));
            }
            return Ok(Err(classify_crash(status, &stderr, self.timeout)));
        }
        let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
        // pdftotext ends every page with a form feed: the last piece is what follows the last page.
        if pages.len() > 1 {
            pages.pop();
        }
        if u32::try_from(pages.len()).is_ok_and(|n| n > self.max_pages) {
            return Ok(Err(too_many_pages(pages.len())));
        }
        Ok(Ok(pages))
    }
}
