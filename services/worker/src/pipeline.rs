//! One book, start to finish: fetch → extract → normalize → chunk → store.
//!
//! The result is either stored (chunks, book `ready`, job `succeeded`, in one
//! transaction fenced on the job's lease) or an error classified as permanent
//! (this file will never work: a stable code for the book) or transient (the
//! machine, the network, a dependency: retry later).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use tracing::Instrument;

use deadpool_postgres::Pool;
use shared_domain::db::DbError;
use shared_domain::db::books::{self, Book};
use shared_domain::db::chunks::{self, NewChunk};
use shared_domain::db::jobs::{self, FinishError, Lease};
use shared_domain::storage::StorageError;
use shared_domain::{BookErrorCode, Storage};

use shared_domain::domain::BookFormat;

use crate::config::PipelineConfig;

mod read;

use crate::extract::{ExtractError, Extractor};
use read::Read;
pub use read::epub_paragraphs;

/// What a pipeline run needs, shared by every job of the process.
#[derive(Clone)]
pub struct Pipeline {
    pub db: Pool,
    pub storage: Storage,
    pub extractor: Arc<Extractor>,
    pub config: PipelineConfig,
}

/// Pages done and total, updated while extracting and written by the heartbeat.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicU32,
    pub total: AtomicU32,
}

impl Progress {
    pub fn get(&self) -> Option<(i32, i32)> {
        let total = self.total.load(Ordering::Relaxed);
        (total > 0).then(|| {
            let done = self.done.load(Ordering::Relaxed).min(total);
            (
                i32::try_from(done).unwrap_or(i32::MAX),
                i32::try_from(total).unwrap_or(i32::MAX),
            )
        })
    }
}

/// The book is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub pages: usize,
    pub chunks: usize,
    pub engine: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// This file will never work; the book fails with the code.
    #[error("{0}")]
    Permanent(ExtractError),
    /// Worth retrying: storage, database, process spawn.
    #[error("{stage}: {source}")]
    Transient {
        stage: &'static str,
        #[source]
        source: anyhow::Error,
    },
    /// Another worker owns the job now; drop it without a trace.
    #[error("the job's lease was lost")]
    LostLease,
}

fn transient(stage: &'static str, e: impl Into<anyhow::Error>) -> PipelineError {
    PipelineError::Transient {
        stage,
        source: e.into(),
    }
}

impl Pipeline {
    pub async fn run(&self, lease: &Lease, progress: &Progress) -> Result<Done, PipelineError> {
        let book_id = lease.job.book_id;
        let book: Book = {
            let client = self
                .db
                .get()
                .await
                .map_err(|e| transient("database", DbError::from(e)))?;
            books::get(&client, book_id)
                .await
                .map_err(|e| transient("database", e))?
                .ok_or(PipelineError::LostLease)? // the book was deleted meanwhile
        };
        let started = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("readme-job-")
            .tempdir_in(&self.config.work_dir)
            .map_err(|e| transient("temporary file", e))?;
        let format = BookFormat::of_key(&book.storage_path).unwrap_or(BookFormat::Pdf);
        let file = dir.path().join(format!("book.{}", format.extension()));
        match self
            .storage
            .download_to(&book.storage_path, &file)
            .instrument(stage_span("fetch"))
            .await
        {
            Ok(_) => {}
            Err(StorageError::NotFound(_)) => {
                return Err(PipelineError::Permanent(ExtractError {
                    code: BookErrorCode::SourceMissing,
                    message: "the uploaded file is no longer in storage; upload the book again"
                        .into(),
                }));
            }
            Err(e) => return Err(transient("fetching the book", e)),
        }
        metrics::histogram!("pipeline_stage_seconds", "stage" => "fetch")
            .record(started.elapsed().as_secs_f64());

        let report = |done: u32, total: u32| {
            progress.total.store(total, Ordering::Relaxed);
            progress.done.store(done, Ordering::Relaxed);
        };
        let read = match format {
            BookFormat::Pdf => self.read_pdf(&file, &report, &book).await?,
            BookFormat::Epub => self.read_epub(&file, &report).await?,
        };
        drop(dir);
        let Read {
            text,
            language,
            pages,
            engine,
        } = read;
        let chunks: Vec<NewChunk> = text
            .into_iter()
            .map(|c| NewChunk {
                text: c.text,
                page_start: i32::try_from(c.page_start).unwrap_or(i32::MAX),
                page_end: i32::try_from(c.page_end).unwrap_or(i32::MAX),
                chapter: c.chapter,
                kind: c.kind,
                sentence_starts: c
                    .sentence_starts
                    .iter()
                    .map(|s| i32::try_from(*s).unwrap_or(i32::MAX))
                    .collect(),
                ocr: c.ocr,
            })
            .collect();

        let started = Instant::now();
        self.store(lease, &chunks, pages, &engine, language.as_deref())
            .instrument(stage_span("store"))
            .await?;
        metrics::histogram!("pipeline_stage_seconds", "stage" => "store")
            .record(started.elapsed().as_secs_f64());
        Ok(Done {
            pages,
            chunks: chunks.len(),
            engine,
        })
    }

    /// Chunks, book `ready` and job `succeeded` in one transaction, fenced on the lease.
    async fn store(
        &self,
        lease: &Lease,
        chunks: &[NewChunk],
        pages: usize,
        engine: &str,
        language: Option<&str>,
    ) -> Result<(), PipelineError> {
        let db_err = |e: DbError| transient("storing chunks", e);
        let mut client = self.db.get().await.map_err(|e| db_err(e.into()))?;
        let tx = client.transaction().await.map_err(|e| db_err(e.into()))?;
        jobs::lock_lease(&tx, lease).await.map_err(finish_error)?;
        chunks::replace(&tx, lease.job.book_id, chunks)
            .await
            .map_err(db_err)?;
        books::mark_ready(
            &tx,
            lease.job.book_id,
            i32::try_from(pages).unwrap_or(i32::MAX),
            i32::try_from(chunks.len()).unwrap_or(i32::MAX),
            engine,
            language,
        )
        .await
        .map_err(db_err)?;
        jobs::succeed(&tx, lease).await.map_err(finish_error)?;
        tx.commit().await.map_err(|e| db_err(e.into()))?;
        Ok(())
    }
}

pub fn finish_error(e: FinishError) -> PipelineError {
    match e {
        FinishError::LostLease(_) => PipelineError::LostLease,
        FinishError::Db(e) => transient("database", e),
    }
}

/// A span for one stage of a job (`pipeline.fetch`, `pipeline.extract`, …), a
/// child of the job's span: in a trace, each stage's share of the job.
fn stage_span(stage: &'static str) -> tracing::Span {
    tracing::info_span!("pipeline", otel.name = format!("pipeline.{stage}"), stage)
}

#[cfg(test)]
mod tests;
