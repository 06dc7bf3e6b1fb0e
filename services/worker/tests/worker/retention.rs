//! Retention, run by the sweeper: old dead letters, uploads of long-failed books,
//! orphan objects and abandoned staging files go; everything else stays; dry-run
//! deletes nothing.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use shared_domain::redis::Redis;
use shared_domain::{Storage, StorageConfig};
use test_support::TestEnv;
use worker::config::{QueueConfig, SweeperConfig};
use worker::sweeper::Sweeper;

fn sweeper(env: &TestEnv, dry_run: bool) -> Sweeper {
    Sweeper {
        name: "retention-test".into(),
        depth: worker::sweeper::QueueGauges::default(),
        leadership: Default::default(),
        db: shared_domain::db::pool(&env.db.config()).unwrap(),
        redis: Redis::connect(&env.redis.config()).unwrap(),
        storage: Storage::from_config(&StorageConfig::File {
            root: env.storage_dir.path().to_owned(),
        })
        .unwrap(),
        config: SweeperConfig {
            interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            republish_after: Duration::from_secs(900),
            retention_interval: Duration::from_secs(3600),
            dead_letter_retention_days: 30,
            object_retention_days: 30,
            retention_dry_run: dry_run,
        },
        queue: QueueConfig {
            visibility_timeout: Duration::from_secs(60),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(1),
            block: Duration::from_millis(100),
        },
        is_leader: Arc::new(AtomicBool::new(true)),
    }
}

fn object(env: &TestEnv, key: &str, days_old: u32) -> std::path::PathBuf {
    let path = env.storage_dir.path().join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"%PDF-1.7\n").unwrap();
    let status = std::process::Command::new("touch")
        .args(["-d", &format!("{days_old} days ago")])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path
}

struct World {
    env: TestEnv,
    failed_old: std::path::PathBuf,
    failed_new: std::path::PathBuf,
    live: std::path::PathBuf,
    orphan_old: std::path::PathBuf,
    orphan_new: std::path::PathBuf,
    staging_old: std::path::PathBuf,
    staging_new: std::path::PathBuf,
    failed_old_id: uuid::Uuid,
}

async fn world() -> World {
    let env = TestEnv::new().await;
    let db = env.db.client().await;
    let household = uuid::Uuid::new_v4();
    let book = |status: &'static str, days: i32| {
        let id = uuid::Uuid::new_v4();
        let key = format!("{household}/books/{id}.pdf");
        (id, key, status, days)
    };
    let specs = [book("failed", 40), book("failed", 5), book("ready", 40)];
    // Backdate updated_at past the trigger that keeps it current.
    db.batch_execute("ALTER TABLE books DISABLE TRIGGER books_touch")
        .await
        .unwrap();
    for (i, (id, key, status, days)) in specs.iter().enumerate() {
        let (code, ready_at, counts) = match *status {
            "failed" => (Some("invalid_pdf"), None, None),
            _ => (None, Some(chrono::Utc::now()), Some(1)),
        };
        db.execute(
            "INSERT INTO books (id, household_id, title, storage_path, content_sha256, byte_size, status, error_code, \
             error_message, ready_at, page_count, chunk_count, updated_at) \
             VALUES ($1, $2, 'b', $3, $4, 1, $5, $6, $6, $7, $8, $8, now() - make_interval(days => $9))",
            &[id, &household, key, &format!("{i:064x}"), status, &code, &ready_at, &counts, days],
        )
        .await
        .unwrap();
    }
    let paths: Vec<_> = specs
        .iter()
        .map(|(_, key, _, _)| object(&env, key, 40))
        .collect();
    let orphan_old = object(
        &env,
        &format!("{household}/books/{}.pdf", uuid::Uuid::new_v4()),
        40,
    );
    let orphan_new = object(
        &env,
        &format!("{household}/books/{}.pdf", uuid::Uuid::new_v4()),
        2,
    );
    let staging_old = object(&env, &format!("uploads/{}.pdf", uuid::Uuid::new_v4()), 2);
    let staging_new = object(&env, &format!("uploads/{}.pdf", uuid::Uuid::new_v4()), 0);
    let mut redis = env.redis.connection();
    let dead = shared_domain::redis::Keys::new(&env.redis.namespace).dead_letter_stream();
    let _: String = redis::cmd("XADD")
        .arg(&dead)
        .arg("1000-0")
        .arg("job_id")
        .arg("old")
        .query(&mut redis)
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg(&dead)
        .arg("*")
        .arg("job_id")
        .arg("new")
        .query(&mut redis)
        .unwrap();
    World {
        failed_old: paths[0].clone(),
        failed_new: paths[1].clone(),
        live: paths[2].clone(),
        failed_old_id: specs[0].0,
        orphan_old,
        orphan_new,
        staging_old,
        staging_new,
        env,
    }
}

