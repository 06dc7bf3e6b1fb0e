//! `POST /admin/books/upload`.

use reqwest::multipart::{Form, Part};
use serde_json::Value;
use test_support::TcpProxy;
use uuid::Uuid;

use crate::helpers::{
    ADMIN_TOKEN, HOUSEHOLD, SERVICE_TOKEN, file_part, form, pdf, set, spawn_app, spawn_app_in,
    spawn_app_with, user_token, vars,
};

async fn error_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("a JSON error body"))
}

#[tokio::test]
async fn an_upload_stores_the_object_records_book_and_job_and_publishes() {
    let app = spawn_app().await;
    let body = app.upload_ok(HOUSEHOLD, pdf("one"), "Moby Dick.pdf").await;

    let book_id: Uuid = body["book_id"].as_str().unwrap().parse().unwrap();
    let job_id: Uuid = body["job_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(body["status"], "processing");
    assert_eq!(body["deduplicated"], false);
    let path = format!("{HOUSEHOLD}/books/{book_id}.pdf");
    assert_eq!(body["storage_path"], path.as_str());
    assert_eq!(app.stored_objects(), vec![path.clone()]);
    assert_eq!(
        std::fs::read(app.env.storage_dir.path().join(&path)).unwrap(),
        pdf("one")
    );

    let db = app.db().await;
    let book = db
        .query_one(
            "SELECT title, status, byte_size, content_sha256 FROM books WHERE id = $1",
            &[&book_id],
        )
        .await
        .unwrap();
    assert_eq!(book.get::<_, String>(0), "Moby Dick");
    assert_eq!(book.get::<_, String>(1), "processing");
    assert_eq!(book.get::<_, i64>(2), pdf("one").len() as i64);
    let expected_sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(pdf("one")))
    };
    assert_eq!(book.get::<_, String>(3), expected_sha);
    let job = db
        .query_one(
            "SELECT status, published_at IS NOT NULL FROM jobs WHERE id = $1 AND book_id = $2",
            &[&job_id, &book_id],
        )
        .await
        .unwrap();
    assert_eq!(job.get::<_, String>(0), "queued");
    assert!(job.get::<_, bool>(1), "published_at is set after XADD");
    assert_eq!(app.stream_job_ids(), vec![job_id.to_string()]);
}

