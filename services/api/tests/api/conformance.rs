//! Schemathesis (property-based tests generated from `/openapi.json`) against the
//! real api binary, as an admin and as the bot's service: no 5xx, every response
//! in its documented shape and status, schema-valid data accepted, the bounds the
//! document declares enforced. Config: `tests/schemathesis/api.toml`.

use std::path::Path;

use test_support::{ServiceProcess, TestEnv, free_port};

use crate::helpers::{ADMIN_TOKEN, SERVICE_TOKEN, vars};

const BIN: &str = env!("CARGO_BIN_EXE_api");

#[tokio::test]
async fn schemathesis_finds_nothing_wrong_with_the_api() {
    let env = TestEnv::new().await;
    let port = free_port();
    let mut vars = vars(&env);
    test_support::set_var(&mut vars, "PORT", port.to_string());
    let mut api = ServiceProcess::spawn(Path::new(BIN), &vars, port);
    api.wait_healthy().await;
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis/api.toml");
    let url = format!("http://127.0.0.1:{port}/openapi.json");
    for token in [ADMIN_TOKEN, SERVICE_TOKEN] {
        test_support::schemathesis::assert_conforms(&config, &url, token).await;
    }
    assert!(api.terminate().await.success());
}
