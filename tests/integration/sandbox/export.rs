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
    // Updated in the last hour: the running job and the one completed half an hour ago.
    let mut statuses: Vec<&str> = recent
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["COMPLETED", "IN_PROGRESS"]);
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

/// A completed job's file holds the items of its window only: none from before its
/// `startAt`, none from after its `endAt` (items written after the job ran included).
#[tokio::test]
async fn a_job_file_holds_the_items_of_its_window_only() {
    let api = Api::new().await;
    let job = api
        .get(&format!(
            "/api/v1/export/jobs/{}",
            id("export-job:completed")
        ))
        .await
        .json;
    let start: chrono::DateTime<chrono::Utc> = job["parameters"]["startAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let end: chrono::DateTime<chrono::Utc> = job["parameters"]["endAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // An item written now, after the job ran.
    let note = api
        .post(
            &format!(
                "/api/v1/conversations/{}/notes",
                id("conversation:ada-chat")
            ),
            json!({"content": {"body": "written after the export"}}),
        )
        .await;
    assert_eq!(note.status, 201, "{}", note.text);
    let file = api
        .get(&format!(
            "/api/v1/export/jobs/{}/files/conversation_items.jsonl",
            id("export-job:completed")
        ))
        .await;
    let stamps: Vec<chrono::DateTime<chrono::Utc>> = file
        .text
        .lines()
        .map(|l| {
            let item: Value = serde_json::from_str(l).unwrap();
            item["timestamp"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    assert!(!stamps.is_empty());
    assert!(
        stamps.iter().all(|t| *t >= start && *t < end),
        "{}",
        file.text
    );
    assert!(!file.text.contains("written after the export"));
    // The org holds items outside the window that the file leaves out.
    let outside = api.state()["items"]
        .as_object()
        .unwrap()
        .values()
        .filter(|i| i["conversationId"].is_string())
        .filter(|i| {
            let t: chrono::DateTime<chrono::Utc> =
                i["timestamp"].as_str().unwrap().parse().unwrap();
            t < start || t >= end
        })
        .count();
    assert!(outside > 0, "the default org has items outside the window");
}
