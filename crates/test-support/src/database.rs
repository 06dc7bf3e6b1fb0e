//! A fresh database per test, cloned from a template that holds every migration.
//!
//! The template is named after a hash of `migrations/`, so editing a migration makes
//! a new one. It is built once under an advisory lock (test binaries and processes
//! run in parallel) and renamed into place only when complete.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use shared_domain::DatabaseConfig;
use tokio_postgres::{Client, NoTls};

use crate::required_env;

const TEMPLATE_LOCK: i64 = 0x7465_6d70_6c61;

pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDatabase {
    /// A new database with the current schema.
    pub async fn create() -> Self {
        let admin_url = required_env("TEST_DATABASE_URL");
        let admin = connect(&admin_url).await;
        let template = ensure_template(&admin, &admin_url).await;
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        retry_in_use(
            &admin,
            &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
        )
        .await;
        Self {
            url: db_url(&admin_url, &name),
            name,
            admin_url,
        }
    }

    /// A new database with no schema at all (for migration tests).
    pub async fn create_empty() -> Self {
        let admin_url = required_env("TEST_DATABASE_URL");
        let admin = connect(&admin_url).await;
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(&format!("CREATE DATABASE \"{name}\""), &[])
            .await
            .expect("create database");
        Self {
            url: db_url(&admin_url, &name),
            name,
            admin_url,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn config(&self) -> DatabaseConfig {
        config_for(&self.url)
    }

    /// The URL of this database reached at `host:port` (a TLS name, a pooler in
    /// front of the server) with `query` (`sslmode=…`) in place of `sslmode=disable`.
    pub fn url_via(&self, host: &str, port: u16, query: &str) -> String {
        let mut url = url::Url::parse(&self.url).expect("a test database URL");
        url.set_host(Some(host)).expect("a host name");
        url.set_port(Some(port)).expect("a port");
        url.set_query((!query.is_empty()).then_some(query));
        url.to_string()
    }

    /// A plain client on this database.
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on itself.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let admin = connect(&admin_url).await;
                admin
                    .execute(
                        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                        &[],
                    )
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

pub(crate) fn config_for(url: &str) -> DatabaseConfig {
    DatabaseConfig::from_vars(&shared_domain::Vars::from_pairs([("DATABASE_URL", url)]))
        .expect("test database config")
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test Postgres ({e}); is it running? Start it with scripts/test"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

fn db_url(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn migrations_hash() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("read migrations/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut hasher = Sha256::new();
    for path in entries {
        hasher.update(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        hasher.update(std::fs::read(&path).expect("read a migration"));
    }
    hex::encode(&hasher.finalize()[..6])
}

async fn ensure_template(admin: &Client, admin_url: &str) -> String {
    let template = format!("readme_tpl_{}", migrations_hash());
    let building = format!("{template}_building");
    admin
        .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK])
        .await
        .expect("template lock");
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&template])
        .await
        .expect("look up template")
        .is_some();
    if !exists {
        admin
            .execute(
                &format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"),
                &[],
            )
            .await
            .expect("drop stale template");
        admin
            .execute(&format!("CREATE DATABASE \"{building}\""), &[])
            .await
            .expect("create template");
        shared_domain::db::migrate(&config_for(&db_url(admin_url, &building)))
            .await
            .expect("migrate the template");
        retry_in_use(
            admin,
            &format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\""),
        )
        .await;
    }
    admin
        .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK])
        .await
        .expect("template unlock");
    template
}

/// Postgres refuses to copy or rename a database for a moment after its last
/// session ends; retry that one error with a deadline.
async fn retry_in_use(admin: &Client, sql: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match admin.execute(sql, &[]).await {
            Ok(_) => return,
            Err(e)
                if e.code() == Some(&tokio_postgres::error::SqlState::OBJECT_IN_USE)
                    && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
}
