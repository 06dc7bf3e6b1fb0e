use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_answers_ok_with_the_service_name() {
    let app = spawn_app().await;
    let res = app.get("/health").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["service"], "bot-gateway");
}

#[tokio::test]
async fn ready_checks_redis() {
    let app = spawn_app().await;
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["redis"], "ok");
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404_with_info() {
    let app = spawn_app().await;
    let res = app.get("/api/nothing").await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    assert_eq!(
        body["info"], body["message"],
        "the Pipecat client shows `info`"
    );
}

#[tokio::test]
async fn ready_names_the_signing_keys_until_they_are_fetched() {
    let app = crate::helpers::spawn_app_with(|v| {
        crate::helpers::set(
            v,
            "SUPABASE_JWKS_URL",
            test_support::JwksServer::unreachable_url(),
        );
    })
    .await;
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["down"], serde_json::json!(["signing_keys"]));
    assert_eq!(body["info"], "unavailable: signing_keys");
}

#[tokio::test]
async fn metrics_answer_only_the_metrics_token_when_one_is_set() {
    let app = crate::helpers::spawn_app_with(|v| {
        crate::helpers::set(v, "METRICS_TOKEN", "metrics-token-0123456789abcdef");
    })
    .await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status().as_u16(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    let right = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status().as_u16(), 200);
    assert_eq!(app.get("/health").await.status().as_u16(), 200);
}

#[tokio::test]
async fn head_is_answered_as_get_without_the_body_and_allow_names_it() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let res = client
        .head(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().is_empty(), "no body with HEAD");
    let res = client
        .put(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    let res = client
        .head(format!("{}/api/start", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
}
