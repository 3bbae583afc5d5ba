//! Read-only org data: inboxes, agents, teams, audiences, organization.

use serde_json::json;

use super::{Api, id};

#[tokio::test]
async fn inboxes_agents_teams_audiences_and_organization() {
    let api = Api::new().await;
    let inboxes = api.get("/api/v1/inboxes").await.json;
    assert_eq!(inboxes.as_array().unwrap().len(), 5);
    let billing = api
        .get(&format!("/api/v1/inboxes/{}", id("inbox:Billing")))
        .await
        .json;
    assert_eq!(
        billing,
        json!({"id": id("inbox:Billing"), "name": "Billing", "disabled": false})
    );
    api.get("/api/v1/inboxes/nope")
        .await
        .assert_error(404, "not_exist", None);
    let agents = api.get("/api/v1/agents").await.json;
    assert!(
        agents
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["emailAddress"] == "alice@example.com")
    );
    let alice = api
        .get(&format!("/api/v1/agents/{}", id("agent:alice")))
        .await
        .json;
    assert_eq!(
        alice,
        json!({"id": id("agent:alice"), "name": "Alice Anders", "emailAddress": "alice@example.com"})
    );
    api.get("/api/v1/agents/nope")
        .await
        .assert_error(404, "not_exist", None);
    let tier1 = api
        .get(&format!("/api/v1/teams/{}", id("team:Tier 1")))
        .await
        .json;
    assert_eq!(
        tier1["agentIds"],
        json!([id("agent:alice"), id("agent:bob")])
    );
    assert_eq!(
        api.get("/api/v1/teams")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        2
    );
    api.get("/api/v1/teams/nope")
        .await
        .assert_error(404, "not_exist", None);
    let audiences = api.get("/api/v1/audiences").await.json;
    assert!(
        audiences
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "Audience 2")
    );
    let org = api.get("/api/v1/organization").await.json;
    assert_eq!(org["timezone"], "America/Los_Angeles");
    assert_eq!(org["gladlyUrl"], api.sandbox.base_url());
}
