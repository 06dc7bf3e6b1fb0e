use super::fields::*;
use super::*;

#[test]
fn languages_are_iso_codes_ocr_reads() {
    assert_eq!(ocr_languages("en").unwrap(), ["eng"]);
    assert_eq!(ocr_languages("fr, de+fra").unwrap(), ["fra", "deu"]);
    assert_eq!(ocr_languages("zh-Hans").unwrap(), ["chi_sim"]);
    assert!(ocr_languages("tlh").is_err());
    assert!(ocr_languages(" , ").is_err());
}

#[test]
fn titles_come_from_file_names() {
    assert_eq!(title_from_filename(Some("Moby Dick.pdf")), "Moby Dick");
    assert_eq!(title_from_filename(Some("/tmp/a/b/book.v2.pdf")), "book.v2");
    assert_eq!(
        title_from_filename(Some("C:\\Users\\me\\Alice.PDF")),
        "Alice"
    );
    assert_eq!(title_from_filename(Some(".pdf")), ".pdf");
    assert_eq!(title_from_filename(Some("")), "Untitled");
    assert_eq!(title_from_filename(None), "Untitled");
}

#[test]
fn pdf_sniffing_allows_a_late_header_but_not_none() {
    assert!(looks_like_pdf(b"%PDF-1.7\n"));
    assert!(looks_like_pdf(b"\xef\xbb\xbf  junk %PDF-1.4"));
    assert!(!looks_like_pdf(b"\x89PNG\r\n\x1a\n"));
    assert!(!looks_like_pdf(b"<!doctype html><html>"));
    assert!(!looks_like_pdf(b""));
    assert!(!looks_like_pdf(
        b"<p>a %PDF- header looks like %PDF-x.y</p>"
    ));
    assert!(looks_like_pdf(b"%PDF-2.0"));
    let mut late = vec![b' '; 1023];
    late.extend_from_slice(b"%PDF-1.4");
    assert!(
        looks_like_pdf(&late),
        "a header starting at byte 1023 counts"
    );
    late.insert(0, b' ');
    assert!(!looks_like_pdf(&late), "one starting at byte 1024 does not");
}

/// A ZIP local file header for `name` holding `data` (stored or deflated).
fn zip_entry(name: &str, method: u16, data: &[u8]) -> Vec<u8> {
    let mut out = b"PK\x03\x04\x14\x00\x00\x00".to_vec();
    out.extend_from_slice(&method.to_le_bytes());
    out.extend_from_slice(&[0; 16]); // time, date, crc, sizes
    out.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn epubs_are_recognised_by_their_first_zip_entry() {
    let epub = zip_entry("mimetype", 0, b"application/epub+zip");
    assert_eq!(sniff(&epub), Some(BookFormat::Epub));
    // Debian's Sphinx-built guides put the container first.
    let sphinx = zip_entry("META-INF/container.xml", 8, b"\x8d\x90");
    assert_eq!(sniff(&sphinx), Some(BookFormat::Epub));
    for other in [
        zip_entry("mimetype", 0, b"application/vnd.oasis.opendocument.text"),
        zip_entry("META-INF/MANIFEST.MF", 8, b"\x00"), // a JAR
        zip_entry("[Content_Types].xml", 8, b"\x00"),  // a DOCX
        b"PK\x03\x04".to_vec(),
    ] {
        assert_eq!(sniff(&other), None);
    }
    assert_eq!(sniff(b"%PDF-1.7\n"), Some(BookFormat::Pdf));
}

#[test]
fn titles_are_cleaned_and_bounded() {
    assert_eq!(validate_title("  A\ttale \n").unwrap(), "A tale");
    assert!(validate_title("   ").is_err());
    assert!(validate_title(&"x".repeat(501)).is_err());
}

#[test]
fn each_refusal_answers_its_status_and_names_what_was_wrong() {
    use crate::error::{ApiError, UploadError};
    use actix_web::ResponseError;
    let status = |e: UploadError| ApiError::from(e).status_code().as_u16();
    assert_eq!(status(UploadError::TooLarge { limit: 10 }), 413);
    assert_eq!(status(UploadError::NotABook), 415);
    assert_eq!(status(UploadError::EmptyFile), 415);
    assert_eq!(status(UploadError::TooSlow), 408);
    assert_eq!(status(UploadError::Repeated("title")), 400);
    assert_eq!(status(UploadError::MissingHousehold), 400);
    assert!(matches!(
        ocr_languages("en,tlh"),
        Err(UploadError::UnknownLanguage { code, .. }) if code == "tlh"
    ));
    assert!(matches!(ocr_languages(" , "), Err(UploadError::NoLanguage)));
    assert!(matches!(validate_title("  "), Err(UploadError::EmptyTitle)));
    assert_eq!(
        UploadError::TooLarge { limit: 10 }.to_string(),
        "the file is larger than the 10-byte limit"
    );
}
