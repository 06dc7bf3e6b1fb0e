//! `POST /api/start` against a fake Pipecat upstream.

use std::time::Duration;

use redis::Commands;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{HOUSEHOLD, START_PATH, daily_ok, set, spawn_app, spawn_app_with, token_for};

async fn json_of(res: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_daily_start_returns_only_what_the_transport_needs_and_records_the_call() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok("sess-1")))
        .expect(1)
        .mount(&app.upstream)
        .await;

    let (status, _, body) = json_of(
        app.start("u1", Some(json!({"body": {"bookId": BOOK}})))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"dailyRoom": "https://readme.daily.co/room1", "dailyToken": "secret-daily-token", "sessionId": "sess-1"})
    );

    // The upstream body is the server's: transport, room creation, merged identity.
    let sent = &app.upstream_bodies().await[0];
    assert_eq!(sent["transport"], "daily");
    assert_eq!(sent["createDailyRoom"], true);
    assert_eq!(sent["body"]["bookId"], BOOK);
    assert_eq!(sent["body"]["user_id"], "u1");
    assert_eq!(sent["body"]["household_id"], HOUSEHOLD);
    assert!(sent["body"]["session_started_at"].is_string());

    let mut r = app.redis();
    let state: std::collections::HashMap<String, String> =
        r.hgetall(app.key("call:sess-1:state")).unwrap();
    assert_eq!(state["user_id"], "u1");
    assert_eq!(state["household_id"], HOUSEHOLD);
    assert_eq!(state["transport"], "daily");
    assert_eq!(state["status"], "active");
    assert!(state.contains_key("started_at"));
    let state_ttl: i64 = r.ttl(app.key("call:sess-1:state")).unwrap();
    let events_ttl: i64 = r.ttl(app.key("call:sess-1:events")).unwrap();
    assert!(
        (3500..=3600).contains(&state_ttl) && (3500..=3600).contains(&events_ttl),
        "{state_ttl} {events_ttl}"
    );
    let lock: String = r.get(app.key("user:u1:active_call")).unwrap();
    assert_eq!(lock, "sess-1");
    let lock_ttl: i64 = r.ttl(app.key("user:u1:active_call")).unwrap();
    assert!((500..=600).contains(&lock_ttl), "{lock_ttl}");

    // The Daily token is never stored.
    let keys: Vec<String> = r.keys(format!("{}:*", app.redis.namespace)).unwrap();
    for key in keys {
        let dump: Vec<u8> = redis::cmd("DUMP").arg(&key).query(&mut r).unwrap();
        assert!(
            !dump.windows(18).any(|w| w == b"secret-daily-token"),
            "{key} holds the Daily token"
        );
    }
}

#[tokio::test]
async fn a_webrtc_start_returns_session_and_ice_config() {
    let app = spawn_app().await;
    let answer = json!({"sessionId": "sess-w", "iceConfig": {"iceServers": [{"urls": ["stun:stun.l.google.com:19302"]}]}, "fileUploadUrl": "/x"});
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&app.upstream)
        .await;
    let (status, _, body) =
        json_of(app.start("u1", Some(json!({"transport": "webrtc"}))).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"sessionId": "sess-w", "iceConfig": {"iceServers": [{"urls": ["stun:stun.l.google.com:19302"]}]}})
    );
    let sent = &app.upstream_bodies().await[0];
    assert_eq!(sent["transport"], "webrtc");
    assert_eq!(sent["enableDefaultIceServers"], true);
    assert!(sent.get("createDailyRoom").is_none());
}

#[tokio::test]
async fn an_empty_body_starts_with_the_default_transport() {
    let app = spawn_app_with(|v| {
        set(
            v,
            "BOT_DAILY_ROOM_PROPERTIES",
            r#"{"start_video_off":true,"exp_seconds":3600}"#,
        );
    })
    .await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok("sess-e")))
        .mount(&app.upstream)
        .await;
    let (status, _, body) = json_of(app.start("u1", None).await).await;
    assert_eq!(status, 200, "{body}");
    let sent = &app.upstream_bodies().await[0];
    assert_eq!(sent["transport"], "daily");
    assert_eq!(
        sent["dailyRoomProperties"],
        json!({"start_video_off": true, "exp_seconds": 3600})
    );
    assert_eq!(sent["body"]["user_id"], "u1");
}

