//! Start-up, health, configuration errors and SIGTERM, in process and as the real binary.

use std::path::Path;
use std::time::Duration;

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
async fn metrics_answer_only_the_metrics_token_when_one_is_set() {
    let env = TestEnv::new().await;
    let mut vars = env.vars();
    vars.push(("HEALTH_PORT".into(), "0".into()));
    vars.push((
        "METRICS_TOKEN".into(),
        "metrics-token-0123456789abcdef".into(),
    ));
    let worker = Worker::build(Config::from_vars(&Vars::from_pairs(vars)).unwrap())
        .await
        .unwrap();
    let port = worker.health_port().expect("a health port");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    let wrong = client
        .get(&url)
        .bearer_auth("metrics-token-wrong-wrong-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = client
        .get(&url)
        .bearer_auth("metrics-token-0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status().as_u16(), 200);
    // Health stays open: the platform's checks carry no token.
    let health = client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn no_health_endpoint_without_health_port_or_port() {
    let env = TestEnv::new().await;
    let mut vars = env.vars();
    vars.retain(|(k, _)| k != "PORT" && k != "HEALTH_PORT");
    let worker = Worker::build(Config::from_vars(&Vars::from_pairs(vars)).unwrap())
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

#[tokio::test]
async fn health_and_readiness_are_served_on_the_platforms_port() {
    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = env.vars();
    test_support::set_var(&mut vars, "PORT", port.to_string());
    let mut process = ServiceProcess::spawn(Path::new(BIN), &vars, port);
    process.wait_healthy().await;
    let ready = reqwest::get(format!("http://127.0.0.1:{port}/health/ready"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");
    assert_eq!(body["checks"]["storage"], "ok");
    assert!(process.terminate().await.success());
}

/// The binary without `MIGRATE_ON_START` on a database not yet migrated, logging to
/// a file; returns once it says it is waiting for its schema.
async fn start_waiting_for_schema(
    env: &TestEnv,
    empty: &test_support::TestDatabase,
    dir: &Path,
) -> (ServiceProcess, u16) {
    let port = free_port();
    let mut vars = env.vars();
    test_support::set_var(&mut vars, "DATABASE_URL", empty.url());
    test_support::set_var(&mut vars, "MIGRATE_ON_START", "false");
    test_support::set_var(&mut vars, "PORT", port.to_string());
    let log = dir.join("worker.log");
    let process = ServiceProcess::spawn_logging_to(Path::new(BIN), &vars, port, &log);
    test_support::eventually(
        "the worker to say it waits for its schema",
        Duration::from_secs(30),
        || async {
            std::fs::read_to_string(&log)
                .ok()
                .filter(|l| l.contains("not starting on an older schema"))
        },
    )
    .await;
    (process, port)
}

#[tokio::test]
async fn without_migrate_on_start_the_binary_never_runs_on_an_older_schema() {
    let env = TestEnv::new().await;
    let empty = test_support::TestDatabase::create_empty().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut process, port) = start_waiting_for_schema(&env, &empty, dir.path()).await;
    // Nothing is served (a deploy's health check fails) while the schema is old...
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/health"))
            .await
            .is_err(),
        "health must not be served before the schema is current"
    );
    assert!(process.exited().is_none());
    // ...and the worker starts once the release's migration has run.
    shared_domain::db::migrate(&empty.config()).await.unwrap();
    process.wait_healthy().await;
    assert!(process.terminate().await.success());
}

#[tokio::test]
async fn a_worker_waiting_for_its_schema_exits_0_on_sigterm() {
    let env = TestEnv::new().await;
    let empty = test_support::TestDatabase::create_empty().await;
    let dir = tempfile::tempdir().unwrap();
    let (process, _) = start_waiting_for_schema(&env, &empty, dir.path()).await;
    let status = process.terminate().await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
}
