use std::process::ExitCode;

use bot_gateway::{Application, Config};

fn main() -> ExitCode {
    shared_domain::lifecycle::run_main(
        "bot-gateway",
        Config::from_vars,
        |c| &c.telemetry,
        |config| async move { Application::build(config).await?.run_until_stopped().await },
    )
}
