//! The queue's promise: kills, restarts, SIGTERM, Redis outages and transient
//! storage failures lose nothing, the sweeper has exactly one leader, and successes
//! the consumer records in batches still respect the lease.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use shared_domain::Vars;
use test_support::eventually;
use worker::extract::Extractor;
use worker::text::{ChunkSizes, chunk_pages};

use crate::helpers::{BIN, Stack, corpus};

const LONG_BOOK: &str = "rdoc_fullrefman.pdf";

/// The chunk count a clean, uninterrupted run gives for `file`.
async fn clean_chunk_count(file: &str) -> usize {
    let config = crate::helpers::pipeline_config(&[]);
    let extractor = Extractor::new(
        &config,
        PathBuf::from(BIN),
        Arc::new(tokio::sync::Semaphore::new(2)),
    );
    let doc = extractor.extract(&corpus(file), &|_, _| {}).await.unwrap();
    chunk_pages(
        &doc.pages,
        &doc.layouts,
        &doc.outline,
        ChunkSizes::default(),
    )
    .chunks
    .len()
}

async fn wait_running(stack: &Stack, book: &str) -> Value {
    eventually("the job is running", Duration::from_secs(60), || async {
        let job = stack.job(book).await;
        (job["status"] == "running").then_some(job)
    })
    .await
}

