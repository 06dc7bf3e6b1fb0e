//! The API's error type and its JSON body `{"error": code, "message": text}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use shared_domain::ErrorCode;

/// An error answered to a client. Server-side errors keep their cause for the log
/// and show the client a generic message.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    source: Option<anyhow::Error>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// A 5xx whose cause goes to the log, never to the client.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            source: Some(source.into()),
        }
    }

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
        if self.code.is_server_error() {
            tracing::error!(code = %self.code, error = %self, "request failed");
        }
        HttpResponse::build(self.status_code()).json(Body {
            error: self.code.as_str(),
            message: &self.message,
        })
    }
}
