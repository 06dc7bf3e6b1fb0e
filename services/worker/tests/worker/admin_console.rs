//! The admin console in a real browser (Debian's Chromium, headless, through
//! playwright-core) against the real api, worker, Postgres and Redis: sign in,
//! upload and watch books settle, read a book's chapters and chunks, see a failed
//! book's error, retry a dead job, delete a book, on a desktop and a phone
//! viewport. `scripts/test` installs the browser and the driver
//! (`CHROMIUM_PATH`, `PLAYWRIGHT_CORE_MODULES`). Screenshots of every page are
//! kept in `target/admin-console-screenshots/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{ADMIN_TOKEN, HOUSEHOLD, Stack, corpus};

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test, which installs Chromium and playwright-core")
    })
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/admin-console-screenshots")
}

#[tokio::test]
async fn an_admin_runs_the_library_from_the_console_in_a_real_browser() {
    let stack = Stack::new().await;
    // A book whose job ran out of attempts while storage was down: uploaded, then
    // its job marked dead as the worker marks it, before any worker runs.
    let dead = stack
        .upload_bytes(
            std::fs::read(corpus("gofpdf_multicolumn.pdf")).expect("read"),
            "Multicolumn.pdf",
        )
        .await;
    let dead_id: uuid::Uuid = dead["book_id"].as_str().expect("id").parse().expect("uuid");
    stack
        .db()
        .await
        .execute(
            "UPDATE jobs SET status = 'dead', attempts = max_attempts, finished_at = now(), \
             last_error = 'storage unavailable: connection refused' WHERE book_id = $1",
            &[&dead_id],
        )
        .await
        .expect("bury the job");
    let _worker = stack.spawn_worker(&[]).await;

    let dir = screenshots();
    let _ = std::fs::remove_dir_all(&dir);
    let out = tokio::process::Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/tests/browser/admin-console.cjs"))
        .env(
            "PLAYWRIGHT_CORE_MODULES",
            required("PLAYWRIGHT_CORE_MODULES"),
        )
        .env("CHROMIUM_PATH", required("CHROMIUM_PATH"))
        .env("CONSOLE_URL", format!("{}/admin/", stack.api))
        .env("ADMIN_TOKEN", ADMIN_TOKEN)
        .env("HOUSEHOLD", HOUSEHOLD)
        .env("BOOK_PDF", corpus("debhist_en.pdf"))
        .env("BOOK_EPUB", corpus("pkgguide_de.epub"))
        .env("BROKEN_PDF", corpus("enc_r4-aes-user-password.pdf"))
        .env("DEAD_BOOK_ID", dead_id.to_string())
        .env("DEAD_BOOK_TITLE", "Multicolumn")
        .env("SCREENSHOTS", &dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(600), out)
        .await
        .expect("the browser run finishes within 10 minutes")
        .expect("node is installed (scripts/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| {
            panic!(
                "no result from the browser script:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert_eq!(result["ok"], true, "{result:#}");

    // What the browser did happened in the database.
    let db = stack.db().await;
    let deleted = result["deleted"].as_str().expect("deleted title");
    let left: i64 = db
        .query_one(
            "SELECT count(*) FROM books WHERE household_id = $1 AND title = $2",
            &[&HOUSEHOLD.parse::<uuid::Uuid>().expect("uuid"), &deleted],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 0, "{deleted} was deleted");
    let status: String = db
        .query_one("SELECT status FROM books WHERE id = $1", &[&dead_id])
        .await
        .expect("status")
        .get(0);
    assert_eq!(status, "ready", "the retried book was processed");
    let shots = result["screenshots"].as_array().expect("screenshots");
    assert!(shots.len() >= 8, "{shots:?}");
    for shot in shots {
        let size = std::fs::metadata(shot.as_str().expect("path")).map_or(0, |m| m.len());
        assert!(size > 10_000, "{shot} is a real screenshot ({size} bytes)");
    }
}
