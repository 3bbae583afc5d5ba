//! The gate every `/api/v1` request passes before and after its route: request log,
//! Basic auth, the org and reports rate limits, latency and injected faults, and the
//! `Ratelimit-*` headers on every response (errors and 429s included).
//!
//! A successful write marks the org dirty for the state-file saver.
//!
//! Order: log arrival → auth (401, consumes no budget; public answers need none) →
//! per-second window (429) → reports class (429) → fault decision → latency →
//! [5xx/reset *before*] → route → [5xx/reset *after*: the change is applied, the response
//! is lost] → slow delay. `/__sandbox/*` inspection routes bypass the gate.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::GladlyError;
use super::faults::Fault;
use super::rate::{ReportSlot, UNLIMITED_ANNOUNCED};
use super::{App, ConnKill, LoggedRequest};
use crate::catalog::RateClass;

/// The middleware function (see the module docs for the order of checks).
pub(super) async fn gate(State(app): State<App>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/__sandbox/") {
        return next.run(req).await;
    }
    let slot = log_arrival(&app, &req);
    let (response, fault) = pass(&app, req, next).await;
    let Some(mut response) = response else {
        finish_log(&app, slot, 0, fault);
        // The connection is being dropped: this future never completes.
        return std::future::pending().await;
    };
    add_rate_headers(&app, &mut response);
    finish_log(&app, slot, response.status().as_u16(), fault);
    response
}

/// Runs auth, limits, faults and the route. `None` = reset the connection.
async fn pass(app: &App, req: Request, next: Next) -> (Option<Response>, Option<String>) {
    let _report_slot = match admit(app, &req) {
        Ok(slot) => slot,
        Err(refused) => return (Some(refused.into_response()), None),
    };
    let n = app.arrivals.fetch_add(1, Ordering::Relaxed) + 1;
    let is_write = req.method() != Method::GET;
    let decision = app.faults.decide(n, app.started.elapsed(), is_write);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let (response, label) = handle(app, decision.fault, is_write, req, next).await;
    if let (Some(delay), Some(_)) = (decision.slow, &response) {
        tokio::time::sleep(delay).await;
        return (response, Some(format!("slow:{}ms", delay.as_millis())));
    }
    (response, label)
}

/// Basic auth, then the per-second window, then the reports class. The reports slot is
/// held until the response is ready.
fn admit(app: &App, req: &Request) -> Result<Option<ReportSlot>, GladlyError> {
    // Public answers are readable without a token, as Gladly documents them.
    let public = req.uri().path().starts_with("/api/v1/orgs/");
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if !public && auth != Some(app.expected_auth.as_str()) {
        return Err(GladlyError::unauthorized());
    }
    let now = Instant::now();
    if let Some(window) = &app.limiter
        && !window.try_admit(now).0
    {
        let detail = format!(
            "rate limit of {} requests per second reached",
            window.limit()
        );
        return Err(too_many(app, &detail));
    }
    if !is_report(req) {
        return Ok(None);
    }
    match app.reports.as_ref().map(|r| r.try_acquire(now)) {
        Some(Err(why)) => Err(too_many(app, why)),
        Some(Ok(slot)) => Ok(Some(slot)),
        None => Ok(None),
    }
}

/// Runs the route, or not, as the injected fault says; returns the response (`None` =
/// drop the connection) and the fault's label for the log.
async fn handle(
    app: &App,
    fault: Option<Fault>,
    is_write: bool,
    req: Request,
    next: Next,
) -> (Option<Response>, Option<String>) {
    let kill = req.extensions().get::<ConnKill>().cloned();
    let (after, label) = match fault {
        None => {
            let response = next.run(req).await;
            persist_if_written(app, is_write, &response);
            return (Some(response), None);
        }
        Some(Fault::Burst429) => {
            return (
                Some(too_many(app, "rate limit reached (scripted burst)").into_response()),
                Some("burst429".into()),
            );
        }
        Some(Fault::Status { status, after }) => (after, format!("{status}:{}", when(after))),
        Some(Fault::Reset { after }) => (after, format!("reset:{}", when(after))),
    };
    if after {
        // The change is applied; only its response is lost.
        let applied = next.run(req).await;
        persist_if_written(app, is_write, &applied);
    }
    match (fault, kill) {
        (Some(Fault::Reset { .. }), Some(kill)) => {
            kill.0.notify_one();
            (None, Some(label))
        }
        (Some(Fault::Status { status, .. }), _) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                Some(GladlyError::injected(status).into_response()),
                Some(label),
            )
        }
        // A reset without a killable connection (never on the sandbox's own server).
        _ => (
            Some(GladlyError::injected(StatusCode::BAD_GATEWAY).into_response()),
            Some(label),
        ),
    }
}

fn when(after: bool) -> &'static str {
    if after { "after" } else { "before" }
}

/// Whether the catalog puts the request in the reports rate class.
fn is_report(req: &Request) -> bool {
    super::routes::operation_of(req.method().as_str(), req.uri().path())
        .is_some_and(|op| op.rate_class == RateClass::Reports)
}

/// Marks the org for saving after a successful write.
fn persist_if_written(app: &App, is_write: bool, response: &Response) {
    if is_write && response.status().is_success() {
        app.dirty.store(true, Ordering::Release);
    }
}

/// A 429, with `Retry-After: 1` when the sandbox was asked to send it.
fn too_many(app: &App, detail: &str) -> GladlyError {
    let error = GladlyError::rate_limited(detail);
    if app.retry_after {
        error.with_header("retry-after", "1".to_owned())
    } else {
        error
    }
}

fn add_rate_headers(app: &Arc<super::Shared>, response: &mut Response) {
    let (limit, remaining) = match &app.limiter {
        Some(window) => (window.limit(), window.remaining(Instant::now())),
        None => (UNLIMITED_ANNOUNCED, UNLIMITED_ANNOUNCED),
    };
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit-second", HeaderValue::from(limit));
    headers.insert("ratelimit-remaining-second", HeaderValue::from(remaining));
}

fn log_arrival(app: &App, req: &Request) -> usize {
    app.log.arrive(LoggedRequest {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().map(str::to_owned),
        status: 0,
        at_ms: u64::try_from(app.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        fault: None,
    })
}

fn finish_log(app: &App, slot: usize, status: u16, fault: Option<String>) {
    app.log.finish(slot, status, fault);
}
