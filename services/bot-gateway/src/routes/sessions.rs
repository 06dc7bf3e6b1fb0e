//! A user's session: its state, its events, the WebRTC offer proxy, and ending it.
//! A session is visible only to the user who started it; to anyone else it does
//! not exist (404).

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use shared_domain::ErrorCode;
use shared_domain::db::positions;
use shared_domain::domain::{BookId, HouseholdId};
use shared_domain::position_events::PositionEvent;

use crate::auth::{Bot, SignedIn};
use crate::calls::{CallState, CallStatus};
use crate::error::{GatewayError, redis_down};
use crate::startup::AppState;

/// Largest event the bot may report.
const MAX_EVENT_BYTES: usize = 8 * 1024;
/// Largest SDP offer or ICE candidate batch forwarded.
const MAX_OFFER_BYTES: usize = 256 * 1024;

async fn load(state: &AppState, sid: &str) -> Result<CallState, GatewayError> {
    let not_found = || GatewayError::new(ErrorCode::NotFound, "No such reading session.");
    if !positions::valid_session_id(sid) {
        return Err(not_found());
    }
    state
        .calls
        .get(sid)
        .await
        .map_err(redis_down)?
        .ok_or_else(not_found)
}

async fn owned(state: &AppState, sid: &str, user: &SignedIn) -> Result<CallState, GatewayError> {
    let call = load(state, sid).await?;
    if call.user_id != user.0.id {
        return Err(GatewayError::new(
            ErrorCode::NotFound,
            "No such reading session.",
        ));
    }
    Ok(call)
}

pub async fn get(
    user: SignedIn,
    state: web::Data<AppState>,
    sid: web::Path<String>,
) -> Result<HttpResponse, GatewayError> {
    let call = owned(&state, &sid, &user).await?;
    Ok(HttpResponse::Ok().json(json!({
        "sessionId": call.session_id,
        "status": call.status,
        "transport": call.transport,
        "householdId": call.household_id,
        "startedAt": call.started_at,
        "endedAt": call.ended_at,
    })))
}

pub async fn events(
    user: SignedIn,
    state: web::Data<AppState>,
    sid: web::Path<String>,
) -> Result<HttpResponse, GatewayError> {
    let call = owned(&state, &sid, &user).await?;
    let events = state
        .calls
        .events(&call.session_id)
        .await
        .map_err(redis_down)?;
    Ok(HttpResponse::Ok().json(json!({"sessionId": call.session_id, "events": events})))
}

