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

/// Who may read `/metrics`: anyone, or only a bearer of `METRICS_TOKEN`. Each
/// service registers one as app data.
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess(Option<StaticToken>);

impl MetricsAccess {
    pub fn new(token: Option<&SecretString>) -> Self {
        Self(token.map(StaticToken::new))
    }

    /// Whether a token is required.
    pub fn is_guarded(&self) -> bool {
        self.0.is_some()
    }

    fn allows(&self, req: &HttpRequest) -> bool {
        let Some(token) = &self.0 else {
            return true;
        };
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .is_some_and(|t| token.matches(t))
    }
}

/// `GET /metrics` in the Prometheus text format; with `METRICS_TOKEN` set, only
/// for `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).
pub async fn metrics_endpoint(req: HttpRequest) -> HttpResponse {
    metrics_response(&req, String::new)
}

/// As [`metrics_endpoint`], with `extra` (lines in the text format that are not
/// in the process-wide registry) appended once the caller may see them.
pub fn metrics_response(req: &HttpRequest, extra: impl FnOnce() -> String) -> HttpResponse {
    let allowed = req
        .app_data::<web::Data<MetricsAccess>>()
        .is_none_or(|access| access.allows(req));
    if !allowed {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .json(serde_json::json!({
                "error": "unauthorized",
                "message": "/metrics needs Authorization: Bearer <METRICS_TOKEN>",
            }));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics::render() + &extra())
}
