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

/// `GET /__sandbox/attachments/{itemId}/{attachmentId}`: where attachment redirects lead;
/// answers placeholder bytes with the attachment's content type.
pub(super) async fn attachment(
    State(app): State<App>,
    axum::extract::Path((item, attachment)): axum::extract::Path<(String, String)>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let org = lock(&app);
    let found = org.items.get(&item).and_then(|i| {
        i.content
            .get("attachments")?
            .as_array()?
            .iter()
            .find(|a| a["id"] == attachment.as_str())
            .cloned()
    });
    match found {
        Some(meta) => {
            let kind = meta["contentType"]
                .as_str()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let name = meta["filename"].as_str().unwrap_or("attachment").to_owned();
            (
                [(axum::http::header::CONTENT_TYPE, kind)],
                format!("sandbox placeholder for {name}\n"),
            )
                .into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}
