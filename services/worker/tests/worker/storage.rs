//! A book through the real api and the real worker with its object on a real
//! S3-compatible server (s3s-fs) and on a GCS emulator: the stack is not only
//! proven on local files.

use std::time::Duration;

use crate::helpers::{Stack, corpus, text_of};
use test_support::{GcsServer, S3Server};

/// Upload a corpus PDF with `vars` as both services' storage and wait until it is
/// read, with its text.
async fn a_book_becomes_ready_on(vars: &[(String, String)]) -> Stack {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let stack = Stack::with_api_vars(&vars).await;
    let worker = stack.spawn_worker(&vars).await;
    let book = stack.upload(&corpus("gofpdf_multicolumn.pdf")).await;
    let status = stack.settled(&book, Duration::from_secs(90)).await;
    assert_eq!(status["status"], "ready", "{status}\n{}", worker.log_text());
    let text = text_of(&stack.chunks(&book).await);
    assert!(text.contains("THE PROS AND CONS"), "{text}");
    stack
}

#[tokio::test]
async fn a_book_on_gcs_is_stored_read_and_made_ready() {
    let gcs = GcsServer::start().await;
    let _stack = a_book_becomes_ready_on(&gcs.vars("readme/dev")).await;
    let names = gcs.json_api_names().await;
    let [name] = names.as_slice() else {
        panic!("one object, the book, under the prefix: {names:?}")
    };
    assert!(
        name.starts_with("readme/dev/") && name.ends_with(".pdf"),
        "{name}"
    );
    let stored = gcs.json_api_get(name).await.expect("the book's object");
    assert_eq!(
        stored,
        std::fs::read(corpus("gofpdf_multicolumn.pdf")).unwrap(),
        "the bucket holds the uploaded bytes"
    );
}

#[tokio::test]
async fn a_book_on_s3_is_stored_read_and_made_ready() {
    let s3 = S3Server::start().await;
    let _stack = a_book_becomes_ready_on(&s3.vars("readme/dev")).await;
    let dir = s3.root.path().join(&s3.bucket).join("readme/dev");
    let pdfs: Vec<_> = test_support::files_under(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    let [pdf] = pdfs.as_slice() else {
        panic!("one object, the book, under the prefix: {pdfs:?}")
    };
    assert_eq!(
        std::fs::read(pdf).unwrap(),
        std::fs::read(corpus("gofpdf_multicolumn.pdf")).unwrap()
    );
}