#[tokio::test]
async fn room_token_and_identity_fields_from_the_browser_are_ignored() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok("sess-s")))
        .mount(&app.upstream)
        .await;
    let spoof = json!({
        "transport": "daily",
        "createDailyRoom": false,
        "dailyRoomProperties": {"enable_recording": "cloud"},
        "room_url": "https://evil.daily.co/x",
        "body": {
            "user_id": "someone-else", "household_id": "00000000-0000-0000-0000-000000000000",
            "room_url": "https://evil.daily.co/x", "token": "t", "dailyToken": "t",
            "userId": "someone-else", "householdId": "h", "USER_ID": "x", "user_id ": "x",
            "dailyRoomUrl": "https://evil.daily.co/y", "roomName": "r", "sessionId": "s",
            "nested": {"user_id": "someone-else"}, "unknown": [1, 2],
            "bookId": BOOK, "listener": "ana", "ordinal": 3,
        },
    });
    assert_eq!(app.start("u1", Some(spoof)).await.status(), 200);
    let sent = &app.upstream_bodies().await[0];
    assert_eq!(sent["createDailyRoom"], true);
    assert!(
        sent.get("dailyRoomProperties").is_none(),
        "no room policy unless configured: {sent}"
    );
    assert!(sent.get("room_url").is_none());
    assert_eq!(
        sent["body"],
        json!({"bookId": BOOK, "listener": "ana", "ordinal": 3, "user_id": "u1", "household_id": HOUSEHOLD, "session_started_at": sent["body"]["session_started_at"]})
    );
}

const BOOK: &str = "7d444840-9dc0-11d1-b245-5ffdce74fad2";

#[tokio::test]
async fn a_body_field_of_the_wrong_shape_is_refused_before_anything_starts() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok("sess-w")))
        .mount(&app.upstream)
        .await;
    for body in [
        json!({"bookId": {"user_id": "someone-else"}}),
        json!({"bookId": "not-a-uuid"}),
        json!({"ordinal": -1}),
        json!({"listener": "ana; DROP"}),
    ] {
        let res = app.start("u1", Some(json!({"body": body}))).await;
        assert_eq!(res.status(), 400, "{body}");
        let error: serde_json::Value = res.json().await.unwrap();
        assert_eq!(error["error"], "bad_request");
        assert!(
            error["info"].as_str().unwrap().starts_with("body."),
            "{error}"
        );
    }
    assert!(
        app.upstream_bodies().await.is_empty(),
        "nothing was started"
    );
}

#[tokio::test]
async fn the_bearer_key_is_sent_only_when_configured_and_never_echoed() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok("s")))
        .mount(&app.upstream)
        .await;
    app.start("u1", None).await;
    let requests = app.upstream.received_requests().await.unwrap();
    assert!(
        requests[0].headers.get("authorization").is_none(),
        "no key configured, no Authorization upstream"
    );

    let keyed = spawn_app_with(|v| set(v, "BOT_START_PUBLIC_API_KEY", "pk_test_SECRET_KEY")).await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"error": "Invalid API key pk_test_SECRET_KEY", "code": "401"}),
            ),
        )
        .mount(&keyed.upstream)
        .await;
    let res = keyed.start("u1", None).await;
    let requests = keyed.upstream.received_requests().await.unwrap();
    assert_eq!(
        requests[0].headers.get("authorization").unwrap(),
        "Bearer pk_test_SECRET_KEY"
    );
    let (status, _, body) = json_of(res).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"], "upstream_misconfigured");
    assert!(
        !body.to_string().contains("pk_test"),
        "the key leaked: {body}"
    );
}

