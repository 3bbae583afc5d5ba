//! Tasks: both creates, get, patch, a customer's list, comments.

use serde_json::{Value, json};

use super::{Api, id};

fn future() -> String {
    (chrono::Utc::now() + chrono::Duration::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn task(extra: &Value) -> Value {
    let mut body = json!({"assignee": {"inboxId": id("inbox:Billing"), "agentId": id("agent:alice")}, "body": "Refund", "dueAt": future()});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

#[tokio::test]
async fn create_by_email_finds_or_creates_the_customer() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/api/v1/tasks",
            task(&json!({"id": "t-1", "customer": {"emailAddress": "grace@example.com"}})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert!(reply.text.is_empty());
    assert_eq!(reply.header("location"), "/api/v1/tasks/t-1");
    let stored = api.get("/api/v1/tasks/t-1").await.json;
    assert_eq!(stored["customerId"], id("customer:grace"));
    assert_eq!(stored["status"], "OPEN");
    let created = api
        .post(
            "/api/v1/tasks",
            task(&json!({"customer": {"emailAddress": "newbie@example.com"}})),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(api.state()["customers"].as_object().unwrap().len(), 6);
}

#[tokio::test]
async fn create_for_a_customer_id_and_its_409() {
    let api = Api::new().await;
    let path = format!("/api/v1/customers/{}/tasks", id("customer:ada"));
    assert_eq!(
        api.post(&path, task(&json!({"id": "t-2"}))).await.status,
        201
    );
    api.post(&path, task(&json!({"id": "t-2"})))
        .await
        .assert_error(409, "taken", Some("newConversationItems"));
    api.post("/api/v1/customers/nope/tasks", task(&json!({})))
        .await
        .assert_error(404, "not_exist", None);
    assert_eq!(api.state()["tasks"].as_object().unwrap().len(), 4);
}

#[tokio::test]
async fn create_rules_are_400() {
    let api = Api::new().await;
    let path = format!("/api/v1/customers/{}/tasks", id("customer:ada"));
    api.post(&path, task(&json!({"dueAt": "2001-01-01T00:00:00.000Z"})))
        .await
        .assert_error(400, "invalid", Some("dueAt"));
    api.post(&path, task(&json!({"body": ""})))
        .await
        .assert_error(400, "blank", Some("body"));
    api.post(
        &path,
        task(&json!({"assignee": {"inboxId": id("inbox:Returns"), "agentId": id("agent:bob")}})),
    )
    .await
    .assert_error(400, "invalid_state", Some("assignee.agentId"));
    api.post(&path, task(&json!({"assignee": {}})))
        .await
        .assert_error(400, "blank", Some("assignee.inboxId"));
    api.post("/api/v1/tasks", task(&json!({})))
        .await
        .assert_error(400, "blank", Some("customer"));
    assert_eq!(api.state()["tasks"].as_object().unwrap().len(), 3);
}

#[tokio::test]
async fn patch_changes_status_body_and_assignee() {
    let api = Api::new().await;
    let task_path = format!("/api/v1/tasks/{}", id("task:grace-refund"));
    let reply = api.patch(&task_path, json!({"status": "CLOSED", "body": "Done", "assignee": {"inboxId": id("inbox:Returns")}})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let stored = &api.state()["tasks"][id("task:grace-refund")];
    assert_eq!(stored["status"], "CLOSED");
    assert_eq!(stored["body"], "Done");
    assert_eq!(stored["assignee"]["inboxId"], id("inbox:Returns"));
    api.patch(&task_path, json!({"status": "DONE"}))
        .await
        .assert_error(400, "invalid", Some("status"));
    api.patch("/api/v1/tasks/nope", json!({"status": "CLOSED"}))
        .await
        .assert_error(404, "not_exist", None);
    api.get("/api/v1/tasks/nope")
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn a_customers_tasks_are_newest_first_and_filter_by_status() {
    let api = Api::new().await;
    let ada = id("customer:ada");
    let path = format!("/api/v1/customers/{ada}/tasks");
    api.post(&path, task(&json!({"id": "newest"}))).await;
    let all = api.get(&path).await.json;
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["newest", id("task:ada-invoice").as_str()]);
    let closed = api
        .get(&format!(
            "/api/v1/customers/{}/tasks?status=CLOSED",
            id("customer:alan")
        ))
        .await
        .json;
    assert_eq!(closed.as_array().unwrap().len(), 1);
    assert_eq!(
        api.get(&format!(
            "/api/v1/customers/{}/tasks?status=OPEN",
            id("customer:alan")
        ))
        .await
        .json,
        json!([])
    );
    api.get(&format!("{path}?status=OPEN&status=CLOSED"))
        .await
        .assert_error(400, "invalid", Some("query"));
    api.get(&format!("{path}?status=LATE"))
        .await
        .assert_error(400, "invalid", Some("status"));
}

#[tokio::test]
async fn comments_are_201_and_closed_tasks_refuse_them() {
    let api = Api::new().await;
    let open = format!("/api/v1/tasks/{}/comments", id("task:grace-refund"));
    let reply = api
        .post(
            &open,
            json!({"id": "c-1", "agentId": id("agent:carol"), "comment": "Bank confirmed"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("location"), format!("{open}/c-1"));
    let list = api.get(&open).await.json;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[1]["comment"], "Bank confirmed");
    assert_eq!(
        api.get(&format!("{open}/c-1")).await.json["agentId"],
        id("agent:carol")
    );
    api.post(&open, json!({"agentId": "nope", "comment": "x"}))
        .await
        .assert_error(400, "invalid", Some("agentId"));
    api.post(&open, json!({"agentId": id("agent:carol")}))
        .await
        .assert_error(400, "blank", Some("comment"));
    let closed = format!("/api/v1/tasks/{}/comments", id("task:alan-followup"));
    api.post(
        &closed,
        json!({"agentId": id("agent:bob"), "comment": "late"}),
    )
    .await
    .assert_error(400, "invalid_state", None);
    assert_eq!(api.state()["comments"].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn a_customers_tasks_are_capped_at_2000() {
    let api = Api::new().await;
    let path = format!("/api/v1/customers/{}/tasks", id("customer:katherine"));
    for n in 0..2001 {
        assert_eq!(
            api.post(&path, task(&json!({"id": format!("bulk-{n:04}")})))
                .await
                .status,
            201
        );
    }
    let reply = api.get(&path).await;
    assert_eq!(reply.json.as_array().unwrap().len(), 2000);
    assert_eq!(reply.header("gladly-limited-data"), "true");
    assert_eq!(reply.json[0]["id"], "bulk-2000", "newest first");
}
