//! `spawn_app()`: the real API on a free port with its own database, Redis
//! namespace and storage folder; plus request and fixture helpers.

use api::Config;
use reqwest::multipart::{Form, Part};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared_domain::Vars;
use test_support::TestEnv;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
pub const SERVICE_TOKEN: &str = "test-service-token-0123456789abcdef";
pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123";
pub const HOUSEHOLD: &str = "11111111-1111-1111-1111-111111111111";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub env: TestEnv,
}

/// Every variable the API needs, for this test environment.
pub fn vars(env: &TestEnv) -> Vec<(String, String)> {
    let mut vars = env.vars();
    vars.extend(
        [
            ("ADMIN_API_TOKEN", ADMIN_TOKEN),
            ("SERVICE_API_TOKEN", SERVICE_TOKEN),
            ("SUPABASE_JWT_SECRET", JWT_SECRET),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    vars
}

pub use test_support::set_var as set;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_, _| {}).await
}

/// Start the app after letting the test adjust its variables.
pub async fn spawn_app_with(adjust: impl FnOnce(&TestEnv, &mut Vec<(String, String)>)) -> TestApp {
    let env = TestEnv::new().await;
    let mut vars = vars(&env);
    adjust(&env, &mut vars);
    spawn_app_in(env, vars).await
}

/// Start the app in a prepared environment with exactly these variables.
pub async fn spawn_app_in(env: TestEnv, vars: Vec<(String, String)>) -> TestApp {
    let config = Config::from_vars(&Vars::from_pairs(vars)).expect("test config");
    let app = api::build(config).await.expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        env,
    }
}

/// A small, valid-looking PDF whose bytes are unique to `label`.
pub fn pdf(label: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {label}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

pub fn form(household: &str, bytes: Vec<u8>, filename: &str) -> Form {
    Form::new()
        .text("household_id", household.to_owned())
        .part("file", file_part(bytes, filename))
}

pub fn file_part(bytes: Vec<u8>, filename: &str) -> Part {
    Part::bytes(bytes)
        .file_name(filename.to_owned())
        .mime_str("application/pdf")
        .expect("mime")
}

/// A user JWT for `household`, valid for `ttl_secs` (negative: already expired).
pub fn user_token(household: &str, ttl_secs: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + ttl_secs;
    shared_domain::auth::sign_user_token(
        &SecretString::from(JWT_SECRET.to_owned()),
        &json!({"sub": "user-1", "exp": exp, "household_id": household}),
    )
    .expect("sign")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request")
    }

    pub async fn upload(&self, form: Form) -> reqwest::Response {
        self.client
            .post(self.url("/admin/books/upload"))
            .bearer_auth(ADMIN_TOKEN)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    /// Upload and return the 200 body.
    pub async fn upload_ok(&self, household: &str, bytes: Vec<u8>, filename: &str) -> Value {
        let res = self.upload(form(household, bytes, filename)).await;
        assert_eq!(
            res.status(),
            200,
            "upload failed: {}",
            res.text().await.unwrap_or_default()
        );
        res.json().await.expect("json")
    }

    pub async fn db(&self) -> tokio_postgres::Client {
        self.env.db.client().await
    }

    /// Every file under the storage folder, relative to it.
    pub fn stored_objects(&self) -> Vec<String> {
        let root = self.env.storage_dir.path();
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read storage").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push(
                        path.strip_prefix(root)
                            .expect("under root")
                            .display()
                            .to_string(),
                    );
                }
            }
        }
        out.sort();
        out
    }

    /// Entries of the work stream: (entry id, job_id field).
    pub fn stream_job_ids(&self) -> Vec<String> {
        let mut conn = self.env.redis.connection();
        let key = shared_domain::redis::Keys::new(&self.env.redis.namespace).job_stream();
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(key)
            .arg("-")
            .arg("+")
            .query(&mut conn)
            .expect("xrange");
        entries
            .into_iter()
            .filter_map(|(_, fields)| {
                fields
                    .into_iter()
                    .find(|(k, _)| k == "job_id")
                    .map(|(_, v)| v)
            })
            .collect()
    }
}

impl TestApp {
    /// Upload a book and give it `n` chunks as a worker would, marking it ready.
    pub async fn ready_book(&self, household: &str, label: &str, n: i32) -> uuid::Uuid {
        let body = self
            .upload_ok(household, pdf(label), &format!("{label}.pdf"))
            .await;
        let id: uuid::Uuid = body["book_id"]
            .as_str()
            .expect("book_id")
            .parse()
            .expect("uuid");
        let db = self.db().await;
        for ordinal in 0..n {
            let text = format!("Sentence number {ordinal} of {label}.");
            db.execute(
                "INSERT INTO book_chunks (book_id, ordinal, text, char_count, page_start, page_end, chapter) VALUES ($1, $2, $3, $4, $5, $5, 'One')",
                &[&id, &ordinal, &text, &(text.chars().count() as i32), &(ordinal / 10 + 1)],
            )
            .await
            .expect("insert chunk");
        }
        db.execute("UPDATE books SET status = 'ready', page_count = 9, chunk_count = $2, ready_at = now() WHERE id = $1", &[&id, &n]).await.expect("ready");
        db.execute("UPDATE jobs SET status = 'succeeded', started_at = now(), heartbeat_at = now(), finished_at = now() WHERE book_id = $1", &[&id])
            .await
            .expect("job done");
        id
    }
}
