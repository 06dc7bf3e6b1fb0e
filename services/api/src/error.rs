//! The API's errors: the shared renderer's JSON body `{"error": code, "message":
//! text}` for every failure (actix's own extractor rejections included), and how
//! the api's own errors map onto it.

use actix_web::{HttpRequest, web};
use http_support::ErrorResponse;
use serde::Serialize;
use shared_domain::ErrorCode;
use shared_domain::db::jobs::EnqueueError;

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
