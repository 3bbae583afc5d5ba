//! Customer profiles: create, uniqueness, find, get, merged ids, patch, delete.

use serde_json::json;

use super::{Api, id, is_gladly_id};

#[tokio::test]
async fn create_answers_201_with_location_and_no_body() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/api/v1/customer-profiles",
            json!({"name": "Nia Nova", "emails": [{"original": "Nia@Example.com"}],
                   "phones": [{"original": "(415) 555-0199", "type": "MOBILE"}]}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert!(reply.text.is_empty());
    let location = reply.header("location");
    let new_id = location
        .strip_prefix("/api/v1/customer-profiles/")
        .expect("location");
    assert!(is_gladly_id(new_id));
    let stored = &api.state()["customers"][new_id];
    assert_eq!(stored["emails"][0]["normalized"], "nia@example.com");
    assert_eq!(stored["phones"][0]["normalized"], "+14155550199");
    assert_eq!(api.get(location).await.json["name"], "Nia Nova");
}

#[tokio::test]
async fn create_with_a_client_id_keeps_it() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/api/v1/customer-profiles",
            json!({"id": "crm-42", "name": "Ola"}),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("location"), "/api/v1/customer-profiles/crm-42");
    assert_eq!(api.state()["customers"]["crm-42"]["name"], "Ola");
}

#[tokio::test]
async fn client_ids_must_be_url_safe_and_short() {
    let api = Api::new().await;
    for bad in ["has space", "slash/no", &"x".repeat(50)] {
        let reply = api
            .post("/api/v1/customer-profiles", json!({"id": bad}))
            .await;
        reply.assert_error(400, "invalid", Some("id"));
    }
    assert_eq!(api.state()["customers"].as_object().unwrap().len(), 5);
}

#[tokio::test]
async fn a_taken_customer_id_is_409() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/api/v1/customer-profiles",
            json!({"id": id("customer:ada")}),
        )
        .await;
    reply.assert_error(409, "taken", Some("id"));
}

