//! Audiences: the list (`{id, name}`) that answers are published to.

use axum::extract::State;

use super::{App, lock, ok_json};
use crate::sandbox::error::RouteResult;

/// `GET /api/v1/audiences`.
pub(super) async fn list(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.audiences.values().collect::<Vec<_>>())
}