#[tokio::test]
async fn an_explicit_title_wins_over_the_file_name() {
    let app = spawn_app().await;
    let res = app
        .upload(form(HOUSEHOLD, pdf("t"), "file.pdf").text("title", "  The Real Title "))
        .await;
    let body: Value = res.json().await.unwrap();
    let id: Uuid = body["book_id"].as_str().unwrap().parse().unwrap();
    let title: String = app
        .db()
        .await
        .query_one("SELECT title FROM books WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(title, "The Real Title");
}

#[tokio::test]
async fn the_same_bytes_from_the_same_household_are_deduplicated() {
    let app = spawn_app().await;
    let first = app.upload_ok(HOUSEHOLD, pdf("same"), "a.pdf").await;
    let second = app.upload_ok(HOUSEHOLD, pdf("same"), "b.pdf").await;
    assert_eq!(second["deduplicated"], true);
    assert_eq!(second["book_id"], first["book_id"]);
    assert_eq!(second["job_id"], first["job_id"]);
    assert_eq!(second["storage_path"], first["storage_path"]);
    assert_eq!(app.stored_objects().len(), 1, "no second object");
    let db = app.db().await;
    let jobs: i64 = db
        .query_one("SELECT count(*) FROM jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(jobs, 1, "no second job");
    assert_eq!(app.stream_job_ids().len(), 1);

    // Another household with the same bytes gets its own book.
    let other = app
        .upload_ok("22222222-2222-2222-2222-222222222222", pdf("same"), "a.pdf")
        .await;
    assert_eq!(other["deduplicated"], false);
    assert_ne!(other["book_id"], first["book_id"]);
}

#[tokio::test]
async fn a_file_sent_before_household_id_is_accepted() {
    let app = spawn_app().await;
    let form = Form::new()
        .part("file", file_part(pdf("late"), "late.pdf"))
        .text("household_id", HOUSEHOLD);
    let res = app.upload(form).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let path = format!(
        "{HOUSEHOLD}/books/{}.pdf",
        body["book_id"].as_str().unwrap()
    );
    assert_eq!(body["storage_path"], path.as_str());
    assert_eq!(app.stored_objects(), vec![path], "moved out of staging");
}

#[tokio::test]
async fn an_epub_sent_before_household_id_lands_as_an_epub() {
    let app = spawn_app().await;
    let epub = std::fs::read(test_support::corpus_dir().join("pkgguide_de.epub")).unwrap();
    let form = Form::new()
        .part("file", file_part(epub, "Handbuch.bin"))
        .text("household_id", HOUSEHOLD);
    let res = app.upload(form).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let path = format!(
        "{HOUSEHOLD}/books/{}.epub",
        body["book_id"].as_str().unwrap()
    );
    assert_eq!(body["storage_path"], path.as_str());
    assert_eq!(app.stored_objects(), vec![path], "moved out of staging");
}

#[tokio::test]
async fn content_that_is_not_a_pdf_is_refused_with_415_and_nothing_stored() {
    let app = spawn_app().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".repeat(100);
    let html = b"<!doctype html><html><body>%PDF- is mentioned far too late</body></html>".to_vec();
    let mut late_html = vec![b' '; 2000];
    late_html.extend_from_slice(b"%PDF-1.4");
    // A ZIP that is not an EPUB: a JAR, whose first entry is its manifest.
    let mut jar = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    jar.extend_from_slice(&[0; 16]);
    jar.extend_from_slice(&20u16.to_le_bytes());
    jar.extend_from_slice(&0u16.to_le_bytes());
    jar.extend_from_slice(b"META-INF/MANIFEST.MF");
    jar.extend_from_slice(&[0x03, 0x00]);
    for (bytes, name) in [
        (png, "renamed.pdf"),
        (Vec::new(), "empty.pdf"),
        (html, "page.pdf"),
        (late_html, "late.pdf"),
        (jar, "book.epub"),
    ] {
        let (status, body) = error_of(app.upload(form(HOUSEHOLD, bytes, name)).await).await;
        assert_eq!(status, 415, "{name}: {body}");
        assert_eq!(body["error"], "unsupported_media_type", "{name}");
    }
    assert!(app.stored_objects().is_empty());
    let books: i64 = app
        .db()
        .await
        .query_one("SELECT count(*) FROM books", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(books, 0);
}

#[tokio::test]
async fn a_file_over_the_limit_gets_413_and_leaves_nothing() {
    let app = spawn_app_with(|_, vars| set(vars, "MAX_UPLOAD_BYTES", "100000")).await;
    let mut big = pdf("big");
    big.resize(100_001, b'x');
    let (status, body) = error_of(app.upload(form(HOUSEHOLD, big, "big.pdf")).await).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "payload_too_large");

    // A body whose declared length is over the limit is refused before it is read.
    let huge = vec![b'%'; 400_000];
    let (status, _) = error_of(app.upload(form(HOUSEHOLD, huge, "huge.pdf")).await).await;
    assert_eq!(status, 413);

    // Exactly at the limit is fine.
    let mut exact = pdf("exact");
    exact.resize(100_000, b'x');
    app.upload_ok(HOUSEHOLD, exact, "exact.pdf").await;
    assert_eq!(
        app.stored_objects().len(),
        1,
        "only the accepted file is stored"
    );
}

#[tokio::test]
async fn bad_fields_get_400_naming_the_field() {
    let app = spawn_app().await;
    let cases: Vec<(Form, &str)> = vec![
        (
            Form::new().part("file", file_part(pdf("a"), "a.pdf")),
            "household_id",
        ),
        (Form::new().text("household_id", HOUSEHOLD), "file"),
        (form("not-a-uuid", pdf("b"), "b.pdf"), "household_id"),
        (
            form(HOUSEHOLD, pdf("c"), "c.pdf").text("household_id", HOUSEHOLD),
            "household_id",
        ),
        (
            form(HOUSEHOLD, pdf("d"), "d.pdf").part("file", file_part(pdf("e"), "e.pdf")),
            "file",
        ),
        (
            form(HOUSEHOLD, pdf("f"), "f.pdf")
                .text("title", "a")
                .text("title", "b"),
            "title",
        ),
        (
            form(HOUSEHOLD, pdf("g"), "g.pdf").text("title", "   "),
            "title",
        ),
        (
            form(HOUSEHOLD, pdf("h"), "h.pdf").text("colour", "blue"),
            "colour",
        ),
    ];
    for (form, field) in cases {
        let (status, body) = error_of(app.upload(form).await).await;
        assert_eq!(status, 400, "{field}: {body}");
        assert_eq!(body["error"], "bad_request");
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{field}: {body}"
        );
    }
    assert!(
        app.stored_objects().is_empty(),
        "a rejected form leaves nothing: {:?}",
        app.stored_objects()
    );

    let res = app
        .client
        .post(app.url("/admin/books/upload"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"household_id": HOUSEHOLD}))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(res).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("multipart"),
        "{body}"
    );
}

