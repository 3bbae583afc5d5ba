//! Inspection endpoints for tests and curious users (no auth, no rate limit, not logged):
//! `GET /__sandbox/state` (counts plus the whole org), `GET /__sandbox/requests` (the
//! request log) and `DELETE /__sandbox/reset-log`.

use axum::extract::State;
use serde_json::{Map, Value};

use super::{App, lock, no_content, ok_json};
use crate::sandbox::error::RouteResult;

/// `GET /__sandbox/state`: `{"counts": {...}, ...the org}`.
pub(super) async fn state(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    let mut out = Map::new();
    out.insert("counts".into(), org.counts());
    if let Value::Object(fields) = serde_json::to_value(&*org).expect("org serialises") {
        out.extend(fields);
    }
    ok_json(Value::Object(out))
}

/// `GET /__sandbox/requests`: every API request so far, in arrival order.
pub(super) async fn requests(State(app): State<App>) -> RouteResult {
    ok_json(app.log.entries())
}

/// `DELETE /__sandbox/reset-log`: forgets the request log (between phases of a test).
pub(super) async fn clear_log(State(app): State<App>) -> RouteResult {
    app.log.clear();
    no_content()
}
