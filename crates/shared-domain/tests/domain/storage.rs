//! Object storage on local files, on a real S3-compatible server and on a GCS
//! emulator.

use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use shared_domain::storage::StorageError;
use shared_domain::{Storage, StorageConfig, Vars};
use test_support::{GcsServer, S3Server};

/// 20 MiB in 64 KiB pieces of varying bytes: several multipart parts.
const PIECE: usize = 64 * 1024;
const PIECES: usize = 320;

fn pieces() -> impl Iterator<Item = Bytes> {
    (0..PIECES).map(|i| {
        Bytes::from(
            (0..PIECE)
                .map(|j| ((i * 31 + j * 7) % 251) as u8)
                .collect::<Vec<_>>(),
        )
    })
}

fn expected_sha() -> Vec<u8> {
    let mut h = Sha256::new();
    for p in pieces() {
        h.update(&p);
    }
    h.finalize().to_vec()
}

/// put (streamed) → head → get (streamed) → delete → head, on any backend.
async fn round_trip(storage: &Storage) {
    let key = "11111111-1111-1111-1111-111111111111/books/round-trip.pdf";
    let total = (PIECE * PIECES) as u64;

    let stream = futures::stream::iter(pieces().map(Ok::<_, std::io::Error>));
    let written = storage.put_stream(key, stream).await.expect("streamed put");
    assert_eq!(written, total);

    let info = storage.head(key).await.unwrap().expect("the object exists");
    assert_eq!(info.size, total);

    let mut hasher = Sha256::new();
    let mut read = 0u64;
    let mut body = storage.get_stream(key).await.unwrap();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        read += chunk.len() as u64;
        hasher.update(&chunk);
    }
    assert_eq!(read, total);
    assert_eq!(
        hasher.finalize().to_vec(),
        expected_sha(),
        "the bytes come back unchanged"
    );

    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("copy.pdf");
    assert_eq!(storage.download_to(key, &local).await.unwrap(), total);
    assert_eq!(std::fs::metadata(&local).unwrap().len(), total);

    storage.delete(key).await.unwrap();
    assert_eq!(storage.head(key).await.unwrap(), None);
    storage
        .delete(key)
        .await
        .expect("deleting a missing object succeeds");
    assert!(matches!(
        storage.get_stream(key).await,
        Err(StorageError::NotFound(_))
    ));
    storage.check().await.expect("the readiness probe passes");
}

fn storage_from(vars: Vec<(String, String)>) -> Storage {
    Storage::from_config(&StorageConfig::from_vars(&Vars::from_pairs(vars)).unwrap()).unwrap()
}

#[tokio::test]
async fn file_storage_streams_a_multi_mib_object_through_put_get_head_delete() {
    let dir = tempfile::tempdir().unwrap();
    let storage = storage_from(vec![(
        "STORAGE_URL".into(),
        format!("file://{}/objects", dir.path().display()),
    )]);
    assert_eq!(storage.backend(), "file");
    round_trip(&storage).await;
}

#[tokio::test]
async fn s3_storage_streams_a_multi_mib_object_through_put_get_head_delete() {
    let s3 = S3Server::start().await;
    let storage = storage_from(s3.vars("books-prefix"));
    assert_eq!(storage.backend(), "s3");
    round_trip(&storage).await;
}

#[tokio::test]
async fn gcs_storage_streams_a_multi_mib_object_through_put_get_head_delete() {
    let gcs = GcsServer::start().await;
    let storage = storage_from(gcs.vars("books-prefix"));
    assert_eq!(storage.backend(), "gcs");
    round_trip(&storage).await;
}

#[tokio::test]
async fn gcs_objects_land_under_the_url_prefix_and_list_rename_and_delete_there() {
    let gcs = GcsServer::start().await;
    let storage = storage_from(gcs.vars("env/dev"));
    // Two parts (5 MiB each at most) and a tail: the multipart path, not a simple put.
    let body: Vec<u8> = (0..11 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
    let stream = futures::stream::iter(
        body.chunks(256 * 1024)
            .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    storage
        .put_stream("h/uploads/tmp.pdf", stream)
        .await
        .unwrap();
    storage
        .put_stream(
            "h/books/small.pdf",
            futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"%PDF-1.7"))]),
        )
        .await
        .unwrap();

    // The emulator's own JSON API sees what our XML-API client wrote, under the prefix.
    assert_eq!(
        gcs.json_api_get("env/dev/h/uploads/tmp.pdf")
            .await
            .as_deref(),
        Some(body.as_slice()),
        "the multipart object is whole, in order"
    );

    storage
        .rename("h/uploads/tmp.pdf", "h/books/big.pdf")
        .await
        .expect("rename (copy then delete)");
    assert_eq!(storage.head("h/uploads/tmp.pdf").await.unwrap(), None);
    assert_eq!(
        storage
            .head("h/books/big.pdf")
            .await
            .unwrap()
            .map(|i| i.size),
        Some(body.len() as u64)
    );

    let mut listed: Vec<(String, u64)> = storage
        .list(None)
        .map(|r| r.map(|(key, info)| (key, info.size)))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            ("h/books/big.pdf".to_owned(), body.len() as u64),
            ("h/books/small.pdf".to_owned(), 8),
        ],
        "keys are listed relative to the prefix"
    );

    storage.delete("h/books/big.pdf").await.unwrap();
    storage.delete("h/books/small.pdf").await.unwrap();
    assert_eq!(gcs.json_api_names().await, Vec::<String>::new());
}

