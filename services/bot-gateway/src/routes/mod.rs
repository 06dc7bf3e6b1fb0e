//! Every route of the gateway, assembled in one place that `Application` and the tests share.

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
                .default_service(not_allowed("GET")),
        )
        .service(
            web::resource("/openapi.json")
                .route(
                    web::get().to(|| async { HttpResponse::Ok().json(crate::openapi::document()) }),
                )
                .default_service(not_allowed("GET")),
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
                .default_service(not_allowed("GET, DELETE")),
        )
        .service(
            web::resource("/api/sessions/{sid}/events")
                .route(web::get().to(sessions::events))
                .default_service(not_allowed("GET")),
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

/// Read a request body of at most `limit` bytes; more is a JSON 413.
pub(crate) async fn read_body(
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, GatewayError> {
    use futures::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            GatewayError::new(
                ErrorCode::BadRequest,
                format!("could not read the request body: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(GatewayError::new(
                ErrorCode::PayloadTooLarge,
                format!("The request body is larger than {limit} bytes."),
            ));
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
