//! The admin console: three static files compiled into the binary and served at
//! `/admin/`. The page holds no secret: the admin signs in with `ADMIN_API_TOKEN`,
//! which the browser keeps in session storage and sends as a Bearer header to the
//! JSON routes, never in a URL. A strict Content-Security-Policy allows only these
//! files (no inline script or style, no other origin).

use actix_web::get;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};
use utoipa_actix_web::service_config::ServiceConfig;

/// The admin console's page and files.
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(redirect)
        .service(index)
        .service(script)
        .service(style);
}

const INDEX: &str = include_str!("../../admin/index.html");
const SCRIPT: &str = include_str!("../../admin/app.js");
const STYLE: &str = include_str!("../../admin/app.css");

/// Only this origin's files and JSON; nothing inline, no frames, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

fn page(content_type: &'static str, body: &'static str) -> HttpResponse {
    let mut response = HttpResponseBuilder::new(actix_web::http::StatusCode::OK);
    response
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // A new binary serves new files at once.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    response.body(body)
}

/// The admin console.
#[utoipa::path(tag = "console",
    responses((status = 200, description = "The console's page", content_type = "text/html")))]
#[get("/admin/")]
pub async fn index() -> HttpResponse {
    page("text/html; charset=utf-8", INDEX)
}

/// `/admin` → `/admin/`, so the page's relative links resolve.
#[utoipa::path(tag = "console",
    responses((status = 308, description = "To /admin/")))]
#[get("/admin")]
pub async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/admin/"))
        .finish()
}

/// The console's script.
#[utoipa::path(tag = "console",
    responses((status = 200, description = "JavaScript", content_type = "text/javascript")))]
#[get("/admin/app.js")]
pub async fn script() -> HttpResponse {
    page("text/javascript; charset=utf-8", SCRIPT)
}

/// The console's style sheet.
#[utoipa::path(tag = "console",
    responses((status = 200, description = "CSS", content_type = "text/css")))]
#[get("/admin/app.css")]
pub async fn style() -> HttpResponse {
    page("text/css; charset=utf-8", STYLE)
}
