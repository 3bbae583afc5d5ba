//! Agents: list and get (`{id, name, emailAddress}`; inbox membership stays internal).

use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{App, lock, ok_json};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::Agent;

fn public(agent: &Agent) -> Value {
    json!({"id": agent.id, "name": agent.name, "emailAddress": agent.email_address})
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
