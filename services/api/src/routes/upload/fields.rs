//! The upload form's parts, checked: text fields, the title, OCR languages and
//! the file's kind by its first bytes; each refusal an [`UploadError`].

use actix_multipart::Field;
use bytes::BytesMut;
use futures::TryStreamExt;
use shared_domain::domain::BookFormat;

use crate::error::UploadError;

/// How far into the file a PDF header may start (as PDF readers allow); an
/// EPUB's first ZIP entry is within it too.
pub(super) const SNIFF_BYTES: usize = 1024;
/// Longest accepted text field, in bytes.
pub(crate) const MAX_TEXT_FIELD: usize = 4096;
/// Longest title, in characters.
pub(crate) const MAX_TITLE_CHARS: usize = 500;
pub(super) async fn read_text(mut field: Field, name: &'static str) -> Result<String, UploadError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = field.try_next().await? {
        if buf.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(UploadError::TextTooLong(name));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf.to_vec()).map_err(|_| UploadError::NotText(name))
}

pub(super) fn validate_title(raw: &str) -> Result<String, UploadError> {
    let title: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned();
    if title.is_empty() {
        return Err(UploadError::EmptyTitle);
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(UploadError::TitleTooLong);
    }
    Ok(title)
}

/// The `language` field: ISO 639 codes separated by commas, spaces or "+", each
/// one OCR reads; Tesseract's codes, in order, without repeats.
pub(super) fn ocr_languages(raw: &str) -> Result<Vec<String>, UploadError> {
    let mut out: Vec<String> = Vec::new();
    for code in raw
        .split([',', ' ', '+', ';'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let Some(tesseract) = shared_domain::domain::ocr_language(code) else {
            let known: Vec<&str> = shared_domain::domain::OCR_LANGUAGES
                .iter()
                .map(|(iso, _, _)| *iso)
                .collect();
            return Err(UploadError::UnknownLanguage {
                code: truncate(code, 32),
                known: known.join(", "),
            });
        };
        if !out.iter().any(|l| l == tesseract) {
            out.push(tesseract.to_owned());
        }
    }
    if out.is_empty() {
        return Err(UploadError::NoLanguage);
    }
    Ok(out)
}

/// The file name without directories or extension, or "Untitled".
pub(super) fn title_from_filename(filename: Option<&str>) -> String {
    let base = filename
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    validate_title(stem).map_or_else(
        |_| "Untitled".to_owned(),
        |t| t.chars().take(MAX_TITLE_CHARS).collect(),
    )
}

/// What the file's first bytes say it is.
pub(super) fn sniff(head: &[u8]) -> Option<BookFormat> {
    if looks_like_pdf(head) {
        Some(BookFormat::Pdf)
    } else if looks_like_epub(head) {
        Some(BookFormat::Epub)
    } else {
        None
    }
}

/// An EPUB (OCF) container: a ZIP archive whose first entry is `mimetype`
/// holding `application/epub+zip` (stored, as the format asks), or, in books
/// that put it later (Sphinx's EPUBs do), `META-INF/container.xml`. The worker
/// reads the rest; a JAR, a DOCX or any other ZIP starts otherwise.
pub(super) fn looks_like_epub(head: &[u8]) -> bool {
    const MEDIA_TYPE: &[u8] = b"application/epub+zip";
    let u16_at = |i: usize| {
        head.get(i..i + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    if !head.starts_with(b"PK\x03\x04") {
        return false;
    }
    let (Some(method), Some(name_len), Some(extra_len)) = (u16_at(8), u16_at(26), u16_at(28))
    else {
        return false;
    };
    let Some(name) = head.get(30..30 + name_len) else {
        return false;
    };
    match name {
        b"mimetype" => {
            let data = 30 + name_len + extra_len;
            method == 0
                && head
                    .get(data..data + MEDIA_TYPE.len())
                    .is_some_and(|d| d == MEDIA_TYPE)
        }
        b"META-INF/container.xml" => true,
        _ => false,
    }
}

/// A `%PDF-n.n` header starting within the first KiB (what PDF readers accept).
pub(super) fn looks_like_pdf(head: &[u8]) -> bool {
    let window = &head[..head.len().min(SNIFF_BYTES + 7)];
    window.windows(8).any(|w| {
        w.starts_with(b"%PDF-") && w[5].is_ascii_digit() && w[6] == b'.' && w[7].is_ascii_digit()
    })
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
