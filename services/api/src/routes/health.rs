//! `GET /health` (liveness) and `GET /health/ready` (dependencies).

use actix_web::get;
use actix_web::{HttpResponse, ResponseError, web};
use serde_json::json;
use shared_domain::ErrorCode;

use crate::error::{ApiError, ErrorBody};
use crate::startup::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Liveness and readiness.
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(live).service(ready);
}

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", responses((status = 200, description = "`{\"status\":\"ok\",...}`")))]
#[get("/health")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"status": "ok", "service": "api", "version": env!("CARGO_PKG_VERSION")}))
}

/// Readiness: Postgres, Redis and storage answer. 503 names whatever is down.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "All dependencies answer"),
    (status = 503, description = "`down` lists what does not", body = ErrorBody),
))]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let (db, redis, storage) = tokio::join!(
        shared_domain::db::ping(&state.db),
        state.redis.ping(),
        state.storage.check()
    );
    // Configured signing keys not fetched yet: users' tokens signed with them get 401.
    let signing_keys = state.auth.jwt.signing_keys_loaded();
    let mut checks = vec![
        ("postgres", db.err().map(|e| format!("{e:#}"))),
        ("redis", redis.err().map(|e| e.to_string())),
        ("storage", storage.err().map(|e| e.to_string())),
    ];
    if let Some(loaded) = signing_keys {
        checks.push((
            "signing_keys",
            (!loaded).then(|| "the JWT signing keys have not been fetched".to_owned()),
        ));
    }
    let mut down = Vec::new();
    for (name, error) in &checks {
        if let Some(error) = error {
            tracing::warn!(dependency = name, %error, "readiness check failed");
            down.push(*name);
        }
    }
    if down.is_empty() {
        let ok: serde_json::Map<String, serde_json::Value> = checks
            .iter()
            .map(|(name, _)| ((*name).to_owned(), json!("ok")))
            .collect();
        HttpResponse::Ok().json(json!({"status": "ready", "checks": ok}))
    } else {
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            format!("unavailable: {}", down.join(", ")),
        )
        .with_field("down", down)
        .error_response()
    }
}
