//! A whole stack for worker tests: the real API in process (the producer), the
//! real worker binary as child processes (so they can be killed), one database,
//! Redis namespace and storage folder shared by both.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::Value;
use shared_domain::Vars;
use test_support::{ServiceProcess, TestEnv, eventually, free_port};
use worker::config::PipelineConfig;
use worker::resources::Resources;

pub const BIN: &str = env!("CARGO_BIN_EXE_worker");
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
pub const SERVICE_TOKEN: &str = "test-service-token-0123456789abcdef";
pub const HOUSEHOLD: &str = "22222222-2222-2222-2222-222222222222";

pub struct Stack {
    pub env: TestEnv,
    pub api: String,
    pub client: reqwest::Client,
    pub logs: tempfile::TempDir,
    api_vars: Vec<(String, String)>,
    api_handle: actix_web::dev::ServerHandle,
}

/// The JWT secret the stack's api (and a test's gateway) verify user tokens with.
pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123";

pub struct RunningWorker {
    pub process: ServiceProcess,
    pub log: PathBuf,
    pub port: u16,
}

impl RunningWorker {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://127.0.0.1:{}/metrics", self.port))
            .await
            .expect("metrics request")
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn health(&self) -> Value {
        reqwest::get(format!("http://127.0.0.1:{}/health", self.port))
            .await
            .expect("health request")
            .json()
            .await
            .expect("health json")
    }
}

impl Stack {
    pub async fn new() -> Self {
        Self::with_api_vars(&[]).await
    }

    pub async fn with_api_vars(extra: &[(&str, &str)]) -> Self {
        let env = TestEnv::new().await;
        let mut vars = env.vars();
        for (k, v) in [
            ("ADMIN_API_TOKEN", ADMIN_TOKEN),
            ("SERVICE_API_TOKEN", SERVICE_TOKEN),
            ("SUPABASE_JWT_SECRET", JWT_SECRET),
        ]
        .iter()
        .chain(extra)
        {
            test_support::set_var(&mut vars, k, *v);
        }
        let (api, api_handle) = start_api(&vars).await;
        Self {
            env,
            api,
            client: reqwest::Client::new(),
            logs: tempfile::tempdir().expect("log dir"),
            api_vars: vars,
            api_handle,
        }
    }

    /// Stop the api (draining its requests) and start a new one on the same
    /// database, Redis and storage.
    pub async fn restart_api(&mut self) {
        self.api_handle.stop(true).await;
        let (api, handle) = start_api(&self.api_vars).await;
        self.api = api;
        self.api_handle = handle;
    }

    /// The worker's variables: fast timings so failures and recoveries take seconds.
    pub fn worker_vars(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut vars = self.env.vars();
        for (k, v) in [
            ("RUST_LOG", "info"),
            ("VISIBILITY_TIMEOUT_SECONDS", "3"),
            ("QUEUE_BLOCK_MS", "200"),
            ("SWEEP_INTERVAL_SECONDS", "1"),
            ("RETRY_BASE_SECONDS", "1"),
            ("RETRY_MAX_SECONDS", "2"),
            ("SHUTDOWN_GRACE_SECONDS", "10"),
            ("WORKER_CONCURRENCY", "2"),
        ]
        .iter()
        .chain(extra)
        {
            test_support::set_var(&mut vars, k, *v);
        }
        vars
    }

    /// Start a worker binary and wait until it serves `/health`.
    pub async fn spawn_worker(&self, extra: &[(&str, &str)]) -> RunningWorker {
        let port = free_port();
        let mut vars = self.worker_vars(extra);
        test_support::set_var(&mut vars, "HEALTH_PORT", port.to_string());
        let log = std::env::var("WORKER_TEST_LOGS").map_or_else(
            |_| self.logs.path().join(format!("worker-{port}.log")),
            |dir| PathBuf::from(dir).join(format!("worker-{port}.log")),
        );
        let mut process = ServiceProcess::spawn_logging_to(Path::new(BIN), &vars, port, &log);
        process.wait_healthy().await;
        RunningWorker { process, log, port }
    }

