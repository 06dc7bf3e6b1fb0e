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

/// A rolling deploy or a rollback runs the previous build on a schema a newer
/// release migrated: migrations only add, so it must start.
#[tokio::test]
async fn an_older_build_starts_on_a_schema_a_newer_release_migrated() {
    let tdb = TestDatabase::create_empty().await;
    let config = tdb.config();
    db::migrate(&config).await.expect("first migration");
    let client = tdb.client().await;
    client
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (9999, 'from_a_newer_release', '2026-11-23T00:00:00Z', '42')",
            &[],
        )
        .await
        .unwrap();

    let applied = db::migrate(&config)
        .await
        .expect("an older build starts on a newer schema");
    assert!(applied.is_empty(), "nothing to apply: {applied:?}");
}

/// A migration of this build that was never applied, though newer ones were (say,
/// numbered on a branch below one that landed first), would be skipped for good:
/// the build refuses to start and names it.
#[tokio::test]
async fn a_migration_never_applied_below_the_newest_applied_is_refused() {
    let tdb = TestDatabase::create_empty().await;
    let config = tdb.config();
    db::migrate(&config).await.expect("first migration");
    let embedded: Vec<i32> = db::embedded_versions()
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert!(embedded.len() >= 2, "needs two migrations: {embedded:?}");
    let skipped = embedded[embedded.len() - 2];
    let client = tdb.client().await;
    client
        .execute(
            "DELETE FROM refinery_schema_history WHERE version = $1",
            &[&skipped],
        )
        .await
        .unwrap();

    let err = db::migrate(&config)
        .await
        .expect_err("a skipped migration is refused");
    assert!(
        matches!(&err, db::DbError::MigrationsOutOfOrder(v) if v == &vec![skipped]),
        "{err:?}"
    );
    assert!(err.to_string().contains(&skipped.to_string()), "{err}");
    let still_missing = client
        .query_opt(
            "SELECT 1 FROM refinery_schema_history WHERE version = $1",
            &[&skipped],
        )
        .await
        .unwrap();
    assert!(still_missing.is_none(), "nothing was applied");
}
