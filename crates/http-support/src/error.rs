//! The one renderer of error responses: `{"error": code, "message": text}` plus any
//! fields a service adds (the gateway's `info` and `upstreamCode`, readiness's
//! `down`), with the status the code maps to, `WWW-Authenticate` on a 401,
//! `Retry-After` when set, and the `http_errors_total` counter. Server-side errors
//! keep their cause for the log and never show it to the client.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use shared_domain::ErrorCode;
use shared_domain::db::DbError;
use shared_domain::storage::StorageError;

/// When a client refused for lack of upload memory should try again.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(5);

/// An error answered to a client.
#[derive(Debug)]
pub struct ErrorResponse {
    pub code: ErrorCode,
    pub message: String,
    retry_after: Option<Duration>,
    fields: serde_json::Map<String, serde_json::Value>,
    source: Option<anyhow::Error>,
}

impl ErrorResponse {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            fields: serde_json::Map::new(),
            source: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// A 500 whose cause goes to the log, never to the client.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self::new(ErrorCode::Internal, "internal error").with_source(source)
    }

    /// A 503 naming the dependency, with its cause kept for the log.
    pub fn unavailable(what: &str, source: impl Into<anyhow::Error>) -> Self {
        Self::new(
            ErrorCode::ServiceUnavailable,
            format!("{what} is unavailable; try again shortly"),
        )
        .with_source(source)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// Keep `source` for the log (server errors log it; the client never sees it).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<anyhow::Error>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Answer with `Retry-After` in whole seconds (at least 1).
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Add a field to the body, beside `error` and `message`.
    #[must_use]
    pub fn with_field(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }
}

impl From<DbError> for ErrorResponse {
    fn from(e: DbError) -> Self {
        if e.is_unavailable() {
            Self::unavailable("the database", e)
        } else {
            Self::internal(e)
        }
    }
}

impl From<deadpool_postgres::PoolError> for ErrorResponse {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        DbError::from(e).into()
    }
}

impl From<StorageError> for ErrorResponse {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound(_) => Self::internal(e),
            StorageError::Busy => Self::new(
                ErrorCode::ServiceUnavailable,
                "the server is taking as many uploads as it can hold; try again shortly",
            )
            .retry_after(BUSY_RETRY_AFTER),
            other => Self::unavailable("storage", other),
        }
    }
}

impl std::fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl ResponseError for ErrorResponse {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        metrics::counter!("http_errors_total", "code" => self.code.as_str()).increment(1);
        // A server error with a cause is ours to look into; one without (a
        // readiness probe naming what is down) was logged where it was found.
        if self.code.is_server_error() {
            if self.source.is_some() {
                tracing::error!(code = %self.code, error = %self, "request failed");
            } else {
                tracing::warn!(code = %self.code, error = %self, "request failed");
            }
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Some(after) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, after.as_secs().max(1).to_string()));
        }
        if self.code == ErrorCode::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        let mut body = serde_json::Map::new();
        body.insert("error".into(), self.code.as_str().into());
        body.insert("message".into(), self.message.clone().into());
        for (name, value) in &self.fields {
            body.insert(name.clone(), value.clone());
        }
        response.json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn the_body_carries_the_code_the_message_and_added_fields_and_never_the_cause() {
        let error = ErrorResponse::new(ErrorCode::RateLimited, "slow down")
            .retry_after(Duration::from_millis(200))
            .with_field("info", "slow down")
            .with_source(anyhow::anyhow!("secret internals"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": "rate_limited", "message": "slow down", "info": "slow down"})
        );

        let unauthorized = ErrorResponse::new(ErrorCode::Unauthorized, "no token").error_response();
        assert_eq!(
            unauthorized
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .unwrap(),
            "Bearer"
        );
    }
}
