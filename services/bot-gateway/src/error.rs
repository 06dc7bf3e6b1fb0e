//! The gateway's error body: `{"error": code, "message": text, "info": text}`, plus
//! `upstreamCode` when the provider gave one. `info` repeats the message because
//! the Pipecat JS client shows `info` to users (`StartBotError`).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use shared_domain::ErrorCode;

#[derive(Debug)]
pub struct GatewayError {
    pub code: ErrorCode,
    pub message: String,
    retry_after: Option<Duration>,
    upstream_code: Option<String>,
    source: Option<anyhow::Error>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    info: &'a str,
    #[serde(rename = "upstreamCode", skip_serializing_if = "Option::is_none")]
    upstream_code: Option<&'a str>,
}

impl GatewayError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            upstream_code: None,
            source: None,
        }
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self::new(ErrorCode::Internal, "Something went wrong on our side.").with_source(source)
    }

    #[must_use]
    pub fn with_source(mut self, source: impl Into<anyhow::Error>) -> Self {
        self.source = Some(source.into());
        self
    }

    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    #[must_use]
    pub fn upstream_code(mut self, code: String) -> Self {
        self.upstream_code = Some(code);
        self
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
        metrics::counter!("http_errors_total", "code" => self.code.as_str()).increment(1);
        if self.code.is_server_error() {
            tracing::error!(code = %self.code, error = %self, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Some(after) = self.retry_after {
            response.insert_header(crate::routes::start::retry_after_header(after));
        }
        if self.code == ErrorCode::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(Body {
            error: self.code.as_str(),
            message: &self.message,
            info: &self.message,
            upstream_code: self.upstream_code.as_deref(),
        })
    }
}
