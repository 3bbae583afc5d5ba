//! Gladly conventions: auth, error shape, rate limits and their headers, 501 for
//! operations not simulated, the request log, inspection endpoints, determinism, state file.

use std::time::Duration;

use gladly_runner::sandbox::{self, SandboxOptions};
use serde_json::{Value, json};

use super::{Api, client, id};

#[tokio::test]
async fn requests_without_valid_basic_auth_are_401() {
    let api = Api::new().await;
    let http = client(None);
    let url = format!("{}/api/v1/inboxes", api.sandbox.base_url());
    let anonymous = http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("ratelimit-limit-second"));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "unauthorized");
    let wrong = http
        .get(&url)
        .basic_auth(api.sandbox.username(), Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let create = http
        .post(format!("{}/api/v1/topics", api.sandbox.base_url()))
        .json(&json!({"name": "Sneaky"}))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), 401);
    assert_eq!(
        api.state()["topics"].as_object().unwrap().len(),
        8,
        "nothing was written"
    );
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_headers_on_every_response() {
    let api = Api::with(SandboxOptions {
        rate_limit: Some(3),
        ..SandboxOptions::default()
    })
    .await;
    let mut statuses = Vec::new();
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let reply = api.get("/api/v1/inboxes").await;
        assert_eq!(reply.header("ratelimit-limit-second"), "3");
        statuses.push(reply.status);
        remaining.push(reply.header("ratelimit-remaining-second").to_owned());
        if reply.status == 429 {
            reply.assert_error(429, "rate_limited", None);
            assert!(reply.headers.get("retry-after").is_none(), "off by default");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(remaining, ["2", "1", "0", "0", "0"]);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(api.get("/api/v1/inboxes").await.status, 200);
    let failed_write = api.get("/api/v1/customer-profiles/nope").await;
    assert!(
        failed_write
            .headers
            .contains_key("ratelimit-remaining-second"),
        "errors carry the headers too"
    );
}

#[tokio::test]
async fn retry_after_is_sent_when_asked() {
    let api = Api::with(SandboxOptions {
        rate_limit: Some(1),
        retry_after: true,
        ..SandboxOptions::default()
    })
    .await;
    api.get("/api/v1/inboxes").await;
    let limited = api.get("/api/v1/inboxes").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), "1");
}

#[tokio::test]
async fn unlimited_sandboxes_still_announce_the_headers() {
    let api = Api::new().await;
    let reply = api.get("/api/v1/inboxes").await;
    assert_eq!(reply.header("ratelimit-limit-second"), "10000");
    assert_eq!(reply.header("ratelimit-remaining-second"), "10000");
}

#[tokio::test]
async fn reports_are_limited_per_minute() {
    let api = Api::with(SandboxOptions {
        rate_limit: None,
        reports_per_minute: Some(10),
        ..SandboxOptions::default()
    })
    .await;
    let body =
        json!({"metricSet": "TaskExportReport", "startAt": "2024-01-01", "endAt": "2024-01-02"});
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(api.post("/api/v1/reports", body.clone()).await.status);
    }
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10], 429);
    assert_eq!(
        api.get("/api/v1/inboxes").await.status,
        200,
        "other APIs are not affected"
    );
}

#[tokio::test]
async fn unknown_paths_are_404_and_unsupported_methods_405() {
    let api = Api::new().await;
    api.get("/api/v1/no-such-thing")
        .await
        .assert_error(404, "not_exist", None);
    let reply = api
        .send(reqwest::Method::PUT, "/api/v1/inboxes", Some(json!({})))
        .await;
    reply.assert_error(405, "invalid", None);
    assert_eq!(reply.header("allow"), "GET");
    let topics = api
        .send(reqwest::Method::DELETE, "/api/v1/topics", None)
        .await;
    topics.assert_error(405, "invalid", None);
    assert_eq!(topics.header("allow"), "GET, POST");
}

