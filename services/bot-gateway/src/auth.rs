//! Who is calling: a signed-in user (Supabase JWT) or the bot (`SERVICE_API_TOKEN`).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use shared_domain::ErrorCode;
use shared_domain::auth::{AuthError, User, bearer};

use crate::error::GatewayError;
use crate::startup::AppState;

fn token(req: &HttpRequest) -> Result<(&str, web::Data<AppState>), GatewayError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| GatewayError::internal(anyhow::anyhow!("no app state")))?;
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("Sign in to start the reader."))?;
    let token = header.to_str().ok().and_then(bearer).ok_or_else(|| {
        unauthorized("Malformed Authorization header; expected `Bearer <token>`.")
    })?;
    Ok((token, state))
}

fn unauthorized(message: &str) -> GatewayError {
    GatewayError::new(ErrorCode::Unauthorized, message)
}

/// A signed-in user.
pub struct SignedIn(pub User);

impl FromRequest for SignedIn {
    type Error = GatewayError;
    type Future = Ready<Result<Self, GatewayError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(token(req).and_then(|(token, state)| {
            state.jwt.verify(token).map(SignedIn).map_err(|e| match e {
                AuthError::Expired => unauthorized("Your session has expired; sign in again."),
                AuthError::Invalid => unauthorized("Invalid sign-in token."),
                AuthError::NoHousehold(_) => GatewayError::new(
                    ErrorCode::Forbidden,
                    "Your account is not part of a household yet.",
                ),
            })
        }))
    }
}

/// The bot, reporting on a call.
pub struct Bot;

impl FromRequest for Bot {
    type Error = GatewayError;
    type Future = Ready<Result<Self, GatewayError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(token(req).and_then(|(token, state)| {
            if state.service_token.matches(token) {
                Ok(Self)
            } else {
                Err(unauthorized("this route needs the service token"))
            }
        }))
    }
}
