//! Sessions after a start: state, events from the bot, the offer proxy, ending.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    SERVICE_TOKEN, START_PATH, TestApp, daily_ok, set, spawn_app, spawn_app_with, token_for,
};

async fn started(app: &TestApp, user: &str, session: &str, transport: &str) {
    let answer = if transport == "daily" {
        daily_ok(session)
    } else {
        json!({"sessionId": session})
    };
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .up_to_n_times(1)
        .mount(&app.upstream)
        .await;
    let res = app.start(user, Some(json!({"transport": transport}))).await;
    assert_eq!(res.status(), 200);
}

async fn get(app: &TestApp, path: &str, user: &str) -> (u16, Value) {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(token_for(user, 60))
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

async fn report(app: &TestApp, sid: &str, event: Value, token: &str) -> u16 {
    app.client
        .post(app.url(&format!("/internal/sessions/{sid}/events")))
        .bearer_auth(token)
        .json(&event)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_session_is_visible_only_to_its_owner() {
    let app = spawn_app().await;
    started(&app, "u1", "s1", "daily").await;
    let (status, body) = get(&app, "/api/sessions/s1", "u1").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "active");
    assert_eq!(body["transport"], "daily");
    assert!(body.get("dailyToken").is_none());
    for path in ["/api/sessions/s1", "/api/sessions/s1/events"] {
        assert_eq!(get(&app, path, "intruder").await.0, 404, "{path}");
    }
    assert_eq!(get(&app, "/api/sessions/nope", "u1").await.0, 404);
    assert_eq!(get(&app, "/api/sessions/bad%20id!", "u1").await.0, 404);
}

#[tokio::test]
async fn the_bot_reports_events_the_owner_reads_them_and_ended_frees_the_user() {
    let app = spawn_app().await;
    started(&app, "u1", "s1", "daily").await;
    assert_eq!(
        report(
            &app,
            "s1",
            json!({"type": "chunk_reached", "book_id": "b1", "ordinal": 12}),
            SERVICE_TOKEN
        )
        .await,
        202
    );
    assert_eq!(
        report(
            &app,
            "s1",
            json!({"type": "chunk_reached"}),
            &token_for("u1", 60)
        )
        .await,
        401,
        "users cannot forge bot events"
    );
    assert_eq!(
        report(&app, "s1", json!({"no_type": true}), SERVICE_TOKEN).await,
        400
    );
    assert_eq!(
        report(&app, "unknown", json!({"type": "x"}), SERVICE_TOKEN).await,
        404
    );

    let (_, body) = get(&app, "/api/sessions/s1/events", "u1").await;
    let events = body["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["started", "chunk_reached"]);
    assert_eq!(events[1]["data"]["ordinal"], 12);

    assert_eq!(
        report(&app, "s1", json!({"type": "ended"}), SERVICE_TOKEN).await,
        202
    );
    assert_eq!(
        get(&app, "/api/sessions/s1", "u1").await.1["status"],
        "ended"
    );
    let lock: Option<String> =
        redis::Commands::get(&mut app.redis(), app.key("user:u1:active_call")).unwrap();
    assert_eq!(lock, None, "an ended call frees the user");
}

#[tokio::test]
async fn the_offer_proxy_reaches_the_sessions_bot_for_its_owner_only() {
    let app = spawn_app_with(|v| set(v, "BOT_START_PUBLIC_API_KEY", "pk_test_key")).await;
    started(&app, "u1", "s1", "webrtc").await;
    let offer_path = "/v1/public/reader/sessions/s1/api/offer";
    Mock::given(method("POST"))
        .and(path(offer_path))
        .and(header("authorization", "Bearer pk_test_key"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"sdp": "v=0 answer", "type": "answer", "pc_id": "pc1"})),
        )
        .mount(&app.upstream)
        .await;
    Mock::given(method("PATCH"))
        .and(path(offer_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .mount(&app.upstream)
        .await;

    let url = app.url("/api/sessions/s1/api/offer");
    let res = app
        .client
        .post(&url)
        .bearer_auth(token_for("u1", 60))
        .json(&json!({"sdp": "v=0 offer", "type": "offer", "pc_id": null, "restart_pc": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "answer");
    let res = app
        .client
        .patch(&url)
        .bearer_auth(token_for("u1", 60))
        .json(&json!({"pc_id": "pc1", "candidates": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let forwarded = app.upstream.received_requests().await.unwrap();
    let offer = forwarded
        .iter()
        .find(|r| r.url.path() == offer_path && r.method.as_str() == "POST")
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&offer.body).unwrap()["sdp"],
        "v=0 offer"
    );

    let res = app
        .client
        .post(&url)
        .bearer_auth(token_for("intruder", 60))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn deleting_a_session_stops_the_cloud_bot_when_a_private_key_is_set() {
    let app = spawn_app_with(|v| set(v, "PIPECAT_PRIVATE_API_KEY", "sk_private")).await;
    started(&app, "u1", "s1", "daily").await;
    Mock::given(method("DELETE"))
        .and(path("/v1/agents/reader/sessions/s1"))
        .and(header("authorization", "Bearer sk_private"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "terminated", "session_id": "s1"})),
        )
        .expect(1)
        .mount(&app.upstream)
        .await;
    let res = app
        .client
        .delete(app.url("/api/sessions/s1"))
        .bearer_auth(token_for("intruder", 60))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .delete(app.url("/api/sessions/s1"))
        .bearer_auth(token_for("u1", 60))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        get(&app, "/api/sessions/s1", "u1").await.1["status"],
        "ended"
    );
    let again = app
        .client
        .delete(app.url("/api/sessions/s1"))
        .bearer_auth(token_for("u1", 60))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        204,
        "ending twice is harmless (and stops upstream once)"
    );
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = spawn_app_with(|v| set(v, "ALLOWED_ORIGINS", "https://app.example.com")).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/start"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    let denied = preflight("https://evil.example.com").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn metrics_count_starts_by_outcome() {
    let app = spawn_app().await;
    started(&app, "u1", "s1", "daily").await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("bot_starts_total{outcome=\"started\"}"),
        "{text}"
    );
    assert!(text.contains("bot_upstream_duration_seconds"));
}

#[tokio::test]
async fn a_position_event_goes_onto_the_positions_stream_with_the_calls_household() {
    let app = spawn_app().await;
    started(&app, "u1", "s1", "daily").await;
    let book = "0b0b0b0b-0000-4000-8000-000000000001";
    // The bot's own household_id is not trusted: the call's is stored.
    assert_eq!(
        report(
            &app,
            "s1",
            json!({"type": "position", "book_id": book, "ordinal": 12, "offset": 40, "seq": 7,
                   "listener": "ana", "household_id": "99999999-9999-9999-9999-999999999999"}),
            SERVICE_TOKEN
        )
        .await,
        202
    );
    // No seq: the time it arrived, in milliseconds.
    assert_eq!(
        report(
            &app,
            "s1",
            json!({"type": "position", "book_id": book, "ordinal": 13}),
            SERVICE_TOKEN
        )
        .await,
        202
    );
    for bad in [
        json!({"type": "position", "ordinal": 1}),
        json!({"type": "position", "book_id": "not-a-uuid", "ordinal": 1}),
        json!({"type": "position", "book_id": book}),
        json!({"type": "position", "book_id": book, "ordinal": -1}),
        json!({"type": "position", "book_id": book, "ordinal": 1, "offset": "3"}),
        json!({"type": "position", "book_id": book, "ordinal": 1, "seq": 1.5}),
        json!({"type": "position", "book_id": book, "ordinal": 3_000_000_000_i64}),
        json!({"type": "position", "book_id": book, "ordinal": 1, "listener": "a b"}),
    ] {
        assert_eq!(
            report(&app, "s1", bad.clone(), SERVICE_TOKEN).await,
            400,
            "{bad}"
        );
    }

    let entries: redis::streams::StreamRangeReply =
        redis::Commands::xrange_all(&mut app.redis(), app.key("positions")).unwrap();
    let fields: Vec<std::collections::HashMap<String, String>> = entries
        .ids
        .iter()
        .map(|e| {
            e.map
                .iter()
                .map(|(k, v)| (k.clone(), redis::from_redis_value_ref(v).unwrap()))
                .collect()
        })
        .collect();
    assert_eq!(fields.len(), 2, "bad events are not stored: {fields:?}");
    assert_eq!(fields[0]["book_id"], book);
    assert_eq!(fields[0]["household_id"], crate::helpers::HOUSEHOLD);
    assert_eq!(
        (
            &*fields[0]["ordinal"],
            &*fields[0]["offset"],
            &*fields[0]["seq"],
            &*fields[0]["listener"]
        ),
        ("12", "40", "7", "ana")
    );
    assert_eq!(fields[0]["session_id"], "s1");
    let seq: i64 = fields[1]["seq"].parse().unwrap();
    assert!(
        (seq - chrono::Utc::now().timestamp_millis()).abs() < 60_000,
        "{seq}"
    );
    assert_eq!((&*fields[1]["offset"], &*fields[1]["listener"]), ("0", ""));
    // …and each is on the call's timeline too.
    let (_, body) = get(&app, "/api/sessions/s1/events", "u1").await;
    let positions = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "position")
        .count();
    assert_eq!(positions, 2);
}