#[tokio::test]
async fn an_aborted_gcs_write_leaves_no_object() {
    let gcs = GcsServer::start().await;
    let storage = storage_from(gcs.vars("p"));
    let failing = futures::stream::iter(vec![
        Ok(Bytes::from(vec![1u8; 6 * 1024 * 1024])),
        Err(std::io::Error::other("client went away")),
    ]);
    assert!(storage.put_stream("h/books/x.pdf", failing).await.is_err());
    assert_eq!(storage.head("h/books/x.pdf").await.unwrap(), None);
    assert_eq!(gcs.json_api_names().await, Vec::<String>::new());
}

#[tokio::test]
async fn s3_objects_land_under_the_url_prefix() {
    let s3 = S3Server::start().await;
    let storage = storage_from(s3.vars("env/dev"));
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(
        b"%PDF-1.7 tiny",
    ))]);
    storage.put_stream("h/books/b.pdf", stream).await.unwrap();
    assert!(
        s3.root
            .path()
            .join(&s3.bucket)
            .join("env/dev/h/books/b.pdf")
            .exists()
    );
}

#[tokio::test]
async fn s3_with_a_wrong_secret_is_rejected_with_a_clear_error() {
    let s3 = S3Server::start().await;
    let mut vars = s3.vars("p");
    for (k, v) in &mut vars {
        if k == "AWS_SECRET_ACCESS_KEY" {
            *v = "not-the-secret".into();
        }
    }
    let storage = storage_from(vars);
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"%PDF-1.7"))]);
    let err = storage
        .put_stream("h/books/b.pdf", stream)
        .await
        .expect_err("a wrong secret must fail");
    assert!(matches!(err, StorageError::AccessDenied(_)), "{err:?}");
    assert!(err.to_string().contains("credentials"), "{err}");
    assert!(
        !format!("{err:?}").contains("not-the-secret"),
        "the secret leaked: {err:?}"
    );
    assert!(matches!(
        storage.check().await,
        Err(StorageError::AccessDenied(_))
    ));
}

#[tokio::test]
async fn an_aborted_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let storage = storage_from(vec![(
        "STORAGE_URL".into(),
        format!("file://{}", dir.path().display()),
    )]);
    let failing = futures::stream::iter(vec![
        Ok(Bytes::from(vec![1u8; 9 * 1024 * 1024])),
        Err(std::io::Error::other("client went away")),
    ]);
    assert!(storage.put_stream("h/books/x.pdf", failing).await.is_err());
    assert_eq!(storage.head("h/books/x.pdf").await.unwrap(), None);
    let leftovers: Vec<_> = test_support::files_under(dir.path());
    assert!(
        leftovers.is_empty(),
        "staging files left behind: {leftovers:?}"
    );
}

#[tokio::test]
async fn a_write_budget_takes_writers_in_turn_and_refuses_one_that_waits_too_long() {
    use futures::FutureExt;
    use std::time::Duration;

    let s3 = S3Server::start().await;
    let plain = storage_from(s3.vars("budget"));
    // Room for two writers' buffers, with a short wait.
    let storage = plain
        .clone()
        .with_write_budget(2 * plain.writer_memory(), Duration::from_millis(200));
    let mut first = storage.writer("h/books/first.pdf").await.unwrap();
    let second = storage.writer("h/books/second.pdf").await.unwrap();
    // A third waits while the two hold their share ...
    let waiting = storage.clone();
    let mut third = Box::pin(async move { waiting.writer("h/books/third.pdf").await });
    assert!(
        (&mut third).now_or_never().is_none(),
        "a third writer started beside two that hold the whole budget"
    );
    // ... and starts once one of them is done.
    first
        .write(Bytes::from_static(b"%PDF-1.7 first"))
        .await
        .unwrap();
    first.finish().await.unwrap();
    let mut third = third
        .await
        .expect("the third writer starts once the first is done");
    third
        .write(Bytes::from_static(b"%PDF-1.7 third"))
        .await
        .unwrap();
    third.finish().await.unwrap();
    assert!(storage.head("h/books/third.pdf").await.unwrap().is_some());

    // With the second still open and a fourth holding the freed share, a fifth
    // waits out its wait and is refused, and nothing is written under its key.
    let _fourth = storage.writer("h/books/fourth.pdf").await.unwrap();
    let refused = storage.writer("h/books/fifth.pdf").await;
    assert!(
        matches!(refused, Err(StorageError::Busy)),
        "expected Busy, got {:?}",
        refused.err()
    );
    assert!(storage.head("h/books/fifth.pdf").await.unwrap().is_none());
    // A dropped writer gives its share back too.
    drop(second);
    assert!(storage.writer("h/books/sixth.pdf").await.is_ok());
    // The budget belongs to the handle it was set on: the plain one has none.
    assert!(plain.writer("h/books/seventh.pdf").await.is_ok());
}
