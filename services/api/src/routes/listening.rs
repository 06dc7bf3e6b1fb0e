//! Listening: where a household stopped in a book (saved by the bot or a user of
//! the household, latest save wins), "continue reading" from there in one call,
//! and the book's chapters for "go to chapter three".

use actix_web::{HttpResponse, web};
use actix_web::{get, put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared_domain::ErrorCode;
use shared_domain::db::positions::{self, Position, Save, SaveError, Saved};
use shared_domain::db::{books, chunks};
use shared_domain::domain::{BookId, ChunkKind, HouseholdId};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::books::{ChunkResponse, readable_book, requested_kinds};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, Refused};
use crate::pagination;
use crate::startup::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// The listening routes: the household's place in a book, where to continue, the chapters.
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_position)
        .service(put_position)
        .service(continue_reading)
        .service(chapters);
}

/// A saved reading position.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionResponse {
    pub book_id: Uuid,
    pub household_id: Uuid,
    /// The listener whose place this is; null for the household's own.
    pub listener: Option<String>,
    /// The chunk, by ordinal.
    pub ordinal: i32,
    /// Characters (Unicode code points) into the chunk's text.
    pub offset: i32,
    /// The saving client's sequence number or clock (milliseconds); a save with a
    /// lower or equal `seq` does not replace this one.
    pub seq: i64,
    /// The bot session that saved it, when one did.
    pub session_id: Option<String>,
    pub saved_at: DateTime<Utc>,
}

impl From<Position> for PositionResponse {
    fn from(p: Position) -> Self {
        Self {
            book_id: p.book_id.0,
            household_id: p.household_id.0,
            listener: p.listener,
            ordinal: p.ordinal,
            offset: p.offset,
            seq: p.seq,
            session_id: p.session_id,
            saved_at: p.saved_at,
        }
    }
}

/// A save: where the listener is now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionRequest {
    /// The chunk, by ordinal (0 to chunk_count − 1).
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 0)]
    pub ordinal: i32,
    /// Characters into the chunk's text, 0 to its `char_count` (default 0).
    #[serde(default, deserialize_with = "integral")]
    #[schema(minimum = 0)]
    pub offset: i32,
    /// The client's own sequence number or clock in milliseconds, 0 or more: the
    /// save with the greatest `seq` wins, whatever order saves arrive in.
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 0)]
    pub seq: i64,
    /// A listener within the household (letters, digits, `.`, `_`, `-`; up to 64);
    /// omit for the household's own place.
    #[schema(pattern = r"^[A-Za-z0-9._-]{0,64}$")]
    pub listener: Option<String>,
    /// The household the caller saves for: required with `SERVICE_API_TOKEN`;
    /// a user's token already names it.
    pub household_id: Option<Uuid>,
    /// The bot session saving it.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    pub session_id: Option<String>,
}

/// A whole number, written as JSON writes it: `12` or `12.0` (JavaScript and
/// JSON Schema make no difference); `12.5` and numbers out of range are refused.
fn integral<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15)
            .map(|f| f as i64)
    });
    whole
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| D::Error::custom(format!("expected a whole number in range, got {number}")))
}

/// The answer to a save: the stored position, and whether it is this save.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionSaved {
    /// False when a save with this `seq` or a later one was already stored: it
    /// stays, and `position` is that one.
    pub applied: bool,
    pub position: PositionResponse,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListenerQuery {
    /// A listener within the household; omit for the household's own place.
    #[param(pattern = r"^[A-Za-z0-9._-]{0,64}$")]
    pub listener: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContinueQuery {
    /// A listener within the household; omit for the household's own place.
    #[param(pattern = r"^[A-Za-z0-9._-]{0,64}$")]
    pub listener: Option<String>,
    /// Chunks to return, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Which kinds of chunk follow the saved one, as for `/chunks` (default `body`).
    #[param(
        pattern = r"^\s*(all|(body|front_matter|contents|notes|index|back_matter|code|table|formula)(\s*,\s*(body|front_matter|contents|notes|index|back_matter|code|table|formula))*)\s*$"
    )]
    pub kind: Option<String>,
}

