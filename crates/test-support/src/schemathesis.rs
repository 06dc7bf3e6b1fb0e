//! Running Schemathesis (installed by `scripts/test`, `SCHEMATHESIS_BIN`) against
//! a service's OpenAPI document.

use std::path::Path;
use std::process::Command;

/// Run `st run <openapi_url> --checks all` with `config`, the token in
/// `SCHEMATHESIS_TOKEN` (the configs send it as the bearer) and a fixed seed;
/// panics with Schemathesis's report when it finds a failure.
pub async fn assert_conforms(config: &Path, openapi_url: &str, token: &str) {
    let st = std::env::var("SCHEMATHESIS_BIN").unwrap_or_else(|_| {
        panic!(
            "SCHEMATHESIS_BIN is not set: run the tests with scripts/test, which installs \
             Schemathesis from PyPI"
        )
    });
    let (config, url, token) = (config.to_owned(), openapi_url.to_owned(), token.to_owned());
    // Its crash cache goes to the working directory: keep it out of the tree.
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let cwd = scratch.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&st)
            .current_dir(&cwd)
            .arg("--no-color")
            .arg("--config-file")
            .arg(&config)
            .args(["run", &url, "--checks", "all", "--seed", "20261203"])
            .env("SCHEMATHESIS_TOKEN", token)
            .output()
            .expect("run schemathesis")
    })
    .await
    .expect("the schemathesis task");
    drop(scratch);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