/// End the session: stop the bot on Pipecat Cloud (when a private key is set), mark
/// it ended, free the user for another call. Ending an ended session is fine.
pub async fn end(
    user: SignedIn,
    state: web::Data<AppState>,
    sid: web::Path<String>,
) -> Result<HttpResponse, GatewayError> {
    let call = owned(&state, &sid, &user).await?;
    if call.status != CallStatus::Ended {
        state
            .upstream
            .stop(&call.session_id)
            .await
            .map_err(GatewayError::from)?;
        state.calls.end(&call).await.map_err(redis_down)?;
        tracing::info!(session_id = %call.session_id, "bot session ended by its user");
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST|PATCH /api/sessions/{sid}/api/offer`: the SmallWebRTC transport's offer and
/// ICE candidates, forwarded to the session's bot with the server's credentials.
pub async fn offer(
    user: SignedIn,
    state: web::Data<AppState>,
    sid: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, GatewayError> {
    let call = owned(&state, &sid, &user).await?;
    let body = super::read_body(&req, payload, MAX_OFFER_BYTES).await?;
    if call.status == CallStatus::Ended {
        return Err(GatewayError::new(
            ErrorCode::NotFound,
            "That reading session has ended.",
        ));
    }
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(GatewayError::internal)?;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, content_type, answer) = state
        .upstream
        .offer(&call.session_id, method, content_type, body)
        .await
        .map_err(GatewayError::from)?;
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status).map_err(GatewayError::internal)?,
    );
    if let Some(ct) = content_type {
        response.insert_header((CONTENT_TYPE, ct));
    }
    Ok(response.body(answer))
}

/// A `position` event as the workers will store it: the book, chunk and offset
/// from the bot, the household from the call (never from the bot's body), and
/// `seq` from the bot or, when it sends none, the time it arrived in milliseconds.
fn position_of(event: &serde_json::Value, call: &CallState) -> Result<PositionEvent, GatewayError> {
    let bad = |what: &str| {
        GatewayError::new(
            ErrorCode::BadRequest,
            format!("a position event needs {what}"),
        )
    };
    let number = |name: &str| -> Result<Option<i64>, GatewayError> {
        match event.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .filter(|n| *n >= 0)
                .map(Some)
                .ok_or_else(|| bad(&format!("\"{name}\" as a whole number, 0 or more"))),
        }
    };
    let book_id: BookId = event
        .get("book_id")
        .and_then(|b| b.as_str())
        .and_then(|b| b.parse().ok())
        .ok_or_else(|| bad("\"book_id\", the book's id"))?;
    let small = |n: i64, name: &str| {
        i32::try_from(n).map_err(|_| bad(&format!("\"{name}\" below 2147483648")))
    };
    let ordinal = small(
        number("ordinal")?.ok_or_else(|| bad("\"ordinal\", the chunk's ordinal"))?,
        "ordinal",
    )?;
    let offset = small(number("offset")?.unwrap_or(0), "offset")?;
    let seq = match number("seq")? {
        Some(seq) => seq,
        None => chrono::Utc::now().timestamp_millis(),
    };
    let listener = match event.get("listener") {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(l) => l
            .as_str()
            .filter(|l| positions::valid_listener(l))
            .ok_or_else(|| bad("\"listener\" of up to 64 letters, digits, '.', '_' or '-'"))?
            .to_owned(),
    };
    let household_id: HouseholdId = call.household_id.parse().map_err(|_| {
        GatewayError::internal(anyhow::anyhow!("the call's household is not a uuid"))
    })?;
    Ok(PositionEvent {
        book_id,
        household_id,
        listener,
        ordinal,
        offset,
        seq,
        session_id: call.session_id.clone(),
        reported_at: chrono::Utc::now(),
    })
}

/// `POST /internal/sessions/{sid}/events`: the bot reports where it is, e.g.
/// `{"type": "chunk_reached", "book_id": "…", "ordinal": 12}`; `{"type": "ended"}`
/// ends the call. `{"type": "position", "book_id", "ordinal", "offset"?, "seq"?,
/// "listener"?}` is also stored durably: it goes onto the positions stream, and a
/// worker saves it in Postgres (latest `seq` wins) without the call waiting.
pub async fn report(
    _bot: Bot,
    state: web::Data<AppState>,
    sid: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, GatewayError> {
    let body = super::read_body(&req, payload, MAX_EVENT_BYTES).await?;
    let event: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        GatewayError::new(
            ErrorCode::BadRequest,
            format!("the event is not valid JSON: {e}"),
        )
    })?;
    let kind = event
        .get("type")
        .and_then(|t| t.as_str())
        .filter(|t| {
            (1..=64).contains(&t.len())
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
        .ok_or_else(|| {
            GatewayError::new(
                ErrorCode::BadRequest,
                "an event needs a \"type\" of up to 64 letters, digits, '_' or '.'",
            )
        })?
        .to_owned();
    let call = load(&state, &sid).await?;
    let position = if kind == "position" {
        Some(position_of(&event, &call)?)
    } else {
        None
    };
    let id = state
        .calls
        .append_event(&call, &kind, &event, position.as_ref())
        .await
        .map_err(redis_down)?;
    if kind == "ended" && call.status != CallStatus::Ended {
        state.calls.end(&call).await.map_err(redis_down)?;
    }
    Ok(HttpResponse::Accepted().json(json!({"id": id})))
}
