//! Connection strings as providers paste them, against real servers: Postgres and
//! Redis serving TLS with a certificate from a private CA (as Supabase's is), and
//! PgBouncer in front of Postgres in session and transaction mode (Supabase's two
//! poolers).

use std::time::Duration;

use shared_domain::db::{self, DbError, SchemaReady};
use shared_domain::redis::{Redis, RedisError};
use shared_domain::{ConfigError, DatabaseConfig, RedisConfig, Vars};
use test_support::{TestDatabase, TestRedis, TlsServers};

/// Another certificate than the run's CA (of a throwaway CA whose key was never kept).
const OTHER_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBlDCCATmgAwIBAgIUAcxKIfG7a+mnUX3lM6EachBYZNAwCgYIKoZIzj0EAwIw\nHjEcMBoGA1UEAwwTcmVhZG1lIHVuaXQtdGVzdCBDQTAgFw0yNjEyMDIxNzQzNTla\nGA8yMTI2MTEwODE3NDM1OVowHjEcMBoGA1UEAwwTcmVhZG1lIHVuaXQtdGVzdCBD\nQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABMMvozAjdQl6mcfBcYAC4qgl2/0s\neZFe4dY1MpMmbNss2sK5IA8EUVeGKvKjU1YRLFFIfAMJiScowbEvbEGzLOCjUzBR\nMB0GA1UdDgQWBBQJ7BS0VrHC/VujbyBPKkB7QURQMzAfBgNVHSMEGDAWgBQJ7BS0\nVrHC/VujbyBPKkB7QURQMzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kA\nMEYCIQC2OBbE0LllWkW+lflcTJfY8bDMfQKYRFasxv5gi8L19wIhAJQZIn1EU+HM\n6r7M11QdWkIg6zfBYFZ/bA72Y/+EhQXP\n-----END CERTIFICATE-----\n";

fn db_config(url: &str, extra: &[(&str, &str)]) -> Result<DatabaseConfig, ConfigError> {
    DatabaseConfig::from_vars(&Vars::from_pairs(
        [("DATABASE_URL", url)]
            .into_iter()
            .chain(extra.iter().copied()),
    ))
}

