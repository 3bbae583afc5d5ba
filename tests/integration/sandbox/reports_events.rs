//! Reports (CSV, supported metric sets, validation) and the Events stream (JSON Lines).

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{Api, id};

fn week() -> (String, String) {
    let today = Utc::now()
        .with_timezone(&chrono_tz::America::Los_Angeles)
        .date_naive();
    ((today - Duration::days(7)).to_string(), today.to_string())
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn supported_metric_sets_answer_csv() {
    let api = Api::new().await;
    let (start, end) = week();
    let expectations = [
        ("ContactExportReportV3", "Queued At", 8),
        ("ConversationExportReport", "Created At", 8),
        ("AgentTimestampsReport", "Timestamp", 18),
        ("TaskExportReport", "Task ID", 3),
    ];
    for (metric, first_column, rows) in expectations {
        let reply = api.post("/api/v1/reports", json!({"metricSet": metric, "timezone": "America/Los_Angeles", "startAt": start, "endAt": end})).await;
        assert_eq!(reply.status, 200, "{metric}: {}", reply.text);
        assert_eq!(reply.header("content-type"), "text/csv");
        assert!(
            reply
                .header("content-disposition")
                .contains(&format!("filename={metric}-"))
        );
        let table = csv_rows(&reply.text);
        assert_eq!(table[0][0], first_column);
        assert_eq!(table.len() - 1, rows, "{metric}:\n{}", reply.text);
    }
}

#[tokio::test]
async fn report_filters_and_windows_apply() {
    let api = Api::new().await;
    let (start, end) = week();
    let email_only = api
        .post("/api/v1/reports", json!({"metricSet": "ContactExportReportV3", "startAt": start, "endAt": end, "filters": {"channel": "email"}}))
        .await;
    let table = csv_rows(&email_only.text);
    assert_eq!(table.len(), 3, "Grace's and Ada's email threads");
    let channel = table[0].iter().position(|c| c == "Channel").unwrap();
    assert!(table[1..].iter().all(|row| row[channel] == "EMAIL"));
    let billing = api
        .post("/api/v1/reports", json!({"metricSet": "TaskExportReport", "startAt": start, "endAt": end, "filters": {"inboxes": [id("inbox:Billing")]}}))
        .await;
    assert_eq!(csv_rows(&billing.text).len(), 3);
    let old = api.post("/api/v1/reports", json!({"metricSet": "TaskExportReport", "startAt": "2001-01-01", "endAt": "2001-01-31"})).await;
    assert_eq!(csv_rows(&old.text).len(), 1, "header only");
    let hour = Utc::now() - Duration::minutes(150);
    let by_time = api
        .post("/api/v1/reports", json!({"metricSet": "ContactExportReportV3", "startAtTime": hour.format("%Y-%m-%dT%H:%MZ").to_string(), "endAtTime": Utc::now().format("%Y-%m-%dT%H:%MZ").to_string()}))
        .await;
    assert_eq!(by_time.status, 200, "{}", by_time.text);
    let rows = csv_rows(&by_time.text);
    assert_eq!(
        rows.len(),
        2,
        "only Ada's chat started in the last 150 minutes"
    );
    let customer = rows[0].iter().position(|c| c == "Customer ID").unwrap();
    assert_eq!(rows[1][customer], id("customer:ada"));
}

#[tokio::test]
async fn every_metric_set_answers_and_bad_requests_are_400() {
    let api = Api::new().await;
    let (start, end) = week();
    // A metric set whose rows the sandbox does not compute: its documented columns.
    let documented = api
        .post(
            "/api/v1/reports",
            json!({"metricSet": "AgentSummaryV2", "startAt": start, "endAt": end}),
        )
        .await;
    assert_eq!(documented.status, 200, "{}", documented.text);
    let table = csv_rows(&documented.text);
    assert_eq!(table.len(), 1, "{}", documented.text);
    assert_eq!(
        table[0][..5],
        [
            "Bucket Beginning",
            "Bucket End",
            "Name",
            "Email",
            "Agent ID"
        ]
    );
    // One whose documentation was not found: an empty CSV, no made-up columns.
    let undocumented = api
        .post(
            "/api/v1/reports",
            json!({"metricSet": "TopicSummaryReport", "startAt": start, "endAt": end}),
        )
        .await;
    assert_eq!(undocumented.status, 200, "{}", undocumented.text);
    assert_eq!(undocumented.text, "");
    // The contact timestamps: one line per contact event, as the Events API serves them.
    let timestamps = api
        .post(
            "/api/v1/reports",
            json!({"metricSet": "ContactTimestampsReport", "startAt": start, "endAt": end}),
        )
        .await;
    let table = csv_rows(&timestamps.text);
    assert_eq!(table[0][..3], ["Timestamp", "Event Type", "Contact ID"]);
    assert!(table[1..].iter().all(|r| r[1].starts_with("CONTACT/")));
    assert!(table.len() > 10, "{}", timestamps.text);
    // A name that is no metric set of Gladly's.
    let other = api
        .post(
            "/api/v1/reports",
            json!({"metricSet": "NoSuchReport", "startAt": start, "endAt": end}),
        )
        .await;
    other.assert_error(400, "invalid", Some("metricSet"));
    api.post("/api/v1/reports", json!({"startAt": start}))
        .await
        .assert_error(400, "blank", Some("metricSet"));
    api.post(
        "/api/v1/reports",
        json!({"metricSet": "TaskExportReport", "startAt": end, "endAt": start}),
    )
    .await
    .assert_error(400, "invalid", Some("startAt"));
    api.post(
        "/api/v1/reports",
        json!({"metricSet": "TaskExportReport", "startAt": "May 1", "endAt": end}),
    )
    .await
    .assert_error(400, "invalid", Some("startAt"));
    api.post("/api/v1/reports", json!({"metricSet": "TaskExportReport", "startAt": start, "endAt": end, "timezone": "Mars/Base"})).await.assert_error(400, "invalid", Some("timezone"));
    api.post("/api/v1/reports", json!({"metricSet": "TaskExportReport", "startAt": start, "endAt": end, "aggregationLevel": "hourly"})).await.assert_error(400, "invalid", Some("aggregationLevel"));
    api.post("/api/v1/reports", json!({"metricSet": "TaskExportReport", "startAt": start, "endAt": end, "filters": {"channel": "email"}})).await.assert_error(400, "invalid", Some("filters.channel"));
    api.post("/api/v1/reports", json!({"metricSet": "TaskExportReport", "startAt": start, "endAt": end, "filters": {"inboxes": ["nope"]}})).await.assert_error(400, "present", Some("filters.inboxes"));
    api.post("/api/v1/reports", json!({"metricSet": "TaskExportReport", "startAtTime": "2024-01-01T00:00Z", "endAtTime": "2024-01-02T00:00Z"})).await.assert_error(400, "invalid", Some("startAtTime"));
}

#[tokio::test]
async fn work_session_events_answer_csv() {
    let api = Api::new().await;
    let now = Utc::now();
    let body = json!({"startAtTime": (now - Duration::days(7)).format("%Y-%m-%dT%H:%M-07:00").to_string(), "endAtTime": now.format("%Y-%m-%dT%H:%MZ").to_string()});
    let reply = api.post("/api/v1/reports/work-session-events", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), "text/csv");
    let table = csv_rows(&reply.text);
    assert_eq!(table[0][15], "work_session_handle_time_sec");
    assert_eq!(table.len() - 1, 8, "one work session per contact");
    let backwards = json!({"startAtTime": "2024-01-02T00:00Z", "endAtTime": "2024-01-01T00:00Z"});
    api.post("/api/v1/reports/work-session-events", backwards)
        .await
        .assert_error(400, "invalid", Some("startAtTime"));
    api.post("/api/v1/reports/work-session-events", json!({}))
        .await
        .assert_error(400, "blank", Some("startAtTime"));
}