async fn assert_completed_once(stack: &Stack, book: &str, expected_chunks: usize, attempts: i32) {
    let status = stack.settled(book, Duration::from_secs(240)).await;
    assert_eq!(status["status"], "ready", "{status}");
    assert_eq!(status["chunk_count"].as_u64(), Some(expected_chunks as u64));
    let db = stack.db().await;
    let row = db
        .query_one(
            "SELECT count(*), count(DISTINCT ordinal), min(ordinal), max(ordinal) FROM book_chunks WHERE book_id = $1::text::uuid",
            &[&book],
        )
        .await
        .unwrap();
    let (n, distinct, min, max): (i64, i64, i32, i32) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(
        (n, distinct, min, i64::from(max)),
        (
            expected_chunks as i64,
            expected_chunks as i64,
            0,
            expected_chunks as i64 - 1
        )
    );
    let jobs = db
        .query(
            "SELECT status, attempts FROM jobs WHERE book_id = $1::text::uuid",
            &[&book],
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "one job");
    assert_eq!(jobs[0].get::<_, String>(0), "succeeded");
    assert_eq!(jobs[0].get::<_, i32>(1), attempts, "attempts");
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_nothing_while_a_second_worker_runs() {
    let stack = Stack::new().await;
    let clean = tokio::spawn(clean_chunk_count(LONG_BOOK));
    let first = stack.spawn_worker(&[("WORKER_CONCURRENCY", "1")]).await;
    let book = stack.upload(&corpus(LONG_BOOK)).await;
    wait_running(&stack, &book).await;
    let second = stack.spawn_worker(&[("WORKER_CONCURRENCY", "1")]).await;
    first.process.kill();
    let expected = clean.await.unwrap();
    assert_completed_once(&stack, &book, expected, 2).await;
    assert!(
        second
            .log_text()
            .contains(&format!("processing your book | book_id={book}"))
    );
}

#[tokio::test]
async fn the_only_worker_killed_mid_job_and_restarted_finishes_the_book() {
    let stack = Stack::new().await;
    let clean = tokio::spawn(clean_chunk_count(LONG_BOOK));
    let first = stack.spawn_worker(&[]).await;
    let book = stack.upload(&corpus(LONG_BOOK)).await;
    wait_running(&stack, &book).await;
    first.process.kill();
    let _restarted = stack.spawn_worker(&[]).await;
    let expected = clean.await.unwrap();
    assert_completed_once(&stack, &book, expected, 2).await;
}

#[tokio::test]
async fn sigterm_mid_job_exits_0_and_hands_the_job_back() {
    let stack = Stack::new().await;
    let worker = stack.spawn_worker(&[("SHUTDOWN_GRACE_SECONDS", "1")]).await;
    let book = stack.upload(&corpus(LONG_BOOK)).await;
    wait_running(&stack, &book).await;
    let status = worker.process.terminate().await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
    // Handed back: queued again, the interrupted attempt not counted, on the stream.
    let job = stack.job(&book).await;
    assert_eq!(job["status"], "queued", "{job}");
    assert_eq!(job["attempts"], 0, "{job}");
    let _next = stack.spawn_worker(&[]).await;
    let ready = stack.settled(&book, Duration::from_secs(240)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
}

#[tokio::test]
async fn sigterm_drains_within_the_grace_period_while_a_stream_read_is_blocked() {
    let stack = Stack::new().await;
    // Two slots: one runs the book, the other sits in a 30 s blocking read.
    let worker = stack
        .spawn_worker(&[
            ("SHUTDOWN_GRACE_SECONDS", "1"),
            ("QUEUE_BLOCK_MS", "30000"),
            ("WORKER_CONCURRENCY", "2"),
        ])
        .await;
    let book = stack.upload(&corpus(LONG_BOOK)).await;
    wait_running(&stack, &book).await;
    let started = std::time::Instant::now();
    let status = worker.process.terminate().await;
    let took = started.elapsed();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    // The read ends at once: 1 s of grace, then the hand-back, well before the
    // read's 30 s would have passed.
    assert!(took < Duration::from_secs(8), "SIGTERM took {took:?}");
    let job = stack.job(&book).await;
    assert_eq!(job["status"], "queued", "handed back, not finished: {job}");
    assert_eq!(job["attempts"], 0, "{job}");
}

/// Job directories under `root` (inside the workers' own directories), by owner.
fn job_dirs(root: &std::path::Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for owner in std::fs::read_dir(root).unwrap().flatten() {
        let name = owner.file_name().to_string_lossy().into_owned();
        if !owner.path().is_dir() {
            continue;
        }
        for job in std::fs::read_dir(owner.path()).unwrap().flatten() {
            if job.file_name().to_string_lossy().starts_with("readme-job-") {
                out.push((name.clone(), job.path()));
            }
        }
    }
    out
}

#[tokio::test]
async fn a_killed_workers_download_is_removed_by_the_next_worker_and_a_live_ones_is_kept() {
    let stack = Stack::new().await;
    let work = tempfile::tempdir().unwrap();
    let work_dir = work.path().to_str().unwrap().to_owned();
    let vars = [("WORK_DIR", work_dir.as_str()), ("WORKER_CONCURRENCY", "1")];
    let killed = stack.spawn_worker(&vars).await;
    let book = stack.upload(&corpus(LONG_BOOK)).await;
    wait_running(&stack, &book).await;
    // The job turns running when it is claimed, a moment before its download
    // directory is made: wait for the directory, then kill.
    eventually(
        "the download directory exists",
        Duration::from_secs(60),
        || async { (!job_dirs(work.path()).is_empty()).then_some(()) },
    )
    .await;
    killed.process.kill();
    let left = job_dirs(work.path());
    assert_eq!(
        left.len(),
        1,
        "the killed worker's download is left: {left:?}"
    );
    let (dead_owner, _) = left[0].clone();

    // The next worker removes it, and takes the book over.
    let live = stack.spawn_worker(&vars).await;
    assert!(
        !work.path().join(&dead_owner).exists(),
        "the dead worker's directory is gone"
    );
    let (live_owner, live_job) =
        eventually("the book runs again", Duration::from_secs(60), || async {
            job_dirs(work.path()).pop()
        })
        .await;
    assert_ne!(live_owner, dead_owner);
    // A worker starting beside a live one leaves the live one's files alone.
    let _third = stack.spawn_worker(&vars).await;
    assert!(live_job.exists(), "a live worker's download was removed");
    let ready = stack.settled(&book, Duration::from_secs(240)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    // A clean stop removes its own directory.
    assert!(live.process.terminate().await.success());
    assert!(!work.path().join(&live_owner).exists());
}

#[tokio::test]
async fn an_upload_made_while_redis_is_down_is_published_by_the_sweeper() {
    // The API reaches Redis through a proxy we cut; the worker reaches it directly.
    let env_redis =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let target = env_redis
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = test_support::TcpProxy::start(target).await;
    let proxied = proxy.url_for(&env_redis);
    proxy.cut();
    let stack = Stack::with_api_vars(&[("REDIS_URL", proxied.as_str())]).await;
    let book = stack.upload(&corpus("debhist_en.pdf")).await;
    let job = stack.job(&book).await;
    assert_eq!(job["status"], "queued");
    let _worker = stack.spawn_worker(&[]).await;
    let status = stack.settled(&book, Duration::from_secs(60)).await;
    assert_eq!(status["status"], "ready", "{status}");
}

#[tokio::test]
async fn a_transient_storage_failure_retries_then_dies_then_an_api_retry_makes_it_ready() {
    let stack = Stack::with_api_vars(&[("MAX_JOB_ATTEMPTS", "3")]).await;
    let body = stack
        .upload_bytes(
            std::fs::read(corpus("debhist_en.pdf")).unwrap(),
            "debhist_en.pdf",
        )
        .await;
    let book = body["book_id"].as_str().unwrap().to_owned();
    let job_id = body["job_id"].as_str().unwrap().to_owned();
    // Storage breaks: the object's path becomes a symlink loop, so reads fail with an
    // I/O error (not "missing").
    let object = stack
        .env
        .storage_dir
        .path()
        .join(body["storage_path"].as_str().unwrap());
    let saved = stack.env.storage_dir.path().join("saved.pdf");
    std::fs::rename(&object, &saved).unwrap();
    std::os::unix::fs::symlink(&object, &object).unwrap();

    let worker = stack.spawn_worker(&[]).await;
    let failed = stack.settled(&book, Duration::from_secs(60)).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "retries_exhausted");
    let job = stack.get(&format!("/jobs/{job_id}")).await;
    assert_eq!(job["status"], "dead", "{job}");
    assert_eq!(job["attempts"], 3);
    // Backoff: the three attempts are spread out, not immediate.
    let log = worker.log_text();
    assert_eq!(
        log.matches("transient failure; will retry").count(),
        2,
        "{log}"
    );
    // A dead letter with the error and the delivery count.
    let mut redis = stack.env.redis.connection();
    let dead: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(shared_domain::redis::Keys::new(&stack.env.redis.namespace).dead_letter_stream())
        .arg("-")
        .arg("+")
        .query(&mut redis)
        .unwrap();
    assert_eq!(dead.len(), 1);
    let fields: std::collections::HashMap<_, _> = dead[0].1.iter().cloned().collect();
    assert_eq!(fields["job_id"], job_id);
    assert_eq!(fields["deliveries"], "3");
    assert!(fields["error"].contains("fetching the book"), "{fields:?}");

    // Storage heals; an admin retries through the API.
    std::fs::remove_file(&object).unwrap();
    std::fs::rename(&saved, &object).unwrap();
    let res = stack
        .admin_post(&format!("/admin/jobs/{job_id}/retry"))
        .await;
    assert!(res.status().is_success(), "retry: {}", res.status());
    let ready = stack.settled(&book, Duration::from_secs(60)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
}

#[tokio::test]
async fn two_replicas_elect_exactly_one_sweeper_leader_and_leadership_moves_when_it_dies() {
    let stack = Stack::new().await;
    let a = stack.spawn_worker(&[]).await;
    let b = stack.spawn_worker(&[]).await;
    let leader_count = || async {
        let (x, y) = (a.health().await, b.health().await);
        [x, y]
            .iter()
            .filter(|h| h["sweeper_leader"] == true)
            .count()
    };
    eventually("one leader", Duration::from_secs(10), || async {
        (leader_count().await == 1).then_some(())
    })
    .await;
    // The database agrees: the lease names the replica that says it leads.
    let holder: String = stack
        .db()
        .await
        .query_one(
            "SELECT holder FROM leases WHERE name = $1 AND expires_at > now()",
            &[&worker::sweeper::LEASE],
        )
        .await
        .unwrap()
        .get(0);
    let leader_name = if a.health().await["sweeper_leader"] == true {
        a.health().await["consumer"].clone()
    } else {
        b.health().await["consumer"].clone()
    };
    assert_eq!(Value::from(holder), leader_name);
    let (leader, follower) = if a.health().await["sweeper_leader"] == true {
        (a, b)
    } else {
        (b, a)
    };
    // The queue's depth is served by the leader alone, from Postgres; every
    // replica says whether it leads.
    let leader_metrics = leader.metrics().await;
    let follower_metrics = follower.metrics().await;
    assert!(
        leader_metrics.contains("\nqueue_backlog 0\n"),
        "{leader_metrics}"
    );
    assert!(leader_metrics.contains("\nqueue_oldest_pending_seconds 0\n"));
    assert!(leader_metrics.contains("\nsweeper_leader 1\n"));
    assert!(
        !follower_metrics.contains("queue_backlog"),
        "{follower_metrics}"
    );
    assert!(follower_metrics.contains("\nsweeper_leader 0\n"));
    leader.process.kill();
    eventually("the follower leads", Duration::from_secs(10), || async {
        (follower.health().await["sweeper_leader"] == true).then_some(())
    })
    .await;
    eventually(
        "the new leader serves the depth",
        Duration::from_secs(10),
        || async {
            follower
                .metrics()
                .await
                .contains("\nqueue_backlog 0\n")
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_frozen_sweeper_leader_is_replaced_within_its_lease_and_steps_down_when_it_wakes() {
    let stack = Stack::new().await;
    let lease = [("SWEEPER_LEASE_SECONDS", "3")];
    let a = stack.spawn_worker(&lease).await;
    let b = stack.spawn_worker(&lease).await;
    eventually("one leader", Duration::from_secs(10), || async {
        let leaders = [a.health().await, b.health().await]
            .iter()
            .filter(|h| h["sweeper_leader"] == true)
            .count();
        (leaders == 1).then_some(())
    })
    .await;
    let (leader, follower) = if a.health().await["sweeper_leader"] == true {
        (a, b)
    } else {
        (b, a)
    };
    // Frozen while still connected: its Postgres session stays open.
    let signal = |sig: &str, pid: u32| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    };
    signal("-STOP", leader.process.pid());
    let frozen_at = std::time::Instant::now();
    eventually(
        "the follower takes over",
        Duration::from_secs(15),
        || async { (follower.health().await["sweeper_leader"] == true).then_some(()) },
    )
    .await;
    // Within the lease (3 s) and a round (1 s), give or take a poll.
    assert!(
        frozen_at.elapsed() < Duration::from_secs(8),
        "took {:?}",
        frozen_at.elapsed()
    );
    // The new leader works: a job uploaded now is published and read.
    let book = stack.upload(&corpus("debhist_en.pdf")).await;
    assert_eq!(
        stack.settled(&book, Duration::from_secs(60)).await["status"],
        "ready"
    );
    // The old leader wakes, finds a newer term and steps down; one leader remains.
    signal("-CONT", leader.process.pid());
    eventually(
        "the woken leader steps down",
        Duration::from_secs(10),
        || async { (leader.health().await["sweeper_leader"] == false).then_some(()) },
    )
    .await;
    assert_eq!(follower.health().await["sweeper_leader"], true);
    assert!(
        leader.log_text().contains("stepping down"),
        "{}",
        leader.log_text()
    );
}

#[tokio::test]
async fn a_job_row_locked_elsewhere_makes_the_claim_give_up_without_stalling_the_worker() {
    let stack = Stack::new().await;
    // Someone holds the first book's job row (a long transaction, a stuck
    // migration): the claim must give up and the worker go on with other books.
    let first = stack.upload(&corpus("debhist_en.pdf")).await;
    let job_id = stack.job(&first).await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let holder = stack.db().await;
    holder.batch_execute("BEGIN").await.unwrap();
    holder
        .execute(
            "SELECT 1 FROM jobs WHERE id = $1::text::uuid FOR UPDATE",
            &[&job_id],
        )
        .await
        .unwrap();
    let worker = stack
        .spawn_worker(&[
            ("DATABASE_LOCK_TIMEOUT_SECONDS", "1"),
            ("WORKER_CONCURRENCY", "1"),
        ])
        .await;
    eventually("the claim gives up", Duration::from_secs(30), || async {
        worker
            .log_text()
            .contains("gave up claiming jobs")
            .then_some(())
    })
    .await;
    // Not stalled: a book uploaded now is read while the lock is still held.
    let second = stack.upload(&corpus("pkgtut_zh_CN.pdf")).await;
    let ready = stack.settled(&second, Duration::from_secs(60)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(stack.job(&first).await["status"], "queued");
    // Once the lock goes, the first book is published again and read.
    holder.batch_execute("ROLLBACK").await.unwrap();
    let ready = stack.settled(&first, Duration::from_secs(60)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
}

#[tokio::test]
async fn an_entry_a_worker_read_and_died_before_claiming_is_published_again_by_the_leader() {
    let stack = Stack::new().await;
    // No worker yet: the api publishes the job, and a consumer that then dies
    // reads it (it stays in the group's pending list under that consumer's name,
    // which no live worker is ever handed).
    let book = stack.upload(&corpus("debhist_en.pdf")).await;
    let redis = shared_domain::redis::Redis::connect(&stack.env.redis.config()).unwrap();
    let stream = redis.keys.job_stream();
    let mut conn = redis.conn().await.unwrap();
    let _: redis::Value = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("workers")
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut conn)
        .await
        .unwrap();
    let read: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("workers")
        .arg("ghost")
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_ne!(read, redis::Value::Nil, "the ghost read the job's entry");
    // A worker whose blocking read would wait a minute: only the leader's
    // recovery (visibility timeout 3 s) and the wake-up of its read by the new
    // entry can start the job in time.
    let worker = stack.spawn_worker(&[("QUEUE_BLOCK_MS", "60000")]).await;
    let status = stack.settled(&book, Duration::from_secs(60)).await;
    assert_eq!(status["status"], "ready", "{status}");
    assert!(
        worker
            .log_text()
            .contains("took over stream entries a stopped worker left pending"),
        "{}",
        worker.log_text()
    );
    let pending: Vec<redis::Value> = redis::cmd("XPENDING")
        .arg(&stream)
        .arg("workers")
        .arg("-")
        .arg("+")
        .arg(10)
        .arg("ghost")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pending.is_empty(), "the ghost's entry is gone: {pending:?}");
}

/// A job body that records only its success, as the pipeline does: fenced on the
/// lease in one transaction. For one chosen job it first gives the job to
/// "another worker" (bumps the attempt, as the sweeper's requeue and a new claim
/// would).
struct RecordsItsSuccess {
    db: deadpool_postgres::Pool,
    stolen: Option<shared_domain::domain::JobId>,
}

impl worker::consumer::Runner for RecordsItsSuccess {
    fn run<'a>(
        &'a self,
        lease: &'a shared_domain::db::jobs::Lease,
        _: &'a worker::pipeline::Progress,
    ) -> futures::future::BoxFuture<
        'a,
        Result<worker::pipeline::Done, worker::pipeline::PipelineError>,
    > {
        use shared_domain::db::jobs;
        use worker::pipeline::finish_error;
        Box::pin(async move {
            let mut client = self.db.get().await.unwrap();
            if Some(lease.job.id) == self.stolen {
                client
                    .execute(
                        "UPDATE jobs SET attempts = attempts + 1 WHERE id = $1",
                        &[&lease.job.id.0],
                    )
                    .await
                    .unwrap();
            }
            let tx = client.transaction().await.unwrap();
            jobs::lock_lease(&tx, lease).await.map_err(finish_error)?;
            jobs::succeed(&tx, lease).await.map_err(finish_error)?;
            tx.commit().await.unwrap();
            Ok(worker::pipeline::Done {
                pages: 0,
                chunks: 0,
                engine: "none".into(),
            })
        })
    }
}

/// A database and Redis namespace of their own, and `n` queued, unpublished jobs
/// of one household.
struct Jobs {
    _env: test_support::TestEnv,
    db: deadpool_postgres::Pool,
    redis: shared_domain::redis::Redis,
    household: uuid::Uuid,
    queued: Vec<shared_domain::db::jobs::Job>,
}

async fn queued_jobs(n: i64) -> Jobs {
    let env = test_support::TestEnv::new().await;
    let vars = Vars::from_pairs(env.vars());
    let db =
        shared_domain::db::pool(&shared_domain::DatabaseConfig::from_vars(&vars).unwrap()).unwrap();
    let redis = shared_domain::redis::Redis::connect(
        &shared_domain::RedisConfig::from_vars(&vars).unwrap(),
    )
    .unwrap();
    let client = db.get().await.unwrap();
    let household = uuid::Uuid::new_v4();
    client
        .execute(
            "WITH b AS (INSERT INTO books (id, household_id, title, storage_path, content_sha256, byte_size) \
               SELECT gen_random_uuid(), $1, 't', 'x/' || g || '.pdf', encode(sha256(g::text::bytea), 'hex'), 1 \
               FROM generate_series(1, $2::int8) g RETURNING id) \
             INSERT INTO jobs (id, book_id, kind) SELECT gen_random_uuid(), id, 'process_book' FROM b",
            &[&household, &n],
        )
        .await
        .unwrap();
    // Due for publishing, as the sweeper's outbox finds them.
    let queued = shared_domain::db::jobs::due_for_publishing(&client, 0.0, n + 10)
        .await
        .unwrap();
    assert_eq!(queued.len() as i64, n);
    Jobs {
        _env: env,
        db,
        redis,
        household,
        queued,
    }
}

/// An in-process consumer whose jobs record their own success (`stolen`: the one
/// given to "another worker" first), reading with a short block.
fn consumer(
    db: &deadpool_postgres::Pool,
    redis: &shared_domain::redis::Redis,
    name: &str,
    stolen: Option<shared_domain::domain::JobId>,
    concurrency: usize,
) -> worker::consumer::Consumer {
    worker::consumer::Consumer {
        name: name.into(),
        redis: redis.clone(),
        db: db.clone(),
        pipeline: Arc::new(RecordsItsSuccess {
            db: db.clone(),
            stolen,
        }),
        config: worker::config::QueueConfig {
            visibility_timeout: Duration::from_secs(60),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(1),
            block: Duration::from_millis(100),
        },
        concurrency,
    }
}

#[tokio::test]
async fn successes_are_fenced_on_the_lease_and_only_recorded_ones_acked() {
    let Jobs {
        _env,
        db,
        redis,
        household,
        queued,
    } = queued_jobs(300).await;
    let client = db.get().await.unwrap();
    let stolen = queued[17].id;
    let consumer = Arc::new(consumer(&db, &redis, "batched", Some(stolen), 64));
    consumer.ensure_group().await.unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(Arc::clone(&consumer).run(stop_rx, Duration::from_secs(5)));
    shared_domain::queue::publish_many(&client, &redis, &queued)
        .await
        .unwrap();

    let count = |status: &'static str| {
        let db = db.clone();
        async move {
            let client = db.get().await.unwrap();
            let n: i64 = client
                .query_one(
                    "SELECT count(*) FROM jobs j JOIN books b ON b.id = j.book_id \
                     WHERE b.household_id = $1 AND j.status = $2",
                    &[&household, &status],
                )
                .await
                .unwrap()
                .get(0);
            n
        }
    };
    eventually(
        "all but the stolen job succeeded",
        Duration::from_secs(30),
        || async { (count("succeeded").await == 299).then_some(()) },
    )
    .await;
    // Every recorded entry is acknowledged and deleted; the stolen job's stays
    // pending, for whoever holds it now.
    eventually(
        "the stream holds only the stolen job's entry",
        Duration::from_secs(10),
        || {
            let redis = redis.clone();
            async move {
                let mut conn = redis.conn().await.unwrap();
                let left: usize = redis::cmd("XLEN")
                    .arg(redis.keys.job_stream())
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                (left == 1).then_some(())
            }
        },
    )
    .await;
    let stolen_row = client
        .query_one(
            "SELECT status, attempts FROM jobs WHERE id = $1",
            &[&stolen.0],
        )
        .await
        .unwrap();
    assert_eq!(stolen_row.get::<_, String>(0), "running");
    assert_eq!(stolen_row.get::<_, i32>(1), 2);
    let _ = stop.send(true);
    running.await.unwrap();
}

#[tokio::test]
async fn a_dead_letter_its_worker_could_not_write_is_written_by_the_sweeper() {
    let stack = Stack::new().await;
    // A job that died five minutes ago without its dead-letter entry: Redis was
    // down when its worker buried it (or the worker died right after the commit).
    let client = stack.env.db.client().await;
    let job_id: uuid::Uuid = client
        .query_one(
            "WITH b AS (INSERT INTO books (id, household_id, title, storage_path, content_sha256, byte_size) \
               VALUES (gen_random_uuid(), gen_random_uuid(), 't', 'x/dead.pdf', repeat('d', 64), 1) RETURNING id) \
             INSERT INTO jobs (id, book_id, kind, status, attempts, max_attempts, started_at, finished_at, last_error) \
             SELECT gen_random_uuid(), id, 'process_book', 'dead', 3, 3, now() - interval '6 minutes', \
                    now() - interval '5 minutes', 'fetching the PDF failed' FROM b RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let _worker = stack.spawn_worker(&[]).await;

    let stream = shared_domain::redis::Keys::new(&stack.env.redis.namespace).dead_letter_stream();
    let fields = eventually(
        "the sweeper writes the dead letter",
        Duration::from_secs(30),
        || {
            let mut redis = stack.env.redis.connection();
            let stream = stream.clone();
            async move {
                let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
                    .arg(&stream)
                    .arg("-")
                    .arg("+")
                    .query(&mut redis)
                    .unwrap();
                entries
                    .into_iter()
                    .next()
                    .map(|(_, f)| f.into_iter().collect::<std::collections::HashMap<_, _>>())
            }
        },
    )
    .await;
    assert_eq!(fields["job_id"], job_id.to_string());
    assert_eq!(fields["deliveries"], "3");
    assert_eq!(fields["error"], "fetching the PDF failed");
    // Recorded as written, so later rounds do not write it again.
    eventually(
        "the job records its dead letter",
        Duration::from_secs(10),
        || {
            let client = &client;
            async move {
                let row = client
                    .query_one(
                        "SELECT dead_lettered_at IS NOT NULL FROM jobs WHERE id = $1",
                        &[&job_id],
                    )
                    .await
                    .unwrap();
                row.get::<_, bool>(0).then_some(())
            }
        },
    )
    .await;
}

#[tokio::test]
async fn try_execute_one_settles_one_delivery_per_call_then_reports_the_stream_empty() {
    use worker::consumer::Outcome;

    let Jobs {
        _env,
        db,
        redis,
        household,
        queued,
    } = queued_jobs(3).await;
    let client = db.get().await.unwrap();
    let consumer = consumer(&db, &redis, "stepper", None, 1);
    consumer.ensure_group().await.unwrap();
    assert_eq!(consumer.try_execute_one().await.unwrap(), Outcome::Empty);

    // Three jobs, and the first published twice (a duplicate delivery).
    shared_domain::queue::publish_many(&client, &redis, &queued)
        .await
        .unwrap();
    shared_domain::queue::publish_many(&client, &redis, &queued[..1])
        .await
        .unwrap();
    let succeeded = || async {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM jobs j JOIN books b ON b.id = j.book_id \
                 WHERE b.household_id = $1 AND j.status = 'succeeded'",
                &[&household],
            )
            .await
            .unwrap()
            .get(0);
        n
    };
    for done in 1..=3 {
        assert_eq!(consumer.try_execute_one().await.unwrap(), Outcome::Done);
        assert_eq!(
            succeeded().await,
            done,
            "one job per step, recorded before it returns"
        );
    }
    // The duplicate: read, not claimable, dropped.
    assert_eq!(consumer.try_execute_one().await.unwrap(), Outcome::Done);
    assert_eq!(succeeded().await, 3);
    assert_eq!(consumer.try_execute_one().await.unwrap(), Outcome::Empty);

    let mut conn = redis.conn().await.unwrap();
    let left: usize = redis::cmd("XLEN")
        .arg(redis.keys.job_stream())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "every entry acknowledged and deleted");
}
