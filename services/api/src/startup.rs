//! Building and running the API: pools, migrations, the listener and the server.

use std::net::TcpListener;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use anyhow::Context;
use deadpool_postgres::Pool;
use http_support::BoundServer;
use shared_domain::auth::{JwtVerifier, StaticToken};
use shared_domain::redis::Redis;
use shared_domain::{Storage, lifecycle};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use crate::config::Config;
use crate::{error, routes};
use http_support::metrics;

/// The credentials callers can present.
pub struct AuthState {
    pub admin: StaticToken,
    pub service: StaticToken,
    pub jwt: JwtVerifier,
}

/// What every request handler can reach.
pub struct AppState {
    pub config: Config,
    pub db: Pool,
    pub redis: Redis,
    pub storage: Storage,
    pub auth: AuthState,
}

/// Connect, migrate (unless disabled) and bind; the server starts on
/// [`BoundServer::run_until_stopped`]. `PORT=0` picks a free port.
pub async fn build(config: Config) -> anyhow::Result<BoundServer> {
    lifecycle::prepare_schema(&config.database, config.migrate_on_start).await?;
    let db = shared_domain::db::pool(&config.database).context("building the Postgres pool")?;
    let redis = Redis::connect(&config.redis).context("building the Redis pools")?;
    let storage = Storage::from_config(&config.storage)
        .context("opening object storage")?
        .with_write_budget(config.upload_buffer_bytes, config.upload_buffer_wait);
    if config.upload_buffer_bytes < storage.writer_memory() {
        tracing::warn!(
            budget = config.upload_buffer_bytes,
            one_upload = storage.writer_memory(),
            "UPLOAD_BUFFER_MIB is less than one upload holds: uploads are taken one at a time"
        );
    }
    let auth = AuthState {
        admin: StaticToken::new(&config.auth.admin_token),
        service: StaticToken::new(&config.auth.service_token),
        jwt: JwtVerifier::new(&config.auth.jwt),
    };
    metrics::handle();
    shared_domain::db::register_metrics();

    let listener = TcpListener::bind((config.http.host, config.http.port))
        .with_context(|| format!("binding {}:{}", config.http.host, config.http.port))?;
    let grace = config.http.shutdown_grace;
    let origins = config.allowed_origins.clone();
    let metrics_access = web::Data::new(http_support::MetricsAccess::at_start(
        config.http.metrics_token.as_ref(),
    ));
    let methods = web::Data::new(routes::Methods::from_document(crate::openapi::document()));
    let state = web::Data::new(AppState {
        config,
        db,
        redis,
        storage,
        auth,
    });
    let server = http_support::serve(listener, grace, move || {
        App::new()
            // Inside CORS, which answers a preflight before them and labels their
            // answers; a HEAD is made a GET before the 405 check.
            .wrap(from_fn(routes::allowed_methods))
            .wrap(from_fn(http_support::head_as_get))
            .wrap(http_support::cors(
                &origins,
                &[Method::GET, Method::POST, Method::PUT, Method::DELETE],
            ))
            .wrap(from_fn(http_support::json_errors))
            .wrap(from_fn(metrics::track))
            .wrap(TracingLogger::default())
            .app_data(state.clone())
            .app_data(metrics_access.clone())
            .app_data(methods.clone())
            .configure(error::extractor_configs)
            .into_utoipa_app()
            .configure(routes::configure)
            .into_app()
            .default_service(web::to(routes::unknown_route))
    })?;
    tracing::info!(port = server.port(), "api listening");
    Ok(server)
}
