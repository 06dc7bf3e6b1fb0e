//! actix-web pieces shared by the API and the bot gateway. `shared-domain` knows
//! nothing of HTTP frameworks; this crate is where the two HTTP services meet.

pub mod metrics;

use actix_cors::Cors;
use actix_web::HttpResponse;
use actix_web::http::{Method, header};

/// CORS for exactly `origins`; preflight allows the headers browsers send with
/// JSON and bearer tokens. No origins configured means no cross-origin access.
pub fn cors(origins: &[String], methods: &[Method]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(methods.iter().cloned())
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// `GET /metrics` in the Prometheus text format.
pub async fn metrics_endpoint() -> HttpResponse {
    let handle = metrics::handle();
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}
