//! `spawn_app()`: the real API on a free port with its own database and Redis namespace.

use api::{Application, Config};
use shared_domain::Vars;
use test_support::TestEnv;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
pub const SERVICE_TOKEN: &str = "test-service-token-0123456789abcdef";
pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    // Held so the database and namespace live (and are cleaned up) with the app.
    #[allow(dead_code)]
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

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Start the app after letting the test adjust its variables.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Vec<(String, String)>)) -> TestApp {
    let env = TestEnv::new().await;
    let mut vars = vars(&env);
    adjust(&mut vars);
    let config = Config::from_vars(&Vars::from_pairs(vars)).expect("test config");
    let app = Application::build(config).await.expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        env,
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