/// Connect through the service's own pool and report whether the session is encrypted.
async fn encrypted(config: &DatabaseConfig) -> Result<bool, String> {
    let pool = db::pool(config).map_err(|e| format!("{e}"))?;
    let client = pool
        .get()
        .await
        .map_err(|e| shared_domain::error::error_chain(&DbError::from(e)))?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

#[tokio::test]
async fn postgres_connection_strings_work_as_pasted_with_libpq_sslmode() {
    let tls = TlsServers::from_env();
    let tdb = TestDatabase::create().await;
    let port = tls.postgres_port;
    let url = |host: &str, query: &str| tdb.url_via(host, port, query);
    let ca_inline = [("DATABASE_CA_CERT", tls.ca_pem.as_str())];
    let ca_path = tls.ca_cert.to_str().unwrap().to_owned();
    let ca_file = [("DATABASE_CA_CERT_PATH", ca_path.as_str())];

    // As pasted, without any CA: encrypted, not verified (libpq's prefer and require).
    for query in ["", "sslmode=prefer", "sslmode=require", "sslmode=allow"] {
        let config = db_config(&url("localhost", query), &[]).unwrap();
        assert_eq!(encrypted(&config).await, Ok(true), "{query:?}");
    }
    let plain = db_config(&url("localhost", "sslmode=disable"), &[]).unwrap();
    assert_eq!(encrypted(&plain).await, Ok(false));

    // Verified against the private CA, given inline, as a file, or in the URL.
    for (query, extra) in [
        ("sslmode=verify-full", &ca_inline[..]),
        ("sslmode=verify-full", &ca_file[..]),
        ("sslmode=verify-ca", &ca_inline[..]),
        ("sslmode=require", &ca_inline[..]),
    ] {
        let config = db_config(&url("localhost", query), extra).unwrap();
        assert_eq!(
            encrypted(&config).await,
            Ok(true),
            "{query} {:?}",
            extra[0].0
        );
    }
    let in_url = format!("sslmode=verify-full&sslrootcert={}", tls.ca_cert.display());
    let config = db_config(&url("localhost", &in_url), &[]).unwrap();
    assert_eq!(encrypted(&config).await, Ok(true));

    // verify-ca checks the chain only: the certificate names localhost, not 127.0.0.1.
    let config = db_config(&url("127.0.0.1", "sslmode=verify-ca"), &ca_inline).unwrap();
    assert_eq!(encrypted(&config).await, Ok(true));
    let config = db_config(&url("127.0.0.1", "sslmode=verify-full"), &ca_inline).unwrap();
    let err = encrypted(&config).await.unwrap_err();
    assert!(err.contains("verify-ca"), "{err}");

    // Verification without the CA fails, saying what to set.
    let config = db_config(&url("localhost", "sslmode=verify-full"), &[]).unwrap();
    let err = encrypted(&config).await.unwrap_err();
    assert!(
        err.contains("DATABASE_CA_CERT") && err.contains("sslmode=require"),
        "{err}"
    );
    // A root certificate makes require verify (as libpq does): the wrong CA fails.
    let config = db_config(
        &url("localhost", "sslmode=require"),
        &[("DATABASE_CA_CERT", OTHER_CA)],
    )
    .unwrap();
    let err = encrypted(&config).await.unwrap_err();
    assert!(err.contains("the CA in DATABASE_CA_CERT"), "{err}");
}

fn redis_config(
    url: &str,
    namespace: &str,
    extra: &[(&str, &str)],
) -> Result<RedisConfig, ConfigError> {
    RedisConfig::from_vars(&Vars::from_pairs(
        [("REDIS_URL", url), ("REDIS_NAMESPACE", namespace)]
            .into_iter()
            .chain(extra.iter().copied()),
    ))
}

#[tokio::test]
async fn rediss_to_a_private_ca_works_with_its_certificate_inline_or_in_a_file() {
    let tls = TlsServers::from_env();
    let tr = TestRedis::new();
    let url = format!("rediss://localhost:{}", tls.redis_tls_port);
    let ca_path = tls.ca_cert.to_str().unwrap().to_owned();
    let one_line = tls.ca_pem.replace('\n', "\\n");
    for extra in [
        [("REDIS_CA_CERT", tls.ca_pem.as_str())],
        [("REDIS_CA_CERT", one_line.as_str())],
        [("REDIS_CA_CERT_PATH", ca_path.as_str())],
    ] {
        let redis = Redis::connect(&redis_config(&url, &tr.namespace, &extra).unwrap()).unwrap();
        redis
            .ping()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", extra[0].0));
        // The blocking pool's connections carry the CA too.
        let mut conn = redis
            .blocking
            .get()
            .await
            .expect("a TLS connection from the pool");
        let pong: String = redis::cmd("PING").query_async(&mut *conn).await.unwrap();
        assert_eq!(pong, "PONG");
    }

    // Without it (public roots only), or with another CA, the certificate is refused
    // with a message that names what to set.
    for extra in [vec![], vec![("REDIS_CA_CERT", OTHER_CA)]] {
        let redis = Redis::connect(&redis_config(&url, &tr.namespace, &extra).unwrap()).unwrap();
        let err = redis.ping().await.unwrap_err();
        assert!(matches!(err, RedisError::Certificate(_)), "{err:?}");
        assert!(err.to_string().contains("REDIS_CA_CERT"), "{err}");
    }

    // A CA for a plain-text URL is a configuration error.
    let plain = redis_config(&tr.url, &tr.namespace, &[("REDIS_CA_CERT", OTHER_CA)]).unwrap_err();
    assert_eq!(plain.var, "REDIS_CA_CERT");
}

#[tokio::test]
async fn a_transaction_pooler_is_refused_naming_the_session_pooler() {
    let tls = TlsServers::from_env();
    let tdb = TestDatabase::create().await;
    let config = db_config(
        &tdb.url_via(
            "127.0.0.1",
            tls.pgbouncer_transaction_port,
            "sslmode=disable",
        ),
        &[],
    )
    .unwrap();
    let err = db::migrate(&config).await.unwrap_err();
    assert!(matches!(err, DbError::TransactionPooler), "{err:?}");
    assert!(err.to_string().contains("session pooler"), "{err}");
    let err = db::prepare_schema(&config, false, std::future::pending())
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::TransactionPooler), "{err:?}");
}

