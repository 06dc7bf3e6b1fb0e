//! The worker's optional HTTP endpoint (`HEALTH_PORT`): `GET /health` for platforms
//! that probe every service, and `GET /metrics` for Prometheus.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

/// What `/health` reports.
#[derive(Clone)]
pub struct Status {
    pub consumer: String,
    pub is_leader: Arc<AtomicBool>,
}

pub fn server(listener: TcpListener, status: Status) -> std::io::Result<Server> {
    http_support::metrics::handle();
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(status.clone()))
            .route("/health", web::get().to(live))
            .route("/metrics", web::get().to(http_support::metrics_endpoint))
    })
    // Answers go out at once, not held back by Nagle until the last one is ACKed.
    .tcp_nodelay(true)
    .listen(listener)?
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .run())
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
