//! Conversation items: create activities (find-or-create), get, delete, redact, recording.

use serde_json::{Value, json};

use super::{Api, id, is_gladly_id, is_gladly_timestamp};

fn activity() -> Value {
    json!({"type": "CUSTOMER_ACTIVITY", "activityType": "ISSUE", "title": "Order shipped", "body": "On its way", "sourceName": "Shop"})
}

#[tokio::test]
async fn create_for_a_known_email_attaches_to_that_customer() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/api/v1/conversation-items",
            json!({"customer": {"emailAddress": "ADA@example.com"}, "content": activity()}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["customerId"], id("customer:ada"));
    assert!(is_gladly_id(reply.json["id"].as_str().unwrap()));
    assert!(is_gladly_timestamp(
        reply.json["timestamp"].as_str().unwrap()
    ));
    assert!(
        reply.json.get("conversationId").is_none(),
        "API items sit outside conversations"
    );
    let stored = &api.state()["items"][reply.json["id"].as_str().unwrap()];
    assert_eq!(stored["content"]["title"], "Order shipped");
    assert_eq!(
        api.get(&format!(
            "/api/v1/conversation-items/{}",
            reply.json["id"].as_str().unwrap()
        ))
        .await
        .json,
        reply.json
    );
}

#[tokio::test]
async fn create_for_an_unknown_email_or_mobile_creates_the_customer() {
    let api = Api::new().await;
    let by_email = api
        .post(
            "/api/v1/conversation-items",
            json!({"customer": {"emailAddress": "zed@example.com"}, "content": activity()}),
        )
        .await;
    let by_mobile = api
        .post(
            "/api/v1/conversation-items",
            json!({"customer": {"mobilePhone": "+14155550177"}, "content": activity()}),
        )
        .await;
    assert_eq!((by_email.status, by_mobile.status), (200, 200));
    let state = api.state();
    assert_eq!(state["customers"].as_object().unwrap().len(), 7);
    let zed = &state["customers"][by_email.json["customerId"].as_str().unwrap()];
    assert_eq!(zed["emails"][0]["normalized"], "zed@example.com");
    let mobile = &state["customers"][by_mobile.json["customerId"].as_str().unwrap()];
    assert_eq!(mobile["phones"][0]["type"], "MOBILE");
    // A known mobile finds Grace.
    let grace = api
        .post(
            "/api/v1/conversation-items",
            json!({"customer": {"mobilePhone": "+14155550102"}, "content": activity()}),
        )
        .await;
    assert_eq!(grace.json["customerId"], id("customer:grace"));
}

