//! Jobs: one job's state, the admin's list by status, and retry.

use actix_web::{HttpResponse, web};
use actix_web::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared_domain::db::books;
use shared_domain::db::jobs::{self, Job};
use shared_domain::domain::{JobId, JobStatus};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Admin, Caller};
use crate::error::enqueue_error;
use crate::error::{ApiError, ErrorBody, Refused};
use crate::pagination;
use crate::startup::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// The job routes: one job, the admin's list and retry.
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get).service(list).service(retry);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobResponse {
    pub job_id: Uuid,
    pub book_id: Uuid,
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub pages_done: i32,
    pub pages_total: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Job> for JobResponse {
    fn from(j: Job) -> Self {
        Self {
            job_id: j.id.0,
            book_id: j.book_id.0,
            kind: j.kind.to_string(),
            status: j.status.to_string(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_after: j.run_after,
            published_at: j.published_at,
            started_at: j.started_at,
            heartbeat_at: j.heartbeat_at,
            finished_at: j.finished_at,
            last_error: j.last_error,
            pages_done: j.progress_done,
            pages_total: j.progress_total,
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Which jobs: `queued`, `running`, `succeeded`, `failed` or `dead` (default `dead`).
    #[param(pattern = "^(queued|running|succeeded|failed|dead)$")]
    pub status: Option<String>,
    /// The `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = "^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobResponse>,
    pub next_cursor: Option<String>,
}

/// One job.
#[utoipa::path(tag = "jobs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, body = JobResponse),
        (status = 404, description = "No such job", body = ErrorBody),
        Refused,
    ))]
#[get("/jobs/{id}")]
#[tracing::instrument(skip_all, fields(job_id = %id))]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<JobId>,
) -> Result<HttpResponse, ApiError> {
    let client = state.db.get().await?;
    let job = jobs::get(&client, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    if !matches!(caller, Caller::Admin | Caller::Service) {
        let book = books::get(&client, job.book_id)
            .await?
            .ok_or_else(|| ApiError::not_found("job"))?;
        caller.authorize(book.household_id)?;
    }
    Ok(HttpResponse::Ok().json(JobResponse::from(job)))
}

/// Jobs by status, newest first (the dead-letter view by default).
#[utoipa::path(tag = "admin", security(("admin_token" = [])),
    params(JobListQuery),
    responses(
        (status = 200, body = JobList),
        Refused,
    ))]
#[get("/admin/jobs")]
#[tracing::instrument(skip_all)]
pub async fn list(
    _admin: Admin,
    state: web::Data<AppState>,
    query: web::Query<JobListQuery>,
) -> Result<HttpResponse, ApiError> {
    let status: JobStatus = query
        .status
        .as_deref()
        .unwrap_or("dead")
        .parse()
        .map_err(|_| {
            ApiError::bad_request("status must be one of queued, running, succeeded, failed, dead")
        })?;
    let limit = pagination::limit(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(pagination::decode)
        .transpose()?;
    let client = state.db.get().await?;
    let (rows, next_cursor) = pagination::split_page(
        jobs::list_by_status(&client, status, after, limit + 1).await?,
        limit,
        |j| pagination::encode(j.created_at, j.id.0),
    );
    Ok(HttpResponse::Ok().json(JobList {
        jobs: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Bring a failed or dead job back: queued with a fresh attempt budget, and published.
#[utoipa::path(tag = "admin", security(("admin_token" = [])),
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 202, body = JobResponse),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job is not failed or dead, or the book has another active job", body = ErrorBody),
        Refused,
    ))]
#[post("/admin/jobs/{id}/retry")]
#[tracing::instrument(skip_all, fields(job_id = %id))]
pub async fn retry(
    _admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<JobId>,
) -> Result<HttpResponse, ApiError> {
    let mut client = state.db.get().await?;
    let job = jobs::retry(&mut client, id.into_inner())
        .await
        .map_err(enqueue_error("job"))?;
    drop(client);
    publish_or_defer(&state, &job).await;
    let client = state.db.get().await?;
    let job = jobs::get(&client, job.id).await?.unwrap_or(job);
    Ok(HttpResponse::Accepted().json(JobResponse::from(job)))
}

/// Publish a freshly queued job; if Redis is unavailable the sweeper publishes it later.
pub(super) async fn publish_or_defer(state: &AppState, job: &Job) {
    if let Err(e) = shared_domain::queue::publish(&state.db, &state.redis, job).await {
        tracing::warn!(job_id = %job.id, error = %format!("{e:#}"), "job not published yet; the sweeper will publish it");
    }
}