#[tokio::test]
async fn every_email_is_unique_across_customers() {
    let api = Api::new().await;
    let reply = api
        .post("/api/v1/customer-profiles", json!({"emails": [{"original": "new@example.com"}, {"original": "ADA.L@work.example"}]}))
        .await;
    reply.assert_error(409, "taken", Some("emails"));
    assert!(
        reply.json["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("ADA.L@work.example")
    );
    assert_eq!(api.state()["customers"].as_object().unwrap().len(), 5);
}

#[tokio::test]
async fn mobile_phones_are_unique_but_other_phones_are_not() {
    let api = Api::new().await;
    let taken = api
        .post(
            "/api/v1/customer-profiles",
            json!({"phones": [{"original": "+14155550101", "type": "MOBILE"}]}),
        )
        .await;
    taken.assert_error(409, "taken", Some("phones"));
    // Alan's number is a HOME phone: sharing it is allowed.
    let shared = api
        .post(
            "/api/v1/customer-profiles",
            json!({"phones": [{"original": "+14155550103", "type": "HOME"}]}),
        )
        .await;
    assert_eq!(shared.status, 201);
    assert_eq!(api.state()["customers"].as_object().unwrap().len(), 6);
}

#[tokio::test]
async fn find_by_exactly_one_filter() {
    let api = Api::new().await;
    let by_email = api
        .get("/api/v1/customer-profiles?email=ADA%40example.com")
        .await;
    assert_eq!(by_email.status, 200);
    assert_eq!(by_email.json[0]["id"], id("customer:ada"));
    let by_phone = api
        .get("/api/v1/customer-profiles?phoneNumber=%2B14155550102")
        .await;
    let raw_plus = api
        .get("/api/v1/customer-profiles?phoneNumber=+14155550102")
        .await;
    assert_eq!(raw_plus.json, by_phone.json);
    assert_eq!(by_phone.json[0]["id"], id("customer:grace"));
    let by_external = api
        .get("/api/v1/customer-profiles?externalCustomerId=EXT-1001")
        .await;
    assert_eq!(by_external.json[0]["id"], id("customer:katherine"));
    let none = api
        .get("/api/v1/customer-profiles?email=nobody%40example.com")
        .await;
    assert_eq!(none.json, json!([]));
    api.get("/api/v1/customer-profiles")
        .await
        .assert_error(400, "blank", None);
    api.get("/api/v1/customer-profiles?email=a%40b.c&phoneNumber=%2B1415")
        .await
        .assert_error(400, "invalid", None);
}

#[tokio::test]
async fn find_caps_at_50_newest_updated_first_with_limited_data_header() {
    let api = Api::new().await;
    for n in 0..51 {
        let reply = api
            .post(
                "/api/v1/customer-profiles",
                json!({"id": format!("bulk-{n:02}"), "externalCustomerId": "SHARED"}),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    api.patch(
        "/api/v1/customer-profiles/bulk-00",
        json!({"name": "Touched"}),
    )
    .await;
    let reply = api
        .get("/api/v1/customer-profiles?externalCustomerId=SHARED")
        .await;
    assert_eq!(reply.json.as_array().unwrap().len(), 50);
    assert_eq!(reply.header("gladly-limited-data"), "true");
    assert_eq!(
        reply.json[0]["id"], "bulk-00",
        "the most recently updated comes first"
    );
    let few = api
        .get("/api/v1/customer-profiles?email=ada%40example.com")
        .await;
    assert!(few.headers.get("gladly-limited-data").is_none());
}

#[tokio::test]
async fn get_unknown_is_404_and_merged_is_301_moved() {
    let api = Api::new().await;
    api.get("/api/v1/customer-profiles/nope")
        .await
        .assert_error(404, "not_exist", None);
    let old = id("customer:ada-old");
    let moved = api.get(&format!("/api/v1/customer-profiles/{old}")).await;
    moved.assert_error(301, "moved", Some("customerId"));
    assert_eq!(
        moved.json["errors"][0]["meta"],
        json!({"old": old, "new": id("customer:ada")})
    );
}

#[tokio::test]
async fn patch_replaces_arrays_whole_and_answers_204() {
    let api = Api::new().await;
    let ada = id("customer:ada");
    let reply = api
        .patch(&format!("/api/v1/customer-profiles/{ada}"), json!({"emails": [{"original": "ada@new.example", "primary": true}], "address": "1 New St"}))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let stored = &api.state()["customers"][&ada];
    assert_eq!(stored["emails"].as_array().unwrap().len(), 1);
    assert_eq!(stored["emails"][0]["original"], "ada@new.example");
    assert_eq!(stored["address"], "1 New St");
    assert_eq!(
        stored["phones"].as_array().unwrap().len(),
        1,
        "absent fields stay"
    );
    // The freed address can now be used by someone else.
    let reuse = api
        .post(
            "/api/v1/customer-profiles",
            json!({"emails": [{"original": "ada@example.com"}]}),
        )
        .await;
    assert_eq!(reuse.status, 201);
}

#[tokio::test]
async fn patch_a_taken_email_is_400_taken_and_changes_nothing() {
    let api = Api::new().await;
    let grace = id("customer:grace");
    let reply = api
        .patch(
            &format!("/api/v1/customer-profiles/{grace}"),
            json!({"emails": [{"original": "ada@example.com"}]}),
        )
        .await;
    // The spec documents no 409 for PATCH (only 400 and 404).
    reply.assert_error(400, "taken", Some("emails"));
    assert_eq!(
        api.state()["customers"][&grace]["emails"][0]["original"],
        "grace@example.com"
    );
}

#[tokio::test]
async fn patch_of_a_merged_id_is_404() {
    let api = Api::new().await;
    let reply = api
        .patch(
            &format!("/api/v1/customer-profiles/{}", id("customer:ada-old")),
            json!({"name": "x"}),
        )
        .await;
    reply.assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn delete_is_refused_while_a_conversation_is_open_or_waiting() {
    let api = Api::new().await;
    for customer in ["ada", "grace"] {
        let reply = api
            .delete(&format!(
                "/api/v1/customer-profiles/{}",
                id(&format!("customer:{customer}"))
            ))
            .await;
        reply.assert_error(400, "invalid_state", Some("conversation"));
    }
    assert!(api.state()["customers"].get(id("customer:ada")).is_some());
}

#[tokio::test]
async fn delete_removes_the_profile_and_its_closed_conversations() {
    let api = Api::new().await;
    let alan = id("customer:alan");
    assert_eq!(
        api.delete(&format!("/api/v1/customer-profiles/{alan}"))
            .await
            .status,
        204
    );
    let state = api.state();
    assert!(state["customers"].get(&alan).is_none());
    assert!(
        state["conversations"]
            .get(id("conversation:alan-call"))
            .is_none()
    );
    assert!(state["tasks"].get(id("task:alan-followup")).is_none());
    api.get(&format!("/api/v1/customer-profiles/{alan}"))
        .await
        .assert_error(404, "not_exist", None);
    api.delete(&format!("/api/v1/customer-profiles/{alan}"))
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn invalid_fields_are_400() {
    let api = Api::new().await;
    api.post(
        "/api/v1/customer-profiles",
        json!({"emails": [{"original": "not-an-email"}]}),
    )
    .await
    .assert_error(400, "invalid", Some("emails.original"));
    api.post("/api/v1/customer-profiles", json!({"emails": [{}]}))
        .await
        .assert_error(400, "blank", Some("emails.original"));
    api.post(
        "/api/v1/customer-profiles",
        json!({"phones": [{"original": "+14155550000", "type": "CAR"}]}),
    )
    .await
    .assert_error(400, "invalid", Some("phones.type"));
    api.post(
        "/api/v1/customer-profiles",
        json!({"createdAt": "2020-01-01T00:00:00.000Z"}),
    )
    .await
    .assert_error(400, "present", Some("createdAt"));
    api.post(
        "/api/v1/customer-profiles",
        json!({"favouriteColour": "red"}),
    )
    .await
    .assert_error(400, "invalid", Some("favouriteColour"));
    api.send(reqwest::Method::POST, "/api/v1/customer-profiles", None)
        .await
        .assert_error(400, "blank", Some("body"));
    assert_eq!(
        api.state()["customers"].as_object().unwrap().len(),
        5,
        "no create succeeded"
    );
}

/// Gladly's update-customers example sends the profile it read back with its changes:
/// read-only `id` and `createdAt`, and phones with an empty `type`. Gladly takes it.
#[tokio::test]
async fn a_patch_echoing_a_get_is_accepted_and_phones_gain_their_region() {
    let api = Api::new().await;
    let grace = id("customer:grace");
    let mut profile = api
        .get(&format!("/api/v1/customer-profiles/{grace}"))
        .await
        .json;
    profile["name"] = json!("Grace B. Hopper");
    profile["phones"] = json!([{"original": "650 123 4568", "type": ""}]);
    let reply = api
        .patch(&format!("/api/v1/customer-profiles/{grace}"), profile)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let now = api
        .get(&format!("/api/v1/customer-profiles/{grace}"))
        .await
        .json;
    assert_eq!(now["name"], "Grace B. Hopper");
    let phone = &now["phones"][0];
    assert_eq!(phone["original"], "650 123 4568");
    assert_eq!(phone["normalized"], "+16501234568");
    assert_eq!(phone["regionCode"], "US");
    assert!(
        phone.get("type").is_none(),
        "an empty type is no type: {phone}"
    );
}

/// What Gladly refuses: a create or update with no body at all, a topic whose
/// `parentId` is null.
#[tokio::test]
async fn a_missing_body_or_a_null_parent_is_400() {
    let api = Api::new().await;
    let before = api.state()["customers"].as_object().unwrap().len();
    api.send(reqwest::Method::POST, "/api/v1/customer-profiles", None)
        .await
        .assert_error(400, "blank", Some("body"));
    api.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/customer-profiles/{}", id("customer:grace")),
        None,
    )
    .await
    .assert_error(400, "blank", Some("body"));
    assert_eq!(api.state()["customers"].as_object().unwrap().len(), before);
    api.post(
        "/api/v1/topics",
        json!({"name": "Orphan", "parentId": null}),
    )
    .await
    .assert_error(400, "invalid", Some("parentId"));
    assert!(
        !api.state()["topics"]
            .as_object()
            .unwrap()
            .values()
            .any(|t| t["name"] == "Orphan")
    );
}

/// The requests Gladly's own example scripts send (their READMEs show each payload and
/// its success), with this org's ids: each is accepted.
#[tokio::test]
async fn the_example_scripts_requests_are_accepted() {
    let api = Api::new().await;
    let inbox = id("inbox:Returns");
    let agent = id("agent:carol");
    let created = api
        .post(
            "/api/v1/customer-profiles",
            json!({"id": "XRJvp8lSS5aD2RucjY5zkw", "name": "First1 Last1",
                   "address": "Address 1, CA, 12345", "emails": [{"original": "first1@example.com"}],
                   "phones": [{"original": "650 123 4567"}, {"original": "650 123 4571"}],
                   "customAttributes": {"attr1": "hello", "attr3": "world"}}),
        )
        .await;
    assert_eq!(created.status, 201, "create-customers: {}", created.text);
    let updated = api
        .patch(
            "/api/v1/customer-profiles/XRJvp8lSS5aD2RucjY5zkw",
            json!({"address": "Address 1, CA, 12345", "customAttributes": {"attr1": "hello", "attr3": "world"},
                   "emails": [{"normalized": "first1@example.com", "original": "first1@example.com"}],
                   "name": "Person 1's New Name",
                   "phones": [{"normalized": "+16501234567", "original": "650 123 4567", "regionCode": "US", "type": ""},
                              {"normalized": "+16501234571", "original": "650 123 4571", "regionCode": "US", "type": ""}],
                   "id": "XRJvp8lSS5aD2RucjY5zkw", "createdAt": "2021-09-28T21:10:10.262Z"}),
        )
        .await;
    assert_eq!(updated.status, 204, "update-customers: {}", updated.text);
    for (task_id, agent_id) in [
        ("G2tzvtq1TPWcxqlf1h2vng", serde_json::Value::Null),
        ("ade2kDvwRnaA7ewXYtMyag", json!(agent)),
    ] {
        let task = api
            .post(
                "/api/v1/tasks",
                json!({"id": task_id, "assignee": {"inboxId": inbox, "agentId": agent_id},
                       "body": "please initiate a return", "dueAt": "2030-09-28T00:00:00.000Z",
                       "customer": {"emailAddress": "first1@example.com"}}),
            )
            .await;
        assert_eq!(task.status, 201, "create-tasks {task_id}: {}", task.text);
    }
    let sessions = api
        .post(
            "/api/v1/reports/work-session-events",
            json!({"startAtTime": "2026-11-18T00:00-08:00", "endAtTime": "2026-11-19T00:00-08:00"}),
        )
        .await;
    assert_eq!(
        sessions.status, 200,
        "get-reports work sessions: {}",
        sessions.text
    );
    for body in [
        json!({"metricSet": "ContactExportReport", "timezone": "America/Los_Angeles", "startAt": "2026-11-18", "endAt": "2026-11-18"}),
        json!({"metricSet": "AgentTimestampsReport", "timezone": "America/Los_Angeles", "startAt": "2026-11-18", "endAt": "2026-11-18", "filters": {}}),
    ] {
        let report = api.post("/api/v1/reports", body.clone()).await;
        assert_eq!(report.status, 200, "get-reports {body}: {}", report.text);
    }
    for body in [
        json!({"id": "id1", "name": "Returns (examples)"}),
        json!({"id": "id4", "name": "Wrong Size (examples)", "parentId": "id1"}),
        json!({"id": "id3", "name": "Loyalty Program (EXAMPLES)", "disabled": true}),
    ] {
        let topic = api.post("/api/v1/topics", body.clone()).await;
        assert_eq!(topic.status, 201, "create-topics {body}: {}", topic.text);
    }
    let topic = api
        .patch(
            "/api/v1/topics/id3",
            json!({"id": "id3", "name": "Loyalty Program (examples)", "disabled": false}),
        )
        .await;
    assert_eq!(topic.status, 204, "update-topics: {}", topic.text);
    // What they made is there.
    let state = api.state();
    assert_eq!(
        state["customers"]["XRJvp8lSS5aD2RucjY5zkw"]["name"],
        "Person 1's New Name"
    );
    assert!(state["tasks"]["G2tzvtq1TPWcxqlf1h2vng"].is_object());
    assert_eq!(state["topics"]["id4"]["parentId"], "id1");
    assert_eq!(state["topics"]["id3"]["disabled"], false);
}
