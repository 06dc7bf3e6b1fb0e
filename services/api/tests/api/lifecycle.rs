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
