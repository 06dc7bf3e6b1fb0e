//! Reading positions, "continue reading" and chapters, and who may use them.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, HOUSEHOLD, SERVICE_TOKEN, TestApp, spawn_app, user_token};

const OTHER: &str = "22222222-2222-2222-2222-222222222222";

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

async fn put(app: &TestApp, book: uuid::Uuid, token: &str, body: Value) -> (u16, Value) {
    json_of(
        app.client
            .put(app.url(&format!("/books/{book}/position")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn a_save_is_read_back_and_the_greatest_seq_wins() {
    let app = spawn_app().await;
    let book = app.ready_book(HOUSEHOLD, "pos", 5).await;
    let user = user_token(HOUSEHOLD, 300);

    let (code, body) = json_of(app.get_as(&format!("/books/{book}/position"), &user).await).await;
    assert_eq!((code, body["error"].as_str()), (404, Some("not_found")));

    let (code, body) = put(
        &app,
        book,
        &user,
        json!({"ordinal": 2, "offset": 5, "seq": 10}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["applied"], true);
    assert_eq!(body["position"]["ordinal"], 2);
    assert_eq!(body["position"]["offset"], 5);
    assert_eq!(body["position"]["listener"], Value::Null);
    assert_eq!(body["position"]["household_id"], HOUSEHOLD);

    // The same save again changes nothing; an older one is refused and answered
    // with the stored position.
    let (code, body) = put(
        &app,
        book,
        &user,
        json!({"ordinal": 2, "offset": 5, "seq": 10}),
    )
    .await;
    assert_eq!((code, &body["applied"]), (200, &json!(false)));
    let (code, body) = put(
        &app,
        book,
        &user,
        json!({"ordinal": 0, "offset": 0, "seq": 9}),
    )
    .await;
    assert_eq!((code, &body["applied"]), (200, &json!(false)));
    assert_eq!(body["position"]["ordinal"], 2);

    // The bot saves for the household, naming it, with its session.
    let (code, body) = put(
        &app,
        book,
        SERVICE_TOKEN,
        json!({"ordinal": 3, "offset": 1, "seq": 11, "household_id": HOUSEHOLD, "session_id": "s-1"}),
    )
    .await;
    assert_eq!((code, &body["applied"]), (200, &json!(true)), "{body}");
    let (code, body) = json_of(app.get_as(&format!("/books/{book}/position"), &user).await).await;
    assert_eq!(code, 200);
    assert_eq!(
        (
            &body["ordinal"],
            &body["offset"],
            &body["seq"],
            &body["session_id"]
        ),
        (&json!(3), &json!(1), &json!(11), &json!("s-1"))
    );

    // A listener has a place of their own.
    let (code, _) = put(
        &app,
        book,
        &user,
        json!({"ordinal": 4, "seq": 1, "listener": "ana"}),
    )
    .await;
    assert_eq!(code, 200);
    let (_, ana) = json_of(
        app.get_as(&format!("/books/{book}/position?listener=ana"), &user)
            .await,
    )
    .await;
    let (_, house) = json_of(app.get_as(&format!("/books/{book}/position"), &user).await).await;
    assert_eq!(
        (&ana["ordinal"], &ana["listener"]),
        (&json!(4), &json!("ana"))
    );
    assert_eq!(house["ordinal"], 3);
}

#[tokio::test]
async fn racing_saves_leave_the_latest() {
    let app = spawn_app().await;
    let book = app.ready_book(HOUSEHOLD, "race", 60).await;
    let user = user_token(HOUSEHOLD, 300);
    // 60 saves, seq i at ordinal i, sent all at once in a shuffled order.
    let mut order: Vec<i64> = (0..60).collect();
    order.sort_by_key(|i| (i * 37) % 61);
    let saves = order.iter().map(|&i| {
        let (app, user) = (&app, &user);
        async move {
            put(app, book, user, json!({"ordinal": i, "seq": i}))
                .await
                .0
        }
    });
    let codes = futures::future::join_all(saves).await;
    assert!(codes.iter().all(|c| *c == 200), "{codes:?}");
    let (_, body) = json_of(app.get_as(&format!("/books/{book}/position"), &user).await).await;
    assert_eq!((&body["ordinal"], &body["seq"]), (&json!(59), &json!(59)));
}

#[tokio::test]
async fn bad_saves_are_refused_with_their_reason() {
    let app = spawn_app().await;
    let book = app.ready_book(HOUSEHOLD, "bad", 3).await;
    let user = user_token(HOUSEHOLD, 300);
    let chars = "Sentence number 1 of bad.".chars().count();
    for (body, code, says) in [
        (json!({"ordinal": 3, "seq": 1}), 400, "past the end"),
        (
            json!({"ordinal": 1, "offset": chars + 1, "seq": 1}),
            400,
            "past its end",
        ),
        (json!({"ordinal": -1, "seq": 1}), 400, "0 or more"),
        (json!({"ordinal": 1, "seq": -5}), 400, "0 or more"),
        (json!({"ordinal": 1}), 400, "seq"),
        (
            json!({"ordinal": 1, "seq": 1, "listener": "a b"}),
            400,
            "listener",
        ),
        (
            json!({"ordinal": 1, "seq": 1, "session_id": "x:y"}),
            400,
            "session_id",
        ),
        (json!({"ordinal": 1, "seq": 1, "extra": true}), 400, "extra"),
    ] {
        let (got, reply) = put(&app, book, &user, body.clone()).await;
        assert_eq!(got, code, "{body} → {reply}");
        assert!(
            reply["message"].as_str().unwrap_or_default().contains(says),
            "{body} → {reply}"
        );
    }
    // The last character's end is still in the chunk.
    let (got, _) = put(
        &app,
        book,
        &user,
        json!({"ordinal": 1, "offset": chars, "seq": 2}),
    )
    .await;
    assert_eq!(got, 200);

    // A book still processing has nowhere to stand yet.
    let up = app
        .upload_ok(HOUSEHOLD, crate::helpers::pdf("wait"), "wait.pdf")
        .await;
    let waiting: uuid::Uuid = up["book_id"].as_str().unwrap().parse().unwrap();
    let (got, reply) = put(&app, waiting, &user, json!({"ordinal": 0, "seq": 1})).await;
    assert_eq!((got, reply["error"].as_str()), (409, Some("conflict")));
    let (got, _) = json_of(
        app.get_as(&format!("/books/{waiting}/continue"), &user)
            .await,
    )
    .await;
    assert_eq!(got, 409);
    let missing = uuid::Uuid::new_v4();
    let (got, _) = put(&app, missing, &user, json!({"ordinal": 0, "seq": 1})).await;
    assert_eq!(got, 404);
}

#[tokio::test]
async fn another_households_position_is_403() {
    let app = spawn_app().await;
    let book = app.ready_book(HOUSEHOLD, "mine", 3).await;
    let stranger = user_token(OTHER, 300);
    let (got, _) = put(&app, book, &stranger, json!({"ordinal": 0, "seq": 1})).await;
    assert_eq!(got, 403);
    // A user naming another household than their token's.
    let (got, _) = put(
        &app,
        book,
        &user_token(HOUSEHOLD, 300),
        json!({"ordinal": 0, "seq": 1, "household_id": OTHER}),
    )
    .await;
    assert_eq!(got, 403);
    // The bot must name the household, and the right one.
    let (got, reply) = put(&app, book, SERVICE_TOKEN, json!({"ordinal": 0, "seq": 1})).await;
    assert_eq!(got, 400, "{reply}");
    let (got, _) = put(
        &app,
        book,
        SERVICE_TOKEN,
        json!({"ordinal": 0, "seq": 1, "household_id": OTHER}),
    )
    .await;
    assert_eq!(got, 403);
    let (got, _) = put(
        &app,
        book,
        SERVICE_TOKEN,
        json!({"ordinal": 0, "seq": 1, "household_id": HOUSEHOLD}),
    )
    .await;
    assert_eq!(got, 200);
    for path in ["position", "continue", "chapters"] {
        let res = app
            .get_as(&format!("/books/{book}/{path}"), &stranger)
            .await;
        assert_eq!(res.status().as_u16(), 403, "{path}");
        let res = app.get(&format!("/books/{book}/{path}")).await;
        assert_eq!(res.status().as_u16(), 401, "{path}");
    }
    // The admin may read it.
    let res = app
        .get_as(&format!("/books/{book}/position"), ADMIN_TOKEN)
        .await;
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn continue_reading_starts_at_the_body_then_at_the_saved_place() {
    let app = spawn_app().await;
    let book = app.ready_book(HOUSEHOLD, "cont", 8).await;
    let db = app.db().await;
    // Chunks 0–1 are a contents page, 5 a note: not the reading flow.
    db.execute(
        "UPDATE book_chunks SET kind = 'contents' WHERE book_id = $1 AND ordinal < 2",
        &[&book],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE book_chunks SET kind = 'notes' WHERE book_id = $1 AND ordinal = 5",
        &[&book],
    )
    .await
    .unwrap();
    let user = user_token(HOUSEHOLD, 300);
    let ordinals = |body: &Value| -> Vec<i64> {
        body["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ordinal"].as_i64().unwrap())
            .collect()
    };

    let (code, body) = json_of(
        app.get_as(&format!("/books/{book}/continue?limit=3"), &user)
            .await,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["position"], Value::Null);
    assert_eq!(body["start"], json!({"ordinal": 2, "offset": 0}));
    assert_eq!(ordinals(&body), [2, 3, 4]);
    assert_eq!(body["next_after"], 4);
    assert_eq!(body["chunk_count"], 8);
    assert!(body["chunks"][0]["sentences"].is_array());

    // Saved in the note: continue from it, then the body.
    put(
        &app,
        book,
        &user,
        json!({"ordinal": 5, "offset": 3, "seq": 1}),
    )
    .await;
    let (_, body) = json_of(app.get_as(&format!("/books/{book}/continue"), &user).await).await;
    assert_eq!(body["start"], json!({"ordinal": 5, "offset": 3}));
    assert_eq!(body["position"]["ordinal"], 5);
    assert_eq!(ordinals(&body), [5, 6, 7]);
    assert_eq!(body["next_after"], Value::Null);

    // The household's library shows how far it has listened.
    let (_, list) = json_of(
        app.get_as(&format!("/households/{HOUSEHOLD}/books"), &user)
            .await,
    )
    .await;
    let entry = list["books"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["book_id"] == book.to_string())
        .unwrap();
    assert_eq!(entry["reading_position"]["ordinal"], 5);
    assert_eq!(entry["reading_position"]["fraction"], 5.0 / 8.0);
    let (_, status) = json_of(app.get_as(&format!("/books/{book}/status"), &user).await).await;
    assert_eq!(status["reading_position"]["offset"], 3);
}

#[tokio::test]
async fn chapters_list_where_each_starts_and_deleting_a_book_deletes_its_positions() {
    let app = spawn_app().await;
    let book = app.ready_book(HOUSEHOLD, "chap", 7).await;
    let db = app.db().await;
    for (ordinal, chapter, kind) in [
        (0, None, "contents"),
        (1, Some("Loomings"), "body"),
        (2, Some("Loomings"), "body"),
        (3, Some("The Carpet-Bag"), "body"),
        (4, Some("The Carpet-Bag"), "notes"),
        (5, Some("The Spouter-Inn"), "body"),
        (6, Some("Loomings"), "body"),
    ] {
        db.execute(
            "UPDATE book_chunks SET chapter = $3, kind = $4 WHERE book_id = $1 AND ordinal = $2",
            &[&book, &ordinal, &chapter, &kind],
        )
        .await
        .unwrap();
    }
    let user = user_token(HOUSEHOLD, 300);
    let (code, body) = json_of(app.get_as(&format!("/books/{book}/chapters"), &user).await).await;
    assert_eq!(code, 200);
    let got: Vec<(i64, &str, i64)> = body["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["number"].as_i64().unwrap(),
                c["title"].as_str().unwrap(),
                c["ordinal"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "Loomings", 1),
            (2, "The Carpet-Bag", 3),
            (3, "The Spouter-Inn", 5),
            (4, "Loomings", 6)
        ]
    );

    put(&app, book, &user, json!({"ordinal": 3, "seq": 1})).await;
    let res = app
        .admin(reqwest::Method::DELETE, &format!("/admin/books/{book}"))
        .await;
    assert_eq!(res.status().as_u16(), 204);
    let left: i64 = db
        .query_one(
            "SELECT count(*) FROM reading_positions WHERE book_id = $1",
            &[&book],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}
