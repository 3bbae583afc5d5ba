//! What the read-side jobs (exports, reports, events) rely on in the default org, pinned
//! with the sandbox clock at `2026-11-20T18:00:00Z`: its working day is 2026-11-19 in the
//! org's time zone (`America/Los_Angeles`).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::clock::{CLOCK, at, clock};
use super::{Api, id};

fn csv_table(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn column<'a>(table: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let at = table[0].iter().position(|h| h == name).expect(name);
    table[1..].iter().map(|row| row[at].as_str()).collect()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn pinned() -> Api {
    at(clock()).await
}

#[tokio::test]
async fn a_conversations_items_carry_email_call_and_topic_fields() {
    let api = pinned().await;
    let email = api
        .get(&format!(
            "/api/v1/conversations/{}/items",
            id("conversation:ada-email")
        ))
        .await
        .json;
    let kinds: Vec<&str> = email
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["content"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "EMAIL",
            "EMAIL",
            "TOPIC_CHANGE",
            "TOPIC_CHANGE",
            "CONVERSATION_STATUS_CHANGE"
        ]
    );
    assert_eq!(
        email[0],
        json!({"id": id("item:ada-email-0"), "customerId": id("customer:ada"),
               "conversationId": id("conversation:ada-email"), "timestamp": "2026-11-19T22:50:00.000Z",
               "initiator": {"id": id("customer:ada"), "type": "CUSTOMER"},
               "content": {"type": "EMAIL", "from": "ada@example.com", "to": ["billing@acme.example"],
                           "cc": ["ada.l@work.example"], "subject": "Copy of invoice #3003",
                           "content": "Could you send me a copy of invoice #3003? Please copy my work address."}})
    );
    assert_eq!(email[1]["content"]["bcc"], json!(["records@acme.example"]));
    assert_eq!(email[1]["initiator"]["type"], "AGENT");
    assert_eq!(
        email[3]["content"],
        json!({"type": "TOPIC_CHANGE", "addedTopicIds": [id("topic:Billing Question")],
               "removedTopicIds": [id("topic:Shipping")]})
    );

    let call = api
        .get(&format!(
            "/api/v1/conversations/{}/items",
            id("conversation:ada-call")
        ))
        .await
        .json;
    let call = &call[0];
    assert_eq!(
        call["responder"],
        json!({"id": id("customer:ada"), "type": "CUSTOMER"})
    );
    assert_eq!(call["initiator"]["id"], id("agent:alice"));
    let content = &call["content"];
    assert_eq!(content["startedAt"], "2026-11-19T23:30:00.000Z");
    assert_eq!(content["answeredAt"], "2026-11-19T23:30:12.000Z");
    assert_eq!(content["completedAt"], "2026-11-19T23:40:00.000Z");
    assert_eq!(content["recordingDuration"], 588);
    assert_eq!(content["recordingSummary"]["status"], "READY");
    let recording = api.get(content["recordingUrl"].as_str().unwrap()).await;
    assert_eq!(recording.status, 200);
}

#[tokio::test]
async fn a_customers_conversations_are_listed_with_their_fields() {
    let api = pinned().await;
    let list = api
        .get(&format!(
            "/api/v1/customers/{}/conversations",
            id("customer:ada")
        ))
        .await
        .json;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let email = &list[0];
    assert_eq!(email["id"], id("conversation:ada-email"));
    assert_eq!(email["status"], "CLOSED");
    assert_eq!(email["createdAt"], "2026-11-19T22:50:00.000Z");
    assert_eq!(email["closedAt"], "2026-11-19T23:20:00.000Z");
    assert_eq!(email["inboxId"], id("inbox:Billing"));
    assert_eq!(email["agentId"], id("agent:alice"));
    assert_eq!(email["topicIds"], json!([id("topic:Billing Question")]));
    assert_eq!(
        email["customAttributes"],
        json!([{"id": id("custom-attribute:order_number"), "value": "3003"}])
    );
    assert_eq!(list[2]["id"], id("conversation:ada-chat"));
}