    pub async fn upload_bytes(&self, bytes: Vec<u8>, filename: &str) -> Value {
        let form = Form::new().text("household_id", HOUSEHOLD).part(
            "file",
            Part::bytes(bytes)
                .file_name(filename.to_owned())
                .mime_str("application/pdf")
                .expect("mime"),
        );
        let res = self
            .client
            .post(format!("{}/admin/books/upload", self.api))
            .bearer_auth(ADMIN_TOKEN)
            .multipart(form)
            .send()
            .await
            .expect("upload request");
        let status = res.status();
        let body: Value = res.json().await.expect("upload json");
        assert_eq!(status, 200, "upload of {filename}: {body}");
        body
    }

    /// Upload a file; its book id.
    pub async fn upload(&self, path: &Path) -> String {
        let bytes = std::fs::read(path).expect("read the PDF");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("book.pdf");
        let body = self.upload_bytes(bytes, name).await;
        body["book_id"].as_str().expect("book_id").to_owned()
    }

    pub async fn get(&self, path: &str) -> Value {
        let res = self
            .client
            .get(format!("{}{path}", self.api))
            .bearer_auth(SERVICE_TOKEN)
            .send()
            .await
            .expect("request");
        res.json().await.expect("json")
    }

    pub async fn admin_post(&self, path: &str) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.api))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request")
    }

    pub async fn status(&self, book: &str) -> Value {
        self.get(&format!("/books/{book}/status")).await
    }

    /// Poll until the book is `ready` or `failed`.
    pub async fn settled(&self, book: &str, timeout: Duration) -> Value {
        eventually(&format!("book {book} settles"), timeout, || async {
            let s = self.status(book).await;
            matches!(s["status"].as_str(), Some("ready" | "failed")).then_some(s)
        })
        .await
    }

    /// Every chunk of a ready book, through the API's pagination.
    /// Every chunk of the book, whatever its kind, in order.
    pub async fn chunks(&self, book: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after: Option<i64> = None;
        loop {
            let path = match after {
                Some(a) => format!("/books/{book}/chunks?kind=all&limit=200&after={a}"),
                None => format!("/books/{book}/chunks?kind=all&limit=200"),
            };
            let page = self.get(&path).await;
            out.extend(page["chunks"].as_array().cloned().unwrap_or_default());
            match page["next_after"].as_i64() {
                Some(a) => after = Some(a),
                None => return out,
            }
        }
    }

    pub async fn job(&self, book: &str) -> Value {
        let status = self.status(book).await;
        let job = status["latest_job_id"].as_str().expect("a job").to_owned();
        self.get(&format!("/jobs/{job}")).await
    }

    pub async fn db(&self) -> tokio_postgres::Client {
        self.env.db.client().await
    }
}

async fn start_api(vars: &[(String, String)]) -> (String, actix_web::dev::ServerHandle) {
    let config = api::Config::from_vars(&Vars::from_pairs(vars.to_vec())).expect("api config");
    let app = api::build(config).await.expect("build the api");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    (address, handle)
}

/// The whole text of a book's chunks, joined.
pub fn text_of(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The api's and the gateway's binaries, built beside the worker's by `cargo test
/// --workspace` (as scripts/test runs it).
pub fn sibling_binary(name: &str) -> PathBuf {
    let path = Path::new(BIN).with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p api -p bot-gateway` (scripts/test's `cargo test --workspace` does)",
        path.display()
    );
    path
}

/// Upload `path` to the api at `api_url` as the admin, for `HOUSEHOLD`; the
/// api's answer.
pub async fn upload_to(client: &reqwest::Client, api_url: &str, path: &Path) -> Value {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("book.pdf")
        .to_owned();
    let form = Form::new().text("household_id", HOUSEHOLD).part(
        "file",
        Part::bytes(std::fs::read(path).expect("read the book")).file_name(name),
    );
    client
        .post(format!("{api_url}/admin/books/upload"))
        .bearer_auth(ADMIN_TOKEN)
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("upload json")
}

pub fn corpus(name: &str) -> PathBuf {
    test_support::corpus_dir().join(name)
}

/// The pipeline's config from `vars` alone, on a fixed two-CPU machine of unknown
/// memory, whatever this machine's limits are.
pub fn pipeline_config(vars: &[(&str, &str)]) -> PipelineConfig {
    PipelineConfig::from_vars(
        &Vars::from_pairs(vars.iter().copied()),
        Resources {
            cpus: 2,
            memory_bytes: None,
        },
    )
    .expect("pipeline config")
}
