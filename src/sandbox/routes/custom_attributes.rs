//! Freeform topics: definitions of conversation custom attributes (get one) and adding or
//! removing `{key, value}` pairs on a conversation (idempotent; unknown or deactivated
//! keys are 400).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{App, JsonBody, lock, no_content, ok_json};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::Org;

/// The freeform-topic routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/custom-attributes/{id}", get(get_one))
        .route(
            "/api/v1/customer-history/{customer}/conversations/{conversation}/custom-attributes",
            post(update),
        )
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    let definition = org
        .custom_attributes
        .get(&id)
        .ok_or_else(|| GladlyError::not_exist(format!("custom attribute {id} does not exist")))?;
    ok_json(definition)
}

#[derive(Debug, Deserialize)]
struct Pair {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Changes {
    #[serde(default)]
    add: Vec<Pair>,
    #[serde(default)]
    remove: Vec<Pair>,
}

/// The `{id, value}` a pair stands for, checking the key is an active definition.
fn resolve(org: &Org, attr: &str, pair: &Pair) -> Result<Value, GladlyError> {
    let key = super::required(&format!("{attr}.key"), pair.key.as_deref())?;
    let value = super::required(&format!("{attr}.value"), pair.value.as_deref())?;
    let definition = org
        .custom_attributes
        .values()
        .find(|d| d["key"] == key)
        .ok_or_else(|| {
            GladlyError::invalid(
                &format!("{attr}.key"),
                format!("[{key}] is not a custom attribute"),
            )
        })?;
    if definition["deactivated"] == true {
        return Err(GladlyError::invalid(
            &format!("{attr}.key"),
            format!("[{key}] is deactivated"),
        ));
    }
    Ok(json!({"id": definition["id"], "value": value}))
}

async fn update(
    State(app): State<App>,
    Path((customer, conversation_id)): Path<(String, String)>,
    JsonBody(changes): JsonBody<Changes>,
) -> RouteResult {
    let mut org = lock(&app);
    if !org.customers.contains_key(&customer) {
        return Err(super::customers::not_found(&customer));
    }
    let mut conversation = org
        .conversations
        .get(&conversation_id)
        .filter(|c| c.customer_id == customer)
        .cloned()
        .ok_or_else(|| {
            GladlyError::not_exist(format!("conversation [{conversation_id}] does not exist"))
        })?;
    if changes.add.is_empty() && changes.remove.is_empty() {
        return Err(GladlyError::blank(
            "add",
            "one of add, remove must be present",
        ));
    }
    let added = changes
        .add
        .iter()
        .map(|p| resolve(&org, "add", p))
        .collect::<Result<Vec<_>, _>>()?;
    let removed = changes
        .remove
        .iter()
        .map(|p| resolve(&org, "remove", p))
        .collect::<Result<Vec<_>, _>>()?;
    for pair in added {
        if !conversation.custom_attributes.contains(&pair) {
            conversation.custom_attributes.push(pair.clone());
            org.emit("CONVERSATION/CUSTOM_ATTRIBUTE_ADDED", None, json!({"conversationId": conversation_id, "customerId": customer, "customAttribute": pair}));
        }
    }
    for pair in removed {
        if conversation.custom_attributes.contains(&pair) {
            conversation.custom_attributes.retain(|p| *p != pair);
            org.emit("CONVERSATION/CUSTOM_ATTRIBUTE_REMOVED", None, json!({"conversationId": conversation_id, "customerId": customer, "customAttribute": pair}));
        }
    }
    org.conversations.insert(conversation_id, conversation);
    no_content()
}
