//! The real `bot-gateway` binary: start-up, configuration errors, SIGTERM.

use std::path::Path;

use test_support::{ServiceProcess, TestRedis, assert_each_missing_variable_is_named, free_port};

use crate::helpers::vars;

const BIN: &str = env!("CARGO_BIN_EXE_bot-gateway");

#[tokio::test]
async fn the_binary_serves_health_and_exits_0_on_sigterm() {
    let redis = TestRedis::new();
    let port = free_port();
    let mut vars = vars(&redis, "http://localhost:7860/start");
    test_support::set_var(&mut vars, "PORT", port.to_string());
    let mut process = ServiceProcess::spawn(Path::new(BIN), &vars, port);
    process.wait_healthy().await;
    let status = process.terminate().await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[tokio::test]
async fn a_missing_variable_stops_start_up_naming_it() {
    let redis = TestRedis::new();
    let complete = vars(&redis, "http://localhost:7860/start");
    assert_each_missing_variable_is_named(
        Path::new(BIN),
        &complete,
        &[
            "REDIS_URL",
            "BOT_START_URL",
            "SUPABASE_JWT_SECRET",
            "SERVICE_API_TOKEN",
        ],
    );
}

#[tokio::test]
async fn keys_and_tokens_never_reach_the_logs() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let upstream = MockServer::start().await;
    // A provider that echoes the key it rejected.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            serde_json::json!({"error": "bad key pk_live_TOPSECRET", "code": "401"}),
        ))
        .mount(&upstream)
        .await;
    let redis = TestRedis::new();
    let port = free_port();
    let mut vars = vars(
        &redis,
        &format!("{}/v1/public/reader/start", upstream.uri()),
    );
    vars.retain(|(k, _)| k != "PORT" && k != "RUST_LOG");
    vars.extend([
        ("PORT".into(), port.to_string()),
        ("RUST_LOG".into(), "debug".into()),
        (
            "BOT_START_PUBLIC_API_KEY".into(),
            "pk_live_TOPSECRET".into(),
        ),
        ("PIPECAT_PRIVATE_API_KEY".into(), "sk_live_TOPSECRET".into()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    let mut process = ServiceProcess::spawn_logging_to(Path::new(BIN), &vars, port, &log);
    process.wait_healthy().await;

    let user_token = crate::helpers::token_for("u1", 60);
    let res = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/start"))
        .bearer_auth(&user_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert!(process.terminate().await.success());

    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        logs.contains("upstream_misconfigured"),
        "the failure is logged: {logs}"
    );
    for secret in [
        "TOPSECRET",
        &user_token,
        crate::helpers::JWT_SECRET,
        crate::helpers::SERVICE_TOKEN,
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}
