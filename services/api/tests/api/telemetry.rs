//! Traces leave the process over OTLP, and the last ones are flushed on SIGTERM.

use std::path::Path;

use test_support::{ServiceProcess, TestEnv, free_port};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::vars;

#[tokio::test]
async fn spans_are_exported_over_otlp_and_flushed_on_sigterm() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;

    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = vars(&env);
    vars.retain(|(k, _)| k != "PORT" && k != "RUST_LOG");
    vars.extend([
        ("PORT".into(), port.to_string()),
        ("RUST_LOG".into(), "info".into()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), collector.uri()),
    ]);

    let mut process = ServiceProcess::spawn(Path::new(env!("CARGO_BIN_EXE_api")), &vars, port);
    process.wait_healthy().await;
    assert!(process.terminate().await.success());

    // The batch exporter had no reason to send before shutdown: what arrived was flushed by it.
    let requests = collector.received_requests().await.unwrap_or_default();
    let exported: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path() == "/v1/traces")
        .collect();
    assert!(!exported.is_empty(), "no OTLP export reached the collector");
    let body = &exported[0].body;
    assert!(
        body.windows(3).any(|w| w == b"api"),
        "the service name is in the exported resource"
    );
}
