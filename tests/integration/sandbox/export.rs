//! The Export API: schedules, jobs within 14 days, files as JSON Lines, delete rules.

use serde_json::{Value, json};

use super::{Api, id};

#[tokio::test]
async fn jobs_of_the_last_14_days_with_filters() {
    let api = Api::new().await;
    let jobs = api.get("/api/v1/export/jobs").await.json;
    let statuses: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.len(),
        3,
        "the 20-day-old job is invisible: {statuses:?}"
    );
    let completed = api.get("/api/v1/export/jobs?status=COMPLETED").await.json;
    assert_eq!(completed[0]["id"], id("export-job:completed"));
    assert_eq!(
        completed[0]["files"],
        json!([
            "agents.jsonl",
            "conversation_items.jsonl",
            "customers.jsonl",
            "topics.jsonl"
        ])
    );
    api.get("/api/v1/export/jobs?status=DONE")
        .await
        .assert_error(400, "invalid", Some("status"));
    api.get("/api/v1/export/jobs?startAt=2001-01-01T00:00:00Z")
        .await
        .assert_error(400, "invalid", Some("startAt"));
    api.get("/api/v1/export/jobs?endAt=2999-01-01T00:00:00Z")
        .await
        .assert_error(400, "invalid", Some("endAt"));
    let now = chrono::Utc::now();
    let start =
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let end = (now - chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    api.get(&format!("/api/v1/export/jobs?startAt={start}&endAt={end}"))
        .await
        .assert_error(400, "invalid", Some("endAt"));
    let recent = api
        .get(&format!("/api/v1/export/jobs?startAt={start}"))
        .await
        .json;
    assert_eq!(recent[0]["status"], "IN_PROGRESS");
    api.get(&format!("/api/v1/export/jobs/{}", id("export-job:expired")))
        .await
        .assert_error(404, "not_exist", None);
    let schedules = api.get("/api/v1/export/schedules").await.json;
    assert_eq!(schedules[0]["frequency"], "DAILY");
}

#[tokio::test]
async fn files_are_json_lines() {
    let api = Api::new().await;
    let base = format!("/api/v1/export/jobs/{}/files", id("export-job:completed"));
    let items = api.get(&format!("{base}/conversation_items.jsonl")).await;
    assert_eq!(items.header("content-type"), "application/x-ndjson");
    let lines: Vec<Value> = items
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["conversationId"].is_string()));
    assert!(lines.iter().any(|l| l["content"]["type"] == "PHONE_CALL"));
    let customers = api.get(&format!("{base}/customers.jsonl")).await;
    let ada: Value = customers
        .text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|c| c["id"] == id("customer:ada"))
        .unwrap();
    assert_eq!(
        ada["emailAddresses"],
        json!(["ada@example.com", "ada.l@work.example"])
    );
    assert_eq!(
        api.get(&format!("{base}/agents.jsonl"))
            .await
            .text
            .lines()
            .count(),
        5
    );
    assert_eq!(
        api.get(&format!("{base}/topics.jsonl"))
            .await
            .text
            .lines()
            .count(),
        8
    );
    api.get(&format!("{base}/nope.jsonl"))
        .await
        .assert_error(404, "not_exist", None);
}

#[tokio::test]
async fn only_finished_jobs_can_be_deleted() {
    let api = Api::new().await;
    let running = id("export-job:in-progress");
    api.delete(&format!("/api/v1/export/jobs/{running}"))
        .await
        .assert_error(400, "temporary_failure", Some("status"));
    assert!(api.state()["exportJobs"].get(&running).is_some());
    let done = id("export-job:completed");
    assert_eq!(
        api.delete(&format!("/api/v1/export/jobs/{done}"))
            .await
            .status,
        204
    );
    assert!(api.state()["exportJobs"].get(&done).is_none());
    api.get(&format!("/api/v1/export/jobs/{done}/files/agents.jsonl"))
        .await
        .assert_error(404, "not_exist", None);
    api.delete(&format!("/api/v1/export/jobs/{done}"))
        .await
        .assert_error(404, "not_exist", None);
}
