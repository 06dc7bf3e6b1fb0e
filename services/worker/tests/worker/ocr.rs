//! Scanned books through the real API and the real worker: OCR reads the pages
//! without a text layer (a scan turned on its side included) and only those, in
//! the languages the upload names; with OCR off a scan fails as before.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{ADMIN_TOKEN, HOUSEHOLD, Stack, corpus};

/// A PDF made by `scripts/scan-fixtures`.
fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scan")
        .join(file)
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Upload with a `language` field.
async fn post_in(stack: &Stack, path: &std::path::Path, language: &str) -> reqwest::Response {
    let form = Form::new()
        .text("household_id", HOUSEHOLD)
        .text("language", language.to_owned())
        .part(
            "file",
            Part::bytes(std::fs::read(path).expect("read")).file_name("scan.pdf"),
        );
    stack
        .client
        .post(format!("{}/admin/books/upload", stack.api))
        .bearer_auth(ADMIN_TOKEN)
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

/// Upload with a `language` field; the book id.
async fn upload_in(stack: &Stack, path: &std::path::Path, language: &str) -> String {
    let res = post_in(stack, path, language).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    body["book_id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_book_mixing_text_and_a_turned_scan_is_read_whole() {
    let stack = Stack::new().await;
    let _worker = stack.spawn_worker(&[]).await;
    let book = upload_in(&stack, &fixture("mixed-rotated.pdf"), "en").await;
    let status = stack.settled(&book, Duration::from_secs(180)).await;
    assert_eq!(status["status"], "ready", "{status}");
    assert_eq!(status["text_engine"], "pdf-extract+tesseract", "{status}");
    let chunks = stack.chunks(&book).await;
    // The text page is read from its text layer, once; the scan by OCR, upright.
    let all = squash(&crate::helpers::text_of(&chunks));
    assert_eq!(
        all.matches("This first page has a text layer of its own.")
            .count(),
        1,
        "{all}"
    );
    assert!(
        all.contains("I got a good going-over in the morning"),
        "the scan is read the right way up: {all}"
    );
    // A chunk knows whether it holds OCR'd text (the scan is page 2): one of the
    // text page alone does not.
    for c in &chunks {
        let scanned = c["page_end"].as_i64() == Some(2);
        assert_eq!(c["ocr"] == true, scanned, "{c}");
    }
}

#[tokio::test]
async fn with_ocr_off_a_scan_has_no_text_layer() {
    let stack = Stack::new().await;
    let _worker = stack.spawn_worker(&[("OCR_ENABLED", "false")]).await;
    let book = stack.upload(&corpus("ocr_c03-29_huckfinn_scan.pdf")).await;
    let status = stack.settled(&book, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "failed", "{status}");
    assert_eq!(status["error"]["code"], "no_text_layer", "{status}");
}

#[tokio::test]
async fn an_upload_names_the_languages_ocr_reads() {
    let stack = Stack::new().await;
    let res = post_in(&stack, &corpus("ocr_jbig2.pdf"), "tlh").await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`language`"),
        "{body}"
    );
    // Named by any ISO 639 code, stored as Tesseract names them, read in them.
    let _worker = stack.spawn_worker(&[]).await;
    let book = upload_in(&stack, &corpus("ocr_jbig2.pdf"), "fre, en").await;
    let stored: Vec<String> = stack
        .db()
        .await
        .query_one(
            "SELECT ocr_languages FROM books WHERE id = $1::text::uuid",
            &[&book],
        )
        .await
        .expect("row")
        .get(0);
    assert_eq!(stored, ["fra", "eng"]);
    let status = stack.settled(&book, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "ready", "{status}");
}
