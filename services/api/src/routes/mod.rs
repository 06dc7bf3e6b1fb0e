//! Every route of the API, in one table that `Application`, the OpenAPI document
//! and the tests share: [`specs`] is the single list of what the app serves.

pub(crate) mod books;
pub(crate) mod console;
pub(crate) mod health;
pub(crate) mod jobs;
pub(crate) mod listening;
pub(crate) mod meta;
pub(crate) mod upload;

use actix_web::http::Method;
use actix_web::{HttpResponse, Route, web};
use shared_domain::ErrorCode;

use crate::error::ApiError;

pub use books::ReadingProgress;
pub use books::{BookList, BookStatusResponse, ChunkPage, ChunkResponse, ReprocessResponse};
pub use jobs::{JobList, JobResponse};
pub use listening::{
    ChapterList, ChapterResponse, ContinueResponse, PositionRequest, PositionResponse,
    PositionSaved, ReadingStart,
};
pub use upload::{UploadForm, UploadResponse};

/// One served route: its method, path pattern and handler.
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    make: fn(Route) -> Route,
}

const fn route(method: Method, path: &'static str, make: fn(Route) -> Route) -> RouteSpec {
    RouteSpec { method, path, make }
}

/// Everything the API serves.
pub fn specs() -> Vec<RouteSpec> {
    vec![
        route(Method::GET, "/health", |r| r.to(health::live)),
        route(Method::GET, "/health/ready", |r| r.to(health::ready)),
        route(Method::GET, "/metrics", |r| r.to(meta::metrics)),
        route(Method::GET, "/openapi.json", |r| r.to(meta::openapi)),
        route(Method::GET, "/admin", |r| r.to(console::redirect)),
        route(Method::GET, "/admin/", |r| r.to(console::index)),
        route(Method::GET, "/admin/app.js", |r| r.to(console::script)),
        route(Method::GET, "/admin/app.css", |r| r.to(console::style)),
        route(Method::POST, "/admin/books/upload", |r| {
            r.to(upload::upload)
        }),
        route(Method::DELETE, "/admin/books/{id}", |r| r.to(books::delete)),
        route(Method::POST, "/admin/books/{id}/reprocess", |r| {
            r.to(books::reprocess)
        }),
        route(Method::GET, "/admin/jobs", |r| r.to(jobs::list)),
        route(Method::POST, "/admin/jobs/{id}/retry", |r| {
            r.to(jobs::retry)
        }),
        route(Method::GET, "/books/{id}/status", |r| r.to(books::status)),
        route(Method::GET, "/books/{id}/chunks", |r| {
            r.to(books::chunk_page)
        }),
        route(Method::GET, "/books/{id}/chunks/{ordinal}", |r| {
            r.to(books::chunk)
        }),
        route(Method::GET, "/books/{id}/position", |r| {
            r.to(listening::get_position)
        }),
        route(Method::PUT, "/books/{id}/position", |r| {
            r.to(listening::put_position)
        }),
        route(Method::GET, "/books/{id}/continue", |r| {
            r.to(listening::continue_reading)
        }),
        route(Method::GET, "/books/{id}/chapters", |r| {
            r.to(listening::chapters)
        }),
        route(Method::GET, "/households/{id}/books", |r| {
            r.to(books::household_books)
        }),
        route(Method::GET, "/jobs/{id}", |r| r.to(jobs::get)),
    ]
}

/// Register every route, one resource per path so a wrong method is a JSON 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    let specs = specs();
    for spec in &specs {
        if !paths.contains(&spec.path) {
            paths.push(spec.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path);
        let mut allow = Vec::new();
        for spec in specs.iter().filter(|s| s.path == path) {
            resource = resource.route((spec.make)(web::method(spec.method.clone())));
            allow.push(spec.method.as_str());
        }
        let allow = allow.join(", ");
        cfg.service(resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move { method_not_allowed(&allow) }
        })));
    }
    cfg.default_service(web::to(unknown_route));
}

async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound, "no such route"))
}

/// 405 with the `Allow` header RFC 9110 requires: the methods the route takes.
fn method_not_allowed(allow: &str) -> HttpResponse {
    let error = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("this route accepts only {allow}"),
    );
    let mut response = actix_web::ResponseError::error_response(&error);
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}