#[tokio::test]
async fn every_row_of_the_error_map() {
    // (upstream status, upstream body, upstream Retry-After, our status, our code, our Retry-After)
    type Row = (
        u16,
        Value,
        Option<&'static str>,
        u16,
        &'static str,
        Option<&'static str>,
    );
    let cases: Vec<Row> = vec![
        (
            429,
            json!({"status": 429, "code": "429", "message": "at capacity"}),
            Some("7"),
            429,
            "at_capacity",
            Some("7"),
        ),
        (
            429,
            json!({"status": 429, "code": "429", "message": "at capacity"}),
            None,
            429,
            "at_capacity",
            Some("30"),
        ),
        (
            503,
            json!({"error": "busy", "code": "PCC-AGENT-AT-CAPACITY"}),
            None,
            429,
            "at_capacity",
            Some("30"),
        ),
        (
            400,
            json!({"error": "Agent not ready", "code": "PCC-1001"}),
            None,
            503,
            "bot_unavailable",
            None,
        ),
        (
            400,
            json!({"error": "Billing", "code": "PCC-1004"}),
            None,
            503,
            "bot_unavailable",
            None,
        ),
        (
            400,
            json!({"detail": "Transport 'daily' is disabled"}),
            None,
            503,
            "bot_unavailable",
            None,
        ),
        (
            401,
            json!({"error": "Unauthorized", "code": "401"}),
            None,
            502,
            "upstream_misconfigured",
            None,
        ),
        (
            403,
            json!({"error": "Forbidden"}),
            None,
            502,
            "upstream_misconfigured",
            None,
        ),
        (
            404,
            json!({"error": "Service not found"}),
            None,
            502,
            "upstream_misconfigured",
            None,
        ),
        (
            413,
            json!({"error": "Payload too large"}),
            None,
            413,
            "payload_too_large",
            None,
        ),
        (
            500,
            json!({"error": "boom"}),
            None,
            502,
            "upstream_error",
            None,
        ),
        (
            422,
            json!({"detail": [{"msg": "field required"}]}),
            None,
            502,
            "upstream_error",
            None,
        ),
    ];
    for (up_status, up_body, up_retry, status, code, retry) in cases {
        let app = spawn_app().await;
        let mut template = ResponseTemplate::new(up_status).set_body_json(up_body.clone());
        if let Some(r) = up_retry {
            template = template.insert_header("retry-after", r);
        }
        Mock::given(method("POST"))
            .and(path(START_PATH))
            .respond_with(template)
            .expect(1)
            .mount(&app.upstream)
            .await;
        let (got, got_retry, body) = json_of(app.start("u1", None).await).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "upstream {up_status} {up_body}: {body}"
        );
        assert_eq!(
            got_retry.as_deref(),
            retry,
            "Retry-After for upstream {up_status} {up_body}"
        );
        assert!(
            body["info"].as_str().is_some_and(|i| !i.is_empty()) && body["info"] == body["message"],
            "{body}"
        );
        if let Some(c) = up_body
            .get("code")
            .and_then(Value::as_str)
            .filter(|c| c.starts_with("PCC"))
        {
            assert_eq!(body["upstreamCode"], c);
        }
        // A failed start frees the user: the lock is gone.
        let lock: Option<String> =
            redis::Commands::get(&mut app.redis(), app.key("user:u1:active_call")).unwrap();
        assert_eq!(lock, None, "after upstream {up_status}");
        // Never retried: wiremock's expect(1) is verified when `app` drops.
    }
}

#[tokio::test]
async fn bad_200_shapes_are_502_and_free_the_user() {
    let shapes = [
        ResponseTemplate::new(200)
            .set_body_string("null")
            .insert_header("content-type", "application/json"),
        ResponseTemplate::new(200).set_body_json(json!({})),
        ResponseTemplate::new(200)
            .set_body_json(json!({"dailyRoom": "https://x.daily.co/r", "dailyToken": "t"})),
        ResponseTemplate::new(200).set_body_json(json!({"sessionId": "s"})),
        ResponseTemplate::new(200).set_body_string("<html>ok</html>"),
    ];
    for shape in shapes {
        let app = spawn_app().await;
        Mock::given(method("POST"))
            .and(path(START_PATH))
            .respond_with(shape)
            .mount(&app.upstream)
            .await;
        let (status, _, body) = json_of(app.start("u1", None).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (502, Some("upstream_error")),
            "{body}"
        );
        let lock: Option<String> =
            redis::Commands::get(&mut app.redis(), app.key("user:u1:active_call")).unwrap();
        assert_eq!(lock, None);
    }
}

