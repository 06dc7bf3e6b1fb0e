//! `POST /admin/books/upload`: a PDF or EPUB streamed into storage, then the book
//! and its job recorded in one transaction, then the job published to the stream.
//!
//! The body is never held whole: the file field streams into a multipart write
//! while it is hashed (SHA-256) and counted, with memory bounded by the storage
//! part size. The first KiB is sniffed for a PDF header or an EPUB's first ZIP
//! entry before anything is written. Either the object, the book row and the job row all exist, or none:
//! any failure after the object is written deletes it.
//!
//! Field order: `household_id` normally comes first (the seeds' curl sends it
//! first) and the file then streams straight to `{household_id}/books/{book_id}.pdf`
//! (`.epub` for an EPUB). A client that sends `file` first is served too: the file
//! is staged at `uploads/{book_id}.pdf` and renamed once `household_id` arrives (a
//! server-side copy on object stores).

use actix_multipart::{Field, Multipart};
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::post;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use futures::TryStreamExt;
use http_support::body::Stalls;
use serde::Serialize;
use sha2::{Digest, Sha256};
use shared_domain::db::books::{self, Inserted, NewBook};
use shared_domain::domain::{BookFormat, BookId, BookStatus, HouseholdId, JobId, book_object_key};
use tracing::Instrument;
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::error::{ApiError, ErrorBody, UploadError};
use crate::startup::AppState;

mod fields;

pub(crate) use fields::{MAX_TEXT_FIELD, MAX_TITLE_CHARS};
use fields::{
    SNIFF_BYTES, ocr_languages, read_text, sniff, title_from_filename, truncate, validate_title,
};
use utoipa_actix_web::service_config::ServiceConfig;

/// The upload route.
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload);
}

/// Room for the multipart framing and text fields on top of the file limit.
const FORM_OVERHEAD: u64 = 64 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResponse {
    pub book_id: uuid::Uuid,
    /// `processing` for a new book; the existing book's status when deduplicated.
    #[schema(example = "processing")]
    pub status: String,
    #[schema(example = "11111111-1111-1111-1111-111111111111/books/2b1c…pdf")]
    pub storage_path: String,
    /// The book's processing job (for a deduplicated upload, its latest job).
    pub job_id: Option<uuid::Uuid>,
    /// True when this household already had these exact bytes.
    pub deduplicated: bool,
}

/// The multipart form of an upload (for the OpenAPI document).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The household that owns the book.
    household_id: uuid::Uuid,
    /// The book: a PDF or an EPUB, recognised by content (a `%PDF-` header; a ZIP
    /// whose first entry is `mimetype` = `application/epub+zip` or
    /// `META-INF/container.xml`), not by name or type.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    /// Defaults to the file name without its extension.
    title: Option<String>,
    /// For a scanned book, the languages OCR reads: ISO 639 codes, one or several
    /// (`en`, `fr,de`, `fra`, `zh-Hans`). Default: the worker's `OCR_LANGUAGES`.
    /// A language OCR does not read is refused (400).
    language: Option<String>,
}

