//! Topics: list, get, create (unique name → 409 with `meta.id` of the owner; 201 +
//! `Location`) and patch (name required, still unique). Gladly has no topic delete.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;

use super::{App, JsonBody, check_client_id, created, lock, no_content, ok_json, required};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Org, Topic};

/// The topic routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/topics", get(list).post(create))
        .route("/api/v1/topics/{id}", get(get_one).patch(update))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicIn {
    id: Option<String>,
    name: Option<String>,
    disabled: Option<bool>,
    /// Kept raw: a `null` is refused (the reference types it as a string), not read as
    /// "no parent".
    #[serde(default, deserialize_with = "keep_null")]
    parent_id: Option<Value>,
}

/// A field that is present, `null` included.
fn keep_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl TopicIn {
    fn parent(&self) -> Result<Option<String>, GladlyError> {
        match &self.parent_id {
            None => Ok(None),
            Some(Value::String(id)) => Ok(Some(id.clone())),
            Some(_) => Err(GladlyError::invalid(
                "parentId",
                "parentId must be a topic id",
            )),
        }
    }
}

fn name_taken(org: &Org, name: &str, except: Option<&str>) -> Result<(), GladlyError> {
    let owner = org
        .topics
        .values()
        .find(|t| t.name.eq_ignore_ascii_case(name) && Some(t.id.as_str()) != except);
    match owner {
        Some(owner) => Err(
            GladlyError::taken("name", "another topic already has this name")
                .with_meta("id", owner.id.clone()),
        ),
        None => Ok(()),
    }
}

fn check_parent(org: &Org, parent: Option<&str>, own_id: &str) -> Result<(), GladlyError> {
    match parent {
        Some(parent) if !org.topics.contains_key(parent) => Err(GladlyError::invalid(
            "parentId",
            format!("topic [{parent}] does not exist"),
        )),
        Some(parent) if org.topic_within(parent, own_id) => Err(GladlyError::invalid(
            "parentId",
            "a topic cannot be nested under itself",
        )),
        _ => Ok(()),
    }
}

async fn list(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.topics.values().collect::<Vec<_>>())
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    let topic = org
        .topics
        .get(&id)
        .ok_or_else(|| GladlyError::not_exist(format!("topic [{id}] does not exist")))?;
    ok_json(topic)
}

async fn create(State(app): State<App>, JsonBody(new): JsonBody<TopicIn>) -> RouteResult {
    let mut org = lock(&app);
    check_client_id(new.id.as_deref())?;
    let name = required("name", new.name.as_deref())?.to_owned();
    if new
        .id
        .as_ref()
        .is_some_and(|id| org.topics.contains_key(id))
    {
        return Err(GladlyError::taken(
            "id",
            "the topic with specified id already exists",
        ));
    }
    name_taken(&org, &name, None)?;
    let parent = new.parent()?;
    let id = new.id.unwrap_or_else(|| org.new_id());
    check_parent(&org, parent.as_deref(), &id)?;
    org.topics.insert(
        id.clone(),
        Topic {
            id: id.clone(),
            name,
            disabled: new.disabled.unwrap_or(false),
            parent_id: parent,
        },
    );
    drop(org);
    created(&format!("/api/v1/topics/{id}"))
}

async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<TopicIn>,
) -> RouteResult {
    let mut org = lock(&app);
    let mut topic = org.topics.get(&id).cloned().ok_or_else(|| {
        GladlyError::not_exist(format!("conversation topic [{id}] does not exist"))
    })?;
    let name = required("name", patch.name.as_deref())?.to_owned();
    name_taken(&org, &name, Some(&id))?;
    let parent = patch.parent()?;
    check_parent(&org, parent.as_deref(), &id)?;
    topic.name = name;
    if let Some(disabled) = patch.disabled {
        topic.disabled = disabled;
    }
    if parent.is_some() {
        topic.parent_id = parent;
    }
    org.topics.insert(id, topic);
    no_content()
}
