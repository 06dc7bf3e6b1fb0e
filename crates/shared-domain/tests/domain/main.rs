//! shared-domain against real Postgres, Redis and object storage.

// Test code: a failed step should panic with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod connections;
mod leases;
mod migrations;
mod publishing;
mod redis_pools;
mod schema;
mod storage;

/// A new book of a new household, with its processing job queued (attempt 0).
async fn a_queued_job(pool: &deadpool_postgres::Pool) -> shared_domain::db::jobs::Job {
    use shared_domain::db::books::{self, Inserted, NewBook};
    use shared_domain::domain::{BookId, HouseholdId, JobId};
    let mut client = pool.get().await.unwrap();
    let new = NewBook {
        id: BookId::new(),
        household_id: HouseholdId(uuid::Uuid::new_v4()),
        title: "A book".into(),
        storage_path: "h/books/b.pdf".into(),
        content_sha256: "00".repeat(32),
        byte_size: 1,
        ocr_languages: None,
    };
    match books::insert_with_job(&mut client, &new, JobId::new(), 3)
        .await
        .unwrap()
    {
        Inserted::Created { job, .. } => job,
        other => panic!("{other:?}"),
    }
}
