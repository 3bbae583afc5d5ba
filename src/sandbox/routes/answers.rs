//! Answer management: create (200 with the answer; a duplicate name is 409 `taken` with
//! `meta.existingAnswerId`, which the seed scripts use to switch to an update), get, patch
//! (a duplicate name is 400), delete (refused while in use), and content per language
//! and type (`public`, `email`, `messaging`, `reference`) with each type's required fields.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{App, JsonBody, check_client_id, check_len, lock, no_content, ok_json, required};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Answer, Org};

/// The answer routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/answers", post(create))
        .route(
            "/api/v1/answers/{id}",
            get(get_one).patch(update).delete(remove),
        )
        .route(
            "/api/v1/answers/{id}/languages/{language}/type/{kind}",
            get(get_content).put(put_content).delete(delete_content),
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerIn {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    audience_ids: Option<Vec<String>>,
}

fn not_found() -> GladlyError {
    GladlyError::not_exist("answer does not exist")
}

fn owner_of_name<'a>(org: &'a Org, name: &str, except: Option<&str>) -> Option<&'a Answer> {
    org.answers
        .values()
        .find(|a| a.name.eq_ignore_ascii_case(name) && Some(a.id.as_str()) != except)
}

fn check_name(name: Option<&str>) -> Result<String, GladlyError> {
    let name = required("name", name)?.to_owned();
    check_len("name", Some(&name), 500)?;
    Ok(name)
}

fn check_extras(org: &Org, input: &AnswerIn) -> Result<(), GladlyError> {
    check_len("description", input.description.as_deref(), 10_000)?;
    if let Some(unknown) = input
        .audience_ids
        .iter()
        .flatten()
        .find(|a| !org.audiences.contains_key(*a))
    {
        return Err(GladlyError::invalid(
            "audienceIds",
            format!("audience [{unknown}] does not exist"),
        ));
    }
    Ok(())
}

fn answer_json(answer: &Answer) -> Value {
    let mut out = json!({"id": answer.id, "name": answer.name,
           "audienceIds": answer.audience_ids, "createdAt": answer.created_at, "updatedAt": answer.updated_at});
    with_description(&mut out, answer);
    out
}

/// The description when the answer has one: absent, never null (the reference types it
/// as a string).
fn with_description(out: &mut Value, answer: &Answer) {
    if let Some(description) = &answer.description {
        out["description"] = json!(description);
    }
}

async fn create(State(app): State<App>, JsonBody(input): JsonBody<AnswerIn>) -> RouteResult {
    let mut org = lock(&app);
    check_client_id(input.id.as_deref())?;
    if input
        .id
        .as_ref()
        .is_some_and(|id| org.answers.contains_key(id))
    {
        return Err(GladlyError::taken("id", "answer id already taken"));
    }
    let name = check_name(input.name.as_deref())?;
    check_extras(&org, &input)?;
    if let Some(owner) = owner_of_name(&org, &name, None) {
        return Err(GladlyError::taken("name", "duplicate answer name")
            .with_meta("existingAnswerId", owner.id.clone()));
    }
    let id = input.id.unwrap_or_else(|| org.new_id());
    let now = org.now();
    let answer = Answer {
        id: id.clone(),
        name,
        description: input.description,
        audience_ids: input.audience_ids.unwrap_or_default(),
        created_at: now.clone(),
        updated_at: now,
        in_use: false,
    };
    let mut body = json!({"id": answer.id, "name": answer.name,
                      "audienceIds": answer.audience_ids, "createdAt": answer.created_at});
    with_description(&mut body, &answer);
    org.answers.insert(id, answer);
    ok_json(body)
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    ok_json(answer_json(org.answers.get(&id).ok_or_else(not_found)?))
}

