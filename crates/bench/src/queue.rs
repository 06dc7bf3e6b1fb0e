//! Jobs/s through the real consumer (stream delivery + Postgres claim + the job's
//! success recorded by its body, as the pipeline does + XACK/XDEL) with a no-op job body, for 1 and 2 consumers, beside a raw
//! XADD → XREADGROUP → XACK loop; and enqueue→start latency at a steady rate.
//!
//! Consumers run in this process (each with its own consumer name, as separate
//! worker processes would have), sharing the machine with Postgres and Redis.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use futures::future::BoxFuture;
use redis::Value;
use shared_domain::db::jobs::{self, Lease};
use shared_domain::redis::Redis;
use shared_domain::stream::{JobMessage, JobStream};
use shared_domain::{DatabaseConfig, RedisConfig, Vars};
use tokio::sync::watch;
use worker::config::QueueConfig;
use worker::consumer::{Consumer, Runner};
use worker::pipeline::{Done, PipelineError, Progress, finish_error};

use crate::stats::percentile;

pub struct Options {
    pub jobs: usize,
}

/// The job body of the benchmark: nothing but recording its success, fenced on
/// its lease in one transaction, as the book pipeline does with its output.
struct Noop {
    db: Pool,
}

impl Runner for Noop {
    fn run<'a>(
        &'a self,
        lease: &'a Lease,
        _: &'a Progress,
    ) -> BoxFuture<'a, Result<Done, PipelineError>> {
        Box::pin(async move {
            let db = |e: anyhow::Error| PipelineError::Transient {
                stage: "database",
                source: e,
            };
            let mut client = self.db.get().await.map_err(|e| db(e.into()))?;
            let tx = client.transaction().await.map_err(|e| db(e.into()))?;
            jobs::lock_lease(&tx, lease).await.map_err(finish_error)?;
            jobs::succeed(&tx, lease).await.map_err(finish_error)?;
            tx.commit().await.map_err(|e| db(e.into()))?;
            Ok(Done {
                pages: 0,
                chunks: 0,
                engine: "noop".into(),
            })
        })
    }
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let vars = Vars::from_env();
    let db_config = DatabaseConfig::from_vars(&vars)?;
    shared_domain::db::migrate(&db_config).await?;
    let db = shared_domain::db::pool(&db_config)?;
    println!(
        "{:<34} {:>7} {:>10} {:>12} {:>12}",
        "scenario", "jobs", "jobs/s", "start p50 ms", "start p99 ms"
    );

    let redis = connect(&vars)?;
    let (n, elapsed) = raw_loop(&redis, opts.jobs).await?;
    println!(
        "{:<34} {:>7} {:>10.0} {:>12} {:>12}",
        "raw XADD→XREADGROUP→XACK+XDEL",
        n,
        n as f64 / elapsed.as_secs_f64(),
        "-",
        "-"
    );

    for consumers in [1, 2] {
        let redis = connect(&vars)?;
        let (elapsed, mut lags) =
            through_consumers(&db, &redis, consumers, opts.jobs, None).await?;
        println!(
            "{:<34} {:>7} {:>10.0} {:>12.2} {:>12.2}",
            format!("consumer+claim, {consumers} worker(s), backlog"),
            opts.jobs,
            opts.jobs as f64 / elapsed.as_secs_f64(),
            percentile(&mut lags, 50.0).as_secs_f64() * 1e3,
            percentile(&mut lags, 99.0).as_secs_f64() * 1e3,
        );
    }
    // Latency below capacity: 2,000 jobs at 1,000/s.
    let redis = connect(&vars)?;
    let (elapsed, mut lags) = through_consumers(&db, &redis, 1, 2000, Some(1000)).await?;
    println!(
        "{:<34} {:>7} {:>10.0} {:>12.2} {:>12.2}",
        "consumer+claim, 1 worker, 1000/s",
        2000,
        2000.0 / elapsed.as_secs_f64(),
        percentile(&mut lags, 50.0).as_secs_f64() * 1e3,
        percentile(&mut lags, 99.0).as_secs_f64() * 1e3,
    );
    Ok(())
}

fn connect(vars: &Vars) -> anyhow::Result<Redis> {
    let mut config = RedisConfig::from_vars(vars)?;
    config.namespace = format!("bench-{}", uuid::Uuid::new_v4().simple());
    config.pool_size = 8;
    Ok(Redis::connect(&config)?)
}

/// The reference: one producer XADDing in pipelined batches, one consumer reading
/// 256 at a time and acking + deleting each batch in one round trip.
async fn raw_loop(redis: &Redis, n: usize) -> anyhow::Result<(usize, Duration)> {
    let stream = redis.keys.job_stream();
    let mut conn = redis.conn().await?;
    let _: Value = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("g")
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut conn)
        .await?;
    let started = Instant::now();
    let producer = {
        let mut conn = redis.conn().await?;
        let stream = stream.clone();
        tokio::spawn(async move {
            for batch in (0..n).collect::<Vec<_>>().chunks(100) {
                let mut pipe = redis::pipe();
                for i in batch {
                    pipe.cmd("XADD")
                        .arg(&stream)
                        .arg("*")
                        .arg("job_id")
                        .arg(i.to_string())
                        .ignore();
                }
                let _: Value = pipe.query_async(&mut conn).await?;
            }
            Ok::<_, anyhow::Error>(())
        })
    };
    let mut reader = redis.blocking.get().await?;
    let mut seen = 0;
    while seen < n {
        let reply: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("g")
            .arg("c")
            .arg("COUNT")
            .arg(256)
            .arg("BLOCK")
            .arg(100)
            .arg("STREAMS")
            .arg(&stream)
            .arg(">")
            .query_async(&mut *reader)
            .await?;
        let ids = entry_ids(reply);
        if ids.is_empty() {
            continue;
        }
        seen += ids.len();
        let mut pipe = redis::pipe();
        pipe.cmd("XACK").arg(&stream).arg("g").arg(&ids).ignore();
        pipe.cmd("XDEL").arg(&stream).arg(&ids).ignore();
        let _: Value = pipe.query_async(&mut conn).await?;
    }
    producer.await??;
    Ok((seen, started.elapsed()))
}

