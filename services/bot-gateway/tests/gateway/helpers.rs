//! `spawn_app()`: the real gateway on a free port, with its own Redis namespace and
//! a fake Pipecat upstream (wiremock).

use bot_gateway::Config;
use secrecy::SecretString;
use serde_json::{Value, json};
use shared_domain::Vars;
use test_support::TestRedis;
use wiremock::MockServer;

pub const SERVICE_TOKEN: &str = "test-service-token-0123456789abcdef";
pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123";
pub const HOUSEHOLD: &str = "11111111-1111-1111-1111-111111111111";
/// The start path of a Pipecat Cloud agent named `reader`.
pub const START_PATH: &str = "/v1/public/reader/start";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub redis: TestRedis,
    pub upstream: MockServer,
}

pub fn vars(redis: &TestRedis, upstream: &str) -> Vec<(String, String)> {
    [
        ("REDIS_URL", redis.url.as_str()),
        ("REDIS_NAMESPACE", redis.namespace.as_str()),
        ("BOT_START_URL", upstream),
        ("SUPABASE_JWT_SECRET", JWT_SECRET),
        ("SERVICE_API_TOKEN", SERVICE_TOKEN),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("RUST_LOG", "warn"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

pub use test_support::set_var as set;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Vec<(String, String)>)) -> TestApp {
    let redis = TestRedis::new();
    let upstream = MockServer::start().await;
    let mut vars = vars(&redis, &format!("{}{START_PATH}", upstream.uri()));
    adjust(&mut vars);
    let config = Config::from_vars(&Vars::from_pairs(vars)).expect("test config");
    let app = bot_gateway::build(config).await.expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        redis,
        upstream,
    }
}

/// A user JWT for `user` in `HOUSEHOLD`, valid for `ttl_secs`.
pub fn token_for(user: &str, ttl_secs: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + ttl_secs;
    shared_domain::auth::sign_user_token(
        &SecretString::from(JWT_SECRET.to_owned()),
        &json!({"sub": user, "exp": exp, "household_id": HOUSEHOLD}),
    )
    .expect("sign")
}

pub fn daily_ok(session: &str) -> Value {
    json!({"dailyRoom": "https://readme.daily.co/room1", "dailyToken": "secret-daily-token", "sessionId": session, "extra": "not for the browser"})
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

    /// POST /api/start as `user` with a JSON body (or none).
    pub async fn start(&self, user: &str, body: Option<Value>) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/api/start"))
            .bearer_auth(token_for(user, 300))
            .header("content-type", "application/json");
        if let Some(body) = body {
            req = req.body(body.to_string());
        }
        req.send().await.expect("request")
    }

    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.redis.namespace)
    }

    pub fn redis(&self) -> redis::Connection {
        self.redis.connection()
    }

    /// The JSON bodies the upstream received, in order.
    pub async fn upstream_bodies(&self) -> Vec<Value> {
        self.upstream
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}
