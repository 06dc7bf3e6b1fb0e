//! Every route of the API, assembled in one place that `Application` and the tests share.

mod health;

use actix_web::web;
use shared_domain::ErrorCode;

use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .default_service(web::to(unknown_route));
}

async fn unknown_route() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound, "no such route"))
}
