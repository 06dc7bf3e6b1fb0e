//! The API's error type and its JSON body `{"error": code, "message": text}`, used
//! for every failure — actix's own extractor rejections included.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use shared_domain::ErrorCode;
use shared_domain::db::DbError;
use shared_domain::storage::StorageError;

/// An error answered to a client. Server-side errors keep their cause for the log
/// and show the client a generic message.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    source: Option<anyhow::Error>,
}

/// The error body of every non-2xx response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `unsupported_media_type`.
    #[schema(example = "not_found")]
    pub error: String,
    /// A human-readable explanation.
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            source: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// A 500 whose cause goes to the log, never to the client.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            source: Some(source.into()),
        }
    }

    /// A 503 naming the dependency, with its cause kept for the log.
    pub fn unavailable(what: &str, source: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ErrorCode::ServiceUnavailable,
            message: format!("{what} is unavailable; try again shortly"),
            source: Some(source.into()),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_unavailable() {
            Self::unavailable("the database", e)
        } else {
            Self::internal(e)
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        DbError::from(e).into()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound(_) => Self::internal(e),
            other => Self::unavailable("storage", other),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        metrics::counter!("http_errors_total", "code" => self.code.as_str()).increment(1);
        if self.code.is_server_error() {
            tracing::error!(code = %self.code, error = %self, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if self.code == ErrorCode::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(ErrorBody {
            error: self.code.as_str().to_owned(),
            message: self.message.clone(),
        })
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
