//! Book status, chunks and a household's library, and who may read them.

use serde_json::Value;

use crate::helpers::{HOUSEHOLD, SERVICE_TOKEN, pdf, spawn_app, user_token};

const OTHER: &str = "22222222-2222-2222-2222-222222222222";

async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

#[tokio::test]
async fn status_reports_a_processing_then_a_ready_book() {
    let app = spawn_app().await;
    let up = app.upload_ok(HOUSEHOLD, pdf("s"), "Status.pdf").await;
    let id = up["book_id"].as_str().unwrap();
    let (code, body) = json(
        app.get_as(&format!("/books/{id}/status"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(body["status"], "processing");
    assert_eq!(body["title"], "Status");
    assert_eq!(body["latest_job_id"], up["job_id"]);
    assert_eq!(body["latest_job_status"], "queued");
    assert_eq!(body["reading_position"], Value::Null);
    assert_eq!(body["progress"]["pages_done"], 0);
    assert!(body["error"].is_null());

    let ready = app.ready_book(HOUSEHOLD, "r", 3).await;
    let (_, body) = json(
        app.get_as(&format!("/books/{ready}/status"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["chunk_count"], 3);
    assert!(body["ready_at"].is_string());
}

#[tokio::test]
async fn a_failed_book_shows_its_error() {
    let app = spawn_app().await;
    let up = app.upload_ok(HOUSEHOLD, pdf("f"), "f.pdf").await;
    let id: uuid::Uuid = up["book_id"].as_str().unwrap().parse().unwrap();
    app.db()
        .await
        .execute("UPDATE books SET status = 'failed', error_code = 'encrypted_pdf', error_message = 'The PDF is password-protected.' WHERE id = $1", &[&id])
        .await
        .unwrap();
    let (_, body) = json(
        app.get_as(&format!("/books/{id}/status"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!(body["status"], "failed");
    assert_eq!(body["error"]["code"], "encrypted_pdf");
    assert_eq!(body["error"]["message"], "The PDF is password-protected.");
}

#[tokio::test]
async fn chunks_page_with_keyset_pagination_and_its_edges() {
    let app = spawn_app().await;
    let id = app.ready_book(HOUSEHOLD, "p", 5).await;
    let page = |q: String| {
        let app = &app;
        async move {
            json(
                app.get_as(&format!("/books/{id}/chunks{q}"), SERVICE_TOKEN)
                    .await,
            )
            .await
        }
    };
    let ordinals = |body: &Value| {
        body["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ordinal"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };

    let (code, first) = page("?limit=2".into()).await;
    assert_eq!(code, 200);
    assert_eq!(ordinals(&first), vec![0, 1]);
    assert_eq!(first["next_after"], 1);
    assert_eq!(first["chunks"][0]["text"], "Sentence number 0 of p.");
    assert_eq!(first["chunks"][0]["char_count"], 23);
    assert_eq!(first["chunks"][0]["chapter"], "One");
    let (_, second) = page("?after=1&limit=2".into()).await;
    assert_eq!(ordinals(&second), vec![2, 3]);
    assert_eq!(second["next_after"], 3);
    let (_, last) = page("?after=3&limit=2".into()).await;
    assert_eq!(ordinals(&last), vec![4]);
    assert!(last["next_after"].is_null(), "the last page says so");

    // A page that ends exactly at the last chunk has no next page.
    let (_, exact) = page("?limit=5".into()).await;
    assert_eq!(ordinals(&exact), vec![0, 1, 2, 3, 4]);
    assert!(exact["next_after"].is_null());
    // Past the end, and a book with no chunks yet: empty, no next.
    let (_, past) = page("?after=4".into()).await;
    assert!(past["chunks"].as_array().unwrap().is_empty());
    assert!(past["next_after"].is_null());
    let fresh = app.upload_ok(HOUSEHOLD, pdf("empty"), "e.pdf").await;
    let (code, empty) = json(
        app.get_as(
            &format!("/books/{}/chunks", fresh["book_id"].as_str().unwrap()),
            SERVICE_TOKEN,
        )
        .await,
    )
    .await;
    assert_eq!(code, 200);
    assert!(empty["chunks"].as_array().unwrap().is_empty());

    for bad in ["?limit=0", "?limit=201", "?limit=ten", "?after=-5"] {
        let (code, body) = page(bad.into()).await;
        assert_eq!(code, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request");
    }
}

#[tokio::test]
async fn the_reading_flow_is_the_body_and_other_kinds_are_there_on_request() {
    let app = spawn_app().await;
    let id = app.ready_book(HOUSEHOLD, "k", 5).await;
    let db = app.db().await;
    // Ordinals 0 and 1 are contents, 4 an index; each carries sentence starts.
    db.execute(
        "UPDATE book_chunks SET kind = CASE WHEN ordinal < 2 THEN 'contents' WHEN ordinal = 4 THEN 'index' ELSE 'body' END, \
         text = 'One here. Two there!', char_count = 20, sentence_starts = '{0,10}' WHERE book_id = $1",
        &[&id],
    )
    .await
    .expect("label chunks");
    let get = |q: &str| {
        let (app, q) = (&app, q.to_owned());
        async move {
            json(
                app.get_as(&format!("/books/{id}/chunks{q}"), SERVICE_TOKEN)
                    .await,
            )
            .await
        }
    };
    let listed = |body: &Value| {
        body["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["ordinal"].as_i64().unwrap(),
                    c["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };

    let (code, body) = get("").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(listed(&body), [(2, "body".into()), (3, "body".into())]);
    assert_eq!(
        body["chunks"][0]["sentences"],
        serde_json::json!([[0, 9], [10, 20]])
    );
    // Keyset pagination skips the other kinds.
    let (_, body) = get("?limit=1").await;
    assert_eq!(body["next_after"], 2);
    let (_, body) = get("?after=2&limit=1").await;
    assert_eq!(listed(&body), [(3, "body".into())]);
    assert!(body["next_after"].is_null());

    let (_, body) = get("?kind=contents,index").await;
    assert_eq!(
        listed(&body),
        [
            (0, "contents".into()),
            (1, "contents".into()),
            (4, "index".into())
        ]
    );
    let (_, body) = get("?kind=all").await;
    assert_eq!(listed(&body).len(), 5);
    let (code, body) = json(
        app.get_as(&format!("/books/{id}/chunks/0"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!((code, body["kind"].as_str()), (200, Some("contents")));

    let (code, body) = get("?kind=glossary").await;
    assert_eq!(code, 400);
    assert_eq!(body["error"], "bad_request");
    assert!(
        body["message"].as_str().unwrap().contains("front_matter"),
        "{body}"
    );
}

#[tokio::test]
async fn one_chunk_by_ordinal() {
    let app = spawn_app().await;
    let id = app.ready_book(HOUSEHOLD, "c", 12).await;
    let (code, body) = json(
        app.get_as(&format!("/books/{id}/chunks/11"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(body["ordinal"], 11);
    assert_eq!(body["page_start"], 2);
    let (code, body) = json(
        app.get_as(&format!("/books/{id}/chunks/12"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!((code, body["error"].as_str()), (404, Some("not_found")));
    let (code, _) = json(
        app.get_as(&format!("/books/{id}/chunks/eleven"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn a_household_lists_its_books_newest_first_with_a_cursor() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.upload_ok(HOUSEHOLD, pdf(&format!("lib{i}")), &format!("Book {i}.pdf"))
                .await["book_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    app.upload_ok(OTHER, pdf("theirs"), "Theirs.pdf").await;
    let token = user_token(HOUSEHOLD, 300);

    let (code, first) = json(
        app.get_as(&format!("/households/{HOUSEHOLD}/books?limit=3"), &token)
            .await,
    )
    .await;
    assert_eq!(code, 200);
    let got: Vec<&str> = first["books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["book_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[4].as_str(), ids[3].as_str(), ids[2].as_str()]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) = json(
        app.get_as(
            &format!("/households/{HOUSEHOLD}/books?limit=3&cursor={cursor}"),
            &token,
        )
        .await,
    )
    .await;
    let got: Vec<&str> = second["books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["book_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[1].as_str(), ids[0].as_str()]);
    assert!(second["next_cursor"].is_null());
    assert_eq!(second["books"][0]["status"], "processing");

    let (code, body) = json(
        app.get_as(
            &format!("/households/{HOUSEHOLD}/books?cursor=garbage"),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!((code, body["error"].as_str()), (400, Some("bad_request")));
}

#[tokio::test]
async fn users_read_only_their_own_household() {
    let app = spawn_app().await;
    let mine = app.ready_book(HOUSEHOLD, "mine", 1).await;
    let theirs = app.ready_book(OTHER, "theirs", 1).await;
    let me = user_token(HOUSEHOLD, 300);
    for path in [
        format!("/books/{mine}/status"),
        format!("/books/{mine}/chunks"),
        format!("/books/{mine}/chunks/0"),
        format!("/households/{HOUSEHOLD}/books"),
    ] {
        assert_eq!(app.get_as(&path, &me).await.status(), 200, "{path}");
    }
    for path in [
        format!("/books/{theirs}/status"),
        format!("/books/{theirs}/chunks"),
        format!("/books/{theirs}/chunks/0"),
        format!("/households/{OTHER}/books"),
    ] {
        let (code, body) = json(app.get_as(&path, &me).await).await;
        assert_eq!(code, 403, "{path}: {body}");
        assert_eq!(body["error"], "forbidden");
    }
}

#[tokio::test]
async fn expired_forged_or_missing_credentials_get_401() {
    let app = spawn_app().await;
    let id = app.ready_book(HOUSEHOLD, "x", 1).await;
    let path = format!("/books/{id}/status");
    let forged = shared_domain::auth::sign_user_token(
        &secrecy::SecretString::from("not-the-real-secret-0000000000".to_owned()),
        &serde_json::json!({"sub": "u", "exp": chrono::Utc::now().timestamp() + 300, "household_id": HOUSEHOLD}),
    )
    .unwrap();
    for (token, why) in [
        (user_token(HOUSEHOLD, -3600), "expired"),
        (forged, "forged"),
        ("garbage".to_owned(), "garbage"),
    ] {
        let (code, body) = json(app.get_as(&path, &token).await).await;
        assert_eq!(code, 401, "{why}: {body}");
        assert_eq!(body["error"], "unauthorized");
    }
    let res = app.get(&path).await;
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .get(app.url(&path))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn unknown_books_and_bad_ids() {
    let app = spawn_app().await;
    let missing = uuid::Uuid::new_v4();
    for path in [
        format!("/books/{missing}/status"),
        format!("/books/{missing}/chunks"),
        format!("/books/{missing}/chunks/0"),
        format!("/jobs/{missing}"),
    ] {
        let (code, body) = json(app.get_as(&path, SERVICE_TOKEN).await).await;
        assert_eq!(
            (code, body["error"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let (code, body) = json(app.get_as("/books/not-a-uuid/status", SERVICE_TOKEN).await).await;
    assert_eq!((code, body["error"].as_str()), (400, Some("bad_request")));
}

/// A Supabase project on signing keys: the user's ES256 token (verified with the
/// key its JWKS publishes, no legacy secret set) reads its own household and
/// nothing else.
#[tokio::test]
async fn a_user_of_a_project_on_signing_keys_reads_its_own_household() {
    use test_support::{JwksServer, TestSigningKey, eventually};

    let key = TestSigningKey::generate();
    let jwks = JwksServer::publishing(&[&key]).await;
    let app = crate::helpers::spawn_app_with(|_, v| {
        v.retain(|(k, _)| k != "SUPABASE_JWT_SECRET");
        test_support::set_var(v, "SUPABASE_JWKS_URL", jwks.url());
    })
    .await;
    let mine = app.ready_book(HOUSEHOLD, "mine", 1).await;
    let theirs = app.ready_book(OTHER, "theirs", 1).await;
    let token = key.sign(&serde_json::json!({
        "sub": "es-user",
        "exp": chrono::Utc::now().timestamp() + 600,
        "household_id": HOUSEHOLD,
    }));

    let mine_path = format!("/books/{mine}/status");
    let code = eventually(
        "the signing keys to load",
        std::time::Duration::from_secs(20),
        || {
            let request = app.get_as(&mine_path, &token);
            async move {
                let code = request.await.status();
                (code != 401).then_some(code)
            }
        },
    )
    .await;
    assert_eq!(code, 200);
    let (code, ready) = json(app.get("/health/ready").await).await;
    assert_eq!(
        (code, &ready["checks"]["signing_keys"]),
        (200, &serde_json::json!("ok")),
        "{ready}"
    );
    let (code, body) = json(app.get_as(&format!("/books/{theirs}/status"), &token).await).await;
    assert_eq!(code, 403, "{body}");
    // The legacy secret is not configured, so an HS256 token is refused.
    let (code, _) = json(app.get_as(&mine_path, &user_token(HOUSEHOLD, 300)).await).await;
    assert_eq!(code, 401);
}
