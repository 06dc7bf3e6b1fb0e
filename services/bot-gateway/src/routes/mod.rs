//! Every route of the gateway, assembled in one place that `build` and the tests share.

mod health;
pub(crate) mod sessions;
pub(crate) mod start;

use actix_web::{HttpResponse, web};
use shared_domain::ErrorCode;

use crate::error::GatewayError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .service(
            web::resource("/metrics")
                .route(web::get().to(http_support::metrics_endpoint))
                .default_service(not_allowed("GET, HEAD")),
        )
        .service(
            web::resource("/openapi.json")
                .route(
                    web::get().to(|| async { HttpResponse::Ok().json(crate::openapi::document()) }),
                )
                .default_service(not_allowed("GET, HEAD")),
        )
        .service(
            web::resource("/api/start")
                .route(web::post().to(start::start))
                .default_service(not_allowed("POST")),
        )
        .service(
            web::resource("/api/sessions/{sid}")
                .route(web::get().to(sessions::get))
                .route(web::delete().to(sessions::end))
                .default_service(not_allowed("GET, HEAD, DELETE")),
        )
        .service(
            web::resource("/api/sessions/{sid}/events")
                .route(web::get().to(sessions::events))
                .default_service(not_allowed("GET, HEAD")),
        )
        .service(
            web::resource("/api/sessions/{sid}/api/offer")
                .route(web::post().to(sessions::offer))
                .route(web::patch().to(sessions::offer))
                .default_service(not_allowed("POST, PATCH")),
        )
        .service(
            web::resource("/internal/sessions/{sid}/events")
                .route(web::post().to(sessions::report))
                .default_service(not_allowed("POST")),
        )
        .default_service(web::to(unknown_route));
}

/// Read a request body of at most `limit` bytes: a declared `Content-Length`
/// over it is a JSON 413 at once, more bytes than that a 413 as they come, and a
/// body that stalls or trickles (see `BODY_IDLE_TIMEOUT_SECONDS`,
/// `BODY_MIN_BYTES_PER_SECOND`) a 408.
pub(crate) async fn read_body(
    req: &actix_web::HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, GatewayError> {
    use futures::StreamExt;
    let too_large = || {
        GatewayError::new(
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {limit} bytes."),
        )
    };
    if http_support::body::declares_more_than(req, limit as u64) {
        return Err(too_large());
    }
    let pace = req
        .app_data::<web::Data<crate::AppState>>()
        .map(|state| http_support::body::BodyPace {
            idle: state.config.http.body_idle_timeout,
            grace: state.config.http.body_idle_timeout,
            min_bytes_per_second: state.config.http.body_min_bytes_per_second,
        })
        .unwrap_or(http_support::body::BodyPace {
            idle: std::time::Duration::from_secs(30),
            grace: std::time::Duration::from_secs(30),
            min_bytes_per_second: 8192,
        });
    let mut stream = std::pin::pin!(http_support::body::paced(payload, pace));
    let mut body = web::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if http_support::body::is_too_slow(&e) {
                GatewayError::new(
                    ErrorCode::RequestTimeout,
                    "The request body is arriving too slowly.",
                )
            } else {
                GatewayError::new(
                    ErrorCode::BadRequest,
                    format!("could not read the request body: {e}"),
                )
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

async fn unknown_route() -> Result<HttpResponse, GatewayError> {
    Err(GatewayError::new(ErrorCode::NotFound, "no such route"))
}

/// A JSON 405 with the `Allow` header RFC 9110 requires.
pub(crate) fn not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move || async move {
        let error = GatewayError::new(
            ErrorCode::MethodNotAllowed,
            format!("this route accepts only {allow}"),
        );
        let mut response = actix_web::ResponseError::error_response(&error);
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static(allow),
        );
        response
    })
}