fn stamp(ago: Duration) -> String {
    (Utc::now() - ago).to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test]
async fn events_stream_json_lines_for_the_chosen_entities() {
    let api = Api::new().await;
    let start = stamp(Duration::hours(23));
    let reply = api
        .get(&format!(
            "/api/v1/events?startAt={start}&entities=CONTACT&entities=AGENT_AVAILABILITY"
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), "application/x-jsonlines");
    let events: Vec<Value> = reply
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.iter().all(|e| {
        let kind = e["type"].as_str().unwrap();
        kind.starts_with("CONTACT/") || kind.starts_with("AGENT_AVAILABILITY/")
    }));
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "CONTACT/HOLD_STARTED")
            .count(),
        2
    );
    // Contact events carry no direction: an outbound contact is one an agent started.
    let outbound = events
        .iter()
        .filter(|e| e["type"] == "CONTACT/STARTED" && e["initiator"]["type"] == "AGENT")
        .count();
    assert_eq!(outbound, 3);
    let stamps: Vec<&str> = events
        .iter()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    // A write shows up in the stream.
    api.post("/api/v1/customer-profiles", json!({"name": "Eve"}))
        .await;
    let profiles = api
        .get(&format!(
            "/api/v1/events?startAt={}&entities=CUSTOMER_PROFILE",
            stamp(Duration::minutes(1))
        ))
        .await;
    assert_eq!(profiles.text.lines().count(), 1, "{}", profiles.text);
}