/// Where reading starts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingStart {
    pub ordinal: i32,
    /// Characters into that chunk's text: start speaking there.
    pub offset: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContinueResponse {
    pub book_id: Uuid,
    /// The saved position, or null when none is saved yet.
    pub position: Option<PositionResponse>,
    /// Where to start: the saved position, or the first chunk of the book's body.
    pub start: ReadingStart,
    /// The chunk at `start` and those after it (of the requested kinds).
    pub chunks: Vec<ChunkResponse>,
    /// Pass as `after` to `/books/{id}/chunks` for more; null at the end.
    pub next_after: Option<i32>,
    pub chunk_count: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChapterResponse {
    /// 1 for the first chapter: "chapter three" is number 3.
    pub number: usize,
    pub title: String,
    /// The ordinal of its first body chunk.
    pub ordinal: i32,
    /// The page that chunk starts on.
    pub page: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChapterList {
    pub book_id: Uuid,
    /// In reading order; empty when the book has no chapters.
    pub chapters: Vec<ChapterResponse>,
}

fn listener_of(listener: Option<&str>) -> Result<String, ApiError> {
    let listener = listener.unwrap_or_default();
    if positions::valid_listener(listener) {
        Ok(listener.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "listener must be up to {} letters, digits, '.', '_' or '-'",
            positions::MAX_LISTENER_LEN
        )))
    }
}

/// A book's saved reading position.
#[utoipa::path(tag = "listening", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Book id"), ListenerQuery),
    responses(
        (status = 200, body = PositionResponse),
        (status = 404, description = "No such book, or no position saved", body = ErrorBody),
        Refused,
    ))]
#[get("/books/{id}/position")]
#[tracing::instrument(skip_all, fields(book_id = %id))]
pub async fn get_position(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    query: web::Query<ListenerQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let listener = listener_of(query.listener.as_deref())?;
    let client = state.db.get().await?;
    readable_book(&client, &caller, id).await?;
    let position = positions::get(&client, id, &listener)
        .await?
        .ok_or_else(|| ApiError::not_found("reading position"))?;
    Ok(HttpResponse::Ok().json(PositionResponse::from(position)))
}

/// Save where a listener is in a book. Idempotent and cheap: save after every
/// sentence if you like. The save with the greatest `seq` wins.
#[utoipa::path(tag = "listening", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Book id")),
    request_body = PositionRequest,
    responses(
        (status = 200, body = PositionSaved),
        (status = 400, description = "Malformed, or past the end of the book or its chunk", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "No such book", body = ErrorBody),
        (status = 409, description = "The book has no chunks yet", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
#[put("/books/{id}/position")]
#[tracing::instrument(skip_all, fields(book_id = %id))]
pub async fn put_position(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: web::Json<PositionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    if body.ordinal < 0 || body.offset < 0 || body.seq < 0 {
        return Err(ApiError::bad_request(
            "ordinal, offset and seq must be 0 or more",
        ));
    }
    let listener = listener_of(body.listener.as_deref())?;
    if let Some(sid) = &body.session_id
        && !positions::valid_session_id(sid)
    {
        return Err(ApiError::bad_request(
            "session_id must be 1 to 128 letters, digits, '-' or '_'",
        ));
    }
    let named = body.household_id.map(HouseholdId);
    let household = match (&caller, named) {
        (Caller::User(user), Some(h)) if h != user.household => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "this belongs to another household",
            ));
        }
        (Caller::User(user), _) => user.household,
        (_, Some(h)) => h,
        (Caller::Service, None) => {
            return Err(ApiError::bad_request(
                "household_id is required with the service token",
            ));
        }
        (Caller::Admin, None) => {
            let client = state.db.get().await?;
            books::get(&client, id)
                .await?
                .ok_or_else(|| ApiError::not_found("book"))?
                .household_id
        }
    };
    let client = state.db.get().await?;
    let saved = positions::save(
        &client,
        &Save {
            book: id,
            household,
            listener,
            ordinal: body.ordinal,
            offset: body.offset,
            seq: body.seq,
            session_id: body.session_id,
        },
    )
    .await
    .map_err(save_error)?;
    let (applied, position) = match saved {
        Saved::Applied(p) => (true, p),
        Saved::Kept(p) => (false, p),
    };
    Ok(HttpResponse::Ok().json(PositionSaved {
        applied,
        position: position.into(),
    }))
}

