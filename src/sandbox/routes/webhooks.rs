//! Webhooks: create (201 + `Location`; HTTPS url unique across webhooks; at most 20 per
//! org), list, get, patch, delete (only once disabled). Credentials and header values are
//! write-only: reads show `hasCredentials` and `headerKeys`. The PING Gladly sends on
//! enabling is assumed to succeed (the sandbox never calls out).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{App, JsonBody, created, lock, no_content, ok_json, required};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Org, Webhook};

/// Gladly's cap on webhooks per organization.
const MAX_WEBHOOKS: usize = 20;

/// The webhook routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/webhooks", post(create).get(list))
        .route(
            "/api/v1/webhooks/{id}",
            get(get_one).patch(update).delete(remove),
        )
}

fn public(hook: &Webhook) -> Value {
    let mut out = json!({
        "id": hook.id, "name": hook.name, "events": hook.events, "url": hook.url,
        "createdAt": hook.created_at, "updatedAt": hook.updated_at,
        "hasCredentials": hook.credentials.is_some(),
        "headerKeys": hook.headers.keys().collect::<Vec<_>>(),
        "enabled": hook.enabled,
    });
    // A string when Gladly disabled the hook; absent (never null) otherwise.
    if let Some(at) = &hook.disabled_at_due_to_retry_limit {
        out["disabledAtDueToRetryLimit"] = json!(at);
    }
    out
}

fn not_found(id: &str) -> GladlyError {
    GladlyError::not_exist(format!("webhook [{id}] does not exist"))
}

/// Applies the fields present in `body` to `hook`, validating each.
fn apply(org: &Org, hook: &mut Webhook, body: Map<String, Value>) -> Result<(), GladlyError> {
    for (key, value) in body {
        match key.as_str() {
            "name" => {
                let name = value.as_str().unwrap_or_default().to_owned();
                super::check_len("name", Some(&name), 200)?;
                hook.name = name;
            }
            "url" => {
                let url = required("url", value.as_str())?;
                if !url.starts_with("https://") {
                    return Err(GladlyError::invalid("url", "url must use https"));
                }
                if org
                    .webhooks
                    .values()
                    .any(|w| w.url == url && w.id != hook.id)
                {
                    return Err(GladlyError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        Some("url"),
                        "taken",
                        "another webhook already uses this url",
                    ));
                }
                url.clone_into(&mut hook.url);
            }
            "events" => {
                let events: Vec<String> = serde_json::from_value(value).map_err(|_| {
                    GladlyError::invalid("events", "events must be a list of event types")
                })?;
                if events.is_empty() {
                    return Err(GladlyError::blank("events", "events must be present"));
                }
                if let Some(bad) = events.iter().find(|e| !e.contains('/')) {
                    return Err(GladlyError::invalid(
                        "events",
                        format!("[{bad}] is not an event type"),
                    ));
                }
                hook.events = events;
            }
            "credentials" => hook.credentials = (!value.is_null()).then_some(value),
            "headers" => hook.headers = value.as_object().cloned().unwrap_or_default(),
            "enabled" => hook.enabled = value.as_bool().unwrap_or(false),
            "disabledAtDueToRetryLimit" => {
                hook.disabled_at_due_to_retry_limit = value.as_str().map(str::to_owned);
            }
            _ => {
                return Err(GladlyError::invalid(
                    &key,
                    format!("unknown webhook field [{key}]"),
                ));
            }
        }
    }
    Ok(())
}

async fn create(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    if org.webhooks.len() >= MAX_WEBHOOKS {
        return Err(GladlyError::invalid(
            "webhooks",
            "an organization can have at most 20 webhooks",
        ));
    }
    required("url", body.get("url").and_then(Value::as_str))?;
    if body.get("events").is_none() {
        return Err(GladlyError::blank("events", "events must be present"));
    }
    let id = org.new_id();
    let now = org.now();
    let mut hook = Webhook {
        id: id.clone(),
        name: String::new(),
        events: Vec::new(),
        url: String::new(),
        credentials: None,
        headers: Map::new(),
        enabled: false,
        disabled_at_due_to_retry_limit: None,
        created_at: now.clone(),
        updated_at: now,
    };
    apply(&org, &mut hook, body)?;
    org.webhooks.insert(id.clone(), hook);
    drop(org);
    created(&format!("/api/v1/webhooks/{id}"))
}

async fn list(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.webhooks.values().map(public).collect::<Vec<_>>())
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    ok_json(public(org.webhooks.get(&id).ok_or_else(|| not_found(&id))?))
}

async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    let mut hook = org
        .webhooks
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    apply(&org, &mut hook, body)?;
    hook.updated_at = org.now();
    org.webhooks.insert(id, hook);
    no_content()
}

async fn remove(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let mut org = lock(&app);
    let hook = org.webhooks.get(&id).ok_or_else(|| not_found(&id))?;
    if hook.enabled {
        return Err(GladlyError::invalid_state(
            "enabled",
            "disable the webhook before deleting it",
        ));
    }
    org.webhooks.remove(&id);
    no_content()
}
