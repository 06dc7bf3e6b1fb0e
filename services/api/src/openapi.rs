//! The OpenAPI document: its frame (info, security schemes, shared schemas) here,
//! its paths collected by utoipa-actix-web from the same registrations that serve
//! them ([`routes::configure`]), so a route cannot be served undocumented.

use std::sync::LazyLock;

use actix_web::App;
use actix_web::http::StatusCode;
use utoipa::openapi::RefOr;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "readme API", description = "Upload PDF and EPUB books; read their speakable chunks, chapters and reading positions."),
    modifiers(&Security),
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("ADMIN_API_TOKEN"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("METRICS_TOKEN, when the service sets one"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "ADMIN_API_TOKEN, SERVICE_API_TOKEN, or a user JWT (own household only)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document, built once: the routes registered on an app that never serves.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let mut document = App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(routes::configure)
            .split_for_parts()
            .1;
        describe_responses(&mut document);
        document
    });
    &DOCUMENT
}

/// utoipa 6 leaves a response's description out when its annotation gives none
/// (OpenAPI 3.2 made it optional), but this document is OpenAPI 3.1, where every
/// response needs one: those get their status's reason phrase ("Not Found").
fn describe_responses(document: &mut utoipa::openapi::OpenApi) {
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        let others = item.additional_operations.values_mut();
        for operation in operations
            .into_iter()
            .flatten()
            .chain(std::iter::once(&mut item.query).flatten())
            .chain(others)
        {
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|code| StatusCode::from_u16(code).ok())
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Response")
                        .to_owned();
                }
            }
        }
    }
}
