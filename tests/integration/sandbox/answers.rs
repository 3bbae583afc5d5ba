//! Answers: create, duplicate names (409 with existingAnswerId / 400 on patch), delete,
//! and content per language and type.

use serde_json::json;

use super::{Api, id};

#[tokio::test]
async fn create_answers_200_with_the_answer() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/api/v1/answers",
            json!({"name": "How to: Say Goodbye", "audienceIds": [id("audience:Audience 1")]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let new_id = reply.json["id"].as_str().unwrap();
    assert_eq!(reply.json["name"], "How to: Say Goodbye");
    assert!(reply.json["createdAt"].is_string());
    assert_eq!(
        api.state()["answers"][new_id]["audienceIds"],
        json!([id("audience:Audience 1")])
    );
}

#[tokio::test]
async fn a_duplicate_name_is_409_taken_with_the_existing_answer_id() {
    let api = Api::new().await;
    let reply = api
        .post("/api/v1/answers", json!({"name": "How to: Say Hello"}))
        .await;
    reply.assert_error(409, "taken", Some("name"));
    assert_eq!(
        reply.json["errors"][0]["meta"]["existingAnswerId"],
        id("answer:How to: Say Hello")
    );
    api.post(
        "/api/v1/answers",
        json!({"id": id("answer:Return Policy"), "name": "Fresh"}),
    )
    .await
    .assert_error(409, "taken", Some("id"));
    assert_eq!(api.state()["answers"].as_object().unwrap().len(), 3);
}

#[tokio::test]
async fn create_rules_are_400() {
    let api = Api::new().await;
    api.post("/api/v1/answers", json!({}))
        .await
        .assert_error(400, "blank", Some("name"));
    api.post("/api/v1/answers", json!({"name": "x".repeat(501)}))
        .await
        .assert_error(400, "too_long", Some("name"));
    api.post(
        "/api/v1/answers",
        json!({"name": "y", "description": "d".repeat(10_001)}),
    )
    .await
    .assert_error(400, "too_long", Some("description"));
    api.post("/api/v1/answers", json!({"id": "bad id", "name": "z"}))
        .await
        .assert_error(400, "invalid", Some("id"));
    api.post(
        "/api/v1/answers",
        json!({"name": "z", "audienceIds": ["nope"]}),
    )
    .await
    .assert_error(400, "invalid", Some("audienceIds"));
}

#[tokio::test]
async fn patch_updates_and_a_duplicate_name_is_400() {
    let api = Api::new().await;
    let hello = id("answer:How to: Say Hello");
    let reply = api
        .patch(
            &format!("/api/v1/answers/{hello}"),
            json!({"description": "Updated", "audienceIds": []}),
        )
        .await;
    assert_eq!(reply.status, 204);
    let stored = api.get(&format!("/api/v1/answers/{hello}")).await.json;
    assert_eq!(
        (
            stored["description"].as_str(),
            stored["audienceIds"].clone()
        ),
        (Some("Updated"), json!([]))
    );
    api.patch(
        &format!("/api/v1/answers/{hello}"),
        json!({"name": "Return Policy"}),
    )
    .await
    .assert_error(400, "taken", Some("name"));
    api.patch("/api/v1/answers/nope", json!({"name": "x"}))
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn delete_removes_content_and_refuses_answers_in_use() {
    let api = Api::new().await;
    let policy = id("answer:Return Policy");
    assert_eq!(
        api.delete(&format!("/api/v1/answers/{policy}"))
            .await
            .status,
        204
    );
    let state = api.state();
    assert!(state["answers"].get(&policy).is_none());
    assert!(
        !state["answerContents"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with(&policy))
    );
    let escalation = id("answer:Internal Escalation");
    api.delete(&format!("/api/v1/answers/{escalation}"))
        .await
        .assert_error(400, "in_use", None);
    api.get(&format!("/api/v1/answers/{policy}"))
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn content_is_per_language_and_type_with_required_fields() {
    let api = Api::new().await;
    let hello = id("answer:How to: Say Hello");
    let base = format!("/api/v1/answers/{hello}/languages");
    let fr = api.get(&format!("{base}/fr-ca/type/public")).await;
    assert_eq!(fr.json["title"], "Dire bonjour");
    api.put(
        &format!("{base}/en-us/type/email"),
        json!({"bodyHtml": "<p>Hi</p>"}),
    )
    .await
    .assert_error(400, "blank", Some("subject"));
    api.put(
        &format!("{base}/en-us/type/public"),
        json!({"bodyHtml": "<p>Hi</p>"}),
    )
    .await
    .assert_error(400, "blank", Some("title"));
    api.put(&format!("{base}/en-us/type/messaging"), json!({}))
        .await
        .assert_error(400, "blank", Some("bodyHtml"));
    let put = api
        .put(
            &format!("{base}/en-us/type/email"),
            json!({"bodyHtml": "<p>Hi</p>", "subject": "Hello"}),
        )
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        put.json,
        json!({"answerId": hello, "language": "en-us", "type": "email", "bodyHtml": "<p>Hi</p>", "subject": "Hello"})
    );
    let reference = api
        .put(
            &format!("{base}/en-us/type/reference"),
            json!({"bodyHtml": "x"}),
        )
        .await;
    assert_eq!(reference.json["internal"], false);
    assert_eq!(
        api.get(&format!("{base}/en-us/type/email")).await.json["subject"],
        "Hello"
    );
    api.get(&format!("{base}/de-de/type/public"))
        .await
        .assert_error(400, "invalid", Some("language"));
    api.get(&format!("{base}/12/type/public"))
        .await
        .assert_error(400, "invalid", Some("language"));
    api.get(&format!("{base}/en-us/type/sms"))
        .await
        .assert_error(400, "invalid", Some("type"));
    assert_eq!(
        api.delete(&format!("{base}/en-us/type/email")).await.status,
        204
    );
    api.get(&format!("{base}/en-us/type/email"))
        .await
        .assert_error(404, "not_exist", None);
    api.delete(&format!("{base}/en-us/type/email"))
        .await
        .assert_error(404, "not_exist", None);
    api.get("/api/v1/answers/nope/languages/en-us/type/public")
        .await
        .assert_error(404, "not_exist", None);
}
