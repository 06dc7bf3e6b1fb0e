//! Marking a job published is fenced on the attempt its message was built from.

use shared_domain::db::jobs;
use test_support::TestDatabase;

/// The race: a message is added to the stream for attempt 0; a worker claims the
/// job through it, fails it transiently and queues it again (unpublished) before
/// the publisher's "mark published" lands. That late mark must not hide the new
/// run from the sweeper's outbox.
#[tokio::test]
async fn a_late_mark_published_leaves_a_requeued_job_for_the_outbox() {
    let tdb = TestDatabase::create().await;
    let pool = shared_domain::db::pool(&tdb.config()).unwrap();
    let job = crate::a_queued_job(&pool).await;
    let published_attempt = job.attempts;
    let mut client = pool.get().await.unwrap();
    let lease = jobs::claim_many(&client, &[job.id], "w1", 60.0)
        .await
        .unwrap()
        .pop()
        .expect("claimed");
    let after = jobs::retry_later(&mut client, &lease, "disk full", 0.0)
        .await
        .unwrap();
    assert!(matches!(after, jobs::AfterFailure::Retrying { .. }));

    let marked = jobs::mark_published(&client, job.id, published_attempt)
        .await
        .unwrap();
    assert!(!marked, "the late mark matched the requeued run");
    let due = jobs::due_for_publishing(&client, 900.0, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![job.id],
        "the requeued job is due for publishing at once"
    );
    // The batch form is fenced the same way; the current attempt still marks.
    assert_eq!(
        jobs::mark_many_published(&client, &[(job.id, published_attempt)])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        jobs::mark_many_published(&client, &[(job.id, lease.attempt)])
            .await
            .unwrap(),
        1
    );
    assert!(
        jobs::due_for_publishing(&client, 900.0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
