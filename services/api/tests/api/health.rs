use serde_json::Value;

use crate::helpers::{set, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_answers_ok_with_the_service_name() {
    let app = spawn_app().await;
    let res = app.get("/health").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "api");
}

#[tokio::test]
async fn ready_checks_postgres_redis_and_storage() {
    let app = spawn_app().await;
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["checks"],
        serde_json::json!({"postgres": "ok", "redis": "ok", "storage": "ok"})
    );
}

#[tokio::test]
async fn ready_names_redis_when_it_is_down() {
    let dead_port = test_support::free_port();
    let app =
        spawn_app_with(|_, vars| set(vars, "REDIS_URL", format!("redis://127.0.0.1:{dead_port}")))
            .await;
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "service_unavailable");
    assert_eq!(body["down"], serde_json::json!(["redis"]));
    assert!(
        !body.to_string().contains(&dead_port.to_string()),
        "internals leaked: {body}"
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let res = app.get("/no/such/route").await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn ready_names_the_signing_keys_until_they_are_fetched() {
    let app = spawn_app_with(|_, vars| {
        set(
            vars,
            "SUPABASE_JWKS_URL",
            test_support::JwksServer::unreachable_url(),
        );
    })
    .await;
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["down"], serde_json::json!(["signing_keys"]));
}