#[tokio::test]
async fn malformed_json_is_a_gladly_400() {
    let api = Api::new().await;
    let http = client(None);
    let reply = http
        .post(format!("{}/api/v1/topics", api.sandbox.base_url()))
        .basic_auth(api.sandbox.username(), Some(api.sandbox.token()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "invalid");
}

#[tokio::test]
async fn the_request_log_keeps_arrival_order_and_statuses() {
    let api = Api::new().await;
    api.get("/api/v1/inboxes").await;
    api.post("/api/v1/topics", json!({"name": "Logged"})).await;
    api.get("/api/v1/customer-profiles?email=nobody%40example.com")
        .await;
    let log = api.sandbox.request_log();
    let seen: Vec<(&str, &str, u16)> = log
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/api/v1/inboxes", 200),
            ("POST", "/api/v1/topics", 201),
            ("GET", "/api/v1/customer-profiles", 200)
        ]
    );
    assert_eq!(log[2].query.as_deref(), Some("email=nobody%40example.com"));
    let over_http: Value = client(None)
        .get(format!("{}/__sandbox/requests", api.sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        over_http.as_array().unwrap().len(),
        3,
        "inspection is not logged"
    );
    assert_eq!(over_http[1]["method"], "POST");
}

#[tokio::test]
async fn the_state_endpoint_has_counts_and_records() {
    let api = Api::new().await;
    let state: Value = client(None)
        .get(format!("{}/__sandbox/state", api.sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["counts"]["customers"], 5);
    assert_eq!(state["counts"]["inboxes"], 5);
    assert_eq!(state["customers"], api.state()["customers"]);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids() {
    let a = sandbox::start(SandboxOptions::unlimited()).await.unwrap();
    let b = sandbox::start(SandboxOptions::unlimited()).await.unwrap();
    let c = sandbox::start(SandboxOptions {
        seed: 2,
        ..SandboxOptions::unlimited()
    })
    .await
    .unwrap();
    let keys = |s: &Value| {
        s["customers"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&a.snapshot()), keys(&b.snapshot()));
    assert_ne!(keys(&a.snapshot()), keys(&c.snapshot()));
    assert!(a.snapshot()["customers"].get(id("customer:ada")).is_some());
}

#[tokio::test]
async fn created_ids_are_deterministic_too() {
    let mut ids = Vec::new();
    for _ in 0..2 {
        let api = Api::new().await;
        ids.push(
            api.post("/api/v1/topics", json!({"name": "Fresh"}))
                .await
                .header("location")
                .to_owned(),
        );
    }
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn the_state_file_carries_the_org_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.json");
    let opts = SandboxOptions {
        state_file: Some(file.clone()),
        ..SandboxOptions::unlimited()
    };
    let first = Api::with(opts.clone()).await;
    assert_eq!(
        first
            .post("/api/v1/topics", json!({"id": "kept", "name": "Kept"}))
            .await
            .status,
        201
    );
    first.sandbox.shutdown().await;
    assert!(file.exists());
    let second = Api::with(opts).await;
    assert_eq!(second.get("/api/v1/topics/kept").await.json["name"], "Kept");
    assert_eq!(
        second
            .post("/api/v1/topics", json!({"id": "kept", "name": "Again"}))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn every_catalog_operation_is_simulated_or_answers_501() {
    let api = Api::new().await;
    let simulated = sandbox::simulated_operations();
    let mut not_simulated = Vec::new();
    for op in gladly_runner::catalog::gladly().operations() {
        let path = op.render_path(&|_| Some("x".to_owned())).unwrap();
        let method = reqwest::Method::from_bytes(op.method.as_str().as_bytes()).unwrap();
        let body = op.method.is_write().then(|| json!({}));
        let reply = api.send(method, &path, body).await;
        if simulated.contains(&op.id.as_str()) {
            assert_ne!(reply.status, 501, "{} {path}: {}", op.id, reply.text);
        } else {
            reply.assert_error(501, "not_implemented", None);
            assert!(reply.text.contains(&op.id), "{}", reply.text);
            not_simulated.push(op.id.clone());
        }
    }
    assert_eq!(
        not_simulated.len() + simulated.len(),
        80,
        "{not_simulated:?}"
    );
}
