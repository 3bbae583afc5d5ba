//! The organization record (`{id, name, loginDomain, timezone, gladlyUrl}`).

use axum::extract::State;

use super::{App, lock, ok_json};
use crate::sandbox::error::RouteResult;

/// `GET /api/v1/organization`.
pub(super) async fn get_one(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    ok_json(&org.organization)
}
