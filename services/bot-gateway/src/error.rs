//! The gateway's error body: `{"error": code, "message": text, "info": text}`.
//! `info` repeats the message because the Pipecat JS client shows `info` to users.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use shared_domain::ErrorCode;

#[derive(Debug)]
pub struct GatewayError {
    pub code: ErrorCode,
    pub message: String,
    source: Option<anyhow::Error>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    info: &'a str,
}

impl GatewayError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            source: None,
        }
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            source: Some(source.into()),
        }
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl ResponseError for GatewayError {
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
            info: &self.message,
        })
    }
}
