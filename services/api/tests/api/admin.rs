//! Admin routes: delete, reprocess, the job list and retry; and a job's state.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{HOUSEHOLD, SERVICE_TOKEN, pdf, spawn_app, user_token};

async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn deleting_a_book_removes_object_and_rows_then_404s() {
    let app = spawn_app().await;
    let id = app.ready_book(HOUSEHOLD, "del", 3).await;
    assert_eq!(app.stored_objects().len(), 1);
    let res = app
        .admin(Method::DELETE, &format!("/admin/books/{id}"))
        .await;
    assert_eq!(res.status(), 204);
    assert!(app.stored_objects().is_empty(), "the object is gone");
    let db = app.db().await;
    for table in [
        "books WHERE id = $1",
        "book_chunks WHERE book_id = $1",
        "jobs WHERE book_id = $1",
    ] {
        let n: i64 = db
            .query_one(&format!("SELECT count(*) FROM {table}"), &[&id])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table}");
    }
    assert_eq!(
        app.get_as(&format!("/books/{id}/status"), SERVICE_TOKEN)
            .await
            .status(),
        404
    );
    let (code, body) = json(
        app.admin(Method::DELETE, &format!("/admin/books/{id}"))
            .await,
    )
    .await;
    assert_eq!((code, body["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn reprocess_queues_a_new_job_and_keeps_the_chunks() {
    let app = spawn_app().await;
    let id = app.ready_book(HOUSEHOLD, "again", 4).await;
    let (code, body) = json(
        app.admin(Method::POST, &format!("/admin/books/{id}/reprocess"))
            .await,
    )
    .await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(body["status"], "queued");
    let job_id = body["job_id"].as_str().unwrap().to_owned();
    assert!(app.stream_job_ids().contains(&job_id), "published");

    let (_, status) = json(
        app.get_as(&format!("/books/{id}/status"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!(
        status["status"], "ready",
        "a ready book stays readable while it is reprocessed"
    );
    assert_eq!(status["latest_job_id"], job_id.as_str());
    let (_, chunks) = json(
        app.get_as(&format!("/books/{id}/chunks"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!(
        chunks["chunks"].as_array().unwrap().len(),
        4,
        "old chunks stay until the new run succeeds"
    );

    let (code, body) = json(
        app.admin(Method::POST, &format!("/admin/books/{id}/reprocess"))
            .await,
    )
    .await;
    assert_eq!(
        (code, body["error"].as_str()),
        (409, Some("conflict")),
        "one active job at a time"
    );
    let (code, _) = json(
        app.admin(
            Method::POST,
            &format!("/admin/books/{}/reprocess", uuid::Uuid::new_v4()),
        )
        .await,
    )
    .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn a_dead_job_is_listed_and_retried_back_to_queued() {
    let app = spawn_app().await;
    let up = app.upload_ok(HOUSEHOLD, pdf("dead"), "dead.pdf").await;
    let job_id: uuid::Uuid = up["job_id"].as_str().unwrap().parse().unwrap();
    let book_id: uuid::Uuid = up["book_id"].as_str().unwrap().parse().unwrap();
    let db = app.db().await;
    db.execute(
        "UPDATE jobs SET status = 'dead', attempts = max_attempts, started_at = now(), heartbeat_at = now(), finished_at = now(), last_error = 'storage timed out' WHERE id = $1",
        &[&job_id],
    )
    .await
    .unwrap();
    db.execute("UPDATE books SET status = 'failed', error_code = 'retries_exhausted', error_message = 'Gave up after 5 attempts.' WHERE id = $1", &[&book_id]).await.unwrap();

    let (code, list) = json(app.admin(Method::GET, "/admin/jobs?status=dead").await).await;
    assert_eq!(code, 200);
    assert_eq!(list["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(list["jobs"][0]["job_id"], job_id.to_string());
    assert_eq!(list["jobs"][0]["last_error"], "storage timed out");
    let (_, default) = json(app.admin(Method::GET, "/admin/jobs").await).await;
    assert_eq!(default["jobs"], list["jobs"], "dead is the default view");

    let before = app.stream_job_ids().len();
    let (code, job) = json(
        app.admin(Method::POST, &format!("/admin/jobs/{job_id}/retry"))
            .await,
    )
    .await;
    assert_eq!(code, 202, "{job}");
    assert_eq!(job["status"], "queued");
    assert_eq!(job["attempts"], 0);
    assert!(job["last_error"].is_null());
    assert!(job["published_at"].is_string(), "published again");
    assert_eq!(app.stream_job_ids().len(), before + 1);
    let (_, book) = json(
        app.get_as(&format!("/books/{book_id}/status"), SERVICE_TOKEN)
            .await,
    )
    .await;
    assert_eq!(book["status"], "processing");
    assert!(book["error"].is_null());

    let (code, body) = json(
        app.admin(Method::POST, &format!("/admin/jobs/{job_id}/retry"))
            .await,
    )
    .await;
    assert_eq!(
        (code, body["error"].as_str()),
        (409, Some("conflict")),
        "a queued job is not retryable: {body}"
    );
    let (code, _) = json(
        app.admin(
            Method::POST,
            &format!("/admin/jobs/{}/retry", uuid::Uuid::new_v4()),
        )
        .await,
    )
    .await;
    assert_eq!(code, 404);
    let (code, _) = json(app.admin(Method::GET, "/admin/jobs?status=exploded").await).await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn a_job_is_readable_by_its_household_only() {
    let app = spawn_app().await;
    let up = app.upload_ok(HOUSEHOLD, pdf("j"), "j.pdf").await;
    let job = up["job_id"].as_str().unwrap();
    let (code, body) = json(
        app.get_as(&format!("/jobs/{job}"), &user_token(HOUSEHOLD, 60))
            .await,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(body["book_id"], up["book_id"]);
    assert_eq!(body["kind"], "process_book");
    assert_eq!(body["status"], "queued");
    let (code, _) = json(
        app.get_as(
            &format!("/jobs/{job}"),
            &user_token("33333333-3333-3333-3333-333333333333", 60),
        )
        .await,
    )
    .await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn admin_routes_refuse_other_callers() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4();
    for (method, path) in [
        (Method::DELETE, format!("/admin/books/{id}")),
        (Method::POST, format!("/admin/books/{id}/reprocess")),
        (Method::GET, "/admin/jobs".to_owned()),
        (Method::POST, format!("/admin/jobs/{id}/retry")),
    ] {
        let res = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{method} {path}");
        for token in [SERVICE_TOKEN.to_owned(), user_token(HOUSEHOLD, 60)] {
            let res = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{method} {path}");
        }
    }
}
