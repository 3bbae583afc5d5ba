//! Conversation items: get one, create a `CUSTOMER_ACTIVITY` (for a customer found or
//! created by email / mobile, or known by id: 200 with the item), delete an activity,
//! redact a message or call (201 + `Location`, content blanked), reply to a customer's
//! message (201 + `Location`; assigns an unassigned conversation to the API user), and a
//! call's recording, transcript and attachments (303 to a sandbox download URL).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
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
        .route("/api/v1/conversation-items/{id}/reply", post(reply))
        .route(
            "/api/v1/conversation-items/{id}/voice-transcript",
            get(transcript),
        )
        .route(
            "/api/v1/conversation-items/{id}/attachments/{attachment}",
            get(attachment),
        )
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
    if org.unsupported_items.contains(&id) {
        return Err(GladlyError::new(
            StatusCode::BAD_REQUEST,
            None,
            "invalid",
            format!("Conversation item with id [{id}] exists but is not supported by the API."),
        ));
    }
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
        if org.clock.now() - parsed > chrono::Duration::days(365) {
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

/// Channels a reply can be sent on.
const REPLY_TYPES: [&str; 7] = [
    "EMAIL",
    "CHAT_MESSAGE",
    "FACEBOOK_MESSAGE",
    "INSTAGRAM_DIRECT",
    "SMS",
    "TWITTER",
    "WHATSAPP",
];

/// Checks a quick-reply request's options: 1 to 10, ids URL-safe and unique, labels ≤ 50.
fn check_options(content: &Map<String, Value>) -> Result<(), GladlyError> {
    let options = content
        .get("messageData")
        .and_then(|d| d.get("options"))
        .and_then(Value::as_array);
    let options = options.filter(|o| (1..=10).contains(&o.len()));
    let options = options.ok_or_else(|| {
        GladlyError::invalid(
            "content.messageData.options",
            "a quick reply needs 1 to 10 options",
        )
    })?;
    let mut ids = Vec::new();
    for option in options {
        let id = option["id"].as_str().unwrap_or("");
        let label = option["label"].as_str().unwrap_or("");
        let id_ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok || ids.contains(&id) || label.is_empty() || label.chars().count() > 50 {
            return Err(GladlyError::invalid(
                "content.messageData.options",
                "options need unique ids (letters, digits, - and _) and labels of at most 50 characters",
            ));
        }
        ids.push(id);
    }
    Ok(())
}

/// Builds the reply's content on the channel of the message it answers.
fn reply_content(org: &Org, original: &Item, content: &Map<String, Value>) -> Value {
    let kind = content["type"].as_str().unwrap_or_default();
    let body = content["body"].as_str().unwrap_or_default();
    let customer = org.customers.get(&original.customer_id);
    match kind {
        "EMAIL" => {
            let to = customer
                .and_then(|c| c.emails.first())
                .map(|e| e.original.clone())
                .unwrap_or_default();
            let subject = original.content["subject"]
                .as_str()
                .map_or_else(String::new, |s| format!("Re: {s}"));
            let from = org.sender_addresses.first().cloned().unwrap_or_default();
            let plain = content
                .get("bodyPlain")
                .and_then(Value::as_str)
                .unwrap_or(body);
            json!({"type": "EMAIL", "from": from, "to": [to], "subject": subject, "content": plain})
        }
        "SMS" => {
            let to = original.content["from"].clone();
            json!({"type": "SMS", "from": org.sender_numbers.first(), "to": to, "content": body})
        }
        "CHAT_MESSAGE" => {
            let mut chat = json!({"type": "CHAT_MESSAGE", "messageType": content.get("messageType").and_then(Value::as_str).unwrap_or("TEXT"),
                                  "sessionId": original.content["sessionId"], "content": body});
            if let Some(data) = content.get("messageData") {
                chat["messageData"] = data.clone();
            }
            chat
        }
        other => json!({"type": other, "content": body}),
    }
}

async fn reply(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    let original = org.items.get(&id).cloned().ok_or_else(|| not_found(&id))?;
    let content = body
        .get("content")
        .and_then(Value::as_object)
        .ok_or_else(|| GladlyError::blank("content", "content must be present"))?;
    let kind = required("content.type", content.get("type").and_then(Value::as_str))?;
    if !REPLY_TYPES.contains(&kind) {
        return Err(GladlyError::invalid(
            "content.type",
            format!("cannot reply with [{kind}]"),
        ));
    }
    let text = required("content.body", content.get("body").and_then(Value::as_str))?;
    check_len("content.body", Some(text), 2048)?;
    if content.get("messageType").and_then(Value::as_str) == Some("QUICK_REPLY_REQUEST") {
        check_options(content)?;
    }
    let from_customer = original
        .initiator
        .as_ref()
        .is_some_and(|i| i["type"] == "CUSTOMER");
    if !from_customer || !REPLY_TYPES.contains(&content_type(&original)) {
        return Err(GladlyError::invalid(
            "itemId",
            "only a customer's message can be replied to",
        ));
    }
    let conversation_id = original
        .conversation_id
        .clone()
        .ok_or_else(|| GladlyError::invalid("itemId", "the item is not part of a conversation"))?;
    let mut conversation = org
        .conversations
        .get(&conversation_id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    if conversation.status == "CLOSED" {
        return Err(GladlyError::invalid("itemId", "the conversation is closed"));
    }
    let reply_content = reply_content(&org, &original, content);
    let api_agent = org.api_agent_id();
    if conversation.agent_id.is_none() {
        // Replying assigns an unassigned conversation to the API user.
        conversation.agent_id = Some(api_agent.clone());
    }
    let reply_id = org.new_id();
    let timestamp = org.now();
    org.items.insert(
        reply_id.clone(),
        Item {
            id: reply_id.clone(),
            customer_id: original.customer_id.clone(),
            conversation_id: Some(conversation_id.clone()),
            timestamp,
            initiator: Some(json!({"id": api_agent, "type": "AGENT"})),
            responder: None,
            content: reply_content,
        },
    );
    org.conversations.insert(conversation_id, conversation);
    drop(org);
    created(&format!("/api/v1/conversation-items/{reply_id}"))
}

async fn attachment(
    State(app): State<App>,
    Path((id, attachment)): Path<(String, String)>,
) -> RouteResult {
    let org = lock(&app);
    let item = org.items.get(&id).ok_or_else(|| not_found(&id))?;
    let attachments = item
        .content
        .get("attachments")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty());
    let attachments =
        attachments.ok_or_else(|| GladlyError::invalid("itemId", "the item has no attachments"))?;
    if !attachments.iter().any(|a| a["id"] == attachment.as_str()) {
        return Err(GladlyError::not_exist(format!(
            "attachment [{attachment}] does not exist"
        )));
    }
    let location = format!("{}/__sandbox/attachments/{id}/{attachment}", app.base_url);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&location) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, value);
    }
    Ok(response)
}

async fn transcript(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    org.items.get(&id).ok_or_else(|| not_found(&id))?;
    let transcript = org.transcripts.get(&id).ok_or_else(|| {
        GladlyError::not_exist(format!("voice transcript for [{id}] does not exist"))
    })?;
    ok_json(transcript)
}