#[tokio::test]
async fn a_session_pooler_works_for_migrations_and_queries() {
    let tls = TlsServers::from_env();
    let tdb = TestDatabase::create_empty().await;
    let config = db_config(
        &tdb.url_via("127.0.0.1", tls.pgbouncer_session_port, "sslmode=disable"),
        &[],
    )
    .unwrap();
    let applied = db::migrate(&config)
        .await
        .expect("migrations through the session pooler");
    assert_eq!(applied.len(), db::embedded_versions().len());
    let pool = db::pool(&config).unwrap();
    let counted = futures::future::join_all((0..8).map(|_| async {
        let client = pool.get().await.unwrap();
        let row = client
            .query_one("SELECT count(*) FROM books", &[])
            .await
            .unwrap();
        row.get::<_, i64>(0)
    }))
    .await;
    assert_eq!(counted, vec![0; 8]);
}

#[tokio::test]
async fn without_migrate_on_start_a_service_waits_for_its_schema() {
    let tdb = TestDatabase::create_empty().await;
    let config = tdb.config();
    let mut waiting = tokio::spawn({
        let config = config.clone();
        async move { db::prepare_schema(&config, false, std::future::pending()).await }
    });
    // Several polls of the empty database later it is still waiting...
    let early = tokio::time::timeout(Duration::from_secs(5), &mut waiting).await;
    assert!(
        early.is_err(),
        "it must not start on an empty schema: {early:?}"
    );
    // ...and goes on once another process migrates.
    db::migrate(&config).await.unwrap();
    let ready = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("it notices the migrations")
        .unwrap()
        .unwrap();
    assert_eq!(ready, SchemaReady::Current);

    // A stop while waiting ends it cleanly.
    let empty = TestDatabase::create_empty().await;
    let stopped = db::prepare_schema(&empty.config(), false, async {})
        .await
        .unwrap();
    assert_eq!(stopped, SchemaReady::Stopped);
}

#[tokio::test]
async fn pooled_connections_time_out_long_statements_and_lock_waits_and_say_which() {
    let tdb = TestDatabase::create().await;
    let config = DatabaseConfig::from_vars(&Vars::from_pairs([
        ("DATABASE_URL", tdb.url()),
        ("DATABASE_STATEMENT_TIMEOUT_SECONDS", "2"),
        ("DATABASE_LOCK_TIMEOUT_SECONDS", "1"),
    ]))
    .unwrap();
    let pool = db::pool(&config).unwrap();
    let client = pool.get().await.unwrap();
    let started = std::time::Instant::now();
    let slow = client.simple_query("SELECT pg_sleep(5)").await.unwrap_err();
    let slow = DbError::from(slow);
    assert_eq!(slow.timed_out(), Some("statement_timeout"));
    assert!(slow.is_unavailable(), "a timeout is a 503, not our bug");
    assert!(started.elapsed() < Duration::from_secs(4));

    client
        .batch_execute("CREATE TABLE held (id int PRIMARY KEY); INSERT INTO held VALUES (1)")
        .await
        .unwrap();
    let holder = tdb.client().await;
    holder
        .batch_execute("BEGIN; SELECT * FROM held FOR UPDATE")
        .await
        .unwrap();
    let waited = client
        .simple_query("UPDATE held SET id = 2 WHERE id = 1")
        .await
        .unwrap_err();
    assert_eq!(DbError::from(waited).timed_out(), Some("lock_timeout"));
    holder.batch_execute("ROLLBACK").await.unwrap();
    // 0 turns each off.
    let off = DatabaseConfig::from_vars(&Vars::from_pairs([
        ("DATABASE_URL", tdb.url()),
        ("DATABASE_STATEMENT_TIMEOUT_SECONDS", "0"),
        ("DATABASE_LOCK_TIMEOUT_SECONDS", "0"),
    ]))
    .unwrap();
    assert_eq!((off.statement_timeout, off.lock_timeout), (None, None));
}
