//! pdf-extract run over interleaved page shards, one `worker extract` child each,
//! and pdftotext's second opinion on the pages it reads poorly.

use std::path::Path;
use std::sync::atomic::AtomicU32;
use std::time::Instant;

use shared_domain::BookErrorCode;

use super::process::{
    PageCounter, Shard, classify_crash, page_number, spawn, timeout, too_much_text,
    wait_with_output,
};
use super::{ExtractError, Extracted, Extractor, Failure, OnProgress, Quality};
use crate::text::layout::PageLayout;

impl Extractor {
    /// Pages that look poor from pdf-extract are compared with pdftotext's.
    pub(super) async fn second_opinion(
        &self,
        path: &Path,
        mut doc: Extracted,
    ) -> Result<Extracted, Failure> {
        let poor: Vec<usize> = (0..doc.pages.len())
            .filter(|&i| {
                Quality::of(&doc.pages[i]).is_poor() || doc.suspect.contains(&page_number(i))
            })
            .collect();
        let (Some(&first), Some(&last)) = (poor.first(), poor.last()) else {
            return Ok(doc);
        };
        if self.pdftotext.is_none() {
            return Ok(doc);
        }
        let range = (page_number(first), page_number(last));
        let alt = match self.pdftotext(path, Some(range)).await? {
            Ok(pages) => pages,
            Err(e) => {
                tracing::info!(reason = %e, "pdftotext could not give a second opinion");
                return Ok(doc);
            }
        };
        let mut replaced = 0;
        for i in poor {
            let Some(other) = alt.get(i - first) else {
                continue;
            };
            let flagged = doc.suspect.contains(&page_number(i));
            let (theirs, ours) = (Quality::of(other), Quality::of(&doc.pages[i]));
            // On a flagged page pdf-extract lost characters: any page with at least
            // as much text from poppler is the better one.
            if theirs.better_than(&ours) || (flagged && theirs.letters >= ours.letters) {
                doc.pages[i].clone_from(other);
                if let Some(layout) = doc.layouts.get_mut(i) {
                    *layout = None;
                }
                replaced += 1;
            }
        }
        if replaced > 0 {
            doc.engine = if replaced == doc.pages.len() {
                "pdftotext".into()
            } else {
                "pdf-extract+pdftotext".into()
            };
        }
        tracing::debug!(replaced, "pages taken from pdftotext");
        Ok(doc)
    }

    /// pdf-extract over `shards` children; `Ok(Err(_))` is a verdict on the file.
    pub(super) async fn pdf_extract(
        &self,
        path: &Path,
        progress: OnProgress<'_>,
    ) -> Result<Result<Extracted, ExtractError>, Failure> {
        let deadline = Instant::now() + self.timeout;
        let counter = PageCounter {
            done: AtomicU32::new(0),
            total: AtomicU32::new(0),
            progress,
        };
        let results = futures::future::join_all(
            (0..self.shards.max(1)).map(|shard| self.run_shard(path, shard, deadline, &counter)),
        )
        .await;
        let mut pages: Vec<(u32, String, Option<PageLayout>)> = Vec::new();
        let mut outline = Vec::new();
        let mut suspect = Vec::new();
        let mut failed_pages = 0;
        let mut total = 0;
        for result in results {
            match result? {
                Err(e) => return Ok(Err(e)),
                Ok(shard) => {
                    total = total.max(shard.total);
                    pages.extend(shard.pages);
                    suspect.extend(shard.unmapped);
                    failed_pages += shard.failed;
                    if !shard.outline.is_empty() {
                        outline = shard.outline;
                    }
                }
            }
        }
        pages.sort_by_key(|(p, _, _)| *p);
        if u32::try_from(pages.len()).ok() != Some(total) {
            return Ok(Err(ExtractError::new(
                BookErrorCode::ExtractionFailed,
                "the extractor stopped before the last page",
            )));
        }
        let (pages, layouts) = pages.into_iter().map(|(_, t, l)| (t, l)).unzip();
        Ok(Ok(Extracted {
            pages,
            layouts,
            outline,
            engine: "pdf-extract".into(),
            suspect,
            failed_pages,
        }))
    }

    async fn run_shard(
        &self,
        path: &Path,
        shard: u32,
        deadline: Instant,
        counter: &PageCounter<'_>,
    ) -> Result<Result<Shard, ExtractError>, Failure> {
        let _permit = self.permit().await?;
        let mut cmd = self.child("extract");
        cmd.args([
            "--shard",
            &shard.to_string(),
            "--shards",
            &self.shards.max(1).to_string(),
        ])
        .args(["--max-pages", &self.max_pages.to_string()])
        .arg(path);
        let child = spawn(cmd)?;
        let run = async {
            let (status, (stdout, overflow), stderr) =
                wait_with_output(child, self.max_text_bytes, |line, shard: &mut Shard| {
                    shard.accept(line, counter);
                })
                .await?;
            Ok::<_, Failure>((status, stdout, overflow, stderr))
        };
        let (status, mut out, overflow, stderr) =
            match tokio::time::timeout_at(deadline.into(), run).await {
                Err(_) => return Ok(Err(timeout(self.timeout))),
                Ok(r) => r?,
            };
        if let Some(fatal) = out.fatal.take() {
            return Ok(Err(fatal));
        }
        // Checked before the exit status: the child is killed once the cap is hit.
        if overflow {
            return Ok(Err(too_much_text()));
        }
        if !status.success() {
            return Ok(Err(classify_crash(status, &stderr, self.timeout)));
        }
        Ok(Ok(out))
    }
}
