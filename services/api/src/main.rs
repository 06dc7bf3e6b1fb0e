use std::process::ExitCode;

use api::Config;

fn main() -> ExitCode {
    let migrate_only = match std::env::args().nth(1).as_deref() {
        None | Some("serve") => false,
        Some("migrate") => true,
        Some(other) => {
            eprintln!("api: unknown command {other:?}; usage: api [serve|migrate]");
            return ExitCode::from(2);
        }
    };
    shared_domain::lifecycle::run_main(
        "api",
        Config::from_vars,
        |c| &c.telemetry,
        move |config| async move {
            if migrate_only {
                shared_domain::db::migrate(&config.database).await?;
                return Ok(());
            }
            api::build(config).await?.run_until_stopped().await
        },
    )
}
