//! The gateway's errors: the shared renderer's body ([`http_support::ErrorResponse`])
//! with `info` repeating the message, because the Pipecat JS client shows `info` to
//! users (`StartBotError`), and `upstreamCode` when the provider gave one.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use http_support::ErrorResponse;
use shared_domain::ErrorCode;

use crate::upstream::{DEFAULT_RETRY_AFTER, UpstreamError};

#[derive(Debug)]
pub struct GatewayError(ErrorResponse);

impl GatewayError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let message = message.into();
        Self(ErrorResponse::new(code, message.clone()).with_field("info", message))
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self::new(ErrorCode::Internal, "Something went wrong on our side.").with_source(source)
    }

    #[must_use]
    pub fn with_source(self, source: impl Into<anyhow::Error>) -> Self {
        Self(self.0.with_source(source))
    }

    #[must_use]
    pub fn retry_after(self, after: Duration) -> Self {
        Self(self.0.retry_after(after))
    }

    #[must_use]
    pub fn upstream_code(self, code: String) -> Self {
        self.with_field("upstreamCode", code)
    }

    #[must_use]
    pub fn with_field(self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        Self(self.0.with_field(name, value))
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.error_response()
    }
}

/// Redis (call state) is down: 503.
pub fn redis_down(e: impl Into<anyhow::Error>) -> GatewayError {
    GatewayError::new(
        ErrorCode::ServiceUnavailable,
        "The reader is temporarily unavailable; try again shortly.",
    )
    .with_source(e)
}

/// The error map of DESIGN.md §6. Details go to the log, never the key.
impl From<UpstreamError> for GatewayError {
    fn from(e: UpstreamError) -> Self {
        let message = e.to_string();
        let (code, info) = match &e {
            UpstreamError::AtCapacity { .. } => (
                ErrorCode::AtCapacity,
                "All readers are busy right now; try again in a moment.",
            ),
            UpstreamError::Unavailable { .. } => (
                ErrorCode::BotUnavailable,
                "The reader is not available right now; try again later.",
            ),
            UpstreamError::Misconfigured { .. } => (
                ErrorCode::UpstreamMisconfigured,
                "The reader is misconfigured; we have been told.",
            ),
            UpstreamError::TooLarge => (ErrorCode::PayloadTooLarge, "The request is too large."),
            UpstreamError::Timeout(_) | UpstreamError::Unreachable(_) => (
                ErrorCode::UpstreamTimeout,
                "The reader took too long to answer; try again.",
            ),
            UpstreamError::Bad(_) => (
                ErrorCode::UpstreamError,
                "The reader could not be started; try again.",
            ),
            UpstreamError::NoSession => {
                (ErrorCode::NotFound, "That reading session is not running.")
            }
        };
        let upstream_code = match &e {
            UpstreamError::AtCapacity { code, .. } | UpstreamError::Unavailable { code, .. } => {
                code.clone()
            }
            _ => None,
        };
        let retry = match &e {
            UpstreamError::AtCapacity { retry_after, .. } => {
                Some(retry_after.map_or(DEFAULT_RETRY_AFTER, Duration::from_secs))
            }
            _ => None,
        };
        let detail = match &e {
            UpstreamError::Unavailable { detail, .. }
            | UpstreamError::Misconfigured { detail, .. } => Some(detail.as_str()),
            _ => None,
        };
        tracing::warn!(code = %code, upstream = %message, detail, "upstream call failed");
        let mut error = GatewayError::new(code, info).with_source(e);
        if let Some(c) = upstream_code {
            error = error.upstream_code(c);
        }
        if let Some(r) = retry {
            error = error.retry_after(r);
        }
        error
    }
}
