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
    vars.retain(|(k, _)| k != "PORT");
    vars.push(("PORT".into(), port.to_string()));
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
