//! Every route of the API. Each handler declares its method and path once, in its
//! actix-web attribute (`#[get("/books/{id}/status")]`, by its bare name: utoipa
//! reads it only so), under its OpenAPI annotation. Each resource module's
//! `configure` registers its handlers, and utoipa-actix-web builds the OpenAPI
//! document from those same registrations. The document is then the table of what
//! is served: [`Methods`] reads from it the methods a path takes, so a request
//! with another method is a JSON 405 with `Allow`, and one on no path a JSON 404.
//! Register handlers only with `service(...)`: utoipa-actix-web leaves routes
//! added with `route(...)` out of the document, so they would answer 405.

pub(crate) mod books;
pub(crate) mod console;
pub(crate) mod health;
pub(crate) mod jobs;
pub(crate) mod listening;
pub(crate) mod meta;
pub(crate) mod upload;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use shared_domain::ErrorCode;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::PathItem;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;

pub use books::ReadingProgress;
pub use books::{BookList, BookStatusResponse, ChunkPage, ChunkResponse, ReprocessResponse};
pub use jobs::{JobList, JobResponse};
pub use listening::{
    ChapterList, ChapterResponse, ContinueResponse, PositionRequest, PositionResponse,
    PositionSaved, ReadingStart,
};
pub use upload::{UploadForm, UploadResponse};

/// Register every route, resource module by resource module.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(health::configure)
        .configure(meta::configure)
        .configure(console::configure)
        .configure(upload::configure)
        .configure(books::configure)
        .configure(jobs::configure)
        .configure(listening::configure);
}

/// For each documented path, the methods it takes, as an `Allow` header value.
/// Concrete paths come before templated ones, as OpenAPI resolves them: `DELETE
/// /admin/books/upload` is a 405 from `/admin/books/upload`, not a delete of a
/// book whose id is "upload".
#[derive(Debug)]
pub struct Methods(Vec<(ResourceDef, Vec<String>, HeaderValue)>);

impl Methods {
    pub fn from_document(document: &OpenApi) -> Self {
        let mut paths: Vec<(ResourceDef, Vec<String>, HeaderValue)> = document
            .paths
            .paths
            .iter()
            .filter_map(|(path, item)| {
                let methods = methods_of(item);
                let allow = HeaderValue::from_str(&methods.join(", ")).ok()?;
                Some((ResourceDef::new(path.as_str()), methods, allow))
            })
            .collect();
        paths.sort_by_key(|(def, _, _)| def.pattern().is_some_and(|p| p.contains('{')));
        Self(paths)
    }

    /// `None` when no documented path matches; else whether `method` is one it
    /// takes, with the `Allow` value.
    fn check(&self, path: &str, method: &str) -> Option<(bool, &HeaderValue)> {
        self.0
            .iter()
            .find(|(def, _, _)| def.is_match(path))
            .map(|(_, methods, allow)| (methods.iter().any(|m| m == method), allow))
    }
}

fn methods_of(item: &PathItem) -> Vec<String> {
    let named = [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
        ("HEAD", &item.head),
        ("OPTIONS", &item.options),
        ("TRACE", &item.trace),
        ("QUERY", &item.query),
    ]
    .into_iter()
    .filter_map(|(name, operation)| operation.as_ref().map(|_| name.to_owned()));
    let others = item
        .additional_operations
        .keys()
        .map(|name| name.to_ascii_uppercase());
    let mut methods: Vec<String> = named.chain(others).collect();
    // HEAD is served wherever GET is (`http_support::head_as_get`).
    if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
        methods.insert(1, "HEAD".to_owned());
    }
    methods
}

/// Middleware, inside CORS (a preflight never reaches it): a request whose path
/// is documented but not for its method is answered 405 with `Allow` here.
pub async fn allowed_methods(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refused = req
        .app_data::<web::Data<Methods>>()
        .and_then(|methods| methods.check(req.match_info().as_str(), req.method().as_str()))
        .and_then(|(allowed, allow)| (!allowed).then(|| allow.clone()));
    match refused {
        None => Ok(next.call(req).await?.map_into_boxed_body()),
        Some(allow) => Ok(req.into_response(method_not_allowed(allow))),
    }
}

/// What no route answers.
pub async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound, "no such route"))
}

/// 405 with the `Allow` header RFC 9110 requires: the methods the route takes.
fn method_not_allowed(allow: HeaderValue) -> HttpResponse {
    let error = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "this route accepts only {}",
            allow.to_str().unwrap_or_default()
        ),
    );
    let mut response = error.error_response();
    response.headers_mut().insert(ALLOW, allow);
    response
}
