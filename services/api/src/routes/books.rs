//! Books and their chunks: status, keyset-paginated chunks, a household's library,
//! delete and reprocess.

use actix_web::{HttpResponse, web};
use actix_web::{delete, get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared_domain::db::books::{self, Book};
use shared_domain::db::chunks::{self, Chunk};
use shared_domain::db::jobs::{self, Job};
use shared_domain::db::positions::{self, Position};
use shared_domain::domain::{BookId, ChunkKind, HouseholdId, JobId};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ErrorBody, Refused};
use crate::pagination;
use crate::startup::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// The book routes: status, chunks, a household's library, and the admin's delete and reprocess.
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(status)
        .service(chunk_page)
        .service(chunk)
        .service(household_books)
        .service(delete)
        .service(reprocess);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub pages_done: i32,
    pub pages_total: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookError {
    /// Stable code, e.g. `encrypted_pdf`, `no_text_layer`.
    pub code: String,
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookStatusResponse {
    pub book_id: Uuid,
    pub household_id: Uuid,
    pub title: String,
    /// `processing`, `ready` or `failed`.
    pub status: String,
    pub page_count: Option<i32>,
    pub chunk_count: Option<i32>,
    /// Extraction progress of the latest job.
    pub progress: Option<Progress>,
    pub error: Option<BookError>,
    pub byte_size: i64,
    pub content_sha256: String,
    /// The extraction engine that produced the text.
    pub text_engine: Option<String>,
    /// The book's language (BCP 47 primary tag, such as `en` or `ja`), detected
    /// from its text once it is ready; null when the text does not say reliably.
    pub language: Option<String>,
    pub latest_job_id: Option<Uuid>,
    /// The latest job's status (`queued`, `running`, `succeeded`, `failed` or
    /// `dead`): a `processing` book whose job is `dead` waits for a retry.
    pub latest_job_status: Option<String>,
    /// How far the household has listened: the most recently saved position of
    /// any of its listeners; null before the first save.
    pub reading_position: Option<ReadingProgress>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
}

/// A book's listening progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingProgress {
    /// Null for the household's own place.
    pub listener: Option<String>,
    pub ordinal: i32,
    pub offset: i32,
    pub saved_at: DateTime<Utc>,
    /// The share of the book's chunks before the position, 0 to 1.
    pub fraction: f64,
}

impl ReadingProgress {
    #[allow(clippy::cast_precision_loss)]
    fn new(position: Position, chunk_count: Option<i32>) -> Self {
        let fraction = match chunk_count {
            Some(n) if n > 0 => (f64::from(position.ordinal) / f64::from(n)).clamp(0., 1.),
            _ => 0.,
        };
        Self {
            listener: position.listener,
            ordinal: position.ordinal,
            offset: position.offset,
            saved_at: position.saved_at,
            fraction,
        }
    }
}

