//! Tasks: create for a customer found/created by email or mobile, or known by id (201 +
//! `Location`), get, patch, a customer's tasks (2000, newest first, `?status`), and
//! comments (closed tasks refuse new ones).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    App, JsonBody, QueryParams, capped, check_client_id, check_len, created, lock, no_content,
    ok_json, required, to_json,
};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Comment, Org, Task, format_ts, parse_ts};

/// The task routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/tasks", post(create_for_reference))
        .route(
            "/api/v1/customers/{id}/tasks",
            post(create_for_customer).get(list_for_customer),
        )
        .route("/api/v1/tasks/{id}", get(get_one).patch(update))
        .route(
            "/api/v1/tasks/{id}/comments",
            post(add_comment).get(list_comments),
        )
        .route("/api/v1/tasks/{id}/comments/{comment}", get(get_comment))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssigneeIn {
    inbox_id: Option<String>,
    agent_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewTask {
    id: Option<String>,
    assignee: Option<AssigneeIn>,
    body: Option<String>,
    due_at: Option<String>,
    customer: Option<Value>,
}

fn not_found(id: &str) -> GladlyError {
    GladlyError::not_exist(format!("task [{id}] does not exist"))
}

/// Checks an assignee and returns it as stored JSON.
fn check_assignee(org: &Org, assignee: Option<&AssigneeIn>) -> Result<Value, GladlyError> {
    let assignee =
        assignee.ok_or_else(|| GladlyError::blank("assignee", "assignee must be present"))?;
    let inbox = required("assignee.inboxId", assignee.inbox_id.as_deref())?;
    if !org.inboxes.contains_key(inbox) {
        return Err(GladlyError::invalid(
            "assignee.inboxId",
            format!("inbox [{inbox}] does not exist"),
        ));
    }
    if let Some(agent) = assignee.agent_id.as_deref() {
        if !org.agents.contains_key(agent) {
            return Err(GladlyError::invalid(
                "assignee.agentId",
                format!("agent [{agent}] does not exist"),
            ));
        }
        if !org.agent_in_inbox(agent, inbox) {
            return Err(GladlyError::invalid_state(
                "assignee.agentId",
                format!("agent [{agent}] is not a member of inbox [{inbox}]"),
            ));
        }
    }
    Ok(json!({"inboxId": inbox, "agentId": assignee.agent_id}))
}

fn check_due(org: &Org, due: Option<&str>) -> Result<String, GladlyError> {
    let due = required("dueAt", due)?;
    let at = parse_ts(due)
        .ok_or_else(|| GladlyError::invalid("dueAt", format!("[{due}] is not a date-time")))?;
    if at <= org.clock.now() {
        return Err(GladlyError::invalid("dueAt", "dueAt must be in the future"));
    }
    Ok(format_ts(at))
}

/// Validates a new task (all but the customer) and returns `(id, assignee, body, dueAt)`.
fn check_new(
    org: &Org,
    task: &NewTask,
) -> Result<(Option<String>, Value, String, String), GladlyError> {
    check_client_id(task.id.as_deref())?;
    if task
        .id
        .as_ref()
        .is_some_and(|id| org.tasks.contains_key(id))
    {
        return Err(GladlyError::taken(
            "newConversationItems",
            "task already exists",
        ));
    }
    let assignee = check_assignee(org, task.assignee.as_ref())?;
    let body = required("body", task.body.as_deref())?.to_owned();
    check_len("body", Some(&body), 10_000)?;
    let due = check_due(org, task.due_at.as_deref())?;
    Ok((task.id.clone(), assignee, body, due))
}

fn insert(
    org: &mut Org,
    checked: (Option<String>, Value, String, String),
    customer_id: String,
) -> String {
    let (id, assignee, body, due_at) = checked;
    let id = id.unwrap_or_else(|| org.new_id());
    org.emit(
        "TASK/CREATED",
        None,
        json!({"taskId": id, "customerId": customer_id}),
    );
    let now = org.now();
    org.tasks.insert(
        id.clone(),
        Task {
            id: id.clone(),
            customer_id,
            timestamp: now,
            created_by: json!({"id": "api", "type": "API"}),
            assignee,
            body,
            due_at,
            status: "OPEN".into(),
        },
    );
    id
}

async fn create_for_reference(
    State(app): State<App>,
    JsonBody(task): JsonBody<NewTask>,
) -> RouteResult {
    let mut org = lock(&app);
    let checked = check_new(&org, &task)?;
    let customer_id = super::customers::find_or_create(&mut org, task.customer.as_ref())?;
    let id = insert(&mut org, checked, customer_id);
    drop(org);
    created(&format!("/api/v1/tasks/{id}"))
}

async fn create_for_customer(
    State(app): State<App>,
    Path(customer): Path<String>,
    JsonBody(task): JsonBody<NewTask>,
) -> RouteResult {
    let mut org = lock(&app);
    if !org.customers.contains_key(&customer) {
        return Err(super::customers::not_found(&customer));
    }
    let checked = check_new(&org, &task)?;
    let id = insert(&mut org, checked, customer);
    drop(org);
    created(&format!("/api/v1/tasks/{id}"))
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.tasks.get(&id).ok_or_else(|| not_found(&id))?)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskPatch {
    status: Option<String>,
    body: Option<String>,
    due_at: Option<String>,
    assignee: Option<AssigneeIn>,
}

async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<TaskPatch>,
) -> RouteResult {
    let mut org = lock(&app);
    let mut task = org.tasks.get(&id).cloned().ok_or_else(|| not_found(&id))?;
    let mut events = Vec::new();
    if let Some(status) = patch.status.as_deref() {
        if !matches!(status, "OPEN" | "CLOSED") {
            return Err(GladlyError::invalid(
                "status",
                format!("[{status}] must be OPEN or CLOSED"),
            ));
        }
        if task.status != status {
            events.push(if status == "CLOSED" {
                "TASK/CLOSED"
            } else {
                "TASK/REOPENED"
            });
            status.clone_into(&mut task.status);
        }
    }
    if let Some(body) = patch.body {
        required("body", Some(&body))?;
        check_len("body", Some(&body), 10_000)?;
        task.body = body;
        events.push("TASK/CONTENT_UPDATED");
    }
    if let Some(due) = patch.due_at.as_deref() {
        task.due_at = check_due(&org, Some(due))?;
        events.push("TASK/DUE_DATE_UPDATED");
    }
    if patch.assignee.is_some() {
        task.assignee = check_assignee(&org, patch.assignee.as_ref())?;
        events.push("TASK/ASSIGNEE_UPDATED");
    }
    for kind in events {
        org.emit(
            kind,
            None,
            json!({"taskId": id, "customerId": task.customer_id}),
        );
    }
    org.tasks.insert(id, task);
    no_content()
}