impl World {
    /// A dry run (or a preview) left every object and both dead letters.
    fn assert_nothing_deleted(&self) {
        for p in [
            &self.failed_old,
            &self.failed_new,
            &self.live,
            &self.orphan_old,
            &self.orphan_new,
            &self.staging_old,
            &self.staging_new,
        ] {
            assert!(p.exists(), "{} was deleted by a dry run", p.display());
        }
        assert_eq!(dead_letters(&self.env), 2);
    }
}

fn dead_letters(env: &TestEnv) -> usize {
    let mut redis = env.redis.connection();
    redis::cmd("XLEN")
        .arg(shared_domain::redis::Keys::new(&env.redis.namespace).dead_letter_stream())
        .query(&mut redis)
        .unwrap()
}

#[tokio::test]
async fn retention_deletes_only_what_is_old_and_unowned() {
    let w = world().await;
    sweeper(&w.env, false).retention().await.unwrap();
    let exists = |p: &Path| p.exists();
    assert!(
        !exists(&w.failed_old),
        "upload of a book failed 40 days ago"
    );
    assert!(exists(&w.failed_new), "upload of a book failed 5 days ago");
    assert!(exists(&w.live), "a ready book's upload");
    assert!(!exists(&w.orphan_old), "an old object with no book");
    assert!(
        exists(&w.orphan_new),
        "a recent object with no book (an upload may be committing)"
    );
    assert!(!exists(&w.staging_old), "a two-day-old staging file");
    assert!(exists(&w.staging_new), "a fresh staging file");
    assert_eq!(
        dead_letters(&w.env),
        1,
        "the old dead letter trimmed, the new one kept"
    );
    let db = w.env.db.client().await;
    let row = db
        .query_one(
            "SELECT source_deleted_at IS NOT NULL FROM books WHERE id = $1",
            &[&w.failed_old_id],
        )
        .await
        .unwrap();
    assert!(
        row.get::<_, bool>(0),
        "the book records that its upload is gone"
    );
}

#[tokio::test]
async fn a_dry_run_deletes_nothing() {
    let w = world().await;
    sweeper(&w.env, true).retention().await.unwrap();
    w.assert_nothing_deleted();
}

/// The keys a `worker retention` run printed, as the verb it printed them with.
fn listed(stdout: &str, verb: &str) -> std::collections::BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{verb}\t")))
        .filter_map(|rest| rest.split('\t').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_one_shot_command_previews_then_deletes_exactly_what_it_listed() {
    let w = world().await;
    let mut vars = w.env.vars();
    test_support::set_var(&mut vars, "MIGRATE_ON_START", "false");
    let bin = Path::new(crate::helpers::BIN);

    let preview = test_support::run_to_end(bin, &["retention", "--dry-run"], &vars);
    let preview_out = String::from_utf8_lossy(&preview.stdout).into_owned();
    assert!(
        preview.status.success(),
        "{preview_out}{}",
        String::from_utf8_lossy(&preview.stderr)
    );
    assert!(
        preview_out.contains("retention (dry run): would delete 3 object(s) and 1 dead letter(s)"),
        "{preview_out}"
    );
    let would = listed(&preview_out, "would delete");
    w.assert_nothing_deleted();

    let run = test_support::run_to_end(bin, &["retention"], &vars);
    let run_out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{run_out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        listed(&run_out, "deleted"),
        would,
        "the run deletes what the preview listed"
    );
    let root = w.env.storage_dir.path();
    let key_of = |p: &Path| p.strip_prefix(root).unwrap().display().to_string();
    for p in [&w.failed_old, &w.orphan_old, &w.staging_old] {
        assert!(would.contains(&key_of(p)), "{} listed", key_of(p));
        assert!(!p.exists(), "{} deleted", p.display());
    }
    for p in [&w.failed_new, &w.live, &w.orphan_new, &w.staging_new] {
        assert!(!would.contains(&key_of(p)));
        assert!(p.exists(), "{} kept", p.display());
    }
    assert_eq!(dead_letters(&w.env), 1);
    // A wrong flag is a usage error, not a run.
    let wrong = test_support::run_to_end(bin, &["retention", "--dryrun"], &vars);
    assert_eq!(wrong.status.code(), Some(2));
}
