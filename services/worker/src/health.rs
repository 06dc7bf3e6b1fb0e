//! The worker's HTTP endpoint (`HEALTH_PORT`, else `PORT`): `GET /health` for
//! platforms that probe every service, `GET /health/ready` (Postgres, Redis and
//! storage answer: a deploy with wrong credentials fails its health check), and `GET /metrics` for Prometheus. It is
//! served only once the schema is current, so a deploy whose schema never comes
//! fails its health check instead of running new code on an old schema.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use deadpool_postgres::Pool;
use serde_json::json;
use shared_domain::Storage;
use shared_domain::redis::Redis;

/// What `/health` reports and `/health/ready` checks.
#[derive(Clone)]
pub struct Status {
    pub consumer: String,
    pub is_leader: Arc<AtomicBool>,
    pub db: Pool,
    pub redis: Redis,
    pub storage: Storage,
    /// The queue's depth, rendered on `/metrics` while this replica leads.
    pub depth: crate::sweeper::QueueGauges,
    /// How old a depth reading may be and still be served (a few sweep rounds).
    pub depth_fresh_for: std::time::Duration,
}

pub fn server(
    listener: TcpListener,
    status: Status,
    metrics: http_support::MetricsAccess,
) -> std::io::Result<Server> {
    http_support::metrics::handle();
    shared_domain::db::register_metrics();
    for outcome in [
        "succeeded",
        "failed",
        "retrying",
        "dead",
        "lost",
        "handed_back",
    ] {
        metrics::counter!("jobs_total", "outcome" => outcome).increment(0);
    }
    metrics::counter!("queue_reclaimed_total").increment(0);
    let metrics = web::Data::new(metrics);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(status.clone()))
            .app_data(metrics.clone())
            .route("/health", web::get().to(live))
            .route("/health/ready", web::get().to(ready))
            .route("/metrics", web::get().to(metrics_endpoint))
    })
    // Answers go out at once, not held back by Nagle until the last one is ACKed.
    .tcp_nodelay(true)
    .listen(listener)?
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .run())
}

/// The process-wide metrics, and the queue's depth when this replica leads.
async fn metrics_endpoint(req: actix_web::HttpRequest, status: web::Data<Status>) -> HttpResponse {
    http_support::metrics_response(&req, || {
        let mut out = shared_domain::db::pool_metrics(&status.db);
        if status.is_leader.load(Ordering::Relaxed) {
            out.push_str(&status.depth.render(status.depth_fresh_for));
        }
        out
    })
}

async fn live(status: web::Data<Status>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "service": "worker",
        "version": env!("CARGO_PKG_VERSION"),
        "consumer": status.consumer,
        "sweeper_leader": status.is_leader.load(Ordering::Relaxed),
    }))
}

/// 200 when Postgres, Redis and storage answer; 503 naming what does not.
async fn ready(status: web::Data<Status>) -> HttpResponse {
    let (db, redis, storage) = tokio::join!(
        shared_domain::db::ping(&status.db),
        status.redis.ping(),
        status.storage.check()
    );
    let checks = [
        ("postgres", db.err().map(|e| format!("{e:#}"))),
        ("redis", redis.err().map(|e| e.to_string())),
        ("storage", storage.err().map(|e| e.to_string())),
    ];
    let down: Vec<&str> = checks
        .iter()
        .filter_map(|(name, error)| {
            let error = error.as_ref()?;
            tracing::warn!(dependency = name, %error, "readiness check failed");
            Some(*name)
        })
        .collect();
    if down.is_empty() {
        HttpResponse::Ok().json(json!({
            "status": "ready",
            "checks": {"postgres": "ok", "redis": "ok", "storage": "ok"},
        }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({
            "error": "service_unavailable",
            "message": format!("unavailable: {}", down.join(", ")),
            "down": down,
        }))
    }
}
