//! Conversation items: get one, create a `CUSTOMER_ACTIVITY` (for a customer found or
//! created by email / mobile, or known by id: 200 with the item), delete an activity,
//! redact a message or call (201 + `Location`, content blanked), and a call's recording.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};

use super::{
    App, JsonBody, check_client_id, check_len, created, lock, no_content, ok_json, required,
};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Item, Org, parse_ts};

/// The conversation-item routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/conversation-items", post(create_for_reference))
        .route(
            "/api/v1/conversation-items/{id}",
            get(get_one).delete(remove),
        )
        .route("/api/v1/conversation-items/{id}/redact", post(redact))
        .route(
            "/api/v1/conversation-items/{id}/media/recording",
            get(recording),
        )
        .route(
            "/api/v1/customers/{id}/conversation-items",
            post(create_for_customer),
        )
        .route(
            "/api/v1/customers/{id}/conversation-items/{item}",
            delete(remove_for_customer),
        )
}

fn not_found(id: &str) -> GladlyError {
    GladlyError::not_exist(format!("conversation item [{id}] does not exist"))
}

fn content_type(item: &Item) -> &str {
    item.content
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.items.get(&id).ok_or_else(|| not_found(&id))?)
}

async fn create_for_reference(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    let (id, content) = check_new_item(&org, &body)?;
    let customer_id = super::customers::find_or_create(&mut org, body.get("customer"))?;
    ok_json(insert_item(&mut org, id, customer_id, content))
}

