//! `GET /metrics` (Prometheus) and `GET /openapi.json`.

use actix_web::HttpResponse;
use actix_web::get;
use utoipa_actix_web::service_config::ServiceConfig;

/// Metrics and this API's OpenAPI document.
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(metrics).service(openapi);
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(tag = "operations", security((), ("metrics_token" = [])),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "METRICS_TOKEN is set and the request does not carry it", body = crate::error::ErrorBody),
        (status = 403, description = "METRICS_TOKEN is not set and the request came through a proxy (a forwarding header): served only to the private network", body = crate::error::ErrorBody)))]
#[get("/metrics")]
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: actix_web::web::Data<crate::startup::AppState>,
) -> HttpResponse {
    http_support::metrics_response(&req, || shared_domain::db::pool_metrics(&state.db))
}

/// This document.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The OpenAPI 3.1 document")))]
#[get("/openapi.json")]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::document())
}
