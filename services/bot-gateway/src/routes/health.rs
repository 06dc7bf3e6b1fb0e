//! `GET /health` (liveness) and `GET /health/ready` (Redis).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(
        json!({"status": "ok", "service": "bot-gateway", "version": env!("CARGO_PKG_VERSION")}),
    )
}

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.redis.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready", "checks": {"redis": "ok"}})),
        Err(e) => {
            tracing::warn!(dependency = "redis", error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({
                "error": "service_unavailable",
                "message": "unavailable: redis",
                "info": "unavailable: redis",
                "down": ["redis"],
            }))
        }
    }
}
