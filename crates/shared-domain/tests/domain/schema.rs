//! The database itself enforces the rules of DESIGN.md §3.

use test_support::TestDatabase;
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

async fn insert_book(
    db: &Client,
    household: Uuid,
    sha: &str,
) -> Result<Uuid, tokio_postgres::Error> {
    let id = Uuid::new_v4();
    db.execute(
        "INSERT INTO books (id, household_id, title, storage_path, content_sha256, byte_size) VALUES ($1, $2, 'A book', $3, $4, 1234)",
        &[&id, &household, &format!("{household}/books/{id}.pdf"), &sha],
    )
    .await?;
    Ok(id)
}

async fn insert_job(db: &Client, book: Uuid) -> Result<Uuid, tokio_postgres::Error> {
    let id = Uuid::new_v4();
    db.execute(
        "INSERT INTO jobs (id, book_id, kind) VALUES ($1, $2, 'process_book')",
        &[&id, &book],
    )
    .await?;
    Ok(id)
}

fn sql_state(e: &tokio_postgres::Error) -> &SqlState {
    e.code()
        .unwrap_or_else(|| panic!("not a database error: {e}"))
}

#[tokio::test]
async fn a_second_book_with_the_same_household_and_hash_is_refused() {
    let tdb = TestDatabase::create().await;
    let db = tdb.client().await;
    let household = Uuid::new_v4();
    insert_book(&db, household, SHA).await.unwrap();

    let err = insert_book(&db, household, SHA).await.unwrap_err();
    assert_eq!(sql_state(&err), &SqlState::UNIQUE_VIOLATION);

    // Another household may hold the same bytes.
    insert_book(&db, Uuid::new_v4(), SHA).await.unwrap();
}

#[tokio::test]
async fn deleting_a_book_removes_its_chunks_and_jobs() {
    let tdb = TestDatabase::create().await;
    let db = tdb.client().await;
    let book = insert_book(&db, Uuid::new_v4(), SHA).await.unwrap();
    let other = insert_book(&db, Uuid::new_v4(), SHA).await.unwrap();
    for b in [book, other] {
        insert_job(&db, b).await.unwrap();
        for ordinal in 0..3 {
            db.execute(
                "INSERT INTO book_chunks (book_id, ordinal, text, char_count, page_start, page_end) VALUES ($1, $2, 'Hello.', 6, 1, 1)",
                &[&b, &ordinal],
            )
            .await
            .unwrap();
        }
    }

    db.execute("DELETE FROM books WHERE id = $1", &[&book])
        .await
        .unwrap();

    let count = |table: &'static str, id: Uuid| {
        let db = &db;
        async move {
            let row = db
                .query_one(
                    &format!("SELECT count(*) FROM {table} WHERE book_id = $1"),
                    &[&id],
                )
                .await
                .unwrap();
            row.get::<_, i64>(0)
        }
    };
    assert_eq!(count("book_chunks", book).await, 0);
    assert_eq!(count("jobs", book).await, 0);
    assert_eq!(
        count("book_chunks", other).await,
        3,
        "another book's chunks survive"
    );
    assert_eq!(count("jobs", other).await, 1);
}

#[tokio::test]
async fn a_book_can_have_only_one_active_job() {
    let tdb = TestDatabase::create().await;
    let db = tdb.client().await;
    let book = insert_book(&db, Uuid::new_v4(), SHA).await.unwrap();
    let first = insert_job(&db, book).await.unwrap();

    let err = insert_job(&db, book).await.unwrap_err();
    assert_eq!(sql_state(&err), &SqlState::UNIQUE_VIOLATION);

    db.execute(
        "UPDATE jobs SET status = 'succeeded', finished_at = now() WHERE id = $1",
        &[&first],
    )
    .await
    .unwrap();
    insert_job(&db, book)
        .await
        .expect("a new job once the first is finished");
}

