//! Test harness shared by every service's integration tests: a fresh Postgres
//! database per test (cloned from a migrated template), a fresh Redis namespace per
//! test, a real S3-compatible server, a GCS emulator, and polling with a deadline.
//!
//! The servers come from `scripts/test`, which starts them and exports
//! `TEST_DATABASE_URL` (a superuser URL), `TEST_REDIS_URL`, `S3S_FS_BIN` and
//! `GCS_EMULATOR_PYTHON`. A test run without them fails and says how to start them;
//! nothing skips silently.

// Test-only code: a broken harness must panic with a message, which is what `expect` is for.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::missing_panics_doc)]

mod database;
mod gcs;
mod jwt;
mod process;
mod proxy;
mod redis_ns;
mod s3;
pub mod schemathesis;
mod tls;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use database::TestDatabase;
pub use gcs::GcsServer;
pub use jwt::{JwksServer, TestSigningKey};
pub use process::{ServiceProcess, assert_each_missing_variable_is_named, run_to_end};
pub use proxy::TcpProxy;
pub use redis_ns::TestRedis;
pub use s3::S3Server;
pub use tls::TlsServers;

pub(crate) fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set. Run the tests with `scripts/test`, which starts Postgres, Redis (both \
             with TLS too), PgBouncer and s3s-fs and sets TEST_DATABASE_URL, TEST_REDIS_URL, \
             S3S_FS_BIN and the TEST_* variables of the TLS and pooler servers; or start your own \
             and export them (TEST_DATABASE_URL must be a superuser URL)."
        )
    })
}

/// Set `name` to `value` in a service's variable list, replacing any earlier value.
pub fn set_var(vars: &mut Vec<(String, String)>, name: &str, value: impl Into<String>) {
    vars.retain(|(k, _)| k != name);
    vars.push((name.to_owned(), value.into()));
}

/// Every file under `dir`, recursively; none when it does not exist.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Poll `check` until it yields `Some`, or panic naming `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// The shared PDF corpus (`../shared/corpus` beside the repository).
pub fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        dir.join("MANIFEST.tsv").exists(),
        "the PDF corpus is missing at {}",
        dir.display()
    );
    dir
}

/// A database, a Redis namespace and a storage folder: what a service needs.
pub struct TestEnv {
    pub db: TestDatabase,
    pub redis: TestRedis,
    pub storage_dir: tempfile::TempDir,
}

impl TestEnv {
    pub async fn new() -> Self {
        Self {
            db: TestDatabase::create().await,
            redis: TestRedis::new(),
            storage_dir: tempfile::tempdir().expect("storage tempdir"),
        }
    }

    pub fn storage_url(&self) -> String {
        format!("file://{}", self.storage_dir.path().display())
    }

    /// The connection variables every service reads, plus quiet logging.
    pub fn vars(&self) -> Vec<(String, String)> {
        [
            ("DATABASE_URL", self.db.url().to_owned()),
            ("REDIS_URL", self.redis.url.clone()),
            ("REDIS_NAMESPACE", self.redis.namespace.clone()),
            ("STORAGE_URL", self.storage_url()),
            ("RUST_LOG", "warn".to_owned()),
            ("HOST", "127.0.0.1".to_owned()),
            ("PORT", "0".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}
