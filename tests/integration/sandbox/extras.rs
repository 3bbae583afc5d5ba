//! The rest of the catalog: business hours, replies, attachments, transcripts, the call
//! recorder, freeform topics, SMS and email sends, identity tokens, campaigns, public answers.

use serde_json::{Value, json};

use super::{Api, client, id};

fn hours(name: &str) -> Value {
    json!({"name": name, "officeHours": {"timezone": "Europe/Paris", "monday": [{"start": "08:00", "stop": "12:00"}]}})
}

#[tokio::test]
async fn business_hours_crud_with_a_version_lock() {
    let api = Api::new().await;
    let primary = format!("bh_{}", id("business-hours:standard"));
    assert_eq!(
        api.get("/api/v1/business-hours")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let created = api.post("/api/v1/business-hours", hours("Paris")).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let new_id = created.json["id"].as_str().unwrap().to_owned();
    assert!(new_id.starts_with("bh_"));
    assert_eq!(
        (
            created.json["version"].as_i64(),
            created.json["primary"].as_bool()
        ),
        (Some(1), Some(false))
    );
    let path = format!("/api/v1/business-hours/{new_id}");
    let mut update = hours("Paris office");
    update["version"] = json!(7);
    api.put(&path, update.clone())
        .await
        .assert_error(409, "version_outdated", None);
    update["version"] = json!(1);
    let replaced = api.put(&path, update).await;
    assert_eq!(replaced.status, 200);
    assert_eq!(
        (
            replaced.json["version"].as_i64(),
            replaced.json["name"].as_str()
        ),
        (Some(2), Some("Paris office"))
    );
    assert_eq!(api.state()["businessHours"][&new_id]["version"], 2);
    api.delete(&format!("/api/v1/business-hours/{primary}"))
        .await
        .assert_error(400, "invalid", Some("id"));
    assert_eq!(api.delete(&path).await.status, 204);
    api.get(&path).await.assert_error(404, "not_exist", None);
    api.post(
        "/api/v1/business-hours",
        json!({"officeHours": {"timezone": "UTC"}}),
    )
    .await
    .assert_error(400, "invalid", Some("name"));
    api.post(
        "/api/v1/business-hours",
        json!({"name": "x", "officeHours": {}}),
    )
    .await
    .assert_error(400, "blank", Some("officeHours.timezone"));
    api.post(
        "/api/v1/business-hours",
        json!({"name": "x", "officeHours": {"timezone": "Moon/Base"}}),
    )
    .await
    .assert_error(400, "invalid", Some("officeHours.timezone"));
    let backwards = json!({"name": "x", "officeHours": {"timezone": "UTC", "friday": [{"start": "17:00", "stop": "09:00"}]}});
    api.post("/api/v1/business-hours", backwards)
        .await
        .assert_error(400, "invalid", Some("officeHours.friday"));
}

#[tokio::test]
async fn replies_go_on_the_customers_channel_and_assign_the_api_user() {
    let api = Api::new().await;
    let question = id("item:ada-chat-2");
    let reply = api
        .post(
            &format!("/api/v1/conversation-items/{question}/reply"),
            json!({"content": {"type": "CHAT_MESSAGE", "body": "Fixed!"}}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let location = reply.header("location").to_owned();
    let item = api.get(&location).await.json;
    assert_eq!(item["conversationId"], id("conversation:ada-chat"));
    assert_eq!(item["content"]["sessionId"], id("session:ada-chat"));
    assert_eq!(
        item["initiator"],
        json!({"id": id("agent:api"), "type": "AGENT"})
    );
    // The customer no longer awaits a reply: closing needs no force now.
    api.post(
        &format!(
            "/api/v1/conversations/{}/topics",
            id("conversation:ada-chat")
        ),
        json!({"topicIds": [id("topic:Billing Question")]}),
    )
    .await;
    assert_eq!(
        api.patch(
            &format!("/api/v1/conversations/{}", id("conversation:ada-chat")),
            json!({"status": {"value": "CLOSED"}})
        )
        .await
        .status,
        204
    );
    api.post(
        &format!("/api/v1/conversation-items/{question}/reply"),
        json!({"content": {"type": "CHAT_MESSAGE", "body": "again"}}),
    )
    .await
    .assert_error(400, "invalid", Some("itemId"));
    let email = id("item:grace-email-0");
    let path = format!("/api/v1/conversation-items/{email}/reply");
    api.post(
        &path,
        json!({"content": {"type": "VOICEMAIL", "body": "x"}}),
    )
    .await
    .assert_error(400, "invalid", Some("content.type"));
    api.post(&path, json!({"content": {"body": "x"}}))
        .await
        .assert_error(400, "blank", Some("content.type"));
    api.post(
        &path,
        json!({"content": {"type": "EMAIL", "body": "x".repeat(2049)}}),
    )
    .await
    .assert_error(400, "too_long", Some("content.body"));
    let options = json!({"options": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]});
    api.post(&path, json!({"content": {"type": "CHAT_MESSAGE", "body": "pick", "messageType": "QUICK_REPLY_REQUEST", "messageData": options}}))
        .await
        .assert_error(400, "invalid", Some("content.messageData.options"));
    let agent_email = id("item:grace-email-1");
    api.post(
        &format!("/api/v1/conversation-items/{agent_email}/reply"),
        json!({"content": {"type": "EMAIL", "body": "x"}}),
    )
    .await
    .assert_error(400, "invalid", Some("itemId"));
    let ok = api.post(&path, json!({"content": {"type": "EMAIL", "body": "<p>Refunded</p>", "bodyPlain": "Refunded"}})).await;
    assert_eq!(ok.status, 201);
    let sent = api.get(ok.header("location")).await.json;
    assert_eq!(sent["content"]["subject"], "Re: Double charge");
    assert_eq!(sent["content"]["to"], json!(["grace@example.com"]));
    api.post(
        "/api/v1/conversation-items/nope/reply",
        json!({"content": {"type": "EMAIL", "body": "x"}}),
    )
    .await
    .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn attachments_redirect_and_transcripts_read() {
    let api = Api::new().await;
    let email = id("item:grace-email-0");
    let attachment = id("attachment:invoice-2002");
    let redirect = api
        .get(&format!(
            "/api/v1/conversation-items/{email}/attachments/{attachment}"
        ))
        .await;
    assert_eq!(redirect.status, 303);
    let download = client(None)
        .get(redirect.header("location"))
        .send()
        .await
        .unwrap();
    assert_eq!(download.headers()["content-type"], "application/pdf");
    api.get(&format!(
        "/api/v1/conversation-items/{email}/attachments/nope"
    ))
    .await
    .assert_error(404, "not_exist", None);
    api.get(&format!(
        "/api/v1/conversation-items/{}/attachments/{attachment}",
        id("item:ada-chat-0")
    ))
    .await
    .assert_error(400, "invalid", None);
    let transcript = api
        .get(&format!(
            "/api/v1/conversation-items/{}/voice-transcript",
            id("item:alan-call")
        ))
        .await;
    assert_eq!(transcript.json["numberOfSpeakers"], 2);
    api.get(&format!(
        "/api/v1/conversation-items/{email}/voice-transcript"
    ))
    .await
    .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn the_call_recorder_follows_live_calls() {
    let api = Api::new().await;
    let on_call = api
        .get("/api/v1/agents/dave@example.com/call-recorder")
        .await;
    assert_eq!(on_call.json["recording"], true);
    assert_eq!(on_call.json["customerId"], id("customer:margaret"));
    assert_eq!(
        api.patch(
            &format!("/api/v1/agents/{}/call-recorder", id("agent:dave")),
            json!({"recording": false})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        api.state()["liveCalls"][id("agent:dave")]["recording"],
        false
    );
    api.get(&format!(
        "/api/v1/agents/{}/call-recorder",
        id("agent:alice")
    ))
    .await
    .assert_error(404, "not_exist", None);
    assert_eq!(
        api.patch(
            "/api/v1/agents/alice@example.com/call-recorder",
            json!({"recording": true})
        )
        .await
        .status,
        204,
        "no call: no-op"
    );
    api.get("/api/v1/agents/nobody/call-recorder")
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn freeform_topics_add_and_remove_by_key() {
    let api = Api::new().await;
    let path = format!(
        "/api/v1/customer-history/{}/conversations/{}/custom-attributes",
        id("customer:ada"),
        id("conversation:ada-chat")
    );
    let order = id("custom-attribute:order_number");
    for _ in 0..2 {
        assert_eq!(
            api.post(
                &path,
                json!({"add": [{"key": "order_number", "value": "1001"}]})
            )
            .await
            .status,
            204
        );
    }
    let stored =
        api.state()["conversations"][id("conversation:ada-chat")]["customAttributes"].clone();
    assert_eq!(stored, json!([{"id": order, "value": "1001"}]));
    assert_eq!(
        api.post(
            &path,
            json!({"remove": [{"key": "order_number", "value": "1001"}]})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        api.state()["conversations"][id("conversation:ada-chat")]["customAttributes"],
        json!([])
    );
    api.post(&path, json!({"add": [{"key": "colour", "value": "red"}]}))
        .await
        .assert_error(400, "invalid", Some("add.key"));
    api.post(
        &path,
        json!({"add": [{"key": "legacy_code", "value": "x"}]}),
    )
    .await
    .assert_error(400, "invalid", Some("add.key"));
    api.post(&path, json!({}))
        .await
        .assert_error(400, "blank", None);
    let wrong = format!(
        "/api/v1/customer-history/{}/conversations/{}/custom-attributes",
        id("customer:grace"),
        id("conversation:ada-chat")
    );
    api.post(&wrong, json!({"add": [{"key": "sku", "value": "x"}]}))
        .await
        .assert_error(404, "not_exist", None);
    assert_eq!(
        api.get(&format!("/api/v1/custom-attributes/{order}"))
            .await
            .json["label"],
        "Order number"
    );
    api.get("/api/v1/custom-attributes/nope")
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn sms_and_email_sends_find_or_create_the_customer() {
    let api = Api::new().await;
    let sms = api.post("/api/v1/communications/sms", json!({"customer": {"mobileNumber": "+14155550102"}, "from": "+18005550000", "body": "Your refund is on its way"})).await;
    assert_eq!(sms.status, 200, "{}", sms.text);
    assert_eq!(sms.json["customerId"], id("customer:grace"));
    let item = &api.state()["items"][sms.json["conversationItemId"].as_str().unwrap()];
    assert_eq!(item["content"]["type"], "SMS");
    api.post(
        "/api/v1/communications/sms",
        json!({"customer": {"mobileNumber": "+14155550102"}, "from": "+19999999999", "body": "x"}),
    )
    .await
    .assert_error(400, "invalid", Some("from"));
    api.post(
        "/api/v1/communications/sms",
        json!({"from": "+18005550000", "body": "x"}),
    )
    .await
    .assert_error(400, "blank", Some("customer.mobileNumber"));
    let email = api
        .post("/api/v1/communications/email", json!({"to": [{"email": "new.person@example.com", "name": "New Person"}], "from": "support@acme.example", "subject": "Hello", "body": {"text": "Hi"}}))
        .await;
    assert_eq!(email.status, 200, "{}", email.text);
    let created = &api.state()["customers"][email.json["customerId"].as_str().unwrap()];
    assert_eq!(created["name"], "New Person");
    let two = json!({"to": [{"email": "a@example.com"}, {"email": "b@example.com"}], "from": "support@acme.example", "subject": "x", "body": {"text": "x"}});
    api.post("/api/v1/communications/email", two)
        .await
        .assert_error(400, "invalid", Some("to"));
    let long = json!({"to": [{"email": "a@example.com"}], "from": "support@acme.example", "subject": "s".repeat(1000), "body": {"text": "x"}});
    api.post("/api/v1/communications/email", long)
        .await
        .assert_error(400, "too_long", Some("subject"));
}

#[tokio::test]
async fn identity_tokens_and_recipient_collections() {
    let api = Api::new().await;
    let token = api
        .post(
            "/api/v1/user-identity-jwt",
            json!({"identityType": "EMAIL", "identity": "ada@example.com"}),
        )
        .await;
    assert_eq!(token.status, 200);
    assert_eq!(token.json["token"].as_str().unwrap().split('.').count(), 3);
    api.post(
        "/api/v1/user-identity-jwt",
        json!({"identityType": "FAX", "identity": "1"}),
    )
    .await
    .assert_error(400, "invalid", Some("identityType"));
    api.post(
        "/api/v1/user-identity-jwt",
        json!({"identityType": "MOBILE_PHONE_NUMBER", "identity": "555"}),
    )
    .await
    .assert_error(400, "invalid", Some("identity"));
    let campaign = id("campaign:Spring Sale");
    let path = format!("/api/v1/campaigns/{campaign}/recipient-collections");
    let batch = json!({"name": "Batch 1", "startAfter": "2030-01-01T09:00:00Z",
                       "recipients": [{"customerName": "Ada", "emailAddress": "ada@example.com", "timezone": "Europe/London"}]});
    let reply = api.post(&path, batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        (reply.json["status"].as_str(), reply.json["type"].as_str()),
        (Some("PENDING"), Some("EMAIL"))
    );
    assert_eq!(
        api.state()["recipientCollections"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
    let missing_email = json!({"name": "B", "startAfter": "2030-01-01T09:00:00Z", "recipients": [{"customerName": "Ada", "timezone": "UTC"}]});
    api.post(&path, missing_email).await.assert_error(
        400,
        "blank",
        Some("recipients.emailAddress"),
    );
    api.post("/api/v1/campaigns/nope/recipient-collections", json!({}))
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn public_answers_need_no_token() {
    let api = Api::new().await;
    let org = api.get("/api/v1/organization").await.json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = client(None);
    let base = format!("{}/api/v1/orgs/{org}", api.sandbox.base_url());
    let list: Value = http
        .get(format!("{base}/answers?lng=fr-ca"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Dire bonjour", "Retours"]);
    let audience = id("audience:Audience 2");
    let filtered: Value = http
        .get(format!("{base}/answers?audienceId={audience}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    let hits: Value = http
        .get(format!("{base}/answers-search?q=30%20days"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        hits,
        json!([{"id": id("answer:Return Policy"), "name": "Returns"}])
    );
    let one: Value = http
        .get(format!("{base}/answers/{}", id("answer:How to: Say Hello")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["bodyHtml"], "<p>Hello!</p>");
    let titles: Value = http
        .get(format!(
            "{base}/help-center/{}/answer-titles",
            id("help-center:main")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(titles.as_array().unwrap().len(), 2);
    let wrong = http
        .get(format!(
            "{}/api/v1/orgs/nope/answers",
            api.sandbox.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
}