fn entry_ids(reply: Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Array(streams) = reply {
        for s in streams {
            if let Value::Array(mut pair) = s
                && let Some(Value::Array(entries)) = pair.pop()
            {
                for e in entries {
                    if let Value::Array(mut parts) = e
                        && !parts.is_empty()
                        && let Ok(id) = redis::from_redis_value::<String>(parts.swap_remove(0))
                    {
                        out.push(id);
                    }
                }
            }
        }
    }
    out
}

/// Insert `n` books and jobs (untimed), start `consumers` consumers, then publish
/// every job (all at once, or `rate` per second) and wait until all succeeded.
/// Returns the wall time from the first XADD and each job's enqueue→start delay.
async fn through_consumers(
    db: &Pool,
    redis: &Redis,
    consumers: usize,
    n: usize,
    rate: Option<usize>,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let client = db.get().await?;
    let household = uuid::Uuid::new_v4();
    client
        .execute(
            "WITH b AS (INSERT INTO books (id, household_id, title, storage_path, content_sha256, byte_size) \
               SELECT gen_random_uuid(), $1, 'bench', $3 || '/' || g || '.pdf', encode(sha256(($3 || g)::bytea), 'hex'), 1 \
               FROM generate_series(1, $2::int8) g RETURNING id) \
             INSERT INTO jobs (id, book_id, kind) SELECT gen_random_uuid(), id, 'process_book' FROM b",
            &[&household, &(n as i64), &household.to_string()],
        )
        .await?;
    // Statistics, as a live table has them (autovacuum would take up to a minute):
    // without them the planner guesses that few jobs are queued and claims through
    // the partial status indexes instead of the primary key.
    client.batch_execute("ANALYZE books, jobs").await?;
    // The messages the API would publish for these jobs (the database holds only
    // this scenario's; earlier ones were deleted).
    let mut messages: Vec<JobMessage> = jobs::due_for_publishing(&client, 0.0, n as i64)
        .await?
        .iter()
        .map(JobMessage::for_job)
        .collect();
    anyhow::ensure!(
        messages.len() == n,
        "{} of {n} jobs to publish",
        messages.len()
    );
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for i in 0..consumers {
        let consumer = Arc::new(Consumer {
            name: format!("bench-{i}"),
            redis: redis.clone(),
            db: db.clone(),
            pipeline: Arc::new(Noop { db: db.clone() }),
            config: QueueConfig {
                visibility_timeout: Duration::from_secs(60),
                retry_base: Duration::from_secs(1),
                retry_max: Duration::from_secs(1),
                block: Duration::from_millis(100),
            },
            // WORKER_CONCURRENCY for jobs that wait on nothing: enough in flight to
            // keep a claim and a success batch committing at once (Upstash caps a
            // consumer's pending entries at 1000).
            concurrency: 512,
        });
        consumer.ensure_group().await?;
        tasks.push(tokio::spawn(
            consumer.run(stop_rx.clone(), Duration::from_secs(5)),
        ));
    }
    let mut sent_at: HashMap<uuid::Uuid, chrono::DateTime<chrono::Utc>> = HashMap::with_capacity(n);
    let started = Instant::now();
    let mut conn = redis.conn().await?;
    let batch = if rate.is_some() { 10 } else { 200 };
    let mut next = Instant::now();
    for chunk in messages.chunks_mut(batch) {
        if let Some(rate) = rate {
            tokio::time::sleep_until(next.into()).await;
            next += Duration::from_secs_f64(batch as f64 / rate as f64);
        }
        let mut pipe = redis::pipe();
        let now = chrono::Utc::now();
        for message in chunk {
            message.enqueued_at = now;
            pipe.add_command(JobStream::add_cmd(&redis.keys, message))
                .ignore();
            sent_at.insert(message.job_id.0, now);
        }
        let _: Value = pipe.query_async(&mut conn).await?;
    }
    // Every entry is deleted once its outcome is recorded: wait for an empty stream
    // (cheap to ask, unlike counting rows while the consumers work), then check.
    let stream = redis.keys.job_stream();
    loop {
        let left: usize = redis::cmd("XLEN")
            .arg(&stream)
            .query_async(&mut conn)
            .await?;
        if left == 0 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "{left} of {n} jobs still in the stream"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(true);
    for t in tasks {
        t.await?;
    }
    let done: i64 = client
        .query_one("SELECT count(*) FROM jobs j JOIN books b ON b.id = j.book_id WHERE b.household_id = $1 AND j.status = 'succeeded'", &[&household])
        .await?
        .get(0);
    anyhow::ensure!(done as usize == n, "only {done} of {n} jobs succeeded");
    let rows = client
        .query("SELECT j.id, j.started_at FROM jobs j JOIN books b ON b.id = j.book_id WHERE b.household_id = $1", &[&household])
        .await?;
    let lags = rows
        .iter()
        .filter_map(|r| {
            let id: uuid::Uuid = r.get(0);
            let started: chrono::DateTime<chrono::Utc> = r.get(1);
            (started - *sent_at.get(&id)?).to_std().ok()
        })
        .collect();
    client
        .execute("DELETE FROM books WHERE household_id = $1", &[&household])
        .await?;
    // Clean up now rather than let autovacuum do it during the next scenario.
    client.batch_execute("VACUUM ANALYZE books, jobs").await?;
    Ok((elapsed, lags))
}
