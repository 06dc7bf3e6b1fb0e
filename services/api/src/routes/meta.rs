//! `GET /metrics` (Prometheus) and `GET /openapi.json`.

use actix_web::HttpResponse;

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", security((), ("metrics_token" = [])),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "METRICS_TOKEN is set and the request does not carry it", body = crate::error::ErrorBody),
        (status = 403, description = "METRICS_TOKEN is not set and the request came through a proxy (a forwarding header): served only to the private network", body = crate::error::ErrorBody)))]
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: actix_web::web::Data<crate::startup::AppState>,
) -> HttpResponse {
    http_support::metrics_response(&req, || shared_domain::db::pool_metrics(&state.db))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "The OpenAPI 3.1 document")))]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::document())
}
