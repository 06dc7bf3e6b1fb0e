//! The worker's optional `GET /health` endpoint (`HEALTH_PORT`), for platforms that
//! probe every service over HTTP.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

pub fn server(listener: TcpListener) -> std::io::Result<Server> {
    Ok(
        HttpServer::new(|| App::new().route("/health", web::get().to(live)))
            .listen(listener)?
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .run(),
    )
}

async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"status": "ok", "service": "worker", "version": env!("CARGO_PKG_VERSION")}))
}
