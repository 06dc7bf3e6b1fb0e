//! A GCS-compatible server on a free port: gcp-storage-emulator (PyPI), with the
//! XML API that object_store's GCS client speaks added by `gcs/gcs_emulator.py`
//! (the emulator itself serves only the JSON API and a bare XML PUT/GET).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct GcsServer {
    child: Child,
    pub base_url: String,
    pub bucket: String,
    pub root: tempfile::TempDir,
}

const INSTALL: &str = "scripts/test installs it; or run `python3 -m venv target/test-peers/gcs/venv && \
     target/test-peers/gcs/venv/bin/pip install gcp-storage-emulator==2026.7.19` and set \
     GCS_EMULATOR_PYTHON=target/test-peers/gcs/venv/bin/python";

impl GcsServer {
    pub async fn start() -> Self {
        let python = std::env::var("GCS_EMULATOR_PYTHON").unwrap_or_else(|_| {
            panic!("GCS_EMULATOR_PYTHON is not set: it names the Python that has gcp-storage-emulator. {INSTALL}")
        });
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/gcs/gcs_emulator.py");
        let root = tempfile::tempdir().expect("gcs root");
        let bucket = "readme-test".to_owned();
        let port = crate::free_port();
        let child = Command::new(&python)
            .arg(script)
            .args([
                "--port",
                &port.to_string(),
                "--bucket",
                &bucket,
                "--data-dir",
            ])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} ({e}). {INSTALL}"));
        let base_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::get(format!("{base_url}/")).await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the GCS emulator did not answer on port {port} within 20 s. {INSTALL}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            child,
            base_url,
            bucket,
            root,
        }
    }

    /// The storage variables for this server, objects under `prefix`.
    pub fn vars(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            (
                "STORAGE_URL".to_owned(),
                format!("gs://{}/{prefix}", self.bucket),
            ),
            ("STORAGE_EMULATOR_HOST".to_owned(), self.base_url.clone()),
        ]
    }

    /// An object's bytes read through the emulator's JSON API (not the XML API the
    /// services use), or `None` when it does not exist.
    pub async fn json_api_get(&self, key: &str) -> Option<Vec<u8>> {
        let url = format!(
            "{}/download/storage/v1/b/{}/o/{}?alt=media",
            self.base_url,
            self.bucket,
            url_escape(key)
        );
        let r = reqwest::get(url).await.expect("JSON API request");
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            return None;
        }
        assert!(r.status().is_success(), "JSON API: {}", r.status());
        Some(r.bytes().await.expect("JSON API body").to_vec())
    }

    /// Every object name in the bucket, from the JSON API.
    pub async fn json_api_names(&self) -> Vec<String> {
        let url = format!("{}/storage/v1/b/{}/o", self.base_url, self.bucket);
        let body: serde_json::Value = reqwest::get(url)
            .await
            .expect("JSON API list")
            .json()
            .await
            .expect("JSON API list body");
        body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|o| o["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for GcsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
