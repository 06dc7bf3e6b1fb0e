//! Start-up, health, configuration errors and SIGTERM, in process and as the real binary.

use std::path::Path;

use shared_domain::Vars;
use test_support::{ServiceProcess, TestEnv, assert_each_missing_variable_is_named, free_port};
use worker::{Config, Worker};

const BIN: &str = env!("CARGO_BIN_EXE_worker");

#[tokio::test]
async fn health_is_served_on_health_port_when_set() {
    let env = TestEnv::new().await;
    let mut vars = env.vars();
    vars.push(("HEALTH_PORT".into(), "0".into()));
    let worker = Worker::build(Config::from_vars(&Vars::from_pairs(vars)).unwrap())
        .await
        .unwrap();
    let port = worker.health_port().expect("a health port");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    let body: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["service"], "worker");
    // Stop it before the test database goes: DROP DATABASE waits (up to a minute)
    // on backends whose client is parked on this test's blocked runtime.
    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn no_health_endpoint_without_health_port() {
    let env = TestEnv::new().await;
    let worker = Worker::build(Config::from_vars(&Vars::from_pairs(env.vars())).unwrap())
        .await
        .unwrap();
    assert_eq!(worker.health_port(), None);
}

#[tokio::test]
async fn the_binary_serves_health_and_exits_0_on_sigterm() {
    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = env.vars();
    vars.push(("HEALTH_PORT".into(), port.to_string()));
    let mut process = ServiceProcess::spawn(Path::new(BIN), &vars, port);
    process.wait_healthy().await;
    let status = process.terminate().await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[tokio::test]
async fn a_missing_variable_stops_start_up_naming_it() {
    let env = TestEnv::new().await;
    assert_each_missing_variable_is_named(
        Path::new(BIN),
        &env.vars(),
        &["DATABASE_URL", "REDIS_URL", "STORAGE_URL"],
    );
}
