//! The real `api` binary: start-up, configuration errors, SIGTERM, `api migrate`.

use std::path::Path;

use test_support::{
    ServiceProcess, TestDatabase, TestEnv, assert_each_missing_variable_is_named, free_port,
    run_to_end,
};

use crate::helpers::vars;

const BIN: &str = env!("CARGO_BIN_EXE_api");

#[tokio::test]
async fn the_binary_serves_health_and_exits_0_on_sigterm() {
    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = vars(&env);
    test_support::set_var(&mut vars, "PORT", port.to_string());

    let mut process = ServiceProcess::spawn(Path::new(BIN), &vars, port);
    process.wait_healthy().await;
    let status = process.terminate().await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Send raw bytes on a fresh connection; the response, as far as it came.
async fn raw_request(port: u16, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(bytes).await.expect("write");
    let mut response = Vec::new();
    // The server closes the connection after these answers; this only bounds a hang.
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn malformed_requests_are_not_logged_as_errors() {
    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = vars(&env);
    test_support::set_var(&mut vars, "PORT", port.to_string());
    test_support::set_var(&mut vars, "RUST_LOG", "info");
    let log = env.storage_dir.path().join("api.log");
    let mut process = ServiceProcess::spawn_logging_to(Path::new(BIN), &vars, port, &log);
    process.wait_healthy().await;

    let cases: [&[u8]; 4] = [
        b"GET /health HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
        b"POST /admin/books/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\ncut short",
    ];
    for case in &cases[..3] {
        // Refused by the HTTP layer before the app: still the JSON error shape.
        let answered = raw_request(port, case).await;
        assert!(answered.starts_with("HTTP/1.1 400"), "{answered}");
        assert!(
            answered.contains("content-type: application/json"),
            "{answered}"
        );
        assert!(answered.contains("\"error\":\"bad_request\""), "{answered}");
    }
    let _ = raw_request(port, cases[3]).await;
    // A head that never finishes: 408 after actix's 5 s head deadline, in JSON.
    let started = std::time::Instant::now();
    let answered = raw_request(port, b"GET /health HTTP/1.1\r\nHost: x\r\n").await;
    assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
    assert!(
        answered.contains("\"error\":\"request_timeout\""),
        "{answered}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let answered = raw_request(port, huge.as_bytes()).await;
    assert!(answered.starts_with("HTTP/1.1 431"), "{answered}");
    assert!(
        answered.contains("\"error\":\"request_header_fields_too_large\""),
        "{answered}"
    );
    // The api still answers, and has the refusals counted.
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_protocol_errors_total"), "{metrics}");
    assert!(process.terminate().await.success());
    let text = std::fs::read_to_string(&log).unwrap();
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\""))
        .collect();
    assert!(errors.is_empty(), "client-caused ERROR lines: {errors:#?}");
}

#[tokio::test]
async fn a_missing_variable_stops_start_up_naming_it() {
    let env = TestEnv::new().await;
    let required = [
        "DATABASE_URL",
        "REDIS_URL",
        "STORAGE_URL",
        "ADMIN_API_TOKEN",
        "SERVICE_API_TOKEN",
        "SUPABASE_JWT_SECRET",
    ];
    assert_each_missing_variable_is_named(Path::new(BIN), &vars(&env), &required);
}

#[tokio::test]
async fn a_malformed_variable_stops_start_up_naming_it_without_echoing_secrets() {
    let env = TestEnv::new().await;
    let mut bad = vars(&env);
    for (k, v) in &mut bad {
        if k == "ADMIN_API_TOKEN" {
            *v = "short-secret".into();
        }
    }
    let out = run_to_end(Path::new(BIN), &[], &bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ADMIN_API_TOKEN"), "{stderr}");
    assert!(
        !stderr.contains("short-secret"),
        "the value leaked: {stderr}"
    );
}

#[tokio::test]
async fn three_processes_migrating_one_empty_database_apply_each_migration_once() {
    let env = TestEnv::new().await;
    let empty = TestDatabase::create_empty().await;
    let mut vars = vars(&env);
    for (k, v) in &mut vars {
        if k == "DATABASE_URL" {
            *v = empty.url().to_owned();
        }
    }
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let vars = vars.clone();
            std::thread::spawn(move || run_to_end(Path::new(BIN), &["migrate"], &vars))
        })
        .collect();
    for handle in handles {
        let out = handle.join().unwrap();
        assert!(
            out.status.success(),
            "api migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let client = empty.client().await;
    let rows = client.query("SELECT version, count(*) OVER (PARTITION BY version) FROM refinery_schema_history ORDER BY version", &[]).await.unwrap();
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    let embedded: Vec<i32> = shared_domain::db::embedded_versions()
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert_eq!(versions, embedded, "each migration recorded exactly once");
    let tables: i64 = client
        .query_one("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('books', 'book_chunks', 'jobs')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 3);
}

#[tokio::test]
async fn behind_a_transaction_pooler_the_binary_stops_naming_the_session_pooler() {
    let env = TestEnv::new().await;
    let pooler = test_support::TlsServers::from_env().pgbouncer_transaction_port;
    let mut vars = vars(&env);
    test_support::set_var(
        &mut vars,
        "DATABASE_URL",
        env.db.url_via("127.0.0.1", pooler, "sslmode=disable"),
    );
    test_support::set_var(&mut vars, "PORT", free_port().to_string());
    let out = run_to_end(Path::new(BIN), &[], &vars);
    let logs = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{logs}");
    assert!(logs.contains("session pooler"), "{logs}");
}
