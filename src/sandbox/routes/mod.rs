//! The router: which Gladly paths the sandbox simulates (every operation of the catalog),
//! and the small response helpers every resource shares (JSON bodies parsed into Gladly
//! errors, 201 + `Location`, capped lists with `Gladly-Limited-Data`). One file per Gladly
//! resource; a request no route matches answers 501 (a catalog operation) or 404.

mod agents;
mod answers;
mod audiences;
mod business_hours;
mod campaigns;
mod communications;
mod conversations;
mod custom_attributes;
mod customers;
mod events;
mod export;
mod fallback;
mod identity;
mod inboxes;
mod inspect;
mod items;
mod organization;
mod public_answers;
mod reports;
mod tasks;
mod teams;
mod topics;
mod webhooks;

use std::sync::MutexGuard;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(super) use fallback::operation_of;

use super::error::{GladlyError, RouteResult};
use super::state::Org;
use super::{App, gate};

/// The catalog operations the sandbox simulates: all 80 of them. A request the router
/// does not match still gets a 501 naming its operation, should the catalog grow.
pub(super) const SIMULATED: [&str; 80] = [
    "getAgents",
    "getAgent",
    "getAgentCallRecording",
    "updateAgentCallRecording",
    "addAnswer",
    "getAnswerById",
    "updateAnswer",
    "deleteAnswer",
    "getAnswerContentByLanguageAndType",
    "addAnswerContentByLanguageAndType",
    "deleteAnswerContentByLanguageAndType",
    "getAudiences",
    "getBusinessHours",
    "createBusinessHours",
    "getBusinessHoursById",
    "updateBusinessHours",
    "deleteBusinessHours",
    "createRecipientCollection",
    "sendEmail",
    "sendSMS",
    "createItem",
    "getItem",
    "deleteItem",
    "getAttachment",
    "getMedia",
    "redactContent",
    "replyToMessage",
    "getVoiceTranscript",
    "getConversation",
    "patchConversation",
    "getConversationItems",
    "addNoteToConversation",
    "getNoteFromConversation",
    "addTopicToConversation",
    "deleteTopicFromConversation",
    "getCustomAttribute",
    "updateConversationCustomAttributes",
    "findCustomers",
    "createCustomer",
    "getCustomer",
    "updateCustomer",
    "deleteCustomer",
    "createCustomerItem",
    "deleteCustomerItem",
    "getConversations",
    "getTasks",
    "createTask",
    "getEvents",
    "findJobs",
    "getJob",
    "deleteJob",
    "getFile",
    "findSchedules",
    "getInboxes",
    "getInbox",
    "getOrganization",
    "listAnswers",
    "searchAnswers",
    "getAnswer",
    "getAnswerTitles",
    "generateReport",
    "generateWorkSessionReport",
    "createTaskAndCustomer",
    "getTask",
    "updateTask",
    "getTaskComments",
    "createTaskComment",
    "getTaskComment",
    "getTeams",
    "getTeam",
    "getTopics",
    "addTopic",
    "getTopic",
    "updateTopic",
    "createUserIdentityJWT",
    "getWebhooks",
    "createWebhook",
    "getWebhook",
    "updateWebhook",
    "deleteWebhook",
];

/// Builds the full router with the gate around the API routes.
pub(super) fn router(app: App) -> Router {
    let api = Router::new()
        .merge(customers::routes())
        .merge(conversations::routes())
        .merge(items::routes())
        .merge(tasks::routes())
        .merge(topics::routes())
        .merge(answers::routes())
        .route("/api/v1/inboxes", get(inboxes::list))
        .route("/api/v1/inboxes/{id}", get(inboxes::get_one))
        .route("/api/v1/agents", get(agents::list))
        .route("/api/v1/agents/{id}", get(agents::get_one))
        .route(
            "/api/v1/agents/{id}/call-recorder",
            get(agents::get_recorder).patch(agents::set_recorder),
        )
        .merge(business_hours::routes())
        .merge(custom_attributes::routes())
        .merge(communications::routes())
        .merge(public_answers::routes())
        .route(
            "/api/v1/campaigns/{id}/recipient-collections",
            post(campaigns::create),
        )
        .route("/api/v1/user-identity-jwt", post(identity::create))
        .route("/api/v1/teams", get(teams::list))
        .route("/api/v1/teams/{id}", get(teams::get_one))
        .route("/api/v1/audiences", get(audiences::list))
        .route("/api/v1/organization", get(organization::get_one))
        .merge(webhooks::routes())
        .merge(export::routes())
        .route("/api/v1/reports", post(reports::generate))
        .route(
            "/api/v1/reports/work-session-events",
            post(reports::work_sessions),
        )
        .route("/api/v1/events", get(events::stream))
        .route("/__sandbox/state", get(inspect::state))
        .route("/__sandbox/requests", get(inspect::requests))
        .route("/__sandbox/reset-log", delete(inspect::clear_log))
        .route(
            "/__sandbox/attachments/{item}/{attachment}",
            get(inspect::attachment),
        )
        .fallback(fallback::not_simulated)
        .method_not_allowed_fallback(fallback::method_not_allowed);
    api.layer(axum::middleware::from_fn_with_state(
        Arc::clone(&app),
        gate::gate,
    ))
    .with_state(app)
}

