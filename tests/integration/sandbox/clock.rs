//! The sandbox clock (`SandboxOptions::clock`, `runner sandbox --clock`): the default org is
//! dated from the clock's instant, every route reads "now" from it, and each sandbox keeps
//! its own.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use gladly_runner::sandbox::SandboxOptions;
use serde_json::{Value, json};

use super::{Api, id};

/// The instant the job samples and these tests pin the sandbox to.
pub(crate) const CLOCK: &str = "2026-11-20T18:00:00Z";

pub(crate) fn clock() -> DateTime<Utc> {
    CLOCK.parse().unwrap()
}

/// A sandbox without rate limits living at `at`.
pub(crate) async fn at(at: DateTime<Utc>) -> Api {
    Api::with(SandboxOptions {
        clock: Some(at),
        ..SandboxOptions::unlimited()
    })
    .await
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Asserts `stamp` is at or after `start` and less than a minute later.
#[track_caller]
fn near(stamp: &str, start: DateTime<Utc>) {
    let at = parse(stamp);
    assert!(
        at >= start && at - start < Duration::minutes(1),
        "{stamp} is not just after {start}"
    );
}

const ALL_ENTITIES: &str = "entities=AGENT_STATUS&entities=AGENT_AVAILABILITY&entities=CONTACT";

#[tokio::test]
async fn the_sandbox_now_is_the_clock_plus_elapsed_time() {
    let api = at(clock()).await;
    near(&iso(api.sandbox.now()), clock());
    let later = api.sandbox.now();
    assert!(later >= clock() && later - clock() < Duration::seconds(30));
}

#[tokio::test]
async fn with_a_clock_the_events_are_the_day_before_it() {
    let api = at(clock()).await;
    let day = api
        .get(&format!(
            "/api/v1/events?startAt=2026-11-19T18:00:00Z&endAt={CLOCK}&{ALL_ENTITIES}"
        ))
        .await;
    assert_eq!(day.status, 200, "{}", day.text);
    let events = json_lines(&day.text);
    assert_eq!(events.len(), 34, "the whole working day:\n{}", day.text);
    let first = &events[0];
    assert_eq!(first["id"], id("event:alice-login"));
    assert_eq!(first["type"], "AGENT_STATUS/LOGGED_IN");
    assert_eq!(
        first["timestamp"], "2026-11-19T22:00:00.000Z",
        "20 hours before the clock, to the millisecond"
    );
    assert!(events.iter().all(|e| {
        let at = parse(e["timestamp"].as_str().unwrap());
        at > clock() - Duration::hours(24) && at < clock()
    }));
    // The window is the 24 hours before the clock, not before the machine's time.
    api.get(&format!(
        "/api/v1/events?startAt=2026-11-19T17:00:00Z&{ALL_ENTITIES}"
    ))
    .await
    .assert_error(400, "invalid", Some("startAt"));
    // A window around the real now is in the sandbox's future (the clock is in the past):
    // without endAt it ends before it starts; with one it holds nothing.
    let real = Utc::now();
    api.get(&format!(
        "/api/v1/events?startAt={}&{ALL_ENTITIES}",
        iso(real - Duration::hours(1))
    ))
    .await
    .assert_error(400, "invalid", Some("startAt"));
    let empty = api
        .get(&format!(
            "/api/v1/events?startAt={}&endAt={}&{ALL_ENTITIES}",
            iso(real - Duration::hours(23)),
            iso(real)
        ))
        .await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.text, "");
}

#[tokio::test]
async fn a_clock_in_the_future_rejects_windows_around_the_real_now() {
    let future: DateTime<Utc> = "2031-05-01T12:00:00Z".parse().unwrap();
    let api = at(future).await;
    let real = Utc::now();
    api.get(&format!(
        "/api/v1/events?startAt={}&entities=CONTACT",
        iso(real - Duration::hours(1))
    ))
    .await
    .assert_error(400, "invalid", Some("startAt"));
    let recent = api
        .get(&format!(
            "/api/v1/events?startAt={}&entities=AGENT_STATUS",
            iso(future - Duration::hours(23))
        ))
        .await;
    assert_eq!(json_lines(&recent.text).len(), 6, "{}", recent.text);
    api.get(&format!("/api/v1/export/jobs?startAt={}", iso(real)))
        .await
        .assert_error(400, "invalid", Some("startAt"));
    // A due date in the real future is in the sandbox's past.
    let task = json!({"assignee": {"inboxId": id("inbox:Billing")}, "body": "Call back",
                      "dueAt": iso(real + Duration::days(1))});
    api.post(
        &format!("/api/v1/customers/{}/tasks", id("customer:ada")),
        task,
    )
    .await
    .assert_error(400, "invalid", Some("dueAt"));
}

