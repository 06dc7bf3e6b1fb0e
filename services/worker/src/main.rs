use std::process::ExitCode;

use worker::{Config, Worker};

fn main() -> ExitCode {
    shared_domain::lifecycle::run_main(
        "worker",
        Config::from_vars,
        |c| &c.telemetry,
        |config| async move { Worker::build(config).await?.run_until_stopped().await },
    )
}