#[tokio::test]
async fn a_slow_or_unreachable_upstream_is_504_and_not_retried() {
    let app = spawn_app_with(|v| set(v, "BOT_START_TIMEOUT_SECONDS", "1")).await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(daily_ok("late"))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&app.upstream)
        .await;
    let started = std::time::Instant::now();
    let (status, _, body) = json_of(app.start("u1", None).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("upstream_timeout")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2900),
        "gave up at the 1 s total timeout"
    );

    let dead = test_support::free_port();
    let app =
        spawn_app_with(|v| set(v, "BOT_START_URL", format!("http://127.0.0.1:{dead}/start"))).await;
    let (status, _, body) = json_of(app.start("u1", None).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("upstream_timeout")),
        "{body}"
    );
}

#[tokio::test]
async fn one_call_at_a_time_per_user() {
    let app = spawn_app().await;
    for session in ["first", "second", "third"] {
        Mock::given(method("POST"))
            .and(path(START_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok(session)))
            .up_to_n_times(1)
            .mount(&app.upstream)
            .await;
    }
    assert_eq!(app.start("u1", None).await.status(), 200);
    let (status, _, body) = json_of(app.start("u1", None).await).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("call_active")));
    assert_eq!(
        app.upstream.received_requests().await.unwrap().len(),
        1,
        "a refused start costs nothing upstream"
    );
    assert_eq!(
        app.start("u2", None).await.status(),
        200,
        "other users are not affected"
    );

    // Ending the call frees the user.
    let res = app
        .client
        .delete(app.url("/api/sessions/first"))
        .bearer_auth(token_for("u1", 60))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.start("u1", None).await.status(), 200);
}

#[tokio::test]
async fn a_session_id_already_in_use_is_refused() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok("same")))
        .mount(&app.upstream)
        .await;
    assert_eq!(app.start("u1", None).await.status(), 200);
    let (status, _, body) = json_of(app.start("u2", None).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("upstream_error"))
    );
    let owner: String =
        redis::Commands::hget(&mut app.redis(), app.key("call:same:state"), "user_id").unwrap();
    assert_eq!(owner, "u1", "the first owner keeps the call");
    let lock: Option<String> =
        redis::Commands::get(&mut app.redis(), app.key("user:u2:active_call")).unwrap();
    assert_eq!(lock, None, "the refused start freed u2");
}

#[tokio::test]
async fn starts_are_rate_limited_per_user_across_replicas() {
    let app = spawn_app_with(|v| {
        set(v, "START_RATE_LIMIT", "2");
        set(v, "START_RATE_WINDOW_SECONDS", "60");
    })
    .await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"code": "429"})))
        .mount(&app.upstream)
        .await;
    for _ in 0..2 {
        assert_eq!(
            app.start("u1", None).await.status(),
            429,
            "upstream at capacity, counted"
        );
    }
    let (status, retry, body) = json_of(app.start("u1", None).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        app.upstream.received_requests().await.unwrap().len(),
        2,
        "the limited start never reached upstream"
    );
    let (_, _, other) = json_of(app.start("u2", None).await).await;
    assert_eq!(
        other["error"], "at_capacity",
        "another user has their own budget"
    );
}

#[tokio::test]
async fn bad_requests_and_missing_auth() {
    let app = spawn_app().await;
    let res = app.client.post(app.url("/api/start")).send().await.unwrap();
    let (status, _, body) = json_of(res).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    assert!(body["info"].is_string());
    let res = app
        .client
        .post(app.url("/api/start"))
        .bearer_auth(token_for("u1", -3600))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    for bad in [
        "{not json",
        "[1,2]",
        r#"{"transport":"websocket"}"#,
        r#"{"body":"text"}"#,
    ] {
        let res = app
            .client
            .post(app.url("/api/start"))
            .bearer_auth(token_for("u1", 60))
            .body(bad)
            .send()
            .await
            .unwrap();
        let (status, _, body) = json_of(res).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("bad_request")),
            "{bad}: {body}"
        );
    }
    let huge = json!({"body": {"blob": "x".repeat(1024 * 1024 + 10)}}).to_string();
    let res = app
        .client
        .post(app.url("/api/start"))
        .bearer_auth(token_for("u1", 60))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert!(app.upstream.received_requests().await.unwrap().is_empty());
}
