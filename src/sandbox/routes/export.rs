//! The Export API: schedules, jobs of the last 14 days (filters `status`, `startAt`,
//! `endAt` on `updatedAt`), one job, its JSON Lines files (`application/x-ndjson`), and
//! delete (only COMPLETED or FAILED jobs; otherwise 400 `temporary_failure`). "Now" is
//! the sandbox's clock.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{App, QueryParams, lock, no_content, ok_json, text};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{ExportJob, parse_ts};

/// The export routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/export/schedules", get(schedules))
        .route("/api/v1/export/jobs", get(list_jobs))
        .route("/api/v1/export/jobs/{id}", get(get_job).delete(delete_job))
        .route("/api/v1/export/jobs/{id}/files/{file}", get(get_file))
}

fn public(job: &ExportJob) -> Value {
    json!({"id": job.id, "scheduleId": job.schedule_id, "status": job.status, "updatedAt": job.updated_at,
           "parameters": job.parameters, "files": job.files.keys().collect::<Vec<_>>()})
}

/// Whether a job is still visible at `now` (updated within the 14 days before).
fn visible(job: &ExportJob, now: DateTime<Utc>) -> bool {
    parse_ts(&job.updated_at).is_some_and(|at| now - at <= Duration::days(14))
}

fn not_found(id: &str) -> GladlyError {
    GladlyError::not_exist(format!("export job [{id}] does not exist"))
}

async fn schedules(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    ok_json(&org.export_schedules)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobsQuery {
    status: Option<String>,
    start_at: Option<String>,
    end_at: Option<String>,
}

async fn list_jobs(
    State(app): State<App>,
    QueryParams(query): QueryParams<JobsQuery>,
) -> RouteResult {
    let now = lock(&app).clock.now();
    let instant = |attr: &str, text: Option<&str>| -> Result<Option<DateTime<Utc>>, GladlyError> {
        text.map(|t| {
            parse_ts(t).ok_or_else(|| {
                GladlyError::invalid(attr, format!("[{t}] is not an ISO 8601 date-time"))
            })
        })
        .transpose()
    };
    let start = instant("startAt", query.start_at.as_deref())?.unwrap_or(now - Duration::days(14));
    let end = instant("endAt", query.end_at.as_deref())?.unwrap_or(now);
    if now - start > Duration::days(14) + Duration::minutes(1) {
        return Err(GladlyError::invalid(
            "startAt",
            "startAt cannot be more than 14 days ago",
        ));
    }
    if end > now + Duration::minutes(1) {
        return Err(GladlyError::invalid(
            "endAt",
            "endAt cannot be in the future",
        ));
    }
    if end < start {
        return Err(GladlyError::invalid(
            "endAt",
            "endAt cannot be before startAt",
        ));
    }
    if let Some(status) = query
        .status
        .as_deref()
        .filter(|s| !matches!(*s, "PENDING" | "IN_PROGRESS" | "COMPLETED" | "FAILED"))
    {
        return Err(GladlyError::invalid(
            "status",
            format!("[{status}] must be PENDING, IN_PROGRESS, COMPLETED or FAILED"),
        ));
    }
    let org = lock(&app);
    let jobs: Vec<Value> = org
        .export_jobs
        .values()
        .filter(|j| visible(j, now))
        .filter(|j| query.status.as_deref().is_none_or(|s| j.status == s))
        .filter(|j| parse_ts(&j.updated_at).is_some_and(|at| at >= start && at <= end))
        .map(public)
        .collect();
    ok_json(jobs)
}

async fn get_job(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    let job = org
        .export_jobs
        .get(&id)
        .filter(|j| visible(j, org.clock.now()))
        .ok_or_else(|| not_found(&id))?;
    ok_json(public(job))
}

async fn delete_job(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let mut org = lock(&app);
    let job = org
        .export_jobs
        .get(&id)
        .filter(|j| visible(j, org.clock.now()))
        .ok_or_else(|| not_found(&id))?;
    if matches!(job.status.as_str(), "PENDING" | "IN_PROGRESS") {
        return Err(GladlyError::new(
            StatusCode::BAD_REQUEST,
            Some("status"),
            "temporary_failure",
            format!(
                "job is {}; only COMPLETED or FAILED jobs can be deleted",
                job.status
            ),
        ));
    }
    org.export_jobs.remove(&id);
    no_content()
}

async fn get_file(State(app): State<App>, Path((id, file)): Path<(String, String)>) -> RouteResult {
    let org = lock(&app);
    let job = org
        .export_jobs
        .get(&id)
        .filter(|j| visible(j, org.clock.now()))
        .ok_or_else(|| not_found(&id))?;
    let body = job.files.get(&file).ok_or_else(|| {
        GladlyError::not_exist(format!("file [{file}] does not exist in job [{id}]"))
    })?;
    Ok(text("application/x-ndjson", body.clone()))
}