#[tokio::test]
async fn status_rules_are_checked_by_the_database() {
    let tdb = TestDatabase::create().await;
    let db = tdb.client().await;
    let book = insert_book(&db, Uuid::new_v4(), SHA).await.unwrap();
    let job = insert_job(&db, book).await.unwrap();

    let refused = [
        (
            "UPDATE books SET status = 'failed' WHERE id = $1",
            book,
            "a failed book without an error code",
        ),
        (
            "UPDATE books SET status = 'ready' WHERE id = $1",
            book,
            "a ready book without counts",
        ),
        (
            "UPDATE books SET status = 'done' WHERE id = $1",
            book,
            "an unknown book status",
        ),
        (
            "UPDATE jobs SET status = 'running' WHERE id = $1",
            job,
            "a running job without a start",
        ),
        (
            "UPDATE jobs SET status = 'dead' WHERE id = $1",
            job,
            "a dead job without a finish",
        ),
        (
            "UPDATE jobs SET attempts = max_attempts + 1 WHERE id = $1",
            job,
            "attempts over the maximum",
        ),
        (
            "INSERT INTO book_chunks (book_id, ordinal, text, char_count, page_start, page_end) VALUES ($1, 0, 'Hi', 5, 1, 1)",
            book,
            "a wrong char_count",
        ),
        (
            "INSERT INTO book_chunks (book_id, ordinal, text, char_count, page_start, page_end) VALUES ($1, 0, 'Hi', 2, 3, 2)",
            book,
            "pages out of order",
        ),
        (
            "INSERT INTO jobs (id, book_id, kind) VALUES (gen_random_uuid(), $1, 'mystery')",
            book,
            "an unknown job kind",
        ),
    ];
    for (sql, id, what) in refused {
        let err = db.execute(sql, &[&id]).await.expect_err(what);
        assert_eq!(sql_state(&err), &SqlState::CHECK_VIOLATION, "{what}: {err}");
    }

    db.execute("UPDATE books SET status = 'failed', error_code = 'invalid_pdf', error_message = 'Not a PDF' WHERE id = $1", &[&book])
        .await
        .expect("a failed book with a reason is fine");
}

#[tokio::test]
async fn updated_at_moves_on_every_update() {
    let tdb = TestDatabase::create().await;
    let db = tdb.client().await;
    let book = insert_book(&db, Uuid::new_v4(), SHA).await.unwrap();
    db.execute(
        "UPDATE books SET updated_at = now() - interval '1 hour' WHERE id = $1",
        &[&book],
    )
    .await
    .unwrap();
    db.execute("UPDATE books SET title = 'Renamed' WHERE id = $1", &[&book])
        .await
        .unwrap();
    let fresh: bool = db
        .query_one(
            "SELECT updated_at > now() - interval '1 minute' FROM books WHERE id = $1",
            &[&book],
        )
        .await
        .unwrap()
        .get(0);
    assert!(fresh);
}

#[tokio::test]
async fn only_a_lost_connection_counts_as_the_database_being_unavailable() {
    use shared_domain::db::DbError;
    let tdb = TestDatabase::create().await;
    let db = tdb.client().await;
    insert_book(&db, Uuid::new_v4(), SHA).await.unwrap();

    // A query the server refuses: our bug, not an outage.
    let refused = DbError::from(
        db.execute("SELECT * FROM no_such_table", &[])
            .await
            .unwrap_err(),
    );
    assert!(!refused.is_unavailable());
    // A row that does not convert (no SQLSTATE at all): also our bug.
    let row = db.query_one("SELECT 'text'::text AS t", &[]).await.unwrap();
    let conversion = DbError::from(row.try_get::<_, i32>("t").unwrap_err());
    assert!(!conversion.is_unavailable());
    // A connection the server has closed: an outage.
    let pid: i32 = db
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let other = tdb.client().await;
    other
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    let lost = DbError::from(db.execute("SELECT 1", &[]).await.unwrap_err());
    assert!(lost.is_unavailable(), "{lost:?}");
}
