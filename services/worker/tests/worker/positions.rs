//! Reading positions end to end: the bot reports through the real gateway, a real
//! worker stores them from the positions stream, the real api answers "continue
//! reading", across a restart of all three; and a reprocessed book keeps its
//! listeners' place in its text.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use shared_domain::Vars;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{HOUSEHOLD, JWT_SECRET, SERVICE_TOKEN, Stack, corpus};
use test_support::eventually;

const START_PATH: &str = "/v1/public/reader/start";

/// The real gateway in process, on the stack's Redis, with a fake Pipecat Cloud.
struct Gateway {
    address: String,
    handle: actix_web::dev::ServerHandle,
    _upstream: MockServer,
    client: reqwest::Client,
}

impl Gateway {
    async fn start(stack: &Stack) -> Self {
        let upstream = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(START_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "dailyRoom": "https://readme.daily.co/room1",
                "dailyToken": "secret-daily-token",
                "sessionId": "evening-1",
            })))
            .mount(&upstream)
            .await;
        let mut vars = stack.env.vars();
        for (k, v) in [
            ("BOT_START_URL", format!("{}{START_PATH}", upstream.uri())),
            ("SUPABASE_JWT_SECRET", JWT_SECRET.to_owned()),
            ("SERVICE_API_TOKEN", SERVICE_TOKEN.to_owned()),
        ] {
            test_support::set_var(&mut vars, k, v);
        }
        let config =
            bot_gateway::Config::from_vars(&Vars::from_pairs(vars)).expect("gateway config");
        let app = bot_gateway::build(config).await.expect("build the gateway");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        Self {
            address,
            handle,
            _upstream: upstream,
            client: reqwest::Client::new(),
        }
    }

    /// A household member starts the bot; its session id.
    async fn start_call(&self) -> String {
        let exp = chrono::Utc::now().timestamp() + 600;
        let token = shared_domain::auth::sign_user_token(
            &SecretString::from(JWT_SECRET.to_owned()),
            &json!({"sub": "reader-1", "exp": exp, "household_id": HOUSEHOLD}),
        )
        .expect("sign");
        let res = self
            .client
            .post(format!("{}/api/start", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("start");
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("start json");
        body["sessionId"].as_str().expect("sessionId").to_owned()
    }

    /// The bot reports an event, as Pipecat's bot would.
    async fn report(&self, sid: &str, event: Value) {
        let res = self
            .client
            .post(format!("{}/internal/sessions/{sid}/events", self.address))
            .bearer_auth(SERVICE_TOKEN)
            .json(&event)
            .send()
            .await
            .expect("report");
        assert_eq!(res.status(), 202, "{event}");
    }
}

fn stream_len(stack: &Stack) -> i64 {
    redis::cmd("XLEN")
        .arg(shared_domain::redis::Keys::new(&stack.env.redis.namespace).positions_stream())
        .query(&mut stack.env.redis.connection())
        .expect("XLEN")
}

#[tokio::test]
async fn the_bot_resumes_where_it_stopped_through_the_gateway_after_everything_restarts() {
    let mut stack = Stack::new().await;
    let worker = stack.spawn_worker(&[]).await;
    let book = stack.upload(&corpus("gofpdf_multicolumn.pdf")).await;
    let status = stack.settled(&book, Duration::from_secs(60)).await;
    assert_eq!(status["status"], "ready", "{status}");
    let chunks = stack.chunks(&book).await;
    assert!(chunks.len() >= 6, "{}", chunks.len());
    let gateway = Gateway::start(&stack).await;
    let sid = gateway.start_call().await;

    // Saves arrive out of order; the greatest seq is the one kept.
    let event = |ordinal: usize, offset: i64, seq: i64| json!({"type": "position", "book_id": book, "ordinal": ordinal, "offset": offset, "seq": seq});
    gateway.report(&sid, event(1, 0, 1)).await;
    gateway.report(&sid, event(3, 12, 3)).await;
    gateway.report(&sid, event(2, 0, 2)).await;
    let saved = eventually(
        "the worker stores the latest position",
        Duration::from_secs(20),
        || async {
            let p = stack.get(&format!("/books/{book}/position")).await;
            (p["seq"] == 3 && stream_len(&stack) == 0).then_some(p)
        },
    )
    .await;
    assert_eq!(
        (&saved["ordinal"], &saved["offset"]),
        (&json!(3), &json!(12))
    );
    assert_eq!(saved["session_id"], sid.as_str());

    // The worker stops; the call goes on and its saves wait on the stream.
    assert!(worker.process.terminate().await.success());
    gateway.report(&sid, event(5, 7, 4)).await;
    // A position that can never be stored (past the end) is dropped, not retried forever.
    gateway.report(&sid, event(10_000, 0, 5)).await;
    assert_eq!(stream_len(&stack), 2);

    // Everything restarts.
    gateway.handle.stop(true).await;
    stack.restart_api().await;
    let _worker = stack.spawn_worker(&[]).await;
    let resumed = eventually(
        "continue reading resumes at the last save",
        Duration::from_secs(20),
        || async {
            let c = stack.get(&format!("/books/{book}/continue?limit=2")).await;
            (c["start"]["ordinal"] == 5 && stream_len(&stack) == 0).then_some(c)
        },
    )
    .await;
    assert_eq!(resumed["start"], json!({"ordinal": 5, "offset": 7}));
    assert_eq!(resumed["position"]["seq"], 4);
    assert_eq!(resumed["chunks"][0]["ordinal"], 5);
    assert_eq!(resumed["chunks"][0]["text"], chunks[5]["text"]);
}

#[tokio::test]
async fn a_reprocessed_book_keeps_its_listeners_place_in_the_text() {
    let stack = Stack::new().await;
    let worker = stack.spawn_worker(&[]).await;
    let book = stack.upload(&corpus("debhist_en.pdf")).await;
    let status = stack.settled(&book, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "ready", "{status}");
    let before = stack.chunks(&book).await;
    // Somewhere in the middle, at the start of a chunk's second sentence.
    let (ordinal, chunk) = before
        .iter()
        .enumerate()
        .skip(before.len() / 2)
        .find(|(_, c)| {
            c["kind"] == "body" && c["sentences"].as_array().is_some_and(|s| s.len() >= 3)
        })
        .expect("a body chunk of three sentences");
    let offset = chunk["sentences"][1][0].as_i64().expect("sentence start");
    let text: Vec<char> = chunk["text"].as_str().expect("text").chars().collect();
    let heard: String = text[usize::try_from(offset).expect("offset")..]
        .iter()
        .take(60)
        .collect();
    let res = stack
        .client
        .put(format!("{}/books/{book}/position", stack.api))
        .bearer_auth(SERVICE_TOKEN)
        .json(&json!({"ordinal": ordinal, "offset": offset, "seq": 1, "household_id": HOUSEHOLD, "listener": "ana"}))
        .send()
        .await
        .expect("save");
    assert_eq!(res.status(), 200);

    // Reprocessed with much smaller chunks: every ordinal now means other text.
    assert!(worker.process.terminate().await.success());
    let _worker = stack
        .spawn_worker(&[
            ("CHUNK_TARGET_CHARS", "250"),
            ("CHUNK_MAX_CHARS", "400"),
            ("SENTENCE_MAX_CHARS", "250"),
        ])
        .await;
    let res = stack
        .admin_post(&format!("/admin/books/{book}/reprocess"))
        .await;
    assert_eq!(res.status(), 202);
    let after = eventually(
        "the reprocessed book has its new chunks",
        Duration::from_secs(120),
        || async {
            let job = stack.job(&book).await;
            if job["status"] != "succeeded" {
                return None;
            }
            let chunks = stack.chunks(&book).await;
            (chunks.len() > before.len()).then_some(chunks)
        },
    )
    .await;
    let moved = stack
        .get(&format!("/books/{book}/position?listener=ana"))
        .await;
    let new_ordinal =
        usize::try_from(moved["ordinal"].as_i64().expect("ordinal")).expect("ordinal");
    let new_offset = usize::try_from(moved["offset"].as_i64().expect("offset")).expect("offset");
    assert_ne!(new_ordinal, ordinal, "the ordinal moved with the text");
    let now: String = after[new_ordinal]["text"]
        .as_str()
        .expect("text")
        .chars()
        .skip(new_offset)
        .collect();
    let next: String = after
        .iter()
        .skip(new_ordinal + 1)
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let now = format!("{now} {next}");
    assert!(
        now.starts_with(&heard),
        "the listener resumes at the same words:\n  before: {heard:?}\n  after:  {:?}",
        now.chars().take(60).collect::<String>()
    );
    assert_eq!(moved["seq"], 1, "moving a position is not a new save");
}
