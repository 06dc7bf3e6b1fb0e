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
        Some("retention") => {
            let dry_run = match &args[1..] {
                [] => false,
                [flag] if flag == "--dry-run" => true,
                _ => {
                    eprintln!("usage: worker retention [--dry-run]");
                    return ExitCode::from(2);
                }
            };
            return shared_domain::lifecycle::run_main(
                "worker",
                Config::from_vars,
                |c| &c.telemetry,
                move |config| worker::startup::retention_once(config, dry_run),
            );
        }
        _ => {}
    }
    shared_domain::lifecycle::run_main(
        "worker",
        Config::from_vars,
        |c| &c.telemetry,
        |config| async move { Worker::build(config).await?.run_until_stopped().await },
    )
}