#[tokio::test]
async fn create_rules_are_400_and_409() {
    let api = Api::new().await;
    let ada = json!({"emailAddress": "ada@example.com"});
    api.post("/api/v1/conversation-items", json!({"content": activity()}))
        .await
        .assert_error(400, "blank", Some("customer"));
    api.post("/api/v1/conversation-items", json!({"customer": {"emailAddress": "a@b.co", "mobilePhone": "+14155550000"}, "content": activity()}))
        .await
        .assert_error(400, "invalid", Some("customer"));
    api.post(
        "/api/v1/conversation-items",
        json!({"customer": ada, "content": {"type": "EMAIL"}}),
    )
    .await
    .assert_error(400, "invalid", Some("content.type"));
    api.post(
        "/api/v1/conversation-items",
        json!({"customer": ada, "content": {"type": "CUSTOMER_ACTIVITY"}}),
    )
    .await
    .assert_error(400, "blank", Some("content.activityType"));
    let long =
        json!({"type": "CUSTOMER_ACTIVITY", "activityType": "SMS", "title": "x".repeat(101)});
    api.post(
        "/api/v1/conversation-items",
        json!({"customer": ada, "content": long}),
    )
    .await
    .assert_error(400, "too_long", Some("content.title"));
    api.post(
        "/api/v1/conversation-items",
        json!({"id": "bad id", "customer": ada, "content": activity()}),
    )
    .await
    .assert_error(400, "invalid", Some("id"));
    let first = api
        .post(
            "/api/v1/conversation-items",
            json!({"id": "evt-1", "customer": ada, "content": activity()}),
        )
        .await;
    assert_eq!(first.status, 200);
    api.post(
        "/api/v1/conversation-items",
        json!({"id": "evt-1", "customer": ada, "content": activity()}),
    )
    .await
    .assert_error(409, "taken", Some("newConversationItems"));
    let count = api.state()["items"]
        .as_object()
        .unwrap()
        .values()
        .filter(|i| i["id"] == "evt-1")
        .count();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn create_for_a_customer_id_and_merged_ids_move() {
    let api = Api::new().await;
    let grace = id("customer:grace");
    let reply = api
        .post(
            &format!("/api/v1/customers/{grace}/conversation-items"),
            json!({"content": activity()}),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["customerId"], grace);
    let old = id("customer:ada-old");
    let moved = api
        .post(
            &format!("/api/v1/customers/{old}/conversation-items"),
            json!({"content": activity()}),
        )
        .await;
    moved.assert_error(301, "moved", Some("customer id"));
    assert!(moved.header("location").ends_with(&format!(
        "/api/v1/customers/{}/conversation-items",
        id("customer:ada")
    )));
    api.post(
        "/api/v1/customers/nope/conversation-items",
        json!({"content": activity()}),
    )
    .await
    .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn only_customer_activity_can_be_deleted() {
    let api = Api::new().await;
    let activity_id = id("item:katherine-activity");
    api.delete(&format!(
        "/api/v1/conversation-items/{}",
        id("item:ada-chat-0")
    ))
    .await
    .assert_error(400, "invalid", None);
    let scoped_wrong = api
        .delete(&format!(
            "/api/v1/customers/{}/conversation-items/{activity_id}",
            id("customer:ada")
        ))
        .await;
    scoped_wrong.assert_error(404, "not_exist", None);
    let ok = api
        .delete(&format!(
            "/api/v1/customers/{}/conversation-items/{activity_id}",
            id("customer:katherine")
        ))
        .await;
    assert_eq!(ok.status, 204);
    assert!(api.state()["items"].get(&activity_id).is_none());
    api.get(&format!("/api/v1/conversation-items/{activity_id}"))
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn redact_blanks_content_and_answers_201_with_location() {
    let api = Api::new().await;
    let chat = id("item:ada-chat-0");
    let reply = api
        .post(
            &format!("/api/v1/conversation-items/{chat}/redact"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.header("location"),
        format!("/api/v1/conversation-items/{chat}")
    );
    assert_eq!(api.state()["items"][&chat]["content"]["content"], "");
    let call = id("item:alan-call");
    assert_eq!(
        api.get(&format!(
            "/api/v1/conversation-items/{call}/media/recording"
        ))
        .await
        .header("content-type"),
        "audio/mpeg"
    );
    assert_eq!(
        api.post(
            &format!("/api/v1/conversation-items/{call}/redact"),
            json!({})
        )
        .await
        .status,
        201
    );
    let content = api.state()["items"][&call]["content"].clone();
    assert_eq!(content["recordingStatus"], "DELETED");
    assert_eq!(content["recordingSummary"]["status"], "REDACTED");
    assert!(content.get("recordingUrl").is_none());
    api.get(&format!(
        "/api/v1/conversation-items/{call}/media/recording"
    ))
    .await
    .assert_error(404, "not_exist", None);
    api.post(
        &format!("/api/v1/conversation-items/{}/redact", id("item:alan-note")),
        json!({}),
    )
    .await
    .assert_error(400, "invalid", None);
    api.post("/api/v1/conversation-items/nope/redact", json!({}))
        .await
        .assert_error(404, "not_exist", None);
}
