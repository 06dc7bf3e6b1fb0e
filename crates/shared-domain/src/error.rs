//! The stable error-code table every service answers with.
//!
//! A code is a contract with clients (the web frontend, the bot, the Pipecat JS
//! client): never rename one. Bodies are `{"error": code, "message": text}`; each
//! service maps its own error enums onto these codes and renders the body itself.

use std::fmt;

/// Every error code a client can see, with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    ServiceUnavailable,
    // Bot gateway: the upstream bot provider.
    CallActive,
    AtCapacity,
    BotUnavailable,
    UpstreamMisconfigured,
    UpstreamError,
    UpstreamTimeout,
}

impl ErrorCode {
    pub const ALL: [Self; 18] = [
        Self::BadRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::RequestTimeout,
        Self::UnsupportedMediaType,
        Self::RateLimited,
        Self::Internal,
        Self::ServiceUnavailable,
        Self::CallActive,
        Self::AtCapacity,
        Self::BotUnavailable,
        Self::UpstreamMisconfigured,
        Self::UpstreamError,
        Self::UpstreamTimeout,
    ];

    /// The snake_case name clients match on.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal_error",
            Self::ServiceUnavailable => "service_unavailable",
            Self::CallActive => "call_active",
            Self::AtCapacity => "at_capacity",
            Self::BotUnavailable => "bot_unavailable",
            Self::UpstreamMisconfigured => "upstream_misconfigured",
            Self::UpstreamError => "upstream_error",
            Self::UpstreamTimeout => "upstream_timeout",
        }
    }

    pub const fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict | Self::CallActive => 409,
            Self::PayloadTooLarge => 413,
            Self::RequestTimeout => 408,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited | Self::AtCapacity => 429,
            Self::Internal => 500,
            Self::UpstreamMisconfigured | Self::UpstreamError => 502,
            Self::ServiceUnavailable | Self::BotUnavailable => 503,
            Self::UpstreamTimeout => 504,
        }
    }

    /// Server-side failures: their messages are generic and their causes go to the log.
    pub const fn is_server_error(self) -> bool {
        self.http_status() >= 500
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a book failed: stored in `books.error_code`, shown to admins and the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookErrorCode {
    InvalidPdf,
    EncryptedPdf,
    NoTextLayer,
    TooLarge,
    ExtractionFailed,
    ExtractionTimeout,
    RetriesExhausted,
    SourceMissing,
    /// Not a readable EPUB: no container or package document, a broken spine.
    InvalidEpub,
    /// An EPUB built to attack its reader: paths out of the archive, XML entity
    /// declarations.
    UnsafeEpub,
    /// An EPUB whose content is encrypted (DRM).
    DrmProtected,
    /// A scan whose OCR'd text is mostly not words (or no words at all).
    OcrUnreadable,
    /// OCR was asked for a language this worker has no data for.
    OcrLanguageUnavailable,
}

impl BookErrorCode {
    pub const ALL: [Self; 13] = [
        Self::InvalidPdf,
        Self::EncryptedPdf,
        Self::NoTextLayer,
        Self::TooLarge,
        Self::ExtractionFailed,
        Self::ExtractionTimeout,
        Self::RetriesExhausted,
        Self::SourceMissing,
        Self::InvalidEpub,
        Self::UnsafeEpub,
        Self::DrmProtected,
        Self::OcrUnreadable,
        Self::OcrLanguageUnavailable,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidPdf => "invalid_pdf",
            Self::EncryptedPdf => "encrypted_pdf",
            Self::NoTextLayer => "no_text_layer",
            Self::TooLarge => "too_large",
            Self::ExtractionFailed => "extraction_failed",
            Self::ExtractionTimeout => "extraction_timeout",
            Self::RetriesExhausted => "retries_exhausted",
            Self::SourceMissing => "source_missing",
            Self::InvalidEpub => "invalid_epub",
            Self::UnsafeEpub => "unsafe_epub",
            Self::DrmProtected => "drm_protected",
            Self::OcrUnreadable => "ocr_unreadable",
            Self::OcrLanguageUnavailable => "ocr_language_unavailable",
        }
    }
}

impl std::str::FromStr for BookErrorCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown book error code {s:?}"))
    }
}

impl fmt::Display for BookErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Format an error and its whole `source()` chain, one cause per line, for logs.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut current = e.source();
    while let Some(cause) = current {
        out.push_str("\n  caused by: ");
        out.push_str(&cause.to_string());
        current = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case() {
        let names: HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for n in names.iter().chain(
            BookErrorCode::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .iter(),
        ) {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        }
    }

    #[test]
    fn statuses_match_the_design() {
        assert_eq!(ErrorCode::UnsupportedMediaType.http_status(), 415);
        assert_eq!(ErrorCode::PayloadTooLarge.http_status(), 413);
        assert_eq!(ErrorCode::CallActive.http_status(), 409);
        assert_eq!(ErrorCode::AtCapacity.http_status(), 429);
        assert_eq!(ErrorCode::UpstreamMisconfigured.http_status(), 502);
        assert_eq!(ErrorCode::UpstreamTimeout.http_status(), 504);
        assert!(ErrorCode::Internal.is_server_error());
        assert!(!ErrorCode::NotFound.is_server_error());
    }
}
