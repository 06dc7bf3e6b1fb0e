//! Schemathesis (property-based tests generated from `/openapi.json`) against the
//! real api binary, as an admin and as the bot's service: no 5xx, every response
//! in its documented shape and status, schema-valid data accepted, the bounds the
//! document declares enforced. Config: `tests/schemathesis/api.toml`.

use std::path::Path;
use std::process::Command;

use test_support::{ServiceProcess, TestEnv, free_port};

use crate::helpers::{ADMIN_TOKEN, SERVICE_TOKEN, vars};

const BIN: &str = env!("CARGO_BIN_EXE_api");

fn schemathesis() -> String {
    std::env::var("SCHEMATHESIS_BIN").unwrap_or_else(|_| {
        panic!("SCHEMATHESIS_BIN is not set: run the tests with scripts/test, which installs Schemathesis from PyPI")
    })
}

#[tokio::test]
async fn schemathesis_finds_nothing_wrong_with_the_api() {
    let st = schemathesis();
    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = vars(&env);
    test_support::set_var(&mut vars, "PORT", port.to_string());
    let mut api = ServiceProcess::spawn(Path::new(BIN), &vars, port);
    api.wait_healthy().await;
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis/api.toml");
    for token in [ADMIN_TOKEN, SERVICE_TOKEN] {
        let out = tokio::task::spawn_blocking({
            let st = st.clone();
            let config = config.clone();
            let token = token.to_owned();
            move || {
                Command::new(&st)
                    .arg("--no-color")
                    .arg("--config-file")
                    .arg(&config)
                    .args([
                        "run",
                        &format!("http://127.0.0.1:{port}/openapi.json"),
                        "--checks",
                        "all",
                    ])
                    .args(["--seed", "20261203"])
                    .env("SCHEMATHESIS_TOKEN", token)
                    .output()
                    .expect("run schemathesis")
            }
        })
        .await
        .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "schemathesis found failures:\n{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(report.contains("passed"), "{report}");
    }
    assert!(api.terminate().await.success());
}
