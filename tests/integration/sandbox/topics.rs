//! Topics: list, get, create with unique names, patch.

use serde_json::json;

use super::{Api, id};

#[tokio::test]
async fn list_and_get() {
    let api = Api::new().await;
    let list = api.get("/api/v1/topics").await.json;
    assert_eq!(list.as_array().unwrap().len(), 8);
    let wrong_size = api
        .get(&format!("/api/v1/topics/{}", id("topic:Wrong Size")))
        .await
        .json;
    assert_eq!(wrong_size["parentId"], id("topic:Returns"));
    api.get("/api/v1/topics/nope")
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn create_is_201_with_location() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/api/v1/topics",
            json!({"id": "id4", "name": "Exchanges", "parentId": id("topic:Returns")}),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("location"), "/api/v1/topics/id4");
    assert_eq!(
        api.state()["topics"]["id4"],
        json!({"id": "id4", "name": "Exchanges", "disabled": false, "parentId": id("topic:Returns")})
    );
}

#[tokio::test]
async fn a_taken_name_is_409_with_the_owners_id() {
    let api = Api::new().await;
    let reply = api
        .post("/api/v1/topics", json!({"name": "shipping"}))
        .await;
    reply.assert_error(409, "taken", Some("name"));
    assert_eq!(reply.json["errors"][0]["meta"]["id"], id("topic:Shipping"));
    api.post(
        "/api/v1/topics",
        json!({"id": id("topic:VIP"), "name": "Other"}),
    )
    .await
    .assert_error(409, "taken", Some("id"));
    assert_eq!(api.state()["topics"].as_object().unwrap().len(), 8);
}

#[tokio::test]
async fn create_rules_are_400() {
    let api = Api::new().await;
    api.post("/api/v1/topics", json!({"name": ""}))
        .await
        .assert_error(400, "blank", Some("name"));
    api.post("/api/v1/topics", json!({"id": "a b", "name": "X"}))
        .await
        .assert_error(400, "invalid", Some("id"));
    api.post("/api/v1/topics", json!({"name": "X", "parentId": "nope"}))
        .await
        .assert_error(400, "invalid", Some("parentId"));
}

#[tokio::test]
async fn patch_renames_and_keeps_names_unique() {
    let api = Api::new().await;
    let vip = id("topic:VIP");
    let reply = api
        .patch(
            &format!("/api/v1/topics/{vip}"),
            json!({"name": "VIP Customers", "disabled": true}),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(api.state()["topics"][&vip]["name"], "VIP Customers");
    assert_eq!(api.state()["topics"][&vip]["disabled"], true);
    let clash = api
        .patch(&format!("/api/v1/topics/{vip}"), json!({"name": "Returns"}))
        .await;
    clash.assert_error(409, "taken", Some("name"));
    assert_eq!(clash.json["errors"][0]["meta"]["id"], id("topic:Returns"));
    api.patch(&format!("/api/v1/topics/{vip}"), json!({"disabled": false}))
        .await
        .assert_error(400, "blank", Some("name"));
    api.patch("/api/v1/topics/nope", json!({"name": "x"}))
        .await
        .assert_error(404, "not_exist", None);
}