async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AnswerIn>,
) -> RouteResult {
    let mut org = lock(&app);
    let mut answer = org.answers.get(&id).cloned().ok_or_else(not_found)?;
    if input.name.is_some() {
        let name = check_name(input.name.as_deref())?;
        if owner_of_name(&org, &name, Some(&id)).is_some() {
            // PATCH reports a duplicate name as 400, unlike POST's 409.
            return Err(GladlyError::new(
                StatusCode::BAD_REQUEST,
                Some("name"),
                "taken",
                "duplicate answer name",
            ));
        }
        answer.name = name;
    }
    check_extras(&org, &input)?;
    if input.description.is_some() {
        answer.description = input.description;
    }
    if let Some(audiences) = input.audience_ids {
        answer.audience_ids = audiences;
    }
    answer.updated_at = org.now();
    org.answers.insert(id, answer);
    no_content()
}

async fn remove(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let mut org = lock(&app);
    let answer = org.answers.get(&id).ok_or_else(not_found)?;
    if answer.in_use {
        return Err(GladlyError::new(
            StatusCode::BAD_REQUEST,
            Some("id"),
            "in_use",
            "answer is used by a rule or a Help Center section",
        ));
    }
    org.answers.remove(&id);
    let prefix = format!("{id}/");
    org.answer_contents
        .retain(|key, _| !key.starts_with(&prefix));
    no_content()
}

/// Checks the language and type of a content address; returns the storage key.
fn content_key(org: &Org, id: &str, language: &str, kind: &str) -> Result<String, GladlyError> {
    let well_formed = language.len() >= 2
        && language
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphabetic()));
    if !well_formed {
        return Err(GladlyError::invalid(
            "language",
            format!("[{language}] is not a language code"),
        ));
    }
    if !org
        .languages
        .iter()
        .any(|l| l.eq_ignore_ascii_case(language))
    {
        return Err(GladlyError::invalid(
            "language",
            format!(
                "language [{language}] is not configured for the organization ({})",
                org.languages.join(", ")
            ),
        ));
    }
    if !matches!(kind, "public" | "email" | "messaging" | "reference") {
        return Err(GladlyError::invalid(
            "type",
            format!("[{kind}] must be public, email, messaging or reference"),
        ));
    }
    if !org.answers.contains_key(id) {
        return Err(not_found());
    }
    Ok(format!("{id}/{}/{kind}", language.to_lowercase()))
}

async fn get_content(
    State(app): State<App>,
    Path((id, language, kind)): Path<(String, String, String)>,
) -> RouteResult {
    let org = lock(&app);
    let key = content_key(&org, &id, &language, &kind)?;
    ok_json(
        org.answer_contents
            .get(&key)
            .ok_or_else(|| GladlyError::not_exist("answer content does not exist"))?,
    )
}

async fn put_content(
    State(app): State<App>,
    Path((id, language, kind)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    let key = content_key(&org, &id, &language, &kind)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    let mut content = Map::new();
    content.insert("answerId".into(), json!(id));
    content.insert("language".into(), json!(language.to_lowercase()));
    content.insert("type".into(), json!(kind));
    content.insert(
        "bodyHtml".into(),
        json!(required("bodyHtml", text("bodyHtml"))?),
    );
    match kind.as_str() {
        "public" => {
            content.insert("title".into(), json!(required("title", text("title"))?));
        }
        "email" => {
            content.insert(
                "subject".into(),
                json!(required("subject", text("subject"))?),
            );
        }
        "reference" => {
            let internal = body
                .get("internal")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            content.insert("internal".into(), json!(internal));
        }
        _ => {}
    }
    let content = Value::Object(content);
    org.answer_contents.insert(key, content.clone());
    let now = org.now();
    if let Some(answer) = org.answers.get_mut(&id) {
        answer.updated_at = now;
    }
    ok_json(content)
}

async fn delete_content(
    State(app): State<App>,
    Path((id, language, kind)): Path<(String, String, String)>,
) -> RouteResult {
    let mut org = lock(&app);
    let key = content_key(&org, &id, &language, &kind)?;
    org.answer_contents
        .remove(&key)
        .ok_or_else(|| GladlyError::not_exist("answer content does not exist"))?;
    no_content()
}