#[tokio::test]
async fn the_export_files_hold_every_kind_of_item_as_the_api_returns_it() {
    let api = pinned().await;
    let base = format!("/api/v1/export/jobs/{}/files", id("export-job:completed"));
    let items = json_lines(
        &api.get(&format!("{base}/conversation_items.jsonl"))
            .await
            .text,
    );
    let kinds: BTreeSet<&str> = items
        .iter()
        .map(|i| i["content"]["type"].as_str().unwrap())
        .collect();
    for kind in [
        "CHAT_MESSAGE",
        "EMAIL",
        "PHONE_CALL",
        "TOPIC_CHANGE",
        "CONVERSATION_NOTE",
        "SMS",
        "CONVERSATION_STATUS_CHANGE",
    ] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }
    for item in &items {
        let one = api
            .get(&format!(
                "/api/v1/conversation-items/{}",
                item["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(&one.json, item, "same shape as the API");
    }
    let stamps: Vec<&str> = items
        .iter()
        .map(|i| i["timestamp"].as_str().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    for (file, lines) in [
        ("agents.jsonl", 5),
        ("customers.jsonl", 5),
        ("topics.jsonl", 8),
    ] {
        let text = api.get(&format!("{base}/{file}")).await.text;
        assert_eq!(json_lines(&text).len(), lines, "{file}");
    }
}

#[tokio::test]
async fn answers_have_content_of_every_type() {
    let api = pinned().await;
    let answer = id("answer:Return Policy");
    let audiences = api.get(&format!("/api/v1/answers/{answer}")).await.json["audienceIds"].clone();
    assert_eq!(
        audiences,
        json!([id("audience:Audience 1"), id("audience:Audience 2")])
    );
    let content = |language: &'static str, kind: &'static str| {
        let api = &api;
        let answer = answer.clone();
        async move {
            api.get(&format!(
                "/api/v1/answers/{answer}/languages/{language}/type/{kind}"
            ))
            .await
        }
    };
    assert_eq!(content("en-us", "public").await.json["title"], "Returns");
    assert_eq!(
        content("en-us", "email").await.json["subject"],
        "Our return policy"
    );
    assert!(content("en-us", "messaging").await.json["bodyHtml"].is_string());
    assert_eq!(content("en-us", "reference").await.json["internal"], false);
    assert_eq!(
        content("fr-ca", "email").await.json["subject"],
        "Notre politique de retour"
    );
    content("fr-ca", "messaging")
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn the_working_day_has_email_contacts_logins_and_handle_time() {
    let api = pinned().await;
    let day =
        json!({"timezone": "America/Los_Angeles", "startAt": "2026-11-19", "endAt": "2026-11-19"});
    let mut contacts_body = day.clone();
    contacts_body["metricSet"] = json!("ContactExportReport");
    let contacts = api.post("/api/v1/reports", contacts_body).await;
    assert_eq!(contacts.status, 200, "{}", contacts.text);
    let table = csv_table(&contacts.text);
    assert_eq!(
        column(&table, "Channel"),
        [
            "PHONE_CALL",
            "EMAIL",
            "PHONE_CALL",
            "PHONE_CALL",
            "PHONE_CALL"
        ]
    );
    assert_eq!(
        column(&table, "Contact ID")[1],
        id(&format!("contact:{}", id("item:ada-email-0")))
    );
    assert_eq!(column(&table, "Queued At")[1], "2026-11-19T22:50:00.000Z");
    assert_eq!(
        column(&table, "Direction"),
        ["INBOUND", "INBOUND", "OUTBOUND", "OUTBOUND", "OUTBOUND"]
    );

    let mut agents_body = day.clone();
    agents_body["metricSet"] = json!("AgentTimestampsReport");
    agents_body["filters"] = json!({});
    let agents = csv_table(&api.post("/api/v1/reports", agents_body).await.text);
    let logins = column(&agents, "Type")
        .into_iter()
        .filter(|t| *t == "AGENT_STATUS/LOGGED_IN")
        .count();
    assert_eq!(logins, 3);

    let mut conversations_body = day;
    conversations_body["metricSet"] = json!("ConversationExportReport");
    let conversations = csv_table(&api.post("/api/v1/reports", conversations_body).await.text);
    assert_eq!(
        column(&conversations, "Conversation ID"),
        [
            id("conversation:alan-call"),
            id("conversation:ada-email"),
            id("conversation:grace-call"),
            id("conversation:ada-call"),
            id("conversation:margaret-call")
        ]
    );

    let sessions = api
        .post(
            "/api/v1/reports/work-session-events",
            json!({"startAtTime": "2026-11-19T00:00-08:00", "endAtTime": "2026-11-20T00:00-08:00"}),
        )
        .await;
    let sessions = csv_table(&sessions.text);
    let total: i64 = column(&sessions, "work_session_handle_time_sec")
        .iter()
        .map(|s| s.parse::<i64>().unwrap())
        .sum();
    assert_eq!(
        total,
        5 * 600,
        "Alan's call, Ada's email, Alice's call to Grace, Ada's call, Carol's call to Margaret"
    );
}

#[tokio::test]
async fn events_hold_availability_outbound_calls_and_agent_holds() {
    let api = pinned().await;
    let reply = api
        .get(&format!(
            "/api/v1/events?startAt=2026-11-19T18:00:00Z&endAt={CLOCK}&entities=AGENT_STATUS&entities=AGENT_AVAILABILITY&entities=CONTACT"
        ))
        .await;
    let events = json_lines(&reply.text);
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["type"] == kind).collect() };
    // Three changes per agent, and one to no channel at logout.
    let availability = of("AGENT_AVAILABILITY/UPDATED");
    assert_eq!(availability.len(), 12);
    assert!(
        availability
            .iter()
            .all(|e| e["content"]["availableFor"].is_array() && e["content"]["agentId"].is_string())
    );
    assert_eq!(of("AGENT_STATUS/LOGGED_IN").len(), 3);
    assert_eq!(of("AGENT_STATUS/LOGGED_OUT").len(), 3);
    let outbound: Vec<&str> = of("CONTACT/STARTED")
        .into_iter()
        .filter(|e| e["initiator"]["type"] == "AGENT" && e["content"]["channel"] == "PHONE_CALL")
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    assert_eq!(
        outbound,
        [
            "2026-11-19T23:00:00.000Z",
            "2026-11-19T23:30:00.000Z",
            "2026-11-20T00:00:00.000Z"
        ]
    );
    let holds = of("CONTACT/HOLD_STARTED");
    let ends = of("CONTACT/HOLD_ENDED");
    assert_eq!(holds.len(), 2);
    for hold in holds {
        assert_eq!(hold["initiator"]["type"], "AGENT");
        let end = ends
            .iter()
            .find(|e| e["content"]["contactId"] == hold["content"]["contactId"])
            .unwrap();
        assert_eq!(end["initiator"], hold["initiator"]);
        let start: chrono::DateTime<chrono::Utc> =
            hold["timestamp"].as_str().unwrap().parse().unwrap();
        let stop: chrono::DateTime<chrono::Utc> =
            end["timestamp"].as_str().unwrap().parse().unwrap();
        assert_eq!((stop - start).num_minutes(), 4);
    }
    let email = of("CONTACT/STARTED")
        .into_iter()
        .find(|e| e["content"]["channel"] == "EMAIL")
        .unwrap();
    // Started by the customer (the spec's contact events have no `direction` field).
    assert_eq!(email["initiator"]["type"], "CUSTOMER");
    assert!(email["content"].get("direction").is_none());
    assert_eq!(
        email["content"]["conversationId"],
        id("conversation:ada-email")
    );
}

#[tokio::test]
async fn the_daily_summary_reports_count_the_days_contacts_and_conversations() {
    // The Los Angeles day of 2026-11-19 holds five contacts: Alan's inbound call (one
    // customer message), Ada's inbound email (one message each way), and three outbound
    // calls by agents (Alice to Grace, Alice to Ada, Carol to Margaret), all ended and
    // their conversations closed that day; Alan's conversation holds the one note.
    let api = pinned().await;
    let report = |metric: &str| {
        let body = json!({"metricSet": metric, "timezone": "America/Los_Angeles",
                          "startAt": "2026-11-19", "endAt": "2026-11-19"});
        let api = &api;
        async move {
            let reply = api.post("/api/v1/reports", body).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            csv_table(&reply.text)
        }
    };
    assert_eq!(
        report("ChannelMixReportV2").await,
        [
            vec![
                "Queued Date",
                "Channel",
                "Messages from Customer",
                "Messages from Agent",
                "Contacts Inbound",
                "% of Inbound Contacts"
            ],
            vec!["2026-11-19", "EMAIL", "1", "1", "1", "50.0%"],
            vec!["2026-11-19", "PHONE_CALL", "1", "3", "1", "50.0%"],
        ]
    );
    assert_eq!(
        report("ContactSummaryCountsReport").await,
        [
            vec![
                "Ended Date",
                "Contacts Ended",
                "Contacts Inbound",
                "Contacts Fulfilled",
                "Contacts Fulfilled before SLA",
                "Contacts Fulfilled after SLA",
                "Contacts Abandoned",
                "Contacts Outbound"
            ],
            vec!["2026-11-19", "5", "2", "2", "", "", "0", "3"],
        ]
    );
    assert_eq!(
        report("ContactSummaryReportV2").await[1],
        ["2026-11-19", "5", "2", "2", "", "", "2"]
    );
    assert_eq!(
        report("ConversationSummaryReport").await,
        [
            vec![
                "Last Closed At",
                "Conversations Closed",
                "Unique Customers",
                "% Multichannel",
                "% FCR Success",
                "Count of FCR Eligible",
                "Avg Count of Contacts",
                "Avg Count of Channels",
                "Avg Count of Notes",
                "Avg Count of Agents Assigned",
                "Avg Count of Inboxes Assigned",
                "Avg Times Closed"
            ],
            vec![
                "2026-11-19",
                "5",
                "4",
                "0.0%",
                "",
                "",
                "1.00",
                "1.00",
                "0.20",
                "1.00",
                "1.00",
                "1.00"
            ],
        ]
    );
    // A day with nothing in it is the header alone.
    let body = json!({"metricSet": "ChannelMixReportV2", "timezone": "America/Los_Angeles",
                      "startAt": "2026-11-10", "endAt": "2026-11-10"});
    let empty = api.post("/api/v1/reports", body).await;
    assert_eq!(csv_table(&empty.text).len(), 1, "{}", empty.text);
}
