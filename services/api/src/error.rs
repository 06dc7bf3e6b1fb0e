//! The API's errors: the shared renderer's JSON body `{"error": code, "message":
//! text}` for every failure (actix's own extractor rejections included), and how
//! the api's own errors map onto it: refused enqueues ([`enqueue_error`]) and
//! refused uploads ([`UploadError`]).

use actix_web::{HttpRequest, web};
use http_support::ErrorResponse;
use serde::Serialize;
use shared_domain::ErrorCode;
use shared_domain::db::jobs::EnqueueError;

use crate::routes::upload::{MAX_TEXT_FIELD, MAX_TITLE_CHARS};

/// An error answered to a client: the one renderer every HTTP service shares
/// ([`http_support::ErrorResponse`]); the api's own mappings to it are here
/// ([`enqueue_error`]).
pub type ApiError = ErrorResponse;

/// The error body of every non-2xx response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `unsupported_media_type`.
    #[schema(example = "not_found")]
    pub error: String,
    /// A human-readable explanation.
    pub message: String,
}

/// The refusals every authenticated route can answer, documented once: list it
/// in a route's `responses(...)` beside what is particular to the route.
#[derive(utoipa::IntoResponses)]
pub enum Refused {
    /// A path, query or body value is invalid.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No token, or one that is not valid.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token may not do this: not the admin's, or another household's.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Postgres, Redis or storage is unavailable; try again shortly.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// A refused enqueue (reprocess a book, retry a job) as an answer; `what` names
/// the resource a `NotFound` is about.
pub fn enqueue_error(what: &'static str) -> impl Fn(EnqueueError) -> ApiError {
    move |e| match e {
        EnqueueError::NotFound => ApiError::not_found(what),
        EnqueueError::AlreadyActive => ApiError::new(
            ErrorCode::Conflict,
            "the book already has a job queued or running",
        ),
        EnqueueError::NotRetryable(status) => ApiError::new(
            ErrorCode::Conflict,
            format!("the job is {status}; only failed or dead jobs can be retried"),
        ),
        EnqueueError::Db(e) => e.into(),
    }
}

/// Why an upload was refused: the client's form or file, never our side (storage
/// and database failures stay [`ApiError`]s). Each is a 400, 408, 413 or 415 with
/// its message; the form's fields are named as the client sent them.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    EmptyFile,
    #[error(
        "the file is neither a PDF (no %PDF-n.n header in its first KiB) nor an EPUB \
         (a ZIP archive starting with its `mimetype` or `META-INF/container.xml`)"
    )]
    NotABook,
    #[error(
        "the upload is arriving too slowly (see BODY_MIN_BYTES_PER_SECOND); try again on a better connection"
    )]
    TooSlow,
    #[error("expected a multipart/form-data body")]
    NotMultipart,
    #[error("malformed multipart body: {0}")]
    Malformed(String),
    #[error("missing field `file` (the book)")]
    MissingFile,
    #[error("missing field `household_id`")]
    MissingHousehold,
    #[error("field `{0}` is given more than once")]
    Repeated(&'static str),
    #[error("a form field has no name")]
    UnnamedField,
    #[error("unknown field `{0}`; expected household_id, file and optionally title and language")]
    UnknownField(String),
    #[error("field `{0}` is longer than {MAX_TEXT_FIELD} bytes")]
    TextTooLong(&'static str),
    #[error("field `{0}` is not UTF-8 text")]
    NotText(&'static str),
    #[error("field `household_id` is not a UUID: {0:?}")]
    NotAUuid(String),
    #[error("field `title` is empty")]
    EmptyTitle,
    #[error("field `title` is longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("field `language`: {code:?} is not a language OCR reads here (it reads {known})")]
    UnknownLanguage { code: String, known: String },
    #[error("field `language` is empty; give ISO 639 codes such as `en` or `fr,de`")]
    NoLanguage,
}

impl UploadError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::EmptyFile | Self::NotABook => ErrorCode::UnsupportedMediaType,
            Self::TooSlow => ErrorCode::RequestTimeout,
            _ => ErrorCode::BadRequest,
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

impl From<actix_multipart::MultipartError> for UploadError {
    fn from(e: actix_multipart::MultipartError) -> Self {
        use actix_multipart::MultipartError;
        match e {
            MultipartError::Payload(p) if http_support::body::is_too_slow(&p) => Self::TooSlow,
            MultipartError::ContentTypeMissing
            | MultipartError::ContentTypeParse
            | MultipartError::ContentTypeIncompatible => Self::NotMultipart,
            other => Self::Malformed(other.to_string()),
        }
    }
}

/// Route actix's extractor rejections (bad JSON, query or path) through [`ApiError`].
pub fn extractor_configs(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(
        |err, _: &HttpRequest| {
            let code = if matches!(
                err,
                actix_web::error::JsonPayloadError::Overflow { .. }
                    | actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
            ) {
                ErrorCode::PayloadTooLarge
            } else {
                ErrorCode::BadRequest
            };
            ApiError::new(code, format!("invalid JSON body: {err}")).into()
        },
    ))
    .app_data(web::QueryConfig::default().error_handler(|err, _| {
        ApiError::bad_request(format!("invalid query string: {err}")).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|err, _| {
        ApiError::bad_request(format!("invalid path parameter: {err}")).into()
    }));
}
