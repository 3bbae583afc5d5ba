//! `runner sandbox` as a user runs it: three paste-ready lines, Basic auth, Ctrl-C saves,
//! `--clock`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::client;

#[tokio::test]
async fn runner_sandbox_prints_credentials_serves_and_saves_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("org.json");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["sandbox", "--port", "0", "--seed", "1", "--state"])
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut env = Vec::new();
    for _ in 0..3 {
        env.push(lines.next().unwrap().unwrap());
    }
    assert!(started.elapsed() < Duration::from_secs(3), "starts quickly");
    let value = |key: &str| {
        env.iter()
            .find_map(|l| l.strip_prefix(&format!("export {key}=")))
            .unwrap()
            .to_owned()
    };
    let (host, user, token) = (
        value("GLADLY_HOST"),
        value("GLADLY_USERNAME"),
        value("GLADLY_API_TOKEN"),
    );
    assert!(host.starts_with("http://127.0.0.1:"));
    let http = client(None);
    let inboxes = http
        .get(format!("{host}/api/v1/inboxes"))
        .basic_auth(&user, Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(inboxes.status(), 200);
    assert!(inboxes.text().await.unwrap().contains("Billing"));
    let anonymous = http
        .get(format!("{host}/api/v1/inboxes"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let created = http
        .post(format!("{host}/api/v1/topics"))
        .basic_auth(&user, Some(&token))
        .json(&serde_json::json!({"id": "from-cli", "name": "From the CLI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // Ctrl-C, through the shell's own `kill` so no extra package is needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("From the CLI"));
}

#[tokio::test]
async fn runner_sandbox_clock_dates_the_org_from_the_given_instant() {
    let help = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["sandbox", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("--clock <INSTANT>"), "{help}");
    assert!(help.contains("2026-11-20T18:00:00Z"), "{help}");
    let bad = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["sandbox", "--port", "0", "--clock", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1), "a usage error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not an instant"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["sandbox", "--port", "0", "--clock", "2026-11-20T18:00:00Z"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let env: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
    let value = |key: &str| {
        env.iter()
            .find_map(|l| l.strip_prefix(&format!("export {key}=")))
            .unwrap()
            .to_owned()
    };
    let jobs = client(None)
        .get(format!(
            "{}/api/v1/export/jobs?status=COMPLETED",
            value("GLADLY_HOST")
        ))
        .basic_auth(value("GLADLY_USERNAME"), Some(value("GLADLY_API_TOKEN")))
        .send()
        .await
        .unwrap();
    assert_eq!(jobs.status(), 200);
    let jobs: serde_json::Value = jobs.json().await.unwrap();
    assert_eq!(jobs[0]["updatedAt"], "2026-11-20T17:30:00.000Z");
    let status = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
