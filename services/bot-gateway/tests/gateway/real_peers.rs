//! The gateway against the real Pipecat development runner and the real Pipecat JS
//! client. `scripts/test` installs both (`PIPECAT_PYTHON`, `PIPECAT_CLIENT_JS_MODULES`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{START_PATH, daily_ok, set, spawn_app, spawn_app_with, token_for};

fn peer_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the tests with scripts/test, which installs the real Pipecat runner and JS client"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Run the real JS client's `startBot()` against `endpoint`.
async fn js_start_bot(endpoint: &str, token: &str) -> Value {
    let out = tokio::process::Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/start-bot.cjs"))
        .args([&peer_env("PIPECAT_CLIENT_JS_MODULES"), endpoint, token])
        .output()
        .await
        .expect("node is installed (scripts/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no result from node: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).expect("JSON from the script")
}

#[tokio::test]
async fn the_real_js_client_gets_the_payload_and_our_errors_as_start_bot_errors() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(daily_ok("js-1")))
        .up_to_n_times(1)
        .mount(&app.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(START_PATH))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"status": 429, "code": "429"})),
        )
        .mount(&app.upstream)
        .await;
    let endpoint = app.url("/api/start");

    let ok = js_start_bot(&endpoint, &token_for("u1", 300)).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(
        ok["result"],
        json!({"dailyRoom": "https://readme.daily.co/room1", "dailyToken": "secret-daily-token", "sessionId": "js-1"})
    );

    let busy = js_start_bot(&endpoint, &token_for("u1", 300)).await;
    assert_eq!(
        (busy["startBotError"].as_bool(), busy["status"].as_u64()),
        (Some(true), Some(409)),
        "{busy}"
    );
    assert_eq!(
        busy["message"],
        "You already have a reading session running. End it before starting another."
    );

    let full = js_start_bot(&endpoint, &token_for("u2", 300)).await;
    assert_eq!(
        (full["startBotError"].as_bool(), full["status"].as_u64()),
        (Some(true), Some(429)),
        "{full}"
    );
    assert_eq!(
        full["message"],
        "All readers are busy right now; try again in a moment."
    );

    let unauthorized = js_start_bot(&endpoint, "not-a-token").await;
    assert_eq!(unauthorized["status"], 401, "{unauthorized}");
}

/// The real runner, started on a free port with the webrtc transport.
struct Runner {
    child: tokio::process::Child,
    port: u16,
}

impl Runner {
    async fn start() -> Self {
        let port = test_support::free_port();
        let child = tokio::process::Command::new(peer_env("PIPECAT_PYTHON"))
            .arg(fixture("pipecat_bot.py"))
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "-t",
                "webrtc",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the Pipecat runner");
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/status");
        test_support::eventually(
            "the Pipecat runner to answer /status",
            Duration::from_secs(90),
            || async {
                client
                    .get(&url)
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status().is_success())
                    .map(|_| ())
            },
        )
        .await;
        Self { child, port }
    }
}

#[tokio::test]
async fn the_real_pipecat_runner_starts_a_webrtc_session_and_answers_an_offer_through_the_gateway()
{
    let runner = Runner::start().await;
    let app = spawn_app_with(|v| {
        set(
            v,
            "BOT_START_URL",
            format!("http://127.0.0.1:{}/start", runner.port),
        );
        set(v, "BOT_DEFAULT_TRANSPORT", "webrtc");
    })
    .await;

    let res = app.start("u1", None).await;
    assert_eq!(res.status(), 200);
    let started: Value = res.json().await.unwrap();
    let session = started["sessionId"]
        .as_str()
        .expect("a sessionId from the runner")
        .to_owned();
    assert!(
        started
            .as_object()
            .unwrap()
            .keys()
            .all(|k| k == "sessionId" || k == "iceConfig"),
        "{started}"
    );

    let offer = tokio::process::Command::new(peer_env("PIPECAT_PYTHON"))
        .arg(fixture("make_offer.py"))
        .output()
        .await
        .expect("make an SDP offer");
    let mut offer: Value = serde_json::from_slice(&offer.stdout)
        .unwrap_or_else(|_| panic!("offer: {}", String::from_utf8_lossy(&offer.stderr)));
    offer["pc_id"] = Value::Null;
    offer["restart_pc"] = Value::Bool(false);
    let res = app
        .client
        .post(app.url(&format!("/api/sessions/{session}/api/offer")))
        .bearer_auth(token_for("u1", 60))
        .json(&offer)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "answer");
    assert!(
        answer["sdp"].as_str().unwrap().starts_with("v=0"),
        "{answer}"
    );
    assert!(answer["pc_id"].is_string());

    let res = app
        .client
        .post(app.url(&format!("/api/sessions/{session}/api/offer")))
        .bearer_auth(token_for("u2", 60))
        .json(&offer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "another user cannot reach this bot");
    drop(runner.child);
}
