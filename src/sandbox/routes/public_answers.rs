//! Public answers, as a help center or chat widget reads them: the org's answers with
//! `public` content in a language (default `en-us`), optionally for one audience: a list
//! (alphabetical, first 1000), a text search, one answer, and a help center's titles.
//! These are the only API routes that work without a token, as Gladly documents.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{App, QueryParams, capped, lock, ok_json};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::Org;

/// The public-answer routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/orgs/{org}/answers", get(list))
        .route("/api/v1/orgs/{org}/answers-search", get(search))
        .route("/api/v1/orgs/{org}/answers/{answer}", get(get_one))
        .route(
            "/api/v1/orgs/{org}/help-center/{center}/answer-titles",
            get(titles),
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    lng: Option<String>,
    audience_id: Option<String>,
    q: Option<String>,
}

/// `{id, name, bodyHtml, language, updatedAt}` of every answer public in the filter's
/// language and audience, sorted by name.
fn published(org: &Org, filter: &Filter) -> Vec<Value> {
    let language = filter.lng.as_deref().unwrap_or("en-us").to_lowercase();
    let mut out: Vec<Value> = org
        .answers
        .values()
        .filter(|a| filter.audience_id.as_ref().is_none_or(|aud| a.audience_ids.contains(aud)))
        .filter_map(|a| {
            let content = org.answer_contents.get(&format!("{}/{language}/public", a.id))?;
            Some(json!({"id": a.id, "name": content["title"], "bodyHtml": content["bodyHtml"], "language": language, "updatedAt": a.updated_at}))
        })
        .collect();
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    out
}

fn check_org(org: &Org, id: &str) -> Result<(), GladlyError> {
    if org.organization.id == id {
        Ok(())
    } else {
        Err(GladlyError::not_exist(format!(
            "organization [{id}] does not exist"
        )))
    }
}

fn titles_only(answers: Vec<Value>) -> Vec<Value> {
    answers
        .into_iter()
        .map(|a| json!({"id": a["id"], "name": a["name"]}))
        .collect()
}

async fn list(
    State(app): State<App>,
    Path(org_id): Path<String>,
    QueryParams(filter): QueryParams<Filter>,
) -> RouteResult {
    let org = lock(&app);
    check_org(&org, &org_id)?;
    capped(published(&org, &filter), 1000)
}

async fn search(
    State(app): State<App>,
    Path(org_id): Path<String>,
    QueryParams(filter): QueryParams<Filter>,
) -> RouteResult {
    let org = lock(&app);
    check_org(&org, &org_id)?;
    let needle = filter.q.clone().unwrap_or_default().to_lowercase();
    let hits = published(&org, &filter)
        .into_iter()
        .filter(|a| {
            [&a["name"], &a["bodyHtml"]].iter().any(|v| {
                v.as_str()
                    .is_some_and(|t| t.to_lowercase().contains(&needle))
            })
        })
        .collect();
    ok_json(titles_only(hits))
}

async fn get_one(
    State(app): State<App>,
    Path((org_id, answer)): Path<(String, String)>,
    QueryParams(filter): QueryParams<Filter>,
) -> RouteResult {
    let org = lock(&app);
    check_org(&org, &org_id)?;
    let found = published(&org, &filter)
        .into_iter()
        .find(|a| a["id"] == answer.as_str());
    ok_json(found.ok_or_else(|| GladlyError::not_exist("answer does not exist"))?)
}

async fn titles(
    State(app): State<App>,
    Path((org_id, center)): Path<(String, String)>,
    QueryParams(filter): QueryParams<Filter>,
) -> RouteResult {
    let org = lock(&app);
    check_org(&org, &org_id)?;
    let placed = org
        .help_centers
        .get(&center)
        .ok_or_else(|| GladlyError::not_exist(format!("help center [{center}] does not exist")))?;
    let answers = published(&org, &filter)
        .into_iter()
        .filter(|a| {
            a["id"]
                .as_str()
                .is_some_and(|id| placed.iter().any(|p| p == id))
        })
        .collect();
    ok_json(titles_only(answers))
}
