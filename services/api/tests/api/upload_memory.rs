//! `UPLOAD_BUFFER_MIB`: uploads take turns at the storage write buffers, a turn
//! waited for is not charged to the client's pace, and one that does not come in
//! time is a 503 that loses nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use test_support::{ServiceProcess, TestEnv, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::helpers::{ADMIN_TOKEN, HOUSEHOLD, form, pdf, set, vars};

/// The api binary in a process of its own, so that its `/metrics` are its alone.
struct Api {
    env: TestEnv,
    port: u16,
    _process: ServiceProcess,
}

/// One upload's buffers (768 KiB on local files) fit in 1 MiB, two do not. The
/// body must average 100,000 bytes a second after a 1 s grace.
async fn one_at_a_time(wait_seconds: &str) -> Api {
    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = vars(&env);
    set(&mut vars, "PORT", port.to_string());
    set(&mut vars, "UPLOAD_BUFFER_MIB", "1");
    set(&mut vars, "UPLOAD_BUFFER_WAIT_SECONDS", wait_seconds);
    set(&mut vars, "BODY_IDLE_TIMEOUT_SECONDS", "1");
    set(&mut vars, "BODY_MIN_BYTES_PER_SECOND", "100000");
    let mut process = ServiceProcess::spawn(Path::new(env!("CARGO_BIN_EXE_api")), &vars, port);
    process.wait_healthy().await;
    Api {
        env,
        port,
        _process: process,
    }
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Bytes reserved for write buffers, from `/metrics`.
    async fn reserved(&self) -> f64 {
        let text = reqwest::get(self.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("storage_write_reserved_bytes "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }

    fn stored_objects(&self) -> Vec<String> {
        test_support::files_under(self.env.storage_dir.path())
            .into_iter()
            .map(|p| p.display().to_string())
            .collect()
    }
}

/// An upload over a raw connection: the form's head and the file's first 2 KiB
/// at once (past the first KiB, so the file is sniffed and its writer asked
/// for), then `pieces` more bytes of the file, one every `every`, then the end.
/// Returns the raw response.
async fn raw_upload(
    app: &Api,
    household: &str,
    pieces: Vec<Vec<u8>>,
    every: Duration,
) -> tokio::task::JoinHandle<String> {
    let port = app.port;
    let boundary = "raw-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"household_id\"\r\n\r\n{household}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"raw.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    );
    let first = vec![b'x'; 2048];
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head.len() + first.len() + pieces.iter().map(Vec::len).sum::<usize>() + tail.len();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!(
        "POST /admin/books/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n{head}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&first).await.unwrap();
    tokio::spawn(async move {
        for piece in pieces {
            // The client's own pace, under test.
            tokio::time::sleep(every).await;
            if stream.write_all(&piece).await.is_err() {
                break;
            }
        }
        let _ = stream.write_all(tail.as_bytes()).await;
        let mut response = Vec::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response)).await;
        String::from_utf8_lossy(&response).into_owned()
    })
}

/// An upload that takes the only buffer and keeps it for about `hold`, sending
/// 200,000 bytes a second (twice the minimum); returned once it holds it.
async fn hold_the_buffer(app: &Api, hold: Duration) -> tokio::task::JoinHandle<String> {
    let pieces = vec![vec![b'y'; 20_000]; hold.as_millis() as usize / 100];
    let upload = raw_upload(app, HOUSEHOLD, pieces, Duration::from_millis(100)).await;
    test_support::eventually(
        "the first upload holds the buffer",
        Duration::from_secs(10),
        || async { (app.reserved().await > 0.0).then_some(()) },
    )
    .await;
    upload
}

#[tokio::test]
async fn an_upload_that_waits_its_turn_is_not_charged_for_the_wait() {
    let app = one_at_a_time("30").await;
    let first = hold_the_buffer(&app, Duration::from_secs(3)).await;
    // The second sends 2 KiB, then the other 100 KiB half a second later, while
    // it waits ~3 s for the buffer. At 100,000 bytes a second after a 1 s grace,
    // a client charged for that wait would be cut off as too slow when the
    // 100 KiB is read.
    let started = Instant::now();
    let second = raw_upload(
        &app,
        HOUSEHOLD,
        vec![vec![b'z'; 100 * 1024]],
        Duration::from_millis(500),
    )
    .await
    .await
    .unwrap();
    let waited = started.elapsed();
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
    assert!(
        waited >= Duration::from_secs(1),
        "the second upload did not wait for the first ({waited:?}): the budget let two in"
    );
    let first = first.await.unwrap();
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert_eq!(app.reserved().await, 0.0, "every buffer is given back");
}

#[tokio::test]
async fn an_upload_that_cannot_get_a_buffer_in_time_is_a_503_that_stores_nothing() {
    let app = one_at_a_time("0").await;
    let first = hold_the_buffer(&app, Duration::from_secs(1)).await;
    let household = Uuid::new_v4().to_string();
    let res = reqwest::Client::new()
        .post(app.url("/admin/books/upload"))
        .bearer_auth(ADMIN_TOKEN)
        .multipart(form(&household, pdf("refused"), "refused.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "service_unavailable");
    assert!(
        !app.stored_objects().iter().any(|o| o.contains(&household)),
        "the refused upload left an object: {:?}",
        app.stored_objects()
    );
    let db = app.env.db.client().await;
    let books: i64 = db
        .query_one(
            "SELECT count(*) FROM books WHERE household_id = $1::text::uuid",
            &[&household],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(books, 0, "the refused upload left a book row");
    // The holder was never disturbed.
    let first = first.await.unwrap();
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
}
