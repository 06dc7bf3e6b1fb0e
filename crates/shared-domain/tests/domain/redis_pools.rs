//! The two Redis pools behave as their jobs need.

use std::time::{Duration, Instant};

use shared_domain::redis::Redis;
use test_support::TestRedis;

#[tokio::test]
async fn the_blocking_pool_waits_out_a_long_blocking_read() {
    let tr = TestRedis::new();
    let redis = Redis::connect(&tr.config()).unwrap();
    redis.ping().await.unwrap();
    let stream = redis.keys.job_stream();
    let mut conn = redis.blocking.get().await.unwrap();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("g")
        .arg("$")
        .arg("MKSTREAM")
        .query_async(&mut conn)
        .await
        .unwrap();

    let started = Instant::now();
    let reply: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg("c")
        .arg("BLOCK")
        .arg(1500)
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut conn)
        .await
        .expect("a 1.5 s block must not hit a response timeout");
    assert_eq!(reply, redis::Value::Nil);
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "the read really blocked"
    );
}

#[tokio::test]
async fn keys_live_under_the_configured_namespace() {
    let tr = TestRedis::new();
    let redis = Redis::connect(&tr.config()).unwrap();
    assert!(
        redis
            .keys
            .job_stream()
            .starts_with(&format!("{}:", tr.namespace))
    );
    let mut conn = redis.conn().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(redis.keys.active_call("u1"))
        .arg("s1")
        .query_async(&mut conn)
        .await
        .unwrap();
    let found: Vec<String> = redis::cmd("KEYS")
        .arg(redis.keys.all_pattern())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(found, vec![format!("{}:user:u1:active_call", tr.namespace)]);
}

#[tokio::test]
async fn an_unreachable_redis_fails_fast_with_an_error() {
    let port = test_support::free_port();
    let config = shared_domain::RedisConfig::from_vars(&shared_domain::Vars::from_pairs([(
        "REDIS_URL",
        format!("redis://127.0.0.1:{port}"),
    )]))
    .unwrap();
    let redis = Redis::connect(&config).unwrap();
    let started = Instant::now();
    assert!(redis.ping().await.is_err());
    assert!(started.elapsed() < Duration::from_secs(10));
}
