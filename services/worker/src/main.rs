use std::process::ExitCode;

use worker::{Config, Worker, extract};

fn main() -> ExitCode {
    // The isolated extraction children are this same binary: they must not start
    // a runtime, telemetry or anything else before applying their limits.
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("extract") => return extract::child::extract_main(&args[1..]),
        Some("limit") => return extract::child::limit_main(&args[1..]),
        Some("epub") => return extract::epub::epub_main(&args[1..]),
        _ => {}
    }
    shared_domain::lifecycle::run_main(
        "worker",
        Config::from_vars,
        |c| &c.telemetry,
        |config| async move { Worker::build(config).await?.run_until_stopped().await },
    )
}