fn save_error(e: SaveError) -> ApiError {
    match e {
        SaveError::NoBook => ApiError::not_found("book"),
        SaveError::OtherHousehold => {
            ApiError::new(ErrorCode::Forbidden, "this belongs to another household")
        }
        SaveError::NotReady => ApiError::new(
            ErrorCode::Conflict,
            "the book has no chunks yet; save a position once it is ready",
        ),
        e @ (SaveError::PastTheEnd { .. } | SaveError::OffsetPastChunk { .. }) => {
            ApiError::bad_request(e.to_string())
        }
        SaveError::Db(e) => e.into(),
    }
}

/// Continue reading: the saved position and the chunks from it onward, or, the
/// first time, the book's body from its first chunk. One call resumes the bot.
#[utoipa::path(tag = "listening", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Book id"), ContinueQuery),
    responses(
        (status = 200, body = ContinueResponse),
        (status = 404, description = "No such book", body = ErrorBody),
        (status = 409, description = "The book has no chunks yet", body = ErrorBody),
        Refused,
    ))]
#[get("/books/{id}/continue")]
#[tracing::instrument(skip_all, fields(book_id = %id))]
pub async fn continue_reading(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    query: web::Query<ContinueQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let listener = listener_of(query.listener.as_deref())?;
    let limit = pagination::limit(query.limit)?;
    let kinds = requested_kinds(query.kind.as_deref())?;
    let client = state.db.get().await?;
    let book = readable_book(&client, &caller, id).await?;
    let chunk_count = book.chunk_count.unwrap_or(0);
    if chunk_count == 0 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the book has no chunks yet",
        ));
    }
    let position = positions::get(&client, id, &listener).await?;
    let start = match &position {
        Some(p) => ReadingStart {
            ordinal: p.ordinal,
            offset: p.offset,
        },
        None => ReadingStart {
            ordinal: chunks::first_of_kinds(&client, id, &[ChunkKind::Body])
                .await?
                .unwrap_or(0),
            offset: 0,
        },
    };
    let (rows, next_after) = pagination::split_page(
        chunks::from_ordinal(&client, id, start.ordinal, &kinds, limit + 1).await?,
        limit,
        |c| c.ordinal,
    );
    Ok(HttpResponse::Ok().json(ContinueResponse {
        book_id: id.0,
        position: position.map(Into::into),
        start,
        chunks: rows.into_iter().map(Into::into).collect(),
        next_after,
        chunk_count,
    }))
}

/// A book's chapters in reading order, each with the chunk it starts at.
#[utoipa::path(tag = "listening", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Book id")),
    responses(
        (status = 200, body = ChapterList),
        (status = 404, description = "No such book", body = ErrorBody),
        Refused,
    ))]
#[get("/books/{id}/chapters")]
#[tracing::instrument(skip_all, fields(book_id = %id))]
pub async fn chapters(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let client = state.db.get().await?;
    readable_book(&client, &caller, id).await?;
    let chapters = chunks::chapters(&client, id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, c)| ChapterResponse {
            number: i + 1,
            title: c.title,
            ordinal: c.ordinal,
            page: c.page,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ChapterList {
        book_id: id.0,
        chapters,
    }))
}