async fn create_for_customer(
    State(app): State<App>,
    Path(customer_id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    if let Some(new) = org.merged_customers.get(&customer_id) {
        return Err(GladlyError::moved(
            "customer id",
            format!("the customer id has changed from [{customer_id}] to [{new}]"),
            &customer_id,
            new,
        )
        .with_header(
            "location",
            format!("{}/api/v1/customers/{new}/conversation-items", app.base_url),
        ));
    }
    if !org.customers.contains_key(&customer_id) {
        return Err(super::customers::not_found(&customer_id));
    }
    let (id, content) = check_new_item(&org, &body)?;
    ok_json(insert_item(&mut org, id, customer_id, content))
}

/// Validates a new item's id and `CUSTOMER_ACTIVITY` content.
fn check_new_item(
    org: &Org,
    body: &Map<String, Value>,
) -> Result<(Option<String>, Value), GladlyError> {
    let id = body.get("id").and_then(Value::as_str).map(str::to_owned);
    check_client_id(id.as_deref())?;
    if id.as_ref().is_some_and(|id| org.items.contains_key(id)) {
        return Err(GladlyError::taken(
            "newConversationItems",
            "conversation item already exists",
        ));
    }
    let content = body
        .get("content")
        .and_then(Value::as_object)
        .ok_or_else(|| GladlyError::blank("content", "content must be present"))?;
    let kind = required("content.type", content.get("type").and_then(Value::as_str))?;
    if kind != "CUSTOMER_ACTIVITY" {
        return Err(GladlyError::invalid(
            "content.type",
            format!("[{kind}] cannot be created through the API; use CUSTOMER_ACTIVITY"),
        ));
    }
    let text = |key: &str| content.get(key).and_then(Value::as_str);
    let activity = required("content.activityType", text("activityType"))?;
    if !matches!(activity, "EMAIL" | "ISSUE" | "SMS" | "SURVEY") {
        return Err(GladlyError::invalid(
            "content.activityType",
            format!("[{activity}] must be EMAIL, ISSUE, SMS or SURVEY"),
        ));
    }
    check_len("content.title", text("title"), 100)?;
    check_len("content.body", text("body"), 25_000)?;
    check_len("content.sourceName", text("sourceName"), 50)?;
    if let Some(at) = text("occurredAt") {
        let parsed = parse_ts(at).ok_or_else(|| {
            GladlyError::invalid("content.occurredAt", format!("[{at}] is not a date-time"))
        })?;
        if chrono::Utc::now() - parsed > chrono::Duration::days(365) {
            return Err(GladlyError::invalid(
                "content.occurredAt",
                "occurredAt must be within the last year",
            ));
        }
    }
    let mut content = content.clone();
    content.entry("expandByDefault").or_insert(json!(false));
    Ok((id, Value::Object(content)))
}

fn insert_item(org: &mut Org, id: Option<String>, customer_id: String, content: Value) -> Item {
    let id = id.unwrap_or_else(|| org.new_id());
    let received = org.now();
    let timestamp = content
        .get("occurredAt")
        .and_then(Value::as_str)
        .and_then(parse_ts)
        .map_or_else(|| received.clone(), crate::sandbox::state::format_ts);
    let mut content = content;
    if let Some(fields) = content.as_object_mut() {
        fields.insert("receivedAt".into(), json!(received));
    }
    let item = Item {
        id: id.clone(),
        customer_id,
        conversation_id: None,
        timestamp,
        initiator: Some(json!({"id": "api", "type": "API"})),
        responder: None,
        content,
    };
    org.items.insert(id, item.clone());
    item
}

async fn remove(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let mut org = lock(&app);
    delete_activity(&mut org, &id, None)
}

async fn remove_for_customer(
    State(app): State<App>,
    Path((customer, id)): Path<(String, String)>,
) -> RouteResult {
    let mut org = lock(&app);
    delete_activity(&mut org, &id, Some(&customer))
}

fn delete_activity(org: &mut Org, id: &str, customer: Option<&str>) -> RouteResult {
    let item = org
        .items
        .get(id)
        .filter(|i| customer.is_none_or(|c| i.customer_id == c))
        .ok_or_else(|| not_found(id))?;
    if content_type(item) != "CUSTOMER_ACTIVITY" {
        return Err(GladlyError::invalid(
            "id",
            "only CUSTOMER_ACTIVITY items can be deleted",
        ));
    }
    org.items.remove(id);
    no_content()
}

async fn redact(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let mut org = lock(&app);
    let item = org.items.get_mut(&id).ok_or_else(|| not_found(&id))?;
    let content = item
        .content
        .as_object_mut()
        .expect("item content is an object");
    match content.get("type").and_then(Value::as_str).unwrap_or("") {
        "CHAT_MESSAGE" | "SMS" | "TWITTER" | "WHATSAPP" | "INSTAGRAM_DIRECT"
        | "FACEBOOK_MESSAGE" => {
            content.insert("content".into(), json!(""));
            content.insert("attachments".into(), json!([]));
        }
        "EMAIL" => {
            for key in ["content", "subject"] {
                content.insert(key.into(), json!(""));
            }
            content.insert("attachments".into(), json!([]));
        }
        "PHONE_CALL" | "VOICEMAIL" => {
            content.insert("recordingStatus".into(), json!("DELETED"));
            content.remove("recordingUrl");
            if let Some(summary) = content
                .get_mut("recordingSummary")
                .and_then(Value::as_object_mut)
            {
                summary.insert("status".into(), json!("REDACTED"));
                summary.remove("summary");
            }
        }
        other => {
            return Err(GladlyError::invalid(
                "id",
                format!("items of type [{other}] cannot be redacted"),
            ));
        }
    }
    drop(org);
    created(&format!("/api/v1/conversation-items/{id}"))
}

async fn recording(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    let item = org.items.get(&id).ok_or_else(|| not_found(&id))?;
    let available = matches!(content_type(item), "PHONE_CALL" | "VOICEMAIL")
        && item.content.get("recordingStatus").and_then(Value::as_str) == Some("AVAILABLE");
    if !available {
        return Err(GladlyError::not_exist(format!(
            "recording for [{id}] does not exist"
        )));
    }
    // A silent MPEG frame header is enough for clients that only download and store it.
    let bytes: Vec<u8> = [0xFF, 0xFB, 0x10, 0x64]
        .iter()
        .copied()
        .cycle()
        .take(416)
        .collect();
    Ok(axum::response::IntoResponse::into_response((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "audio/mpeg")],
        bytes,
    )))
}