#[tokio::test]
async fn with_a_clock_the_export_jobs_are_the_days_before_it() {
    let api = at(clock()).await;
    let jobs = api.get("/api/v1/export/jobs").await;
    assert_eq!(jobs.status, 200, "{}", jobs.text);
    let by_id = |key: &str| {
        jobs.json
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id(&format!("export-job:{key}")))
            .cloned()
    };
    let completed = by_id("completed").expect("completed job listed");
    // The week up to its completion, half an hour before the clock.
    assert_eq!(completed["updatedAt"], "2026-11-20T17:30:00.000Z");
    assert_eq!(
        completed["parameters"],
        json!({"type": "CONVERSATIONS", "startAt": "2026-11-13T00:00:00.000Z", "endAt": "2026-11-20T17:30:00.000Z"})
    );
    assert_eq!(
        by_id("in-progress").unwrap()["updatedAt"],
        "2026-11-20T17:50:00.000Z"
    );
    assert_eq!(
        by_id("failed").unwrap()["updatedAt"],
        "2026-11-17T18:00:00.000Z"
    );
    assert!(by_id("expired").is_none(), "20 days before the clock");
    api.get(&format!("/api/v1/export/jobs/{}", id("export-job:expired")))
        .await
        .assert_error(404, "not_exist", None);
    let since = api
        .get("/api/v1/export/jobs?startAt=2026-11-20T17:00:00Z&endAt=2026-11-20T17:45:00Z")
        .await;
    assert_eq!(since.json.as_array().unwrap().len(), 1, "{}", since.text);
    // 14 days back from the clock, not from the machine's time.
    api.get("/api/v1/export/jobs?startAt=2026-11-06T17:00:00Z")
        .await
        .assert_error(400, "invalid", Some("startAt"));
    let fortnight = api
        .get("/api/v1/export/jobs?startAt=2026-11-06T18:30:00Z")
        .await;
    assert_eq!(fortnight.status, 200, "{}", fortnight.text);
    // A window starting at the real now lies after the clock's now.
    api.get(&format!("/api/v1/export/jobs?startAt={}", iso(Utc::now())))
        .await
        .assert_error(400, "invalid", Some("endAt"));
    let schedules = api.get("/api/v1/export/schedules").await;
    assert_eq!(schedules.json[0]["nextStartAt"], "2026-11-21T00:00:00.000Z");
}

