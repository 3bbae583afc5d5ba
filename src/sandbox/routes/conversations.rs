//! Conversations: get, patch (reassign and/or open/close with Gladly's 400 rules), a
//! customer's conversations (100, oldest first), a conversation's items (1000, oldest
//! first, `?sessionId`), topics (idempotent add, remove) and notes.
//!
//! Closing needs every required topic of the org (the topic itself or one nested under
//! it) and, while the customer's last message is unanswered, `status.force: true`.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    App, JsonBody, QueryParams, capped, created, lock, no_content, ok_json, required, to_json,
};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Conversation, Item, Org};

/// The conversation routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/conversations/{id}", get(get_one).patch(update))
        .route(
            "/api/v1/customers/{id}/conversations",
            get(list_for_customer),
        )
        .route("/api/v1/conversations/{id}/items", get(list_items))
        .route("/api/v1/conversations/{id}/topics", post(add_topics))
        .route(
            "/api/v1/conversations/{id}/topics/{topic}",
            delete(remove_topic),
        )
        .route("/api/v1/conversations/{id}/notes", post(add_note))
        .route("/api/v1/conversations/{id}/notes/{note}", get(get_note))
}

fn not_found(id: &str) -> GladlyError {
    GladlyError::not_exist(format!("conversation [{id}] does not exist"))
}

fn existing<'a>(org: &'a Org, id: &str) -> Result<&'a Conversation, GladlyError> {
    org.conversations.get(id).ok_or_else(|| not_found(id))
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    ok_json(existing(&org, &id)?)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assignee {
    inbox_id: Option<String>,
    agent_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StatusChange {
    value: Option<String>,
    #[serde(default)]
    force: bool,
}

#[derive(Debug, Deserialize)]
struct Patch {
    assignee: Option<Assignee>,
    status: Option<StatusChange>,
}

async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<Patch>,
) -> RouteResult {
    let mut org = lock(&app);
    let conversation = existing(&org, &id)?.clone();
    if patch.assignee.is_none() && patch.status.is_none() {
        return Err(GladlyError::blank(
            "assignee",
            "one of assignee, status must be present",
        ));
    }
    let closing = match &patch.status {
        Some(status) => check_status(&org, &conversation, status)?,
        None => None,
    };
    if let Some(assignee) = &patch.assignee {
        check_assignee(&org, &conversation, assignee, closing)?;
    }
    apply(&mut org, conversation, patch, closing);
    no_content()
}

/// Validates a status change; `Some(true)` = close, `Some(false)` = (re)open.
fn check_status(
    org: &Org,
    conversation: &Conversation,
    status: &StatusChange,
) -> Result<Option<bool>, GladlyError> {
    match required("status.value", status.value.as_deref())? {
        "OPEN" => Ok(Some(false)),
        "CLOSED" => {
            let missing = org.missing_required_topics(&conversation.topic_ids);
            if conversation.status != "CLOSED" && !missing.is_empty() {
                let names: Vec<String> = missing
                    .iter()
                    .map(|t| {
                        org.topics
                            .get(t)
                            .map_or_else(|| t.clone(), |t| t.name.clone())
                    })
                    .collect();
                return Err(GladlyError::invalid_state(
                    "topicIds",
                    format!(
                        "conversation needs a topic under [{}] before it can be closed",
                        names.join(", ")
                    ),
                )
                .with_meta("requiredTopicIds", missing));
            }
            if conversation.status != "CLOSED"
                && !status.force
                && org.awaits_reply(&conversation.id)
            {
                return Err(GladlyError::invalid_state(
                    "status.value",
                    "the customer is awaiting a reply; set status.force to close anyway",
                ));
            }
            Ok(Some(true))
        }
        other => Err(GladlyError::invalid(
            "status.value",
            format!("[{other}] must be OPEN or CLOSED"),
        )),
    }
}