#[derive(Debug, Deserialize)]
struct TasksQuery {
    status: Option<String>,
}

async fn list_for_customer(
    State(app): State<App>,
    Path(customer): Path<String>,
    QueryParams(query): QueryParams<TasksQuery>,
) -> RouteResult {
    let org = lock(&app);
    if !org.customers.contains_key(&customer) {
        return Err(super::customers::not_found(&customer));
    }
    if let Some(status) = query
        .status
        .as_deref()
        .filter(|s| !matches!(*s, "OPEN" | "CLOSED"))
    {
        return Err(GladlyError::invalid(
            "status",
            format!("[{status}] must be OPEN or CLOSED"),
        ));
    }
    let mut list: Vec<&Task> = org
        .tasks
        .values()
        .filter(|t| t.customer_id == customer)
        .filter(|t| query.status.as_deref().is_none_or(|s| t.status == s))
        .collect();
    list.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| b.id.cmp(&a.id)));
    capped(list.into_iter().map(to_json).collect(), 2000)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewComment {
    id: Option<String>,
    agent_id: Option<String>,
    // The spec requires `message` but defines `comment`: accept both.
    #[serde(alias = "message")]
    comment: Option<String>,
}

async fn add_comment(
    State(app): State<App>,
    Path(task_id): Path<String>,
    JsonBody(new): JsonBody<NewComment>,
) -> RouteResult {
    let mut org = lock(&app);
    let task = org.tasks.get(&task_id).ok_or_else(|| not_found(&task_id))?;
    if task.status == "CLOSED" {
        return Err(GladlyError::invalid_state(
            "taskId",
            "comments cannot be added to a CLOSED task",
        ));
    }
    let customer_id = task.customer_id.clone();
    check_client_id(new.id.as_deref())?;
    if new
        .id
        .as_ref()
        .is_some_and(|id| org.comments.contains_key(id))
    {
        return Err(GladlyError::taken("id", "task comment already exists"));
    }
    let agent = required("agentId", new.agent_id.as_deref())?.to_owned();
    if !org.agents.contains_key(&agent) {
        return Err(GladlyError::invalid(
            "agentId",
            format!("agent [{agent}] does not exist"),
        ));
    }
    let comment = required("comment", new.comment.as_deref())?.to_owned();
    check_len("comment", Some(&comment), 10_000)?;
    let id = new.id.unwrap_or_else(|| org.new_id());
    let now = org.now();
    org.comments.insert(
        id.clone(),
        Comment {
            id: id.clone(),
            task_id: task_id.clone(),
            agent_id: agent,
            comment,
            created_at: now,
        },
    );
    org.emit(
        "TASK/COMMENT_ADDED",
        None,
        json!({"taskId": task_id, "customerId": customer_id, "commentId": id}),
    );
    drop(org);
    created(&format!("/api/v1/tasks/{task_id}/comments/{id}"))
}

async fn list_comments(State(app): State<App>, Path(task_id): Path<String>) -> RouteResult {
    let org = lock(&app);
    org.tasks.get(&task_id).ok_or_else(|| not_found(&task_id))?;
    let mut list: Vec<&Comment> = org
        .comments
        .values()
        .filter(|c| c.task_id == task_id)
        .collect();
    list.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    capped(list.into_iter().map(to_json).collect(), 1000)
}

async fn get_comment(
    State(app): State<App>,
    Path((task_id, id)): Path<(String, String)>,
) -> RouteResult {
    let org = lock(&app);
    org.tasks.get(&task_id).ok_or_else(|| not_found(&task_id))?;
    let comment = org
        .comments
        .get(&id)
        .filter(|c| c.task_id == task_id)
        .ok_or_else(|| GladlyError::not_exist(format!("task comment [{id}] does not exist")))?;
    ok_json(comment)
}
