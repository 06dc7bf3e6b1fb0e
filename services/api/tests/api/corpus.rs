//! Every file of the shared corpus through the real upload route, and the seeds'
//! smoke-test curl command through the real `curl` binary.

use serde_json::Value;

use crate::helpers::{ADMIN_TOKEN, HOUSEHOLD, spawn_app};

/// Corpus files that are neither PDFs nor EPUBs by content and must be refused.
const NOT_PDF: [&str; 2] = ["qpdf_issue-147.pdf", "qpdf_issue-335a.pdf"];

#[tokio::test]
async fn every_corpus_file_uploads_or_is_refused_by_content() {
    let app = spawn_app().await;
    let dir = test_support::corpus_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf" || e == "epub"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus is there");
    let mut accepted = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let form = crate::helpers::form(HOUSEHOLD, std::fs::read(path).unwrap(), &name);
        let res = app.upload(form).await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        if NOT_PDF.contains(&name.as_str()) {
            assert_eq!(status, 415, "{name}: {body}");
            assert_eq!(body["error"], "unsupported_media_type");
        } else {
            assert_eq!(status, 200, "{name}: {body}");
            assert_eq!(body["deduplicated"], false, "{name}");
            // Stored under the extension its content says, whatever its name.
            let extension = if name.ends_with(".epub") {
                ".epub"
            } else {
                ".pdf"
            };
            let path = body["storage_path"].as_str().unwrap_or_default();
            assert!(path.ends_with(extension), "{name}: {path}");
            accepted += 1;
        }
    }
    assert_eq!(app.stored_objects().len(), accepted);
}

#[tokio::test]
async fn the_seeds_smoke_test_curl_works_with_the_authorization_header() {
    let app = spawn_app().await;
    let book = test_support::corpus_dir().join("debhist_en.pdf");
    // The seeds' command, verbatim but for the added header.
    // Async: a blocking wait would stall this test's runtime.
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "-X",
            "POST",
            &format!("{}/admin/books/upload", app.address),
        ])
        .args(["-H", &format!("Authorization: Bearer {ADMIN_TOKEN}")])
        .args(["-F", "household_id=11111111-1111-1111-1111-111111111111"])
        .args([
            "-F",
            &format!("file=@{};type=application/pdf", book.display()),
        ])
        .args(["-w", "\n%{http_code}"])
        .output()
        .await
        .expect("curl is installed (scripts/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (body, code) = stdout.rsplit_once('\n').unwrap();
    assert_eq!(
        code,
        "200",
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_str(body).unwrap();
    assert!(body["book_id"].is_string());
    assert_eq!(body["status"], "processing");
    assert_eq!(
        body["storage_path"],
        format!(
            "11111111-1111-1111-1111-111111111111/books/{}.pdf",
            body["book_id"].as_str().unwrap()
        )
    );
    assert_eq!(
        body["title"],
        Value::Null,
        "the body is the documented shape, no extras"
    );
}