#[tokio::test]
async fn with_a_clock_created_records_are_stamped_near_it() {
    let api = at(clock()).await;
    let created = api
        .post("/api/v1/customer-profiles", json!({"name": "Eve"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let location = created.header("location").to_owned();
    let path = location.trim_start_matches(&api.sandbox.base_url());
    let eve = api.get(path).await.json;
    near(eve["createdAt"].as_str().unwrap(), clock());
    near(eve["updatedAt"].as_str().unwrap(), clock());

    let note = api
        .post(
            &format!(
                "/api/v1/conversations/{}/notes",
                id("conversation:ada-chat")
            ),
            json!({"content": {"body": "Checked the invoice"}}),
        )
        .await;
    assert_eq!(note.status, 201, "{}", note.text);
    let note_path = note.header("location").to_owned();
    let note_path = note_path.trim_start_matches(&api.sandbox.base_url());
    near(
        api.get(note_path).await.json["timestamp"].as_str().unwrap(),
        clock(),
    );

    // Due dates are checked against the clock: an hour after it is in the future.
    let task = json!({"assignee": {"inboxId": id("inbox:Billing")}, "body": "Send the invoice",
                      "dueAt": "2026-11-20T19:00:00Z"});
    let task = api
        .post(
            &format!("/api/v1/customers/{}/tasks", id("customer:ada")),
            task,
        )
        .await;
    assert_eq!(task.status, 201, "{}", task.text);
    let stored = api.state()["tasks"]
        .as_object()
        .unwrap()
        .values()
        .find(|t| t["body"] == "Send the invoice")
        .cloned()
        .unwrap();
    near(stored["timestamp"].as_str().unwrap(), clock());
    assert_eq!(stored["dueAt"], "2026-11-20T19:00:00.000Z");
    let past = json!({"assignee": {"inboxId": id("inbox:Billing")}, "body": "Too late",
                      "dueAt": "2026-11-20T17:00:00Z"});
    api.post(
        &format!("/api/v1/customers/{}/tasks", id("customer:ada")),
        past,
    )
    .await
    .assert_error(400, "invalid", Some("dueAt"));

    // The writes show up in the events stream at the clock's time.
    let events = api
        .get(&format!(
            "/api/v1/events?startAt={}&entities=CUSTOMER_PROFILE&entities=TASK&entities=CONVERSATION",
            iso(clock() - Duration::minutes(1))
        ))
        .await;
    let events = json_lines(&events.text);
    assert_eq!(events.len(), 3, "{events:#?}");
    for event in &events {
        near(event["timestamp"].as_str().unwrap(), clock());
    }

    // An activity's occurredAt must be within the year before the clock.
    let activity = |occurred: &str| {
        json!({"content": {"type": "CUSTOMER_ACTIVITY", "activityType": "ISSUE", "title": "Order shipped",
                           "occurredAt": occurred}})
    };
    let path = format!(
        "/api/v1/customers/{}/conversation-items",
        id("customer:ada")
    );
    let recent = api.post(&path, activity("2026-01-05T10:00:00Z")).await;
    assert_eq!(recent.status, 200, "{}", recent.text);
    near(
        recent.json["content"]["receivedAt"].as_str().unwrap(),
        clock(),
    );
    api.post(&path, activity("2025-11-01T10:00:00Z"))
        .await
        .assert_error(400, "invalid", Some("content.occurredAt"));

    // The identity token is issued at the clock's time.
    let jwt = api
        .post(
            "/api/v1/user-identity-jwt",
            json!({"identityType": "EMAIL", "identity": "ada@example.com"}),
        )
        .await;
    let payload = jwt.json["token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    let issued = claims["iat"].as_i64().unwrap();
    assert!((issued - clock().timestamp()).abs() < 60, "iat {issued}");
}

#[tokio::test]
async fn sandboxes_in_one_process_keep_their_own_clocks() {
    let past: DateTime<Utc> = "2019-07-01T09:30:00Z".parse().unwrap();
    let (real, pinned, older) = tokio::join!(Api::new(), at(clock()), at(past));
    let before = Utc::now();
    near(&iso(real.sandbox.now()), before - Duration::seconds(1));
    near(&iso(pinned.sandbox.now()), clock());
    near(&iso(older.sandbox.now()), past);
    for (api, start) in [(&real, before), (&pinned, clock()), (&older, past)] {
        let created = api
            .post("/api/v1/customer-profiles", json!({"name": "Zoe"}))
            .await;
        let stored = api.state()["customers"]
            .as_object()
            .unwrap()
            .values()
            .find(|c| c["name"] == "Zoe")
            .cloned()
            .unwrap();
        assert_eq!(created.status, 201);
        near(
            stored["createdAt"].as_str().unwrap(),
            start - Duration::seconds(1),
        );
        let grace = api
            .get(&format!(
                "/api/v1/conversations/{}",
                id("conversation:grace-email")
            ))
            .await;
        let created_at = parse(grace.json["createdAt"].as_str().unwrap());
        let hours = (start - created_at).num_hours();
        assert!((71..=72).contains(&hours), "three days before the start");
    }
    // Same seed and clock, same org, timestamps included.
    let (one, two) = tokio::join!(at(clock()), at(clock()));
    let (one, two) = (one.state(), two.state());
    for part in [
        "events",
        "items",
        "conversations",
        "customers",
        "tasks",
        "exportJobs",
    ] {
        assert_eq!(one[part], two[part], "{part}");
    }
}

#[tokio::test]
async fn a_loaded_state_file_takes_the_running_clock() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.json");
    let first = Api::with(SandboxOptions {
        state_file: Some(file.clone()),
        clock: Some(clock()),
        ..SandboxOptions::unlimited()
    })
    .await;
    let alice_login = first.state()["events"][0]["timestamp"].clone();
    first.sandbox.shutdown().await;
    let later = clock() + Duration::days(2);
    let second = Api::with(SandboxOptions {
        state_file: Some(file),
        clock: Some(later),
        ..SandboxOptions::unlimited()
    })
    .await;
    assert_eq!(second.state()["events"][0]["timestamp"], alice_login);
    near(&iso(second.sandbox.now()), later);
    second
        .post("/api/v1/customer-profiles", json!({"name": "Loaded"}))
        .await;
    let stored = second.state()["customers"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["name"] == "Loaded")
        .cloned()
        .unwrap();
    near(stored["createdAt"].as_str().unwrap(), later);
}