fn check_assignee(
    org: &Org,
    conversation: &Conversation,
    assignee: &Assignee,
    closing: Option<bool>,
) -> Result<(), GladlyError> {
    let inbox_id = required("assignee.inboxId", assignee.inbox_id.as_deref())?;
    if conversation.status == "CLOSED" && closing != Some(false) {
        return Err(GladlyError::invalid_state(
            "assignee",
            "a CLOSED conversation cannot be reassigned; reopen it first",
        ));
    }
    if !org.inboxes.contains_key(inbox_id) {
        return Err(GladlyError::invalid(
            "assignee.inboxId",
            format!("inbox [{inbox_id}] does not exist"),
        ));
    }
    if let Some(agent_id) = assignee.agent_id.as_deref() {
        if !org.agents.contains_key(agent_id) {
            return Err(GladlyError::invalid(
                "assignee.agentId",
                format!("agent [{agent_id}] does not exist"),
            ));
        }
        if !org.agent_in_inbox(agent_id, inbox_id) {
            return Err(GladlyError::invalid_state(
                "assignee.agentId",
                format!("agent [{agent_id}] is not a member of inbox [{inbox_id}]"),
            ));
        }
    }
    Ok(())
}

fn apply(org: &mut Org, mut conversation: Conversation, patch: Patch, closing: Option<bool>) {
    let id = conversation.id.clone();
    if let Some(assignee) = patch.assignee {
        conversation.inbox_id = assignee.inbox_id.unwrap_or_default();
        conversation.agent_id = assignee.agent_id;
        org.emit(
            "CONVERSATION_ASSIGNEE/UPDATED",
            None,
            json!({"conversationId": id, "customerId": conversation.customer_id,
                   "newAssignee": {"inboxId": conversation.inbox_id, "agentId": conversation.agent_id}}),
        );
    }
    let now = org.now();
    let changed = match closing {
        Some(true) if conversation.status != "CLOSED" => {
            conversation.status = "CLOSED".into();
            conversation.closed_at = Some(now.clone());
            Some("CLOSED")
        }
        Some(false) if conversation.status == "CLOSED" => {
            conversation.status = "OPEN".into();
            conversation.closed_at = None;
            Some("OPEN")
        }
        _ => None,
    };
    if let Some(status) = changed {
        let item_id = org.new_id();
        org.items.insert(
            item_id.clone(),
            Item {
                id: item_id,
                customer_id: conversation.customer_id.clone(),
                conversation_id: Some(id.clone()),
                timestamp: now,
                initiator: Some(json!({"id": "api", "type": "API"})),
                responder: None,
                content: json!({"type": "CONVERSATION_STATUS_CHANGE", "status": status}),
            },
        );
        let kind = if status == "CLOSED" {
            "CONVERSATION/CLOSED"
        } else {
            "CONVERSATION/REOPENED"
        };
        org.emit(
            kind,
            None,
            json!({"conversationId": id, "customerId": conversation.customer_id}),
        );
    }
    org.conversations.insert(id, conversation);
}

async fn list_for_customer(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    if !org.customers.contains_key(&id) {
        return Err(super::customers::not_found(&id));
    }
    let mut list: Vec<&Conversation> = org
        .conversations
        .values()
        .filter(|c| c.customer_id == id)
        .collect();
    list.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    capped(list.into_iter().map(to_json).collect(), 100)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemsQuery {
    session_id: Option<String>,
}

async fn list_items(
    State(app): State<App>,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<ItemsQuery>,
) -> RouteResult {
    let org = lock(&app);
    existing(&org, &id)?;
    let mut list: Vec<&Item> = org
        .items
        .values()
        .filter(|i| i.conversation_id.as_deref() == Some(id.as_str()))
        .filter(|i| match &query.session_id {
            Some(session) => {
                i.content.get("sessionId").and_then(Value::as_str) == Some(session.as_str())
            }
            None => true,
        })
        .collect();
    list.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    capped(list.into_iter().map(to_json).collect(), 1000)
}

#[derive(Debug, Deserialize)]
struct TopicsBody {
    #[serde(rename = "topicIds", alias = "topicIDs")]
    topic_ids: Option<Vec<String>>,
}

async fn add_topics(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TopicsBody>,
) -> RouteResult {
    let mut org = lock(&app);
    let mut conversation = existing(&org, &id)?.clone();
    let wanted = body
        .topic_ids
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GladlyError::blank("topicIds", "topicIds must be present"))?;
    if let Some(unknown) = wanted.iter().find(|t| !org.topics.contains_key(*t)) {
        return Err(GladlyError::invalid(
            "topicIds",
            format!("topic [{unknown}] does not exist"),
        ));
    }
    let mut added = Vec::new();
    for topic in wanted {
        if !conversation.topic_ids.contains(&topic) && !added.contains(&topic) {
            added.push(topic);
        }
    }
    if added.is_empty() {
        return no_content();
    }
    conversation.topic_ids.extend(added.iter().cloned());
    record_topic_change(&mut org, &conversation, &added, &[]);
    org.conversations.insert(id, conversation);
    no_content()
}

