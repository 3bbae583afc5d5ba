//! Teams: list and get (`{id, name, description, agentIds}`).

use axum::extract::{Path, State};

use super::{App, lock, ok_json};
use crate::sandbox::error::{GladlyError, RouteResult};

/// `GET /api/v1/teams`.
pub(super) async fn list(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.teams.values().collect::<Vec<_>>())
}

/// `GET /api/v1/teams/{id}`.
pub(super) async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    ok_json(
        org.teams
            .get(&id)
            .ok_or_else(|| GladlyError::not_exist(format!("team [{id}] does not exist")))?,
    )
}
