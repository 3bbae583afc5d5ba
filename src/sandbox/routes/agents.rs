//! Agents: list and get (`{id, name, emailAddress}`; inbox membership stays internal), and
//! the call recorder of an agent's live call (addressed by agent id or email; toggling it
//! when the agent is not on a call changes nothing).

use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::{App, JsonBody, lock, no_content, ok_json};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Agent, Org};

fn public(agent: &Agent) -> Value {
    json!({"id": agent.id, "name": agent.name, "emailAddress": agent.email_address})
}

fn find<'a>(org: &'a Org, id_or_email: &str) -> Result<&'a Agent, GladlyError> {
    org.agents
        .values()
        .find(|a| a.id == id_or_email || a.email_address.eq_ignore_ascii_case(id_or_email))
        .ok_or_else(|| GladlyError::not_exist(format!("agent {id_or_email} does not exist")))
}

/// `GET /api/v1/agents`.
pub(super) async fn list(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.agents.values().map(public).collect::<Vec<_>>())
}

/// `GET /api/v1/agents/{id}`.
pub(super) async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    let agent = org
        .agents
        .get(&id)
        .ok_or_else(|| GladlyError::not_exist(format!("agent {id} does not exist")))?;
    ok_json(public(agent))
}

/// `GET /api/v1/agents/{agentId}/call-recorder`.
pub(super) async fn get_recorder(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    let agent = find(&org, &id)?;
    let call = org
        .live_calls
        .get(&agent.id)
        .ok_or_else(|| GladlyError::not_exist(format!("agent {id} is not on a call")))?;
    ok_json(call)
}

/// `PATCH /api/v1/agents/{agentId}/call-recorder`.
pub(super) async fn set_recorder(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    let agent_id = find(&org, &id)?.id.clone();
    let recording = body
        .get("recording")
        .and_then(Value::as_bool)
        .ok_or_else(|| GladlyError::blank("recording", "recording must be true or false"))?;
    if let Some(call) = org.live_calls.get_mut(&agent_id) {
        call["recording"] = json!(recording);
    }
    no_content()
}