use std::sync::Arc;

/// Locks the org for the length of one synchronous handler body.
pub(super) fn lock(app: &App) -> MutexGuard<'_, Org> {
    app.org.lock().expect("org lock")
}

/// A JSON request body whose parse failures answer Gladly-shaped 400s.
pub(super) struct JsonBody<T>(pub(super) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = GladlyError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Whether the API reference requires a body for this operation.
        let required = fallback::operation_of(req.method().as_str(), req.uri().path())
            .and_then(|op| op.body.as_ref())
            .is_some_and(|body| body.required);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                GladlyError::invalid("body", format!("could not read the request body: {e}"))
            })?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            if required {
                return Err(GladlyError::blank("body", "a request body must be present"));
            }
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text)
            .map(JsonBody)
            .map_err(|e| GladlyError::invalid("body", format!("request body is not valid: {e}")))
    }
}

/// Query parameters whose parse failures answer Gladly-shaped 400s.
pub(super) struct QueryParams<T>(pub(super) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = GladlyError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| QueryParams(value))
            .map_err(|e| {
                GladlyError::invalid(
                    "query",
                    format!("query string is not valid: {}", e.body_text()),
                )
            })
    }
}

/// 200 with a JSON body.
#[allow(clippy::unnecessary_wraps)] // handlers end with it and `?` before it
pub(super) fn ok_json(value: impl serde::Serialize) -> RouteResult {
    Ok(axum::Json(value).into_response())
}

/// 201 with a `Location` header and no body.
#[allow(clippy::unnecessary_wraps)] // handlers end with it and `?` before it
pub(super) fn created(location: &str) -> RouteResult {
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// 204 with no body.
#[allow(clippy::unnecessary_wraps)] // handlers end with it and `?` before it
pub(super) fn no_content() -> RouteResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// 200 with at most `cap` entries; `Gladly-Limited-Data: true` when some were left out.
#[allow(clippy::unnecessary_wraps)] // handlers end with it and `?` before it
pub(super) fn capped(mut values: Vec<Value>, cap: usize) -> RouteResult {
    let limited = values.len() > cap;
    values.truncate(cap);
    let mut response = axum::Json(values).into_response();
    if limited {
        response
            .headers_mut()
            .insert("gladly-limited-data", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A text response with the given media type.
pub(super) fn text(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Serialises a record into JSON.
pub(super) fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("records serialise")
}

/// Checks an optional client-supplied id (URL safe, under 50 characters).
pub(super) fn check_client_id(id: Option<&str>) -> Result<(), GladlyError> {
    match id {
        Some(id) if !super::state::valid_client_id(id) => Err(GladlyError::invalid(
            "id",
            "id contains unsupported characters or is 50 characters or longer",
        )),
        _ => Ok(()),
    }
}

/// Checks a string's length against a Gladly limit.
pub(super) fn check_len(attr: &str, value: Option<&str>, max: usize) -> Result<(), GladlyError> {
    match value {
        Some(v) if v.chars().count() > max => Err(GladlyError::too_long(attr, max)),
        _ => Ok(()),
    }
}

/// A required, non-blank string.
pub(super) fn required<'a>(attr: &str, value: Option<&'a str>) -> Result<&'a str, GladlyError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(GladlyError::blank(attr, format!("{attr} must be present"))),
    }
}

#[cfg(test)]
mod tests {
    use super::SIMULATED;
    use crate::catalog;

    #[test]
    fn every_simulated_operation_is_a_distinct_catalog_operation() {
        let mut seen = std::collections::HashSet::new();
        for id in SIMULATED {
            assert!(
                catalog::gladly().get(id).is_some(),
                "{id} is not in the catalog"
            );
            assert!(seen.insert(id), "{id} is listed twice");
        }
    }
}
