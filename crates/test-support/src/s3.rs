//! A real S3-compatible server (`s3s-fs`) on a free port, storing into a temp folder.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct S3Server {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub root: tempfile::TempDir,
}

impl S3Server {
    pub async fn start() -> Self {
        let bin = std::env::var("S3S_FS_BIN").unwrap_or_else(|_| "s3s-fs".to_owned());
        let root = tempfile::tempdir().expect("s3 root");
        let bucket = "readme-test".to_owned();
        std::fs::create_dir(root.path().join(&bucket)).expect("bucket folder");
        let port = crate::free_port();
        let (access_key, secret_key) = (
            "test-access-key".to_owned(),
            "test-secret-key-0123456789".to_owned(),
        );
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", &access_key, "--secret-key", &secret_key])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {bin} ({e}). scripts/test installs it; or run `cargo install --locked s3s-fs@0.14.1 --features binary`")
            });
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not listen on port {port} within 15 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket,
            access_key,
            secret_key,
            root,
        }
    }

    /// The storage variables for this server, objects under `prefix`.
    pub fn vars(&self, prefix: &str) -> Vec<(String, String)> {
        [
            ("STORAGE_URL", format!("s3://{}/{prefix}", self.bucket)),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("S3_FORCE_PATH_STYLE", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
