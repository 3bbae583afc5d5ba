//! Conversations: get, the 400 rules of PATCH, topics, lists and notes.

use serde_json::{Value, json};

use super::{Api, id};

fn path(key: &str) -> String {
    format!(
        "/api/v1/conversations/{}",
        id(&format!("conversation:{key}"))
    )
}

fn items_of(state: &Value, conversation: &str, kind: &str) -> usize {
    state["items"]
        .as_object()
        .unwrap()
        .values()
        .filter(|i| {
            i["conversationId"] == id(&format!("conversation:{conversation}"))
                && i["content"]["type"] == kind
        })
        .count()
}

#[tokio::test]
async fn get_returns_metadata_and_unknown_is_404() {
    let api = Api::new().await;
    let reply = api.get(&path("grace-email")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["status"], "WAITING");
    assert_eq!(reply.json["inboxId"], id("inbox:Billing"));
    assert_eq!(
        reply.json["topicIds"],
        json!([id("topic:Billing Question")])
    );
    api.get("/api/v1/conversations/nope")
        .await
        .assert_error(404, "not_exist", None);
    api.patch(
        "/api/v1/conversations/nope",
        json!({"status": {"value": "CLOSED"}}),
    )
    .await
    .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn closing_needs_the_required_topic() {
    let api = Api::new().await;
    let reply = api
        .patch(
            &path("margaret-sms"),
            json!({"status": {"value": "CLOSED", "force": true}}),
        )
        .await;
    reply.assert_error(400, "invalid_state", Some("topicIds"));
    assert_eq!(
        reply.json["errors"][0]["meta"]["requiredTopicIds"],
        json!([id("topic:Contact Reason")])
    );
    assert_eq!(
        api.state()["conversations"][id("conversation:margaret-sms")]["status"],
        "OPEN"
    );
    // A topic nested under the required one satisfies it.
    let add = api
        .post(
            &format!("{}/topics", path("margaret-sms")),
            json!({"topicIds": [id("topic:Wrong Size")]}),
        )
        .await;
    assert_eq!(add.status, 204);
    let close = api
        .patch(
            &path("margaret-sms"),
            json!({"status": {"value": "CLOSED"}}),
        )
        .await;
    assert_eq!(close.status, 204, "{}", close.text);
    let state = api.state();
    let stored = &state["conversations"][id("conversation:margaret-sms")];
    assert_eq!(stored["status"], "CLOSED");
    assert!(stored["closedAt"].is_string());
    assert_eq!(
        items_of(&state, "margaret-sms", "CONVERSATION_STATUS_CHANGE"),
        1
    );
}

#[tokio::test]
async fn closing_while_the_customer_awaits_a_reply_needs_force() {
    let api = Api::new().await;
    api.post(
        &format!("{}/topics", path("ada-chat")),
        json!({"topicIds": [id("topic:Billing Question")]}),
    )
    .await;
    let refused = api
        .patch(&path("ada-chat"), json!({"status": {"value": "CLOSED"}}))
        .await;
    refused.assert_error(400, "invalid_state", Some("status.value"));
    assert_eq!(
        api.state()["conversations"][id("conversation:ada-chat")]["status"],
        "OPEN"
    );
    let forced = api
        .patch(
            &path("ada-chat"),
            json!({"status": {"value": "CLOSED", "force": true}}),
        )
        .await;
    assert_eq!(forced.status, 204);
    assert_eq!(
        api.state()["conversations"][id("conversation:ada-chat")]["status"],
        "CLOSED"
    );
}

#[tokio::test]
async fn a_closed_conversation_cannot_be_reassigned_but_can_reopen() {
    let api = Api::new().await;
    let body = json!({"assignee": {"inboxId": id("inbox:Support"), "agentId": id("agent:alice")}, "status": {"value": "CLOSED", "force": true}});
    api.patch(&path("alan-call"), body)
        .await
        .assert_error(400, "invalid_state", Some("assignee"));
    let reopen = api
        .patch(&path("alan-call"), json!({"status": {"value": "OPEN"}}))
        .await;
    assert_eq!(reopen.status, 204);
    let stored = &api.state()["conversations"][id("conversation:alan-call")];
    assert_eq!(stored["status"], "OPEN");
    assert!(stored.get("closedAt").is_none());
}

#[tokio::test]
async fn the_agent_must_belong_to_the_inbox() {
    let api = Api::new().await;
    let body = json!({"assignee": {"inboxId": id("inbox:Returns"), "agentId": id("agent:alice")}});
    api.patch(&path("ada-chat"), body).await.assert_error(
        400,
        "invalid_state",
        Some("assignee.agentId"),
    );
    assert_eq!(
        api.state()["conversations"][id("conversation:ada-chat")]["inboxId"],
        id("inbox:Support")
    );
    let ok = api
        .patch(
            &path("ada-chat"),
            json!({"assignee": {"inboxId": id("inbox:Billing"), "agentId": id("agent:alice")}}),
        )
        .await;
    assert_eq!(ok.status, 204);
    assert_eq!(
        api.state()["conversations"][id("conversation:ada-chat")]["inboxId"],
        id("inbox:Billing")
    );
}

#[tokio::test]
async fn blank_and_invalid_patch_values_are_400() {
    let api = Api::new().await;
    api.patch(
        &path("ada-chat"),
        json!({"assignee": {"agentId": id("agent:alice")}}),
    )
    .await
    .assert_error(400, "blank", Some("assignee.inboxId"));
    api.patch(&path("ada-chat"), json!({"status": {}}))
        .await
        .assert_error(400, "blank", Some("status.value"));
    api.patch(&path("ada-chat"), json!({"status": {"value": "WAITING"}}))
        .await
        .assert_error(400, "invalid", Some("status.value"));
    api.patch(&path("ada-chat"), json!({}))
        .await
        .assert_error(400, "blank", None);
    api.patch(&path("ada-chat"), json!({"assignee": {"inboxId": "nope"}}))
        .await
        .assert_error(400, "invalid", Some("assignee.inboxId"));
}

#[tokio::test]
async fn adding_topics_is_idempotent_and_removing_needs_the_topic() {
    let api = Api::new().await;
    let vip = id("topic:VIP");
    for _ in 0..2 {
        let reply = api
            .post(
                &format!("{}/topics", path("ada-chat")),
                json!({"topicIds": [vip, vip]}),
            )
            .await;
        assert_eq!(reply.status, 204);
    }
    let state = api.state();
    assert_eq!(
        state["conversations"][id("conversation:ada-chat")]["topicIds"],
        json!([vip])
    );
    assert_eq!(items_of(&state, "ada-chat", "TOPIC_CHANGE"), 1);
    api.post(
        &format!("{}/topics", path("ada-chat")),
        json!({"topicIds": ["nope"]}),
    )
    .await
    .assert_error(400, "invalid", Some("topicIds"));
    api.post(&format!("{}/topics", path("ada-chat")), json!({}))
        .await
        .assert_error(400, "blank", Some("topicIds"));
    let removed = api
        .delete(&format!("{}/topics/{vip}", path("ada-chat")))
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(
        api.state()["conversations"][id("conversation:ada-chat")]["topicIds"],
        json!([])
    );
    api.delete(&format!("{}/topics/{vip}", path("ada-chat")))
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn a_customers_conversations_are_oldest_first() {
    let api = Api::new().await;
    let reply = api
        .get(&format!(
            "/api/v1/customers/{}/conversations",
            id("customer:ada")
        ))
        .await;
    let mut expected = Vec::new();
    for key in ["ada-email", "ada-call", "ada-chat"] {
        expected.push(api.get(&path(key)).await.json);
    }
    assert_eq!(reply.json, Value::Array(expected));
    api.get("/api/v1/customers/nope/conversations")
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn items_are_oldest_first_filterable_by_session_and_capped_at_1000() {
    let api = Api::new().await;
    let items = api.get(&format!("{}/items", path("ada-chat"))).await;
    let texts: Vec<&str> = items
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["content"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Hi, my invoice looks wrong",
            "Let me check that for you",
            "Any news?"
        ]
    );
    let session = id("session:ada-chat");
    assert_eq!(
        api.get(&format!("{}/items?sessionId={session}", path("ada-chat")))
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        api.get(&format!("{}/items?sessionId=other", path("ada-chat")))
            .await
            .json,
        json!([])
    );
    for n in 0..998 {
        let reply = api
            .post(
                &format!("{}/notes", path("ada-chat")),
                json!({"content": {"body": format!("note {n}")}}),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    let full = api.get(&format!("{}/items", path("ada-chat"))).await;
    assert_eq!(full.json.as_array().unwrap().len(), 1000);
    assert_eq!(full.header("gladly-limited-data"), "true");
}

#[tokio::test]
async fn notes_are_201_with_location_and_readable() {
    let api = Api::new().await;
    let reply = api
        .post(
            &format!("{}/notes", path("grace-email")),
            json!({"content": {"body": "Called the bank"}}),
        )
        .await;
    assert_eq!(reply.status, 201);
    let location = reply.header("location").to_owned();
    assert!(location.starts_with(&format!("{}/notes/", path("grace-email"))));
    let note = api.get(&location).await;
    assert_eq!(
        note.json["content"],
        json!({"type": "CONVERSATION_NOTE", "body": "Called the bank"})
    );
    assert_eq!(
        items_of(&api.state(), "grace-email", "CONVERSATION_NOTE"),
        1
    );
    api.post(
        &format!("{}/notes", path("grace-email")),
        json!({"content": {}}),
    )
    .await
    .assert_error(400, "blank", Some("content.body"));
    api.get(&format!("{}/notes/nope", path("grace-email")))
        .await
        .assert_error(404, "not_exist", None);
}
