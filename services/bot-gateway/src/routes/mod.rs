//! Every route of the gateway, assembled in one place that `Application` and the tests share.

mod health;

use actix_web::{HttpResponse, web};
use shared_domain::ErrorCode;

use crate::error::GatewayError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .default_service(web::to(unknown_route));
}

async fn unknown_route() -> Result<HttpResponse, GatewayError> {
    Err(GatewayError::new(ErrorCode::NotFound, "no such route"))
}
