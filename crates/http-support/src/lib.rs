//! actix-web pieces shared by the API and the bot gateway. `shared-domain` knows
//! nothing of HTTP frameworks; this crate is where the two HTTP services meet.

pub mod metrics;

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
