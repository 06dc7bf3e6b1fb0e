//! A Supabase project on signing keys: tokens are ES256, verified with the keys
//! its JWKS URL publishes (no legacy secret configured), and a key published
//! later (a rotation) is picked up when a token first names it.

use std::time::Duration;

use serde_json::json;
use test_support::{JwksServer, TestSigningKey, eventually};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{HOUSEHOLD, START_PATH, daily_ok, set, spawn_app_with};

fn token(key: &TestSigningKey, user: &str) -> String {
    key.sign(&json!({
        "sub": user,
        "exp": chrono::Utc::now().timestamp() + 600,
        "household_id": HOUSEHOLD,
        "aud": "authenticated",
        "role": "authenticated",
    }))
}

#[tokio::test]
async fn tokens_signed_with_the_projects_published_keys_are_accepted_and_a_new_key_is_picked_up() {
    let (current, next) = (TestSigningKey::generate(), TestSigningKey::generate());
    let jwks = JwksServer::publishing(&[&current]).await;
    let app = spawn_app_with(|v| {
        v.retain(|(k, _)| k != "SUPABASE_JWT_SECRET");
        set(v, "SUPABASE_JWKS_URL", jwks.url());
        set(v, "JWT_AUDIENCE", "authenticated");
    })
    .await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok("sess-es256")))
        .mount(&app.upstream)
        .await;

    // The keys are fetched in the background at start; then a start goes through.
    let started = eventually(
        "a start with an ES256 token",
        Duration::from_secs(20),
        || {
            let request = app
                .client
                .post(app.url("/api/start"))
                .bearer_auth(token(&current, "es-user"))
                .json(&json!({}));
            async move {
                let res = request.send().await.ok()?;
                (res.status() != 401).then_some(res)
            }
        },
    )
    .await;
    assert_eq!(started.status(), 200);
    let body: serde_json::Value = started.json().await.unwrap();
    assert_eq!(body["sessionId"], "sess-es256");
    // The session is its owner's, under the token's subject.
    let session = |key: &TestSigningKey| {
        app.client
            .get(app.url("/api/sessions/sess-es256"))
            .bearer_auth(token(key, "es-user"))
            .send()
    };
    assert_eq!(session(&current).await.unwrap().status(), 200);
    let ready: serde_json::Value = app.get("/health/ready").await.json().await.unwrap();
    assert_eq!(ready["checks"]["signing_keys"], "ok", "{ready}");

    // A key the project has not published is refused...
    assert_eq!(session(&next).await.unwrap().status(), 401);
    // ...until it is published: the token that names it makes the gateway look again.
    jwks.publish(&[&current, &next]).await;
    let status = eventually(
        "the new key to be picked up",
        Duration::from_secs(20),
        || {
            let request = session(&next);
            async move {
                let status = request.await.ok()?.status();
                (status != 401).then_some(status)
            }
        },
    )
    .await;
    assert_eq!(status, 200);
}
