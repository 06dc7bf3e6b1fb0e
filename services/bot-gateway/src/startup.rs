//! Building and running the gateway.

use std::net::TcpListener;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use anyhow::Context;
use http_support::BoundServer;
use shared_domain::ErrorCode;
use shared_domain::auth::{JwtVerifier, StaticToken};
use shared_domain::redis::Redis;
use tracing_actix_web::TracingLogger;

use crate::calls::Calls;
use crate::config::Config;
use crate::error::GatewayError;
use crate::routes;
use crate::upstream::Upstream;

pub struct AppState {
    pub config: Config,
    pub redis: Redis,
    pub calls: Calls,
    pub upstream: Upstream,
    pub jwt: JwtVerifier,
    pub service_token: StaticToken,
}

impl AppState {
    /// A copy for one HTTP worker with its own connections. Building them cannot
    /// fail here (the same configuration built at start); if it did, the worker
    /// would share the first ones.
    fn for_worker(&self) -> Self {
        let redis = Redis::connect(&self.config.redis).unwrap_or_else(|_| self.redis.clone());
        let upstream =
            Upstream::new(self.config.upstream.clone()).unwrap_or_else(|_| self.upstream.clone());
        Self {
            config: self.config.clone(),
            calls: Calls::new(redis.clone(), self.config.calls.clone()),
            redis,
            upstream,
            jwt: self.jwt.clone(),
            service_token: self.service_token.clone(),
        }
    }
}

/// Connect and bind; the server starts on [`BoundServer::run_until_stopped`].
/// `PORT=0` picks a free port.
pub async fn build(config: Config) -> anyhow::Result<BoundServer> {
    let redis = Redis::connect(&config.redis).context("building the Redis pools")?;
    let upstream =
        Upstream::new(config.upstream.clone()).context("building the upstream HTTP client")?;
    let state = AppState {
        calls: Calls::new(redis.clone(), config.calls.clone()),
        jwt: JwtVerifier::new(&config.jwt),
        service_token: StaticToken::new(&config.service_token),
        redis,
        upstream,
        config,
    };
    http_support::metrics::handle();
    let listener = TcpListener::bind((state.config.http.host, state.config.http.port))
        .with_context(|| {
            format!(
                "binding {}:{}",
                state.config.http.host, state.config.http.port
            )
        })?;
    let grace = state.config.http.shutdown_grace;
    let origins = state.config.allowed_origins.clone();
    let metrics_access = web::Data::new(http_support::MetricsAccess::at_start(
        state.config.http.metrics_token.as_ref(),
    ));
    let state = std::sync::Arc::new(state);
    let server = http_support::serve(listener, grace, move || {
        // Each worker thread gets its own Redis connection and upstream
        // connection pool, driven on its own runtime: shared ones would cross
        // threads (a wake-up and a context switch) on every call.
        let state = web::Data::new(state.for_worker());
        App::new()
            .wrap(from_fn(http_support::head_as_get))
            .wrap(http_support::cors(
                &origins,
                &[Method::GET, Method::POST, Method::PATCH, Method::DELETE],
            ))
            .wrap(from_fn(http_support::json_errors_with_info))
            .wrap(from_fn(http_support::metrics::track))
            .wrap(TracingLogger::default())
            .app_data(state)
            .app_data(metrics_access.clone())
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                GatewayError::new(ErrorCode::BadRequest, format!("invalid path: {err}")).into()
            }))
            .configure(routes::configure)
    })?;
    tracing::info!(port = server.port(), "bot-gateway listening");
    Ok(server)
}