/// Upload a book (PDF or EPUB).
#[utoipa::path(
    tag = "admin",
    security(("admin_token" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Stored and queued (or deduplicated)", body = UploadResponse),
        (status = 400, description = "A field is missing, invalid, repeated or unknown", body = ErrorBody),
        (status = 401, description = "No or invalid token", body = ErrorBody),
        (status = 403, description = "Not the admin token", body = ErrorBody),
        (status = 413, description = "Larger than MAX_UPLOAD_BYTES", body = ErrorBody),
        (status = 415, description = "Neither a PDF nor an EPUB (by content)", body = ErrorBody),
        (status = 408, description = "The body arrived too slowly (BODY_MIN_BYTES_PER_SECOND, BODY_IDLE_TIMEOUT_SECONDS)", body = ErrorBody),
        (status = 503, description = "Database or storage unavailable, or every upload buffer in use for UPLOAD_BUFFER_WAIT_SECONDS (with Retry-After)", body = ErrorBody),
    )
)]
#[post("/admin/books/upload")]
#[tracing::instrument(skip_all, fields(book_id = tracing::field::Empty, household_id = tracing::field::Empty))]
pub async fn upload(
    _admin: Admin,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limit = state.config.max_upload_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + FORM_OVERHEAD) {
        return Err(UploadError::TooLarge { limit }.into());
    }

    // The body must keep coming: a trickle is cut off (408) instead of holding
    // a connection and a storage upload open for hours.
    let http = &state.config.http;
    let pace = http_support::body::BodyPace {
        idle: http.body_idle_timeout,
        grace: http.body_idle_timeout,
        min_bytes_per_second: http.body_min_bytes_per_second,
    };
    // Waits on storage are ours, not the client's: they do not count against its pace.
    let stalls = Stalls::default();
    let form = Multipart::new(
        req.headers(),
        http_support::body::paced_around(payload, pace, stalls.clone()),
    );
    let book_id = BookId::new();
    tracing::Span::current().record("book_id", tracing::field::display(book_id));
    let mut received = Received::default();
    if let Err(e) = receive_form(&state, &stalls, form, book_id, &mut received).await {
        received.discard(&state).await;
        return Err(e);
    }
    let Received {
        household,
        title,
        ocr_languages,
        file,
    } = received;
    let Some(file) = file else {
        return Err(UploadError::MissingFile.into());
    };
    let Some(household) = household else {
        discard(&state, &file.key).await;
        return Err(UploadError::MissingHousehold.into());
    };
    tracing::Span::current().record("household_id", tracing::field::display(household));
    let title = title.unwrap_or_else(|| title_from_filename(file.filename.as_deref()));

    // From here the object exists: finish in a task of its own so that a client
    // hanging up cannot leave an object without rows (or rows without an object).
    let state = state.into_inner();
    // The task continues this request's span: the book's trace starts here.
    tokio::spawn(
        async move { commit(&state, book_id, household, title, ocr_languages, file).await }
            .instrument(tracing::Span::current()),
    )
    .await
    .map_err(ApiError::internal)?
    .map(|r| HttpResponse::Ok().json(r))
}

/// What the form has delivered so far.
#[derive(Default)]
struct Received {
    household: Option<HouseholdId>,
    title: Option<String>,
    ocr_languages: Option<Vec<String>>,
    file: Option<StoredFile>,
}

impl Received {
    async fn discard(&self, state: &AppState) {
        if let Some(file) = &self.file {
            discard(state, &file.key).await;
        }
    }
}

/// A file fully written to storage.
struct StoredFile {
    key: String,
    format: BookFormat,
    filename: Option<String>,
    sha256: String,
    size: u64,
}

async fn receive_form(
    state: &AppState,
    stalls: &Stalls,
    mut form: Multipart,
    book_id: BookId,
    received: &mut Received,
) -> Result<(), ApiError> {
    while let Some(field) = form.try_next().await.map_err(UploadError::from)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "household_id" => {
                if received.household.is_some() {
                    return Err(UploadError::Repeated("household_id").into());
                }
                let text = read_text(field, "household_id").await?;
                let household = text
                    .trim()
                    .parse()
                    .map_err(|_| UploadError::NotAUuid(truncate(&text, 64)))?;
                if let Some(file) = &mut received.file {
                    // The file came first and waits in staging: move it under its household.
                    let key = book_object_key(household, book_id, file.format);
                    stalls.during(state.storage.rename(&file.key, &key)).await?;
                    file.key = key;
                }
                received.household = Some(household);
            }
            "title" => {
                if received.title.is_some() {
                    return Err(UploadError::Repeated("title").into());
                }
                received.title = Some(validate_title(&read_text(field, "title").await?)?);
            }
            "language" => {
                if received.ocr_languages.is_some() {
                    return Err(UploadError::Repeated("language").into());
                }
                received.ocr_languages = Some(ocr_languages(&read_text(field, "language").await?)?);
            }
            "file" => {
                if received.file.is_some() {
                    return Err(UploadError::Repeated("file").into());
                }
                let key = |format: BookFormat| match received.household {
                    Some(h) => book_object_key(h, book_id, format),
                    None => format!("uploads/{book_id}.{}", format.extension()),
                };
                received.file = Some(receive_file(state, stalls, field, key).await?);
            }
            "" => return Err(UploadError::UnnamedField.into()),
            other => return Err(UploadError::UnknownField(truncate(other, 64)).into()),
        }
    }
    Ok(())
}

