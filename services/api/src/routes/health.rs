//! `GET /health` (liveness) and `GET /health/ready` (dependencies).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"status": "ok", "service": "api", "version": env!("CARGO_PKG_VERSION")}))
}

/// Checks Postgres, Redis and storage concurrently; 503 names whatever is down.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let (db, redis, storage) = tokio::join!(
        shared_domain::db::ping(&state.db),
        state.redis.ping(),
        state.storage.check(),
    );
    let checks = [
        ("postgres", db.err().map(|e| format!("{e:#}"))),
        ("redis", redis.err().map(|e| e.to_string())),
        ("storage", storage.err().map(|e| e.to_string())),
    ];
    let down: Vec<&str> = checks
        .iter()
        .filter(|(_, e)| e.is_some())
        .map(|(name, _)| *name)
        .collect();
    for (name, error) in &checks {
        if let Some(error) = error {
            tracing::warn!(dependency = name, %error, "readiness check failed");
        }
    }
    if down.is_empty() {
        HttpResponse::Ok().json(json!({"status": "ready", "checks": {"postgres": "ok", "redis": "ok", "storage": "ok"}}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({
            "error": "service_unavailable",
            "message": format!("unavailable: {}", down.join(", ")),
            "down": down,
        }))
    }
}
