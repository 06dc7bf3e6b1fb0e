//! The `jobs` table: the ledger of background work. Redis only wakes workers;
//! every state change that matters happens here, conditionally, so duplicate
//! deliveries and races between replicas are harmless.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use super::DbError;

mod transitions;

use crate::domain::{BookId, JobId, JobKind, JobStatus};
pub use transitions::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub book_id: BookId,
    pub kind: JobKind,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub progress_done: i32,
    pub progress_total: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The W3C `traceparent` of the request that created the job (tracing on).
    pub traceparent: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, book_id, kind, status, attempts, max_attempts, run_after, published_at, heartbeat_at, \
     started_at, finished_at, last_error, progress_done, progress_total, created_at, updated_at, traceparent";

impl Job {
    pub(crate) fn from_row(row: &Row) -> Result<Self, DbError> {
        let kind: String = row.try_get("kind")?;
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: JobId(row.try_get("id")?),
            book_id: BookId(row.try_get("book_id")?),
            kind: kind.parse().map_err(|e| DbError::Corrupt(format!("{e}")))?,
            status: status
                .parse()
                .map_err(|e| DbError::Corrupt(format!("{e}")))?,
            attempts: row.try_get("attempts")?,
            max_attempts: row.try_get("max_attempts")?,
            run_after: row.try_get("run_after")?,
            published_at: row.try_get("published_at")?,
            heartbeat_at: row.try_get("heartbeat_at")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            last_error: row.try_get("last_error")?,
            progress_done: row.try_get("progress_done")?,
            progress_total: row.try_get("progress_total")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            traceparent: row.try_get("traceparent")?,
        })
    }
}

/// Why a new job could not be queued for a book.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("not found")]
    NotFound,
    #[error("the book already has a job queued or running")]
    AlreadyActive,
    #[error("the job is {0}; only failed or dead jobs can be retried")]
    NotRetryable(JobStatus),
    #[error(transparent)]
    Db(DbError),
}

impl From<DbError> for EnqueueError {
    // The partial unique index allows one active job per book.
    fn from(e: DbError) -> Self {
        if e.is_unique_violation() {
            Self::AlreadyActive
        } else {
            Self::Db(e)
        }
    }
}

impl From<tokio_postgres::Error> for EnqueueError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::from(e).into()
    }
}

pub(crate) async fn insert(
    client: &impl GenericClient,
    id: JobId,
    book: BookId,
    kind: JobKind,
    max_attempts: i32,
) -> Result<Job, DbError> {
    let row = client
        .query_one(
            &format!("INSERT INTO jobs (id, book_id, kind, max_attempts, traceparent) VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"),
            &[&id.0, &book.0, &kind.as_str(), &max_attempts, &crate::telemetry::current_traceparent()],
        )
        .await?;
    Job::from_row(&row)
}

pub async fn get(client: &impl GenericClient, id: JobId) -> Result<Option<Job>, DbError> {
    client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"),
            &[&id.0],
        )
        .await?
        .as_ref()
        .map(Job::from_row)
        .transpose()
}

pub async fn latest_for_book(
    client: &impl GenericClient,
    book: BookId,
) -> Result<Option<Job>, DbError> {
    client
        .query_opt(&format!("SELECT {COLUMNS} FROM jobs WHERE book_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"), &[&book.0])
        .await?
        .as_ref()
        .map(Job::from_row)
        .transpose()
}

/// Jobs in `status`, newest first, after the `(created_at, id)` cursor.
pub async fn list_by_status(
    client: &impl GenericClient,
    status: JobStatus,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Job>, DbError> {
    // No cursor = from the newest: the bound is then above every row, and the
    // row comparison stays an index condition either way.
    let (at, id) = after.unzip();
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM jobs WHERE status = $1 \
                 AND (created_at, id) < (COALESCE($2, 'infinity'::timestamptz), COALESCE($3, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)) \
                 ORDER BY created_at DESC, id DESC LIMIT $4"
            ),
            &[&status.as_str(), &at, &id, &limit],
        )
        .await?;
    rows.iter().map(Job::from_row).collect()
}

/// Queue a new processing job for an existing book. A failed book goes back to
/// `processing`; a ready one stays ready (its chunks are served until the new run
/// replaces them).
#[tracing::instrument(skip_all, fields(book_id = %book))]
pub async fn enqueue_reprocess(
    client: &mut deadpool_postgres::Object,
    book: BookId,
    job_id: JobId,
    max_attempts: i32,
) -> Result<Job, EnqueueError> {
    let tx = client.transaction().await?;
    if tx
        .query_opt("SELECT 1 FROM books WHERE id = $1 FOR UPDATE", &[&book.0])
        .await?
        .is_none()
    {
        return Err(EnqueueError::NotFound);
    }
    let job = insert(&tx, job_id, book, JobKind::ProcessBook, max_attempts).await?;
    reopen_failed_book(&tx, book).await?;
    tx.commit().await?;
    Ok(job)
}

/// Bring a failed or dead job back to `queued` with a fresh attempt budget.
#[tracing::instrument(skip_all, fields(job_id = %id))]
pub async fn retry(client: &mut deadpool_postgres::Object, id: JobId) -> Result<Job, EnqueueError> {
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            &format!(
                "UPDATE jobs SET status = 'queued', attempts = 0, run_after = now(), published_at = NULL, started_at = NULL, \
                 heartbeat_at = NULL, finished_at = NULL, last_error = NULL, progress_done = 0, progress_total = NULL \
                 WHERE id = $1 AND status IN ('failed', 'dead') RETURNING {COLUMNS}"
            ),
            &[&id.0],
        )
        .await?;
    let Some(row) = row else {
        drop(tx);
        return Err(match get(&*client, id).await? {
            None => EnqueueError::NotFound,
            Some(job) => EnqueueError::NotRetryable(job.status),
        });
    };
    let job = Job::from_row(&row)?;
    reopen_failed_book(&tx, job.book_id).await?;
    tx.commit().await?;
    Ok(job)
}

async fn reopen_failed_book(client: &impl GenericClient, book: BookId) -> Result<(), DbError> {
    client
        .execute("UPDATE books SET status = 'processing', error_code = NULL, error_message = NULL WHERE id = $1 AND status = 'failed'", &[&book.0])
        .await?;
    Ok(())
}

/// Record that the job is on the stream. Only a still-queued job is marked.
pub async fn mark_published(
    client: &impl GenericClient,
    id: JobId,
    attempts: i32,
) -> Result<bool, DbError> {
    // Fenced on the attempt the message was built from: a worker may have claimed
    // the job through that very message, failed it and queued it again (published_at
    // cleared) before this update lands; it must not mark the new run published.
    Ok(client
        .execute(
            "UPDATE jobs SET published_at = now() WHERE id = $1 AND status = 'queued' AND attempts = $2",
            &[&id.0, &attempts],
        )
        .await?
        == 1)
}

/// The latest job of each of `books`, in one query.
pub async fn latest_for_books(
    client: &impl GenericClient,
    books: &[BookId],
) -> Result<std::collections::HashMap<BookId, Job>, DbError> {
    let ids: Vec<Uuid> = books.iter().map(|b| b.0).collect();
    let rows = client
        .query(&format!("SELECT DISTINCT ON (book_id) {COLUMNS} FROM jobs WHERE book_id = ANY($1) ORDER BY book_id, created_at DESC, id DESC"), &[&ids])
        .await?;
    rows.iter()
        .map(|r| Job::from_row(r).map(|j| (j.book_id, j)))
        .collect()
}
