//! `GET /health` (liveness) and `GET /health/ready` (Redis, and the JWT signing
//! keys when configured).

use actix_web::{HttpResponse, ResponseError, web};
use serde_json::json;
use shared_domain::ErrorCode;

use crate::error::GatewayError;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/health")
            .route(web::get().to(live))
            .default_service(super::not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/health/ready")
            .route(web::get().to(ready))
            .default_service(super::not_allowed("GET, HEAD")),
    );
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(
        json!({"status": "ok", "service": "bot-gateway", "version": env!("CARGO_PKG_VERSION")}),
    )
}

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let mut down = Vec::new();
    if let Err(e) = state.redis.ping().await {
        tracing::warn!(dependency = "redis", error = %e, "readiness check failed");
        down.push("redis");
    }
    // Configured signing keys not fetched yet: tokens signed with them get 401.
    let signing_keys = state.jwt.signing_keys_loaded();
    if signing_keys == Some(false) {
        tracing::warn!(
            dependency = "signing_keys",
            "readiness check failed: the JWT signing keys have not been fetched"
        );
        down.push("signing_keys");
    }
    if down.is_empty() {
        let mut checks = json!({"redis": "ok"});
        if signing_keys.is_some() {
            checks["signing_keys"] = json!("ok");
        }
        return HttpResponse::Ok().json(json!({"status": "ready", "checks": checks}));
    }
    GatewayError::new(
        ErrorCode::ServiceUnavailable,
        format!("unavailable: {}", down.join(", ")),
    )
    .with_field("down", down)
    .error_response()
}
