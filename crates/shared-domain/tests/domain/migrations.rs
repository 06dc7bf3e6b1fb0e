//! Migrations apply once, even when many replicas start together.

use shared_domain::db;
use test_support::TestDatabase;

#[tokio::test]
async fn concurrent_migrations_apply_each_version_exactly_once() {
    let tdb = TestDatabase::create_empty().await;
    let config = tdb.config();

    let runs = futures::future::join_all((0..4).map(|_| db::migrate(&config))).await;
    let mut applied: Vec<i32> = runs
        .into_iter()
        .flat_map(|r| r.expect("every migrator succeeds"))
        .collect();
    applied.sort_unstable();

    let embedded: Vec<i32> = db::embedded_versions()
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert_eq!(
        applied, embedded,
        "each version applied by exactly one migrator"
    );

    let client = tdb.client().await;
    let rows = client
        .query(
            "SELECT version FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let history: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(history, embedded);

    // And a later start finds nothing to do.
    assert!(db::migrate(&config).await.unwrap().is_empty());
}
