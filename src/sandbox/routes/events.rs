//! The Events API: `GET /api/v1/events?startAt=…&endAt=…&entities=A&entities=B` streams
//! the org's events of the last 24 hours as JSON Lines (`application/x-jsonlines`),
//! filtered by entity (the part of the type before `/`) and by timestamp. "Now" is the
//! sandbox's clock.

use axum::extract::State;
use chrono::{DateTime, Duration};
use serde_json::Value;

use super::{App, QueryParams, lock, text};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::parse_ts;

/// The entity names the Events API accepts.
const ENTITIES: [&str; 8] = [
    "AGENT_AVAILABILITY",
    "AGENT_STATUS",
    "CONTACT",
    "CONVERSATION",
    "CUSTOMER",
    "CUSTOMER_PROFILE",
    "PAYMENT_REQUEST",
    "TASK",
];

/// The entity an event type belongs to (`CONVERSATION_ASSIGNEE/UPDATED` → `CONVERSATION`).
fn entity_of(kind: &str) -> &str {
    let prefix = kind.split('/').next().unwrap_or(kind);
    if prefix == "CONVERSATION_ASSIGNEE" {
        "CONVERSATION"
    } else {
        prefix
    }
}

/// `GET /api/v1/events`.
pub(super) async fn stream(
    State(app): State<App>,
    QueryParams(query): QueryParams<Vec<(String, String)>>,
) -> RouteResult {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let now = lock(&app).clock.now();
    let start_text = super::required("startAt", param("startAt"))?;
    let start = parse_ts(start_text).ok_or_else(|| {
        GladlyError::invalid(
            "startAt",
            format!("[{start_text}] is not an ISO 8601 date-time"),
        )
    })?;
    if now - start > Duration::hours(24) + Duration::minutes(1) {
        return Err(GladlyError::invalid(
            "startAt",
            "startAt must be within the last 24 hours",
        ));
    }
    let end = match param("endAt") {
        Some(t) => parse_ts(t).ok_or_else(|| {
            GladlyError::invalid("endAt", format!("[{t}] is not an ISO 8601 date-time"))
        })?,
        None => now,
    };
    if end < start {
        return Err(GladlyError::invalid(
            "startAt",
            "startAt must be before endAt",
        ));
    }
    let entities: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "entities")
        .map(|(_, v)| v.as_str())
        .collect();
    if entities.is_empty() {
        return Err(GladlyError::blank(
            "entities",
            "at least one entities value must be present",
        ));
    }
    if let Some(bad) = entities.iter().find(|e| !ENTITIES.contains(e)) {
        return Err(GladlyError::invalid(
            "entities",
            format!("[{bad}] must be one of {}", ENTITIES.join(", ")),
        ));
    }
    let org = lock(&app);
    // Without endAt, "now" includes events stamped in the current millisecond burst
    // (the org clock runs strictly ahead by a millisecond per record).
    let end = if param("endAt").is_some() {
        end
    } else {
        DateTime::from_timestamp_millis(org.last_ms).map_or(end, |last| end.max(last))
    };
    let mut body = String::new();
    for event in &org.events {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        let at = event
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_ts);
        if entities.contains(&entity_of(kind)) && at.is_some_and(|at| at >= start && at <= end) {
            body.push_str(&event.to_string());
            body.push('\n');
        }
    }
    Ok(text("application/x-jsonlines", body))
}
