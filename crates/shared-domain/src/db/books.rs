//! The `books` table.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use super::DbError;
use super::jobs::{self, Job};
use crate::BookErrorCode;
use crate::domain::{BookId, BookStatus, HouseholdId, JobId, JobKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub id: BookId,
    pub household_id: HouseholdId,
    pub title: String,
    pub storage_path: String,
    pub content_sha256: String,
    pub byte_size: i64,
    pub status: BookStatus,
    pub error_code: Option<BookErrorCode>,
    pub error_message: Option<String>,
    pub page_count: Option<i32>,
    pub chunk_count: Option<i32>,
    pub text_engine: Option<String>,
    /// BCP 47 primary tag of the book's language, detected from its text.
    pub language: Option<String>,
    /// Tesseract codes of the languages the upload asked OCR to read (none: the
    /// worker's `OCR_LANGUAGES`).
    pub ocr_languages: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
}

pub(crate) const COLUMNS: &str = "id, household_id, title, storage_path, content_sha256, byte_size, status, error_code, \
     error_message, page_count, chunk_count, text_engine, language, ocr_languages, created_at, updated_at, ready_at";

impl Book {
    pub(crate) fn from_row(row: &Row) -> Result<Self, DbError> {
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: BookId(row.try_get("id")?),
            household_id: HouseholdId(row.try_get("household_id")?),
            title: row.try_get("title")?,
            storage_path: row.try_get("storage_path")?,
            content_sha256: row.try_get("content_sha256")?,
            byte_size: row.try_get("byte_size")?,
            status: status
                .parse()
                .map_err(|e| DbError::Corrupt(format!("{e}")))?,
            error_code: row
                .try_get::<_, Option<String>>("error_code")?
                .map(|code| code.parse().map_err(DbError::Corrupt))
                .transpose()?,
            error_message: row.try_get("error_message")?,
            page_count: row.try_get("page_count")?,
            chunk_count: row.try_get("chunk_count")?,
            text_engine: row.try_get("text_engine")?,
            language: row.try_get("language")?,
            ocr_languages: row.try_get("ocr_languages")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            ready_at: row.try_get("ready_at")?,
        })
    }
}

/// What an upload knows about a new book.
#[derive(Debug, Clone)]
pub struct NewBook {
    pub id: BookId,
    pub household_id: HouseholdId,
    pub title: String,
    pub storage_path: String,
    pub content_sha256: String,
    pub byte_size: i64,
    /// Tesseract codes for OCR, when the upload names languages.
    pub ocr_languages: Option<Vec<String>>,
}

/// The outcome of [`insert_with_job`].
#[derive(Debug)]
pub enum Inserted {
    /// A new book and its first job.
    Created { book: Book, job: Job },
    /// The household already has these bytes: the existing book and its latest job.
    Existing { book: Book, job: Option<Job> },
}

/// Insert the book and its processing job in one transaction — or, when the
/// household already has a book with the same content hash, return that one.
#[tracing::instrument(skip_all, fields(book_id = %new.id, household_id = %new.household_id))]
pub async fn insert_with_job(
    client: &mut deadpool_postgres::Object,
    new: &NewBook,
    job_id: JobId,
    max_attempts: i32,
) -> Result<Inserted, DbError> {
    let tx = client.transaction().await?;
    let inserted = tx
        .query_opt(
            &format!(
                "INSERT INTO books (id, household_id, title, storage_path, content_sha256, byte_size, ocr_languages) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (household_id, content_sha256) DO NOTHING RETURNING {COLUMNS}"
            ),
            &[&new.id.0, &new.household_id.0, &new.title, &new.storage_path, &new.content_sha256, &new.byte_size, &new.ocr_languages],
        )
        .await?;
    let outcome = match inserted {
        Some(row) => {
            let book = Book::from_row(&row)?;
            let job =
                jobs::insert(&tx, job_id, book.id, JobKind::ProcessBook, max_attempts).await?;
            Inserted::Created { book, job }
        }
        None => {
            let row = tx
                .query_one(&format!("SELECT {COLUMNS} FROM books WHERE household_id = $1 AND content_sha256 = $2"), &[&new.household_id.0, &new.content_sha256])
                .await?;
            let book = Book::from_row(&row)?;
            let job = jobs::latest_for_book(&tx, book.id).await?;
            Inserted::Existing { book, job }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

pub async fn get(client: &impl GenericClient, id: BookId) -> Result<Option<Book>, DbError> {
    client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM books WHERE id = $1"),
            &[&id.0],
        )
        .await?
        .as_ref()
        .map(Book::from_row)
        .transpose()
}

/// A household's books, newest first, after the `(created_at, id)` cursor.
pub async fn list_for_household(
    client: &impl GenericClient,
    household: HouseholdId,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Book>, DbError> {
    // No cursor = from the newest: the bound is then above every row, and the
    // row comparison stays an index condition either way.
    let (at, id) = after.unzip();
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM books WHERE household_id = $1 \
                 AND (created_at, id) < (COALESCE($2, 'infinity'::timestamptz), COALESCE($3, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)) \
                 ORDER BY created_at DESC, id DESC LIMIT $4"
            ),
            &[&household.0, &at, &id, &limit],
        )
        .await?;
    rows.iter().map(Book::from_row).collect()
}

/// Delete the book (its chunks and jobs go with it); returns the deleted row.
pub async fn delete(client: &impl GenericClient, id: BookId) -> Result<Option<Book>, DbError> {
    client
        .query_opt(
            &format!("DELETE FROM books WHERE id = $1 RETURNING {COLUMNS}"),
            &[&id.0],
        )
        .await?
        .as_ref()
        .map(Book::from_row)
        .transpose()
}

/// Mark the book ready with its counts and engine (inside the chunk-storing transaction).
pub async fn mark_ready(
    tx: &impl GenericClient,
    id: BookId,
    page_count: i32,
    chunk_count: i32,
    text_engine: &str,
    language: Option<&str>,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE books SET status = 'ready', error_code = NULL, error_message = NULL, page_count = $2, chunk_count = $3, \
         text_engine = $4, language = $5, ready_at = now() WHERE id = $1",
        &[&id.0, &page_count, &chunk_count, &text_engine, &language],
    )
    .await?;
    Ok(())
}

/// Failed books whose uploaded file is still stored and that failed before `days` ago.
pub async fn failed_with_source_older_than(
    client: &impl GenericClient,
    days: i32,
    limit: i64,
) -> Result<Vec<Book>, DbError> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM books WHERE status = 'failed' AND source_deleted_at IS NULL \
                 AND updated_at < now() - make_interval(days => $1) ORDER BY updated_at LIMIT $2"
            ),
            &[&days, &limit],
        )
        .await?;
    rows.iter().map(Book::from_row).collect()
}

/// Record that retention deleted the book's uploaded file.
pub async fn mark_source_deleted(client: &impl GenericClient, id: BookId) -> Result<(), DbError> {
    client
        .execute(
            "UPDATE books SET source_deleted_at = now() WHERE id = $1",
            &[&id.0],
        )
        .await?;
    Ok(())
}

/// Which of `ids` exist.
pub async fn existing(
    client: &impl GenericClient,
    ids: &[uuid::Uuid],
) -> Result<std::collections::HashSet<uuid::Uuid>, DbError> {
    let rows = client
        .query("SELECT id FROM books WHERE id = ANY($1)", &[&ids])
        .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(DbError::from))
        .collect()
}
