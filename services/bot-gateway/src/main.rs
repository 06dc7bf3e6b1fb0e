use std::process::ExitCode;

use bot_gateway::Config;

/// Every start allocates dozens of small objects across threads (HTTP, JSON, Redis
/// and upstream buffers); glibc's allocator spent about 15% of the gateway's CPU on
/// them under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    shared_domain::lifecycle::run_main(
        "bot-gateway",
        Config::from_vars,
        |c| &c.telemetry,
        |config| async move { bot_gateway::build(config).await?.run_until_stopped().await },
    )
}
