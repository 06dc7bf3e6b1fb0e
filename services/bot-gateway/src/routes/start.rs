//! `POST /api/start`: start a bot session for the signed-in user.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value};
use shared_domain::ErrorCode;

use crate::auth::SignedIn;
use crate::calls::{Begin, CallState, CallStatus};
use crate::config::Transport;
use crate::error::{GatewayError, redis_down};
use crate::startup::AppState;
use crate::upstream::UpstreamError;

/// The largest browser body accepted (Pipecat's own limit on `body`).
pub const MAX_START_BODY: usize = 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
struct StartRequest {
    transport: Option<String>,
    body: Option<Value>,
}

pub async fn start(
    user: SignedIn,
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, GatewayError> {
    let user = user.0;
    let raw = super::read_body(&req, payload, MAX_START_BODY).await?;
    let request: StartRequest = if raw.iter().all(u8::is_ascii_whitespace) {
        StartRequest::default()
    } else {
        let value: Value = serde_json::from_slice(&raw).map_err(|e| {
            GatewayError::new(
                ErrorCode::BadRequest,
                format!("The request body is not valid JSON: {e}"),
            )
        })?;
        // An object only: serde would also take `[transport, body]` as the struct.
        if !value.is_object() {
            return Err(GatewayError::new(
                ErrorCode::BadRequest,
                "The request body must be a JSON object: {\"transport\"?, \"body\"?}",
            ));
        }
        serde_json::from_value(value).map_err(|e| {
            GatewayError::new(
                ErrorCode::BadRequest,
                format!("The request body is not a start request: {e}"),
            )
        })?
    };
    let transport = match request.transport.as_deref() {
        None => state.config.upstream.default_transport,
        Some(t) => Transport::parse(t).ok_or_else(|| {
            GatewayError::new(
                ErrorCode::BadRequest,
                "transport must be \"daily\" or \"webrtc\"",
            )
        })?,
    };
    let body = match request.body {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(GatewayError::new(
                ErrorCode::BadRequest,
                "body must be a JSON object",
            ));
        }
    };
    // Only what the bot may take from the browser; the identity is the server's.
    let mut body = state
        .config
        .body_policy
        .filter(body)
        .map_err(|e| GatewayError::new(ErrorCode::BadRequest, e))?;
    let started_at = chrono::Utc::now().to_rfc3339();
    body.insert("user_id".into(), Value::String(user.id.clone()));
    body.insert(
        "household_id".into(),
        Value::String(user.household.to_string()),
    );
    body.insert(
        "session_started_at".into(),
        Value::String(started_at.clone()),
    );

    let lock_token = format!("starting:{}", uuid::Uuid::new_v4());
    let lock_ttl = state.config.upstream.total_timeout + Duration::from_secs(30);
    match state
        .calls
        .begin_start(&user.id, &lock_token, lock_ttl)
        .await
        .map_err(redis_down)?
    {
        Begin::Locked => {}
        Begin::RateLimited(retry_after) => {
            metrics::counter!("bot_starts_total", "outcome" => "rate_limited").increment(1);
            return Err(GatewayError::new(
                ErrorCode::RateLimited,
                "Too many starts; wait a moment and try again.",
            )
            .retry_after(retry_after));
        }
        Begin::CallActive => {
            metrics::counter!("bot_starts_total", "outcome" => "call_active").increment(1);
            return Err(GatewayError::new(
                ErrorCode::CallActive,
                "You already have a reading session running. End it before starting another.",
            ));
        }
    }

    let start_body = state.upstream.start_body(transport, body);
    let started = match state.upstream.start(transport, &start_body).await {
        Ok(started) => started,
        Err(e) => {
            release_after_failure(&state, &user.id, &lock_token).await;
            metrics::counter!("bot_starts_total", "outcome" => outcome(&e)).increment(1);
            return Err(GatewayError::from(e));
        }
    };

    let call = CallState {
        session_id: started.session_id.clone(),
        user_id: user.id.clone(),
        household_id: user.household.to_string(),
        transport: transport.as_str().to_owned(),
        status: CallStatus::Active,
        started_at,
        ended_at: None,
    };
    match state.calls.finish_start(&call, &lock_token).await {
        Ok(true) => {}
        Ok(false) => {
            // A session id we already track would hand one user's call to another.
            release_after_failure(&state, &user.id, &lock_token).await;
            return Err(GatewayError::from(UpstreamError::Bad(format!(
                "session id {} is already in use",
                call.session_id
            ))));
        }
        Err(e) => {
            // The bot runs but we cannot track it: stop it rather than leave it unowned.
            tracing::error!(session_id = %call.session_id, error = %e, "could not record a started call; stopping it");
            if let Err(stop) = state.upstream.stop(&call.session_id).await {
                tracing::error!(session_id = %call.session_id, error = %stop, "could not stop the untracked bot; it ends when its session times out");
            }
            release_after_failure(&state, &user.id, &lock_token).await;
            return Err(redis_down(e));
        }
    }
    metrics::counter!("bot_starts_total", "outcome" => "started").increment(1);
    tracing::info!(session_id = %call.session_id, user_id = %call.user_id, transport = %call.transport, "bot session started");
    Ok(HttpResponse::Ok().json(started.payload))
}

fn outcome(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::AtCapacity { .. } => "at_capacity",
        UpstreamError::Unavailable { .. } => "bot_unavailable",
        UpstreamError::Misconfigured { .. } => "upstream_misconfigured",
        UpstreamError::TooLarge => "too_large",
        UpstreamError::Timeout(_) | UpstreamError::Unreachable(_) => "upstream_timeout",
        UpstreamError::Bad(_) | UpstreamError::NoSession => "upstream_error",
    }
}

/// Free the user's call lock after a start that failed; a lock that cannot be
/// freed expires on its own.
async fn release_after_failure(state: &AppState, user: &str, lock_token: &str) {
    if let Err(e) = state.calls.release(user, lock_token).await {
        tracing::error!(error = %e, "could not release a call lock after a failed start; it expires on its own");
    }
}