/// Stream the file field to the key its format gives: sniff, hash, count,
/// enforce the limit.
async fn receive_file(
    state: &AppState,
    stalls: &Stalls,
    mut field: Field,
    key: impl FnOnce(BookFormat) -> String,
) -> Result<StoredFile, ApiError> {
    let limit = state.config.max_upload_bytes;
    let filename = field
        .content_disposition()
        .and_then(|cd| cd.get_filename())
        .map(str::to_owned);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut count = |chunk: &Bytes| -> Result<(), UploadError> {
        size += chunk.len() as u64;
        if size > limit {
            return Err(UploadError::TooLarge { limit });
        }
        hasher.update(chunk);
        Ok(())
    };

    // Nothing is written until the content looks like a PDF or an EPUB.
    let mut head = BytesMut::new();
    // A field must not be polled again once it has ended.
    let mut ended = false;
    while head.len() < SNIFF_BYTES {
        match field.try_next().await.map_err(UploadError::from)? {
            Some(chunk) => {
                count(&chunk)?;
                head.extend_from_slice(&chunk);
            }
            None => {
                ended = true;
                break;
            }
        }
    }
    let Some(format) = sniff(&head) else {
        return Err(if head.is_empty() {
            UploadError::EmptyFile
        } else {
            UploadError::NotABook
        }
        .into());
    };
    let key = key(format);

    let mut writer = stalls.during(state.storage.writer(&key)).await?;
    let mut pending = Some(head.freeze());
    loop {
        let chunk = match pending.take() {
            Some(head) => head,
            None if ended => break,
            None => match field.try_next().await {
                Ok(Some(chunk)) => {
                    if let Err(e) = count(&chunk) {
                        writer.abort().await;
                        return Err(e.into());
                    }
                    chunk
                }
                Ok(None) => break,
                Err(e) => {
                    writer.abort().await;
                    return Err(UploadError::from(e).into());
                }
            },
        };
        if let Err(e) = stalls.during(writer.write(chunk)).await {
            writer.abort().await;
            return Err(e.into());
        }
    }
    stalls.during(writer.finish()).await?;
    metrics::counter!("upload_bytes_total").increment(size);
    Ok(StoredFile {
        key,
        format,
        filename,
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}

/// Record the book and job (or find the duplicate), then publish the job.
async fn commit(
    state: &AppState,
    book_id: BookId,
    household: HouseholdId,
    title: String,
    ocr_languages: Option<Vec<String>>,
    file: StoredFile,
) -> Result<UploadResponse, ApiError> {
    let new = NewBook {
        ocr_languages,
        id: book_id,
        household_id: household,
        title,
        storage_path: file.key.clone(),
        content_sha256: file.sha256.clone(),
        byte_size: i64::try_from(file.size).map_err(ApiError::internal)?,
    };
    let inserted = async {
        let mut client = state.db.get().await?;
        books::insert_with_job(
            &mut client,
            &new,
            JobId::new(),
            state.config.max_job_attempts,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match inserted {
        Ok(Inserted::Created { book, job }) => {
            tracing::info!(book_id = %book.id, job_id = %job.id, bytes = file.size, "book uploaded");
            super::jobs::publish_or_defer(state, &job).await;
            Ok(UploadResponse {
                book_id: book.id.0,
                status: BookStatus::Processing.to_string(),
                storage_path: book.storage_path,
                job_id: Some(job.id.0),
                deduplicated: false,
            })
        }
        Ok(Inserted::Existing { book, job }) => {
            discard(state, &file.key).await;
            tracing::info!(book_id = %book.id, "upload deduplicated");
            Ok(UploadResponse {
                book_id: book.id.0,
                status: book.status.to_string(),
                storage_path: book.storage_path,
                job_id: job.map(|j| j.id.0),
                deduplicated: true,
            })
        }
        Err(e) => {
            discard(state, &file.key).await;
            Err(e)
        }
    }
}

/// Delete an object we wrote; a failure leaves an orphan for retention, so log it.
async fn discard(state: &AppState, key: &str) {
    if let Err(e) = state.storage.delete(key).await {
        tracing::error!(key, error = %e, "could not delete an uploaded object after a failed upload");
    }
}

#[cfg(test)]
mod tests;
