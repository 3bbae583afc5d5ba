//! Fault injection: 5xx and resets before or after the write, slow responses, scripted
//! 429 bursts, latency, and reproducibility for a seed.

use std::time::{Duration, Instant};

use gladly_runner::sandbox::{FaultSpec, Latency, SandboxOptions};
use serde_json::json;

use super::{Api, client};

async fn faulty(spec: &str) -> Api {
    Api::with(SandboxOptions {
        faults: FaultSpec::parse(spec).unwrap(),
        ..SandboxOptions::unlimited()
    })
    .await
}

fn topic_count(api: &Api) -> usize {
    api.state()["topics"].as_object().unwrap().len()
}

#[tokio::test]
async fn a_5xx_before_the_write_changes_nothing() {
    let api = faulty("503=1:before").await;
    let reply = api.post("/api/v1/topics", json!({"name": "Lost"})).await;
    reply.assert_error(503, "temporary_failure", None);
    assert!(reply.headers.contains_key("ratelimit-limit-second"));
    assert_eq!(topic_count(&api), 8);
    assert_eq!(
        api.sandbox.request_log()[0].fault.as_deref(),
        Some("503:before")
    );
}

#[tokio::test]
async fn a_5xx_after_the_write_loses_only_the_response() {
    let api = faulty("5xx=1:after").await;
    let reply = api
        .post(
            "/api/v1/topics",
            json!({"id": "applied", "name": "Applied"}),
        )
        .await;
    assert!([500, 502, 503].contains(&reply.status));
    assert_eq!(api.state()["topics"]["applied"]["name"], "Applied");
    let log = api.sandbox.request_log();
    assert!(log[0].fault.as_deref().unwrap().ends_with(":after"));
}

#[tokio::test]
async fn a_reset_before_the_write_is_a_connection_error_and_changes_nothing() {
    let api = faulty("reset=1:before").await;
    let err = api
        .try_send(
            reqwest::Method::POST,
            "/api/v1/topics",
            Some(json!({"name": "Lost"})),
        )
        .await
        .unwrap_err();
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert_eq!(topic_count(&api), 8);
    let log = api.sandbox.request_log();
    assert_eq!(
        (log[0].status, log[0].fault.as_deref()),
        (0, Some("reset:before"))
    );
}

#[tokio::test]
async fn a_reset_after_the_write_loses_the_response_of_an_applied_write() {
    let api = faulty("reset=1:after").await;
    let result = api
        .try_send(
            reqwest::Method::POST,
            "/api/v1/topics",
            Some(json!({"id": "ghost", "name": "Ghost"})),
        )
        .await;
    assert!(result.is_err());
    assert_eq!(api.state()["topics"]["ghost"]["name"], "Ghost");
}

#[tokio::test]
async fn slow_responses_outlast_a_client_timeout() {
    let api = faulty("slow=1:3s")
        .await
        .client(client(Some(Duration::from_millis(300))));
    let started = Instant::now();
    let err = api
        .try_send(reqwest::Method::GET, "/api/v1/inboxes", None)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn scripted_bursts_answer_429_then_recover() {
    let api = faulty("burst429=2@2,on=writes").await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        statuses.push(
            api.post("/api/v1/topics", json!({"name": format!("B{n}")}))
                .await
                .status,
        );
    }
    assert_eq!(statuses, [201, 429, 429, 201]);
    assert_eq!(topic_count(&api), 10);
    assert_eq!(
        api.get("/api/v1/inboxes").await.status,
        200,
        "reads are out of scope"
    );
}

#[tokio::test]
async fn latency_is_added() {
    let api = Api::with(SandboxOptions {
        latency: Some(Latency::parse("120").unwrap()),
        ..SandboxOptions::unlimited()
    })
    .await;
    let started = Instant::now();
    assert_eq!(api.get("/api/v1/inboxes").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(120));
}

#[tokio::test]
async fn the_same_seed_and_sequence_give_the_same_faults() {
    let mut runs = Vec::new();
    for seed in [5, 5, 6] {
        let api = Api::with(SandboxOptions {
            seed,
            faults: FaultSpec::parse("5xx=0.4").unwrap(),
            ..SandboxOptions::unlimited()
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(api.get("/api/v1/inboxes").await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0], runs[2]);
    assert!(runs[0].iter().any(|s| *s >= 500) && runs[0].contains(&200));
}