#[tokio::test]
async fn upload_needs_the_admin_token() {
    let app = spawn_app().await;
    let url = app.url("/admin/books/upload");
    let res = app
        .client
        .post(&url)
        .multipart(form(HOUSEHOLD, pdf("x"), "x.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    for (token, expected) in [
        ("wrong-token", 401),
        (SERVICE_TOKEN, 403),
        (&user_token(HOUSEHOLD, 60) as &str, 403),
    ] {
        let res = app
            .client
            .post(&url)
            .bearer_auth(token)
            .multipart(form(HOUSEHOLD, pdf("x"), "x.pdf"))
            .send()
            .await
            .unwrap();
        let (status, body) = error_of(res).await;
        assert_eq!(status, expected, "{body}");
    }
    assert!(app.stored_objects().is_empty());
}

#[tokio::test]
async fn with_redis_down_the_upload_succeeds_and_the_job_waits_unpublished() {
    let dead = test_support::free_port();
    let app =
        spawn_app_with(|_, vars| set(vars, "REDIS_URL", format!("redis://127.0.0.1:{dead}"))).await;
    let started = std::time::Instant::now();
    let body = app.upload_ok(HOUSEHOLD, pdf("outbox"), "o.pdf").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "Redis being down must not stall the upload"
    );
    let job_id: Uuid = body["job_id"].as_str().unwrap().parse().unwrap();
    let row = app
        .db()
        .await
        .query_one(
            "SELECT status, published_at IS NULL FROM jobs WHERE id = $1",
            &[&job_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "queued");
    assert!(row.get::<_, bool>(1), "left for the sweeper to publish");
}

#[tokio::test]
async fn with_postgres_gone_mid_upload_nothing_is_left_behind() {
    let env = test_support::TestEnv::new().await;
    let db_url = env.db.url().to_owned();
    let proxy = TcpProxy::start(format!(
        "127.0.0.1:{}",
        url::Url::parse(&db_url).unwrap().port().unwrap()
    ))
    .await;
    let mut vars = vars(&env);
    set(&mut vars, "DATABASE_URL", proxy.url_for(&db_url));
    let app = spawn_app_in(env, vars).await;

    // A warm-up request proves the path through the proxy works.
    app.upload_ok(HOUSEHOLD, pdf("before"), "before.pdf").await;
    assert_eq!(app.stored_objects().len(), 1);

    // Stream a file; cut Postgres off while its bytes are in flight.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let mut content = pdf("during");
    content.resize(3 * 1024 * 1024, b'x');
    let part = Part::stream_with_length(body, content.len() as u64)
        .file_name("during.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let request = app
        .client
        .post(app.url("/admin/books/upload"))
        .bearer_auth(ADMIN_TOKEN)
        .multipart(
            Form::new()
                .text("household_id", HOUSEHOLD)
                .part("file", part),
        )
        .send();
    let sender = async {
        let (first, rest) = content.split_at(1024 * 1024);
        tx.send(Ok(first.to_vec())).await.unwrap();
        proxy.cut();
        tx.send(Ok(rest.to_vec())).await.unwrap();
        drop(tx);
    };
    let (res, ()) = tokio::join!(request, sender);
    let (status, body) = error_of(res.unwrap()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "service_unavailable");
    assert!(
        !body["message"].as_str().unwrap().contains("127.0.0.1"),
        "no internals: {body}"
    );
    assert_eq!(
        app.stored_objects().len(),
        1,
        "the half-done upload's object was deleted: {:?}",
        app.stored_objects()
    );
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn an_upload_that_trickles_in_is_cut_off_with_408_and_leaves_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_with(|_, v| {
        test_support::set_var(v, "BODY_IDLE_TIMEOUT_SECONDS", "1");
        test_support::set_var(v, "BODY_MIN_BYTES_PER_SECOND", "1000");
    })
    .await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let boundary = "trickle-boundary";
    let head_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"household_id\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n",
        Uuid::new_v4()
    );
    let file_bytes = vec![b'x'; 2000];
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head_part.len() + file_bytes.len() + tail.len();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!(
        "POST /admin/books/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n{head_part}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Then ten bytes a second: far under the minimum.
    let started = std::time::Instant::now();
    for piece in file_bytes.chunks(1) {
        if stream.write_all(piece).await.is_err()
            || started.elapsed() > std::time::Duration::from_secs(4)
        {
            break;
        }
        // The slow client under test: its pace is the point, not a wait.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut response = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response.contains("\"error\":\"request_timeout\""),
        "{response}"
    );
    assert!(
        app.stored_objects().is_empty(),
        "left behind: {:?}",
        app.stored_objects()
    );
}
