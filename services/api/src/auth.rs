//! Who is calling, as extractor types: a handler that takes [`Admin`] cannot run
//! without the admin token, and one that takes [`Caller`] must say which household
//! it serves before it reads anything.
//!
//! 401 means "we do not know who you are" (no, malformed, expired or forged
//! credentials); 403 means "we know, and you may not" (a user reading another
//! household, or a non-admin on an admin route). Tokens are never logged.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use shared_domain::ErrorCode;
use shared_domain::auth::{AuthError, User, bearer};
use shared_domain::domain::HouseholdId;

use crate::error::ApiError;
use crate::startup::AppState;

/// An authenticated caller of a read route.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    /// The bot, with `SERVICE_API_TOKEN`: reads any household.
    Service,
    User(User),
}

impl Caller {
    /// Users may read only their own household.
    pub fn authorize(&self, household: HouseholdId) -> Result<(), ApiError> {
        match self {
            Self::User(user) if user.household != household => Err(ApiError::new(
                ErrorCode::Forbidden,
                "this belongs to another household",
            )),
            _ => Ok(()),
        }
    }

    fn identify(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization: Bearer token"))?;
        let token = header.to_str().ok().and_then(bearer).ok_or_else(|| {
            unauthorized("malformed Authorization header; expected `Bearer <token>`")
        })?;
        if state.auth.admin.matches(token) {
            return Ok(Self::Admin);
        }
        if state.auth.service.matches(token) {
            return Ok(Self::Service);
        }
        state
            .auth
            .jwt
            .verify(token)
            .map(Self::User)
            .map_err(|e| match e {
                AuthError::Expired => unauthorized("the token has expired"),
                AuthError::Invalid => unauthorized("invalid token"),
                AuthError::NoHousehold(claim) => ApiError::new(
                    ErrorCode::Forbidden,
                    format!("the token carries no household ({claim} claim)"),
                ),
            })
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::identify(req))
    }
}

/// The admin, with `ADMIN_API_TOKEN`.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Caller::identify(req).and_then(|caller| match caller {
            Caller::Admin => Ok(Self),
            _ => Err(ApiError::new(
                ErrorCode::Forbidden,
                "this route needs the admin token",
            )),
        }))
    }
}