impl BookStatusResponse {
    fn new(book: Book, job: Option<Job>, position: Option<Position>) -> Self {
        let reading_position = position.map(|p| ReadingProgress::new(p, book.chunk_count));
        Self {
            book_id: book.id.0,
            household_id: book.household_id.0,
            title: book.title,
            status: book.status.to_string(),
            page_count: book.page_count,
            chunk_count: book.chunk_count,
            progress: job.as_ref().map(|j| Progress {
                pages_done: j.progress_done,
                pages_total: j.progress_total,
            }),
            error: book.error_code.map(|code| BookError {
                code: code.to_string(),
                message: book.error_message,
            }),
            byte_size: book.byte_size,
            content_sha256: book.content_sha256,
            text_engine: book.text_engine,
            language: book.language,
            latest_job_status: job.as_ref().map(|j| j.status.to_string()),
            latest_job_id: job.map(|j| j.id.0),
            reading_position,
            created_at: book.created_at,
            updated_at: book.updated_at,
            ready_at: book.ready_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChunkResponse {
    pub ordinal: i32,
    pub text: String,
    pub char_count: i32,
    pub page_start: i32,
    pub page_end: i32,
    pub chapter: Option<String>,
    /// Where this chunk sits in the book; the default reading flow is `body`.
    #[schema(value_type = String, example = "body")]
    pub kind: ChunkKind,
    /// Each sentence as `[start, end)` offsets in Unicode code points of `text`,
    /// in order: hand a voice one sentence at a time.
    #[schema(value_type = Vec<Vec<i32>>, example = json!([[0, 57], [58, 140]]))]
    pub sentences: Vec<[i32; 2]>,
    /// The text was read from a scanned page by OCR, not from the file's text.
    pub ocr: bool,
}

impl From<Chunk> for ChunkResponse {
    fn from(c: Chunk) -> Self {
        let sentences = c.sentences().into_iter().map(|(s, e)| [s, e]).collect();
        Self {
            ordinal: c.ordinal,
            text: c.text,
            char_count: c.char_count,
            page_start: c.page_start,
            page_end: c.page_end,
            chapter: c.chapter,
            kind: c.kind,
            sentences,
            ocr: c.ocr,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChunkPage {
    pub book_id: Uuid,
    pub chunks: Vec<ChunkResponse>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_after: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChunkQuery {
    /// Return chunks with ordinal greater than this (omit, or -1, to start at the beginning).
    #[param(minimum = -1)]
    pub after: Option<i32>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Which kinds of chunk, comma-separated (`body`, `front_matter`, `contents`,
    /// `notes`, `index`, `back_matter`, `code`, `table`, `formula`), or `all`. Default `body`:
    /// the reading flow, without contents pages, indexes and the like.
    #[param(
        pattern = r"^\s*(all|(body|front_matter|contents|notes|index|back_matter|code|table|formula)(\s*,\s*(body|front_matter|contents|notes|index|back_matter|code|table|formula))*)\s*$"
    )]
    pub kind: Option<String>,
}

/// The kinds a chunk query asks for.
pub(super) fn requested_kinds(kind: Option<&str>) -> Result<Vec<ChunkKind>, ApiError> {
    let Some(kind) = kind else {
        return Ok(vec![ChunkKind::Body]);
    };
    if kind.trim() == "all" {
        return Ok(ChunkKind::ALL.to_vec());
    }
    let mut kinds = Vec::new();
    for name in kind.split(',').map(str::trim) {
        let parsed = name.parse::<ChunkKind>().map_err(|_| {
            ApiError::bad_request(format!(
                "kind must be `all` or a comma-separated list of: {}",
                ChunkKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if !kinds.contains(&parsed) {
            kinds.push(parsed);
        }
    }
    Ok(kinds)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = "^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookList {
    pub books: Vec<BookStatusResponse>,
    /// Null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReprocessResponse {
    pub book_id: Uuid,
    pub job_id: Uuid,
    pub status: String,
}

/// The book, if it exists (404) and the caller may read it (403).
pub(super) async fn readable_book(
    client: &deadpool_postgres::Client,
    caller: &Caller,
    id: BookId,
) -> Result<Book, ApiError> {
    let book = books::get(client, id)
        .await?
        .ok_or_else(|| ApiError::not_found("book"))?;
    caller.authorize(book.household_id)?;
    Ok(book)
}

/// A book's processing status.
#[utoipa::path(tag = "books", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Book id")),
    responses(
        (status = 200, body = BookStatusResponse),
        (status = 404, description = "No such book", body = ErrorBody),
        Refused,
    ))]
#[get("/books/{id}/status")]
#[tracing::instrument(skip_all, fields(book_id = %id))]
pub async fn status(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let client = state.db.get().await?;
    let book = readable_book(&client, &caller, id).await?;
    let job = jobs::latest_for_book(&client, id).await?;
    let position = positions::latest_for_books(&client, &[id])
        .await?
        .remove(&id);
    Ok(HttpResponse::Ok().json(BookStatusResponse::new(book, job, position)))
}

/// A page of a book's chunks, in reading order: by default the body, the text a
/// listener hears when they press play (`kind` selects others, or `all`).
#[utoipa::path(tag = "books", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Book id"), ChunkQuery),
    responses(
        (status = 200, body = ChunkPage),
        (status = 404, description = "No such book", body = ErrorBody),
        Refused,
    ))]
#[get("/books/{id}/chunks")]
#[tracing::instrument(skip_all, fields(book_id = %id))]
pub async fn chunk_page(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    query: web::Query<ChunkQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let limit = pagination::limit(query.limit)?;
    let kinds = requested_kinds(query.kind.as_deref())?;
    if query.after.is_some_and(|a| a < -1) {
        return Err(ApiError::bad_request("after must be -1 or more"));
    }
    let client = state.db.get().await?;
    readable_book(&client, &caller, id).await?;
    // One extra row tells whether another page follows.
    let (rows, next_after) = pagination::split_page(
        chunks::page(&client, id, query.after, &kinds, limit + 1).await?,
        limit,
        |c| c.ordinal,
    );
    Ok(HttpResponse::Ok().json(ChunkPage {
        book_id: id.0,
        chunks: rows.into_iter().map(Into::into).collect(),
        next_after,
    }))
}

/// One chunk by ordinal.
#[utoipa::path(tag = "books", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Book id"), ("ordinal" = i32, Path, description = "Chunk ordinal, from 0")),
    responses(
        (status = 200, body = ChunkResponse),
        (status = 404, description = "No such book", body = ErrorBody),
        Refused,
    ))]
#[get("/books/{id}/chunks/{ordinal}")]
#[tracing::instrument(skip_all, fields(book_id = %path.0, ordinal = path.1))]
pub async fn chunk(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(BookId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, ordinal) = path.into_inner();
    let client = state.db.get().await?;
    readable_book(&client, &caller, id).await?;
    let chunk = chunks::get(&client, id, ordinal)
        .await?
        .ok_or_else(|| ApiError::not_found("chunk"))?;
    Ok(HttpResponse::Ok().json(ChunkResponse::from(chunk)))
}

/// A household's books, newest first.
#[utoipa::path(tag = "books", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Household id"), ListQuery),
    responses(
        (status = 200, body = BookList),
        Refused,
    ))]
#[get("/households/{id}/books")]
#[tracing::instrument(skip_all, fields(household_id = %id))]
pub async fn household_books(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<HouseholdId>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let household = id.into_inner();
    caller.authorize(household)?;
    let limit = pagination::limit(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(pagination::decode)
        .transpose()?;
    let client = state.db.get().await?;
    let (rows, next_cursor) = pagination::split_page(
        books::list_for_household(&client, household, after, limit + 1).await?,
        limit,
        |b| pagination::encode(b.created_at, b.id.0),
    );
    let ids: Vec<BookId> = rows.iter().map(|b| b.id).collect();
    let mut latest = jobs::latest_for_books(&client, &ids).await?;
    let mut places = positions::latest_for_books(&client, &ids).await?;
    let books = rows.into_iter().map(|book| {
        let job = latest.remove(&book.id);
        let position = places.remove(&book.id);
        BookStatusResponse::new(book, job, position)
    });
    let books = books.collect();
    Ok(HttpResponse::Ok().json(BookList { books, next_cursor }))
}

/// Delete a book: its object, chunks, jobs and reading positions.
#[utoipa::path(tag = "admin", security(("admin_token" = [])),
    params(("id" = Uuid, Path, description = "Book id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such book", body = ErrorBody),
        Refused,
    ))]
#[delete("/admin/books/{id}")]
#[tracing::instrument(skip_all, fields(book_id = %id))]
pub async fn delete(
    _admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, ApiError> {
    let client = state.db.get().await?;
    // Rows first: once they are gone nothing can reach the object. If deleting the
    // object then fails, it is an orphan that retention removes, never a dangling row.
    let book = books::delete(&client, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("book"))?;
    if let Err(e) = state.storage.delete(&book.storage_path).await {
        tracing::error!(key = %book.storage_path, error = %e, "book deleted but its object was not; retention will remove it");
    }
    tracing::info!(book_id = %book.id, "book deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Process a book again with a new job. Its current chunks stay until the new run succeeds.
#[utoipa::path(tag = "admin", security(("admin_token" = [])),
    params(("id" = Uuid, Path, description = "Book id")),
    responses(
        (status = 202, body = ReprocessResponse),
        (status = 404, description = "No such book", body = ErrorBody),
        (status = 409, description = "A job is already queued or running", body = ErrorBody),
        Refused,
    ))]
#[post("/admin/books/{id}/reprocess")]
#[tracing::instrument(skip_all, fields(book_id = %id))]
pub async fn reprocess(
    _admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let mut client = state.db.get().await?;
    let job = jobs::enqueue_reprocess(&mut client, id, JobId::new(), state.config.max_job_attempts)
        .await
        .map_err(crate::error::enqueue_error("book"))?;
    drop(client);
    super::jobs::publish_or_defer(&state, &job).await;
    Ok(HttpResponse::Accepted().json(ReprocessResponse {
        book_id: id.0,
        job_id: job.id.0,
        status: job.status.to_string(),
    }))
}
