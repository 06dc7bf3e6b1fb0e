//! Leases: one holder at a time; taken over when expired or when the holder's
//! session is gone; and a holder that lost its lease acts on nothing.

use shared_domain::db::jobs;
use shared_domain::db::leases::{self, Fence};
use test_support::TestDatabase;

async fn own_connection(pool: &deadpool_postgres::Pool) -> deadpool_postgres::ClientWrapper {
    deadpool_postgres::Object::take(pool.get().await.unwrap())
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires_or_its_session_ends() {
    let tdb = TestDatabase::create().await;
    let pool = shared_domain::db::pool(&tdb.config()).unwrap();
    let a = own_connection(&pool).await;
    let b = own_connection(&pool).await;
    let first = leases::acquire_or_renew(&a, "sweeper", "a", 30.0)
        .await
        .unwrap()
        .expect("free: a takes it");
    assert_eq!(
        leases::acquire_or_renew(&b, "sweeper", "b", 30.0)
            .await
            .unwrap(),
        None
    );
    // Renewing keeps the term.
    assert_eq!(
        leases::acquire_or_renew(&a, "sweeper", "a", 30.0)
            .await
            .unwrap(),
        Some(first)
    );
    // Expired (a froze): b takes it under a new term, and a cannot renew.
    let admin = pool.get().await.unwrap();
    admin
        .execute(
            "UPDATE leases SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    let second = leases::acquire_or_renew(&b, "sweeper", "b", 30.0)
        .await
        .unwrap()
        .expect("expired: b takes it");
    assert!(second.term > first.term);
    assert_eq!(
        leases::acquire_or_renew(&a, "sweeper", "a", 30.0)
            .await
            .unwrap(),
        None
    );
    assert!(!leases::holds(&admin, "sweeper", "a", first).await.unwrap());
    // b's session ends (its process died): a takes the unexpired lease at once.
    drop(b);
    let third = test_support::eventually(
        "a takes over once b's session is gone",
        std::time::Duration::from_secs(10),
        || async {
            leases::acquire_or_renew(&a, "sweeper", "a", 30.0)
                .await
                .unwrap()
        },
    )
    .await;
    assert!(third.term > second.term);
    assert_eq!(
        leases::current_holder(&admin, "sweeper")
            .await
            .unwrap()
            .as_deref(),
        Some("a")
    );
}

#[tokio::test]
async fn a_requeue_fenced_on_a_lost_lease_changes_nothing() {
    let tdb = TestDatabase::create().await;
    let pool = shared_domain::db::pool(&tdb.config()).unwrap();
    let mut client = pool.get().await.unwrap();
    let job = crate::a_queued_job(&pool).await;
    jobs::claim_many(&client, &[job.id], "w1", 60.0)
        .await
        .unwrap();
    client
        .execute(
            "UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1",
            &[&job.id.0],
        )
        .await
        .unwrap();
    let a = own_connection(&pool).await;
    let b = own_connection(&pool).await;
    let old = leases::acquire_or_renew(&a, "sweeper", "a", 30.0)
        .await
        .unwrap()
        .unwrap();
    client
        .execute(
            "UPDATE leases SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    let new_term = leases::acquire_or_renew(&b, "sweeper", "b", 30.0)
        .await
        .unwrap()
        .unwrap();

    let stale = Fence {
        name: "sweeper",
        holder: "a",
        held: old,
    };
    let requeued = jobs::requeue_expired(&mut client, 3.0, 10, Some(&stale))
        .await
        .unwrap();
    assert!(
        requeued.is_empty(),
        "a replaced leader requeued {requeued:?}"
    );
    let current = Fence {
        name: "sweeper",
        holder: "b",
        held: new_term,
    };
    let requeued = jobs::requeue_expired(&mut client, 3.0, 10, Some(&current))
        .await
        .unwrap();
    assert_eq!(requeued.len(), 1);
}