async fn remove_topic(
    State(app): State<App>,
    Path((id, topic)): Path<(String, String)>,
) -> RouteResult {
    let mut org = lock(&app);
    let mut conversation = existing(&org, &id)?.clone();
    if !conversation.topic_ids.contains(&topic) {
        return Err(GladlyError::not_exist(format!(
            "conversation topic [{topic}] does not exist"
        )));
    }
    conversation.topic_ids.retain(|t| *t != topic);
    record_topic_change(&mut org, &conversation, &[], std::slice::from_ref(&topic));
    org.conversations.insert(id, conversation);
    no_content()
}

fn record_topic_change(
    org: &mut Org,
    conversation: &Conversation,
    added: &[String],
    removed: &[String],
) {
    let item_id = org.new_id();
    let now = org.now();
    org.items.insert(
        item_id.clone(),
        Item {
            id: item_id,
            customer_id: conversation.customer_id.clone(),
            conversation_id: Some(conversation.id.clone()),
            timestamp: now,
            initiator: Some(json!({"id": "api", "type": "API"})),
            responder: None,
            content: json!({"type": "TOPIC_CHANGE", "addedTopicIds": added, "removedTopicIds": removed}),
        },
    );
    for topic in added {
        org.emit("CONVERSATION/TOPIC_ADDED", None, json!({"conversationId": conversation.id, "customerId": conversation.customer_id, "topicId": topic}));
    }
    for topic in removed {
        org.emit("CONVERSATION/TOPIC_REMOVED", None, json!({"conversationId": conversation.id, "customerId": conversation.customer_id, "topicId": topic}));
    }
}

#[derive(Debug, Deserialize)]
struct NoteBody {
    content: Option<NoteContent>,
    body: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NoteContent {
    body: Option<String>,
}

async fn add_note(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(note): JsonBody<NoteBody>,
) -> RouteResult {
    let mut org = lock(&app);
    let conversation = existing(&org, &id)?.clone();
    // The spec's schema and example disagree ({body} vs {content:{body}}): accept both.
    let body = note.content.and_then(|c| c.body).or(note.body);
    let body = required("content.body", body.as_deref())?.to_owned();
    let note_id = org.new_id();
    let now = org.now();
    org.items.insert(
        note_id.clone(),
        Item {
            id: note_id.clone(),
            customer_id: conversation.customer_id.clone(),
            conversation_id: Some(id.clone()),
            timestamp: now.clone(),
            initiator: Some(json!({"id": "api", "type": "API"})),
            responder: None,
            content: json!({"type": "CONVERSATION_NOTE", "body": body}),
        },
    );
    org.emit(
        "CONVERSATION/NOTE_CREATED",
        None,
        json!({"conversationId": id, "customerId": conversation.customer_id, "noteId": note_id}),
    );
    drop(org);
    created(&format!("/api/v1/conversations/{id}/notes/{note_id}"))
}

async fn get_note(State(app): State<App>, Path((id, note)): Path<(String, String)>) -> RouteResult {
    let org = lock(&app);
    existing(&org, &id)?;
    let item = org
        .items
        .get(&note)
        .filter(|i| i.conversation_id.as_deref() == Some(id.as_str()))
        .filter(|i| i.content.get("type").and_then(Value::as_str) == Some("CONVERSATION_NOTE"))
        .ok_or_else(|| GladlyError::not_exist(format!("note [{note}] does not exist")))?;
    ok_json(item)
}
