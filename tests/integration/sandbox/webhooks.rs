//! Webhooks: CRUD, the 20-per-org cap, delete only when disabled.

use serde_json::json;

use super::{Api, id};

#[tokio::test]
async fn create_read_update_delete() {
    let api = Api::new().await;
    let reply = api
        .post("/api/v1/webhooks", json!({"name": "Closed", "url": "https://example.com/hook", "events": ["CONVERSATION/CLOSED"],
                                         "credentials": {"username": "u", "password": "p"}, "headers": {"X-Key": "secret"}}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let location = reply.header("location").to_owned();
    let hook = api.get(&location).await.json;
    assert_eq!(hook["hasCredentials"], true);
    assert_eq!(hook["headerKeys"], json!(["X-Key"]));
    assert_eq!(hook["enabled"], false);
    assert!(
        hook.get("credentials").is_none() && !hook.to_string().contains("secret"),
        "write-only fields stay hidden"
    );
    assert_eq!(
        api.patch(&location, json!({"enabled": true})).await.status,
        204
    );
    api.delete(&location)
        .await
        .assert_error(400, "invalid_state", Some("enabled"));
    api.patch(&location, json!({"enabled": false})).await;
    assert_eq!(api.delete(&location).await.status, 204);
    api.get(&location)
        .await
        .assert_error(404, "not_exist", None);
    assert_eq!(
        api.get("/api/v1/webhooks")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn create_rules_are_400() {
    let api = Api::new().await;
    api.post("/api/v1/webhooks", json!({"events": ["TASK/CREATED"]}))
        .await
        .assert_error(400, "blank", Some("url"));
    api.post("/api/v1/webhooks", json!({"url": "https://a.example"}))
        .await
        .assert_error(400, "blank", Some("events"));
    api.post(
        "/api/v1/webhooks",
        json!({"url": "http://a.example", "events": ["TASK/CREATED"]}),
    )
    .await
    .assert_error(400, "invalid", Some("url"));
    api.post(
        "/api/v1/webhooks",
        json!({"url": "https://hooks.example.com/gladly", "events": ["TASK/CREATED"]}),
    )
    .await
    .assert_error(400, "taken", Some("url"));
    let existing = id("webhook:order-sync");
    api.patch(
        &format!("/api/v1/webhooks/{existing}"),
        json!({"url": "ftp://x"}),
    )
    .await
    .assert_error(400, "invalid", Some("url"));
}

#[tokio::test]
async fn an_org_has_at_most_20_webhooks() {
    let api = Api::new().await;
    for n in 1..20 {
        let reply = api
            .post(
                "/api/v1/webhooks",
                json!({"url": format!("https://example.com/{n}"), "events": ["TASK/CREATED"]}),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    let over = api
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://example.com/21", "events": ["TASK/CREATED"]}),
        )
        .await;
    over.assert_error(400, "invalid", None);
    assert_eq!(api.state()["webhooks"].as_object().unwrap().len(), 20);
}
