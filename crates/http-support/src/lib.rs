//! actix-web pieces shared by the API and the bot gateway. `shared-domain` knows
//! nothing of HTTP frameworks; this crate is where the two HTTP services meet.

pub mod body;
pub mod error;
pub mod metrics;
pub mod server;

pub use error::ErrorResponse;
pub use server::{BoundServer, serve};

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use shared_domain::auth::{StaticToken, bearer};

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

/// Who may read `/metrics`: with `METRICS_TOKEN`, only its bearer; without,
/// only a request that did not come through a proxy. A platform's edge (Railway's
/// public domain, a load balancer) always adds a forwarding header, and a
/// scraper on the private network or the same host adds none, so `/metrics` is
/// never served to the public internet by default. Each service registers one as
/// app data.
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess(Option<StaticToken>);

/// Headers a proxy adds on the way in.
const FORWARDING_HEADERS: &[&str] = &["forwarded", "x-forwarded-for", "x-real-ip"];

/// Why a request may not read `/metrics`.
enum Refusal {
    /// A token is set and the request does not carry it.
    NoToken,
    /// No token is set and the request came through a proxy.
    Proxied,
}

impl MetricsAccess {
    pub fn new(token: Option<&SecretString>) -> Self {
        Self(token.map(StaticToken::new))
    }

    /// [`MetricsAccess::new`], warning at start when no token guards `/metrics`.
    pub fn at_start(token: Option<&SecretString>) -> Self {
        let access = Self::new(token);
        if !access.is_guarded() {
            tracing::warn!(
                "METRICS_TOKEN is not set: /metrics answers only requests that come without a proxy's forwarding header (the private network), not those through a public domain"
            );
        }
        access
    }

    /// Whether a token is required.
    pub fn is_guarded(&self) -> bool {
        self.0.is_some()
    }

    fn check(&self, req: &HttpRequest) -> Result<(), Refusal> {
        let Some(token) = &self.0 else {
            let proxied = FORWARDING_HEADERS
                .iter()
                .any(|h| req.headers().contains_key(*h));
            return if proxied {
                Err(Refusal::Proxied)
            } else {
                Ok(())
            };
        };
        let carried = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .is_some_and(|t| token.matches(t));
        if carried {
            Ok(())
        } else {
            Err(Refusal::NoToken)
        }
    }
}

/// `GET /metrics` in the Prometheus text format: with `METRICS_TOKEN` set, only
/// for `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise); without it, only
/// for a request that did not come through a proxy (403 otherwise).
pub async fn metrics_endpoint(req: HttpRequest) -> HttpResponse {
    metrics_response(&req, String::new)
}

/// As [`metrics_endpoint`], with `extra` (lines in the text format that are not
/// in the process-wide registry) appended once the caller may see them.
pub fn metrics_response(req: &HttpRequest, extra: impl FnOnce() -> String) -> HttpResponse {
    let checked = req
        .app_data::<web::Data<MetricsAccess>>()
        .map_or(Ok(()), |access| access.check(req));
    match checked {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(metrics::render() + &extra()),
        Err(Refusal::NoToken) => HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .json(serde_json::json!({
                "error": "unauthorized",
                "message": "/metrics needs Authorization: Bearer <METRICS_TOKEN>",
            })),
        Err(Refusal::Proxied) => HttpResponse::Forbidden().json(serde_json::json!({
            "error": "forbidden",
            "message": "/metrics is served only to the private network (a request through a proxy carries a forwarding header); set METRICS_TOKEN to scrape it from anywhere with that bearer token",
        })),
    }
}

/// Every error a client can cause answers in the documented JSON shape. Most
/// errors are ours and already are; what the framework and its middleware make
/// on their own (a CORS preflight refused as `400 text/plain`, an extractor's
/// plain-text refusal) is rewritten here to `{"error", "message"}` (plus `info`,
/// which Pipecat's client-js shows, when `with_info`), keeping the status and
/// headers. A 5xx body is never passed on: it could carry internals.
async fn json_errors_inner(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
    with_info: bool,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return Ok(response);
    }
    let code = shared_domain::ErrorCode::ALL
        .iter()
        .find(|c| c.http_status() == status.as_u16())
        .map_or(
            if status.is_server_error() {
                shared_domain::ErrorCode::Internal.as_str()
            } else {
                "bad_request"
            },
            |c| c.as_str(),
        );
    let (req, res) = response.into_parts();
    // Keep every header but the body's own (CORS, Allow, Retry-After, …).
    let headers: Vec<(header::HeaderName, header::HeaderValue)> = res
        .headers()
        .iter()
        .filter(|(name, _)| **name != header::CONTENT_TYPE && **name != header::CONTENT_LENGTH)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let text = actix_web::body::to_bytes_limited(res.into_body(), 2048)
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && !status.is_server_error());
    let message = text.unwrap_or_else(|| {
        status
            .canonical_reason()
            .unwrap_or("The request failed")
            .to_owned()
    });
    let mut body = serde_json::json!({"error": code, "message": message});
    if with_info {
        body["info"] = serde_json::Value::String(message);
    }
    let mut rebuilt = HttpResponse::build(status);
    for (name, value) in headers {
        rebuilt.append_header((name, value));
    }
    Ok(actix_web::dev::ServiceResponse::new(
        req,
        rebuilt.json(body),
    ))
}

/// [`json_errors_inner`] for the api: `{"error", "message"}`.
pub async fn json_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    json_errors_inner(req, next, false).await
}

/// [`json_errors_inner`] for the gateway: `{"error", "message", "info"}`.
pub async fn json_errors_with_info(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    json_errors_inner(req, next, true).await
}

/// HEAD is GET without the body (RFC 9110 §9.3.2), a method every general-purpose
/// server must take (§9.1); uptime monitors often check with it. A HEAD request
/// is served as the GET: the HTTP/1 encoder, which marked the request HEAD when
/// it read it, sends the GET's status and headers (`Content-Length` included)
/// and leaves the body out. Wrap it inside CORS and outside the routes.
pub async fn head_as_get(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
