//! Process lifecycle: waiting for the stop signal.

/// Resolves on SIGTERM (what Railway, Docker and Kubernetes send) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = term => tracing::info!("SIGTERM received, shutting down"),
        r = tokio::signal::ctrl_c() => match r {
            Ok(()) => tracing::info!("SIGINT received, shutting down"),
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGINT");
                std::future::pending::<()>().await;
            }
        },
    }
}

/// A stop signal arrived before the service was ready (e.g. while it waited for
/// its schema): [`run_main`] exits 0, as after any other clean stop.
#[derive(Debug, thiserror::Error)]
#[error("stopped before the service was ready")]
pub struct StoppedBeforeReady;

/// Never serve on a schema older than this build's: migrate (`migrate_on_start`)
/// or wait for another process to (see [`crate::db::prepare_schema`]); a stop
/// signal while waiting is [`StoppedBeforeReady`].
pub async fn prepare_schema(
    database: &crate::DatabaseConfig,
    migrate_on_start: bool,
) -> anyhow::Result<()> {
    use anyhow::Context;

    let schema = crate::db::prepare_schema(database, migrate_on_start, shutdown_signal())
        .await
        .context("preparing the database schema")?;
    if schema == crate::db::SchemaReady::Stopped {
        return Err(StoppedBeforeReady.into());
    }
    Ok(())
}

/// Install the process-wide TLS crypto provider. Several dependencies use rustls;
/// without one chosen explicitly, the first TLS handshake could panic.
pub fn install_crypto_provider() {
    // An error means one is installed already, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The body of every service's `main`: read and validate config from the
/// environment, install telemetry, build the runtime and run `body`.
///
/// Exit codes: 0 after a clean run (a SIGTERM included), 2 on a configuration
/// error (printed to stderr naming the variable, before any logging exists), 1 when
/// `body` fails (the whole cause chain logged).
pub fn run_main<C, F, Fut>(
    service: &'static str,
    load: impl FnOnce(&crate::Vars) -> Result<C, crate::ConfigError>,
    telemetry: impl FnOnce(&C) -> &crate::TelemetryConfig,
    body: F,
) -> std::process::ExitCode
where
    F: FnOnce(C) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    use std::process::ExitCode;

    let config = match load(&crate::Vars::from_env()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{service}: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let _guard = match crate::telemetry::init(service, telemetry(&config)) {
        Ok(g) => g,
        Err(e) => {
            eprintln!(
                "{service}: cannot start telemetry: {}",
                crate::error::error_chain(&e)
            );
            return ExitCode::FAILURE;
        }
    };
    install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(body(config));
    // Let spawned tasks finish their drop handlers before the telemetry guard flushes.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => {
            tracing::info!("{service} stopped");
            ExitCode::SUCCESS
        }
        Err(e) if e.is::<StoppedBeforeReady>() => {
            tracing::info!("{service} stopped before it was ready");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "{service} failed");
            ExitCode::FAILURE
        }
    }
}

/// Drive `server` until SIGTERM/SIGINT, then call `stop` (a graceful drain) and wait
/// for the server to finish. A server that ends on its own first is an error.
pub async fn serve_until_shutdown<S, Stop, StopFut>(server: S, stop: Stop) -> anyhow::Result<()>
where
    S: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
    Stop: FnOnce() -> StopFut,
    StopFut: std::future::Future<Output = ()>,
{
    use anyhow::Context;

    let mut task = tokio::spawn(server);
    tokio::select! {
        ended = &mut task => {
            ended.context("server task")?.context("server")?;
            anyhow::bail!("the server stopped before any shutdown signal");
        }
        () = shutdown_signal() => {}
    }
    stop().await;
    task.await.context("server task")?.context("server")?;
    Ok(())
}
