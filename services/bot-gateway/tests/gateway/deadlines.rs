//! Request bodies have deadlines: a declared length over the limit is refused at
//! once, and a body that trickles in is cut off with 408.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{set, spawn_app_with, token_for};

fn port_of(address: &str) -> u16 {
    address.rsplit(':').next().unwrap().parse().unwrap()
}

/// Everything the server answers on `stream`, until it closes or 10 s pass.
async fn answer(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut piece = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut piece)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&piece[..n]);
                if String::from_utf8_lossy(&buf).contains("\r\n\r\n{") && buf.ends_with(b"}") {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_at_once() {
    let app = spawn_app_with(|_| {}).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port_of(&app.address)))
        .await
        .unwrap();
    let head = format!(
        "POST /api/start HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{{",
        token_for("u-big", 600)
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    let response = answer(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains("\"error\":\"payload_too_large\""),
        "{response}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_with_408() {
    let app = spawn_app_with(|v| {
        set(v, "BODY_IDLE_TIMEOUT_SECONDS", "1");
        set(v, "BODY_MIN_BYTES_PER_SECOND", "1000");
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port_of(&app.address)))
        .await
        .unwrap();
    let body = format!(
        "{{\"transport\": \"daily\", \"body\": {{\"listener\": \"{}\"}}}}",
        "a".repeat(40)
    );
    let head = format!(
        "POST /api/start HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        token_for("u-slow", 600),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    // Ten bytes a second, far under the minimum: refused after the 1 s grace.
    let sender = async {
        for piece in body.as_bytes().chunks(1) {
            if stream.write_all(piece).await.is_err() {
                break;
            }
            // The slow client under test: its pace is the point, not a wait.
            tokio::time::sleep(Duration::from_millis(100)).await;
            if started.elapsed() > Duration::from_secs(3) {
                break;
            }
        }
    };
    sender.await;
    let response = answer(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response.contains("\"error\":\"request_timeout\""),
        "{response}"
    );
    assert!(
        app.upstream
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}