#[tokio::test]
async fn events_validate_the_window_and_entities() {
    let api = Api::new().await;
    let start = stamp(Duration::hours(2));
    api.get("/api/v1/events?entities=CONTACT")
        .await
        .assert_error(400, "blank", Some("startAt"));
    api.get(&format!(
        "/api/v1/events?startAt={}&entities=CONTACT",
        stamp(Duration::hours(30))
    ))
    .await
    .assert_error(400, "invalid", Some("startAt"));
    api.get(&format!(
        "/api/v1/events?startAt={start}&endAt={}&entities=CONTACT",
        stamp(Duration::hours(3))
    ))
    .await
    .assert_error(400, "invalid", Some("startAt"));
    api.get(&format!("/api/v1/events?startAt={start}"))
        .await
        .assert_error(400, "blank", Some("entities"));
    api.get(&format!("/api/v1/events?startAt={start}&entities=ORDERS"))
        .await
        .assert_error(400, "invalid", Some("entities"));
}

/// Rows of a CSV report keyed by column name.
fn report_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let rows = csv_rows(text);
    let header = &rows[0];
    rows[1..]
        .iter()
        .map(|row| header.iter().cloned().zip(row.iter().cloned()).collect())
        .collect()
}

#[tokio::test]
async fn the_events_tell_the_same_story_as_the_org_and_its_reports() {
    let api = Api::new().await;
    let state = api.state();
    let reply = api
        .get(&format!(
            "/api/v1/events?startAt={}&entities=CONTACT",
            stamp(Duration::hours(23))
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let events: Vec<Value> = reply
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (start, end) = week();
    let mut reports = Vec::new();
    for metric in ["ContactExportReportV3", "ContactTimestampsReport"] {
        let body = json!({"metricSet": metric, "timezone": "America/Los_Angeles",
                          "startAt": start, "endAt": end});
        let reply = api.post("/api/v1/reports", body).await;
        assert_eq!(reply.status, 200, "{metric}: {}", reply.text);
        reports.push(report_rows(&reply.text));
    }
    let (contacts, timestamps) = (&reports[0], &reports[1]);
    let started: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "CONTACT/STARTED")
        .collect();
    assert_eq!(started.len(), 5, "{}", reply.text);
    for event in &events {
        let content = &event["content"];
        let text = |v: &Value| v.as_str().unwrap().to_owned();
        let conversation = &state["conversations"][text(&content["conversationId"])];
        assert!(conversation.is_object(), "no conversation for {event}");
        assert!(state["customers"][text(&content["customerId"])].is_object());
        assert_eq!(conversation["customerId"], content["customerId"], "{event}");
        let assignee = &content["context"]["assignee"];
        assert_eq!(conversation["agentId"], assignee["agentId"], "{event}");
        assert_eq!(conversation["inboxId"], assignee["inboxId"], "{event}");
        assert!(state["agents"][text(&assignee["agentId"])].is_object());
        // The contact is one of the reports' contacts, with the same conversation.
        let id = text(&content["contactId"]);
        let row = contacts
            .iter()
            .find(|r| r["Contact ID"] == id)
            .unwrap_or_else(|| panic!("contact {id} is in no ContactExportReportV3 row"));
        assert_eq!(row["Conversation ID"], text(&content["conversationId"]));
        assert_eq!(row["Customer ID"], text(&content["customerId"]));
        assert_eq!(row["Channel"], text(&content["channel"]));
        assert!(
            timestamps
                .iter()
                .any(|r| r["Contact ID"] == id && r["Event Type"] == event["type"]),
            "{event} is in no ContactTimestampsReport row"
        );
    }
    // Who started a contact decides its direction in the report.
    for event in started {
        let row = contacts
            .iter()
            .find(|r| r["Contact ID"] == event["content"]["contactId"].as_str().unwrap())
            .unwrap();
        let outbound = event["initiator"]["type"] == "AGENT";
        assert_eq!(
            row["Direction"],
            if outbound { "OUTBOUND" } else { "INBOUND" },
            "{event}"
        );
    }
}
