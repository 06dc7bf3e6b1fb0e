//! The OpenAPI document, generated from the handlers' annotations. The tests check
//! that it lists exactly the routes of `routes::specs()`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "readme API", description = "Upload PDF and EPUB books; read their speakable chunks, chapters and reading positions."),
    paths(
        routes::health::live, routes::health::ready, routes::meta::metrics, routes::meta::openapi,
        routes::upload::upload, routes::books::delete, routes::books::reprocess,
        routes::jobs::list, routes::jobs::retry,
        routes::books::status, routes::books::chunk_page, routes::books::chunk, routes::books::household_books,
        routes::listening::get_position, routes::listening::put_position,
        routes::listening::continue_reading, routes::listening::chapters,
        routes::jobs::get,
        routes::console::redirect, routes::console::index, routes::console::script, routes::console::style,
    ),
    components(schemas(
        ErrorBody, routes::UploadResponse, routes::UploadForm, routes::BookStatusResponse, routes::BookList,
        routes::ChunkPage, routes::ChunkResponse, routes::ReprocessResponse, routes::JobResponse, routes::JobList,
        routes::ReadingProgress, routes::PositionRequest, routes::PositionResponse, routes::PositionSaved,
        routes::ReadingStart, routes::ContinueResponse, routes::ChapterResponse, routes::ChapterList,
    )),
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

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
