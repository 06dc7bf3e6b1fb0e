//! Schemathesis (generated from `/openapi.json`) against the real gateway
//! binary, as a signed-in user and as the bot's service, with a fake Pipecat
//! that always starts: no 5xx, every response in its documented shape, every 405
//! with `Allow`, and the document complete (every route is in it).

use std::path::Path;

use secrecy::SecretString;
use serde_json::{Value, json};
use test_support::{ServiceProcess, TestRedis, free_port};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{HOUSEHOLD, JWT_SECRET, SERVICE_TOKEN, START_PATH, vars};

const BIN: &str = env!("CARGO_BIN_EXE_bot-gateway");

#[tokio::test]
async fn schemathesis_finds_nothing_wrong_with_the_gateway() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(|_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!({
                "dailyRoom": "https://readme.daily.co/room",
                "dailyToken": "secret-daily-token",
                "sessionId": uuid::Uuid::new_v4().to_string(),
            }))
        })
        .mount(&upstream)
        .await;
    // Offers and stops: the bot answers.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&upstream)
        .await;
    let redis = TestRedis::new();
    let port = free_port();
    let mut env = vars(&redis, &format!("{}{START_PATH}", upstream.uri()));
    test_support::set_var(&mut env, "PORT", port.to_string());
    test_support::set_var(&mut env, "PIPECAT_PRIVATE_API_KEY", "pk-test");
    let mut gateway = ServiceProcess::spawn(Path::new(BIN), &env, port);
    gateway.wait_healthy().await;

    // The document names every route the gateway serves.
    let doc: Value = reqwest::get(format!("http://127.0.0.1:{port}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (route, verb) in [
        ("/health", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/api/start", "post"),
        ("/api/sessions/{sid}", "get"),
        ("/api/sessions/{sid}", "delete"),
        ("/api/sessions/{sid}/events", "get"),
        ("/api/sessions/{sid}/api/offer", "post"),
        ("/api/sessions/{sid}/api/offer", "patch"),
        ("/internal/sessions/{sid}/events", "post"),
    ] {
        assert!(
            doc["paths"][route][verb].is_object(),
            "{verb} {route} is not documented"
        );
    }

    let user = shared_domain::auth::sign_user_token(
        &SecretString::from(JWT_SECRET.to_owned()),
        &json!({"sub": "conformance-user", "exp": chrono::Utc::now().timestamp() + 3600, "household_id": HOUSEHOLD}),
    )
    .expect("sign");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis/gateway.toml");
    let url = format!("http://127.0.0.1:{port}/openapi.json");
    for token in [user.as_str(), SERVICE_TOKEN] {
        test_support::schemathesis::assert_conforms(&config, &url, token).await;
    }
    assert!(gateway.terminate().await.success());
}
