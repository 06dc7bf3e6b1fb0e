//! `spawn_app()`: the real gateway on a free port with its own Redis namespace.

use bot_gateway::{Application, Config};
use shared_domain::Vars;
use test_support::TestRedis;

pub const SERVICE_TOKEN: &str = "test-service-token-0123456789abcdef";
pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    // Held so the namespace lives (and is cleaned up) with the app.
    #[allow(dead_code)]
    pub redis: TestRedis,
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

pub async fn spawn_app() -> TestApp {
    let redis = TestRedis::new();
    let upstream = format!("http://127.0.0.1:{}/start", test_support::free_port());
    let config =
        Config::from_vars(&Vars::from_pairs(vars(&redis, &upstream))).expect("test config");
    let app = Application::build(config).await.expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        redis,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }
}
