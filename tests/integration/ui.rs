//! `runner ui` over real HTTP: the built binary serves a jobs folder with its in-process
//! sandbox; a test is the page's script, calling the same endpoints with the same headers,
//! and looks at the sandbox's end state and at the files the runs wrote.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

/// `runner ui --sandbox --port 0` on a copy of the shipped jobs.
struct Ui {
    child: Child,
    base: String,
    token: String,
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Ui {
    fn start() -> Ui {
        let dir = tempfile::tempdir().unwrap();
        let jobs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
        for name in [
            "create-customers.yaml",
            "delete-customers.yaml",
            "export-topics.yaml",
        ] {
            std::fs::copy(jobs.join(name), dir.path().join(name)).unwrap();
        }
        std::fs::create_dir(dir.path().join("data")).unwrap();
        std::fs::copy(
            jobs.join("data/create-customers.csv"),
            dir.path().join("data/create-customers.csv"),
        )
        .unwrap();
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("runner"))
            .args(["ui", "--sandbox", "--port", "0", "--jobs"])
            .arg(dir.path())
            .env_remove("GLADLY_API_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let line = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .next()
            .expect("the url line")
            .unwrap();
        let url = line
            .strip_prefix("runner ui: open ")
            .expect("an url")
            .to_owned();
        let (base, token) = url.split_once("/?t=").unwrap();
        assert_eq!(token.len(), 64, "a 256-bit token");
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ui {
            child,
            base: base.to_owned(),
            token: token.to_owned(),
            dir,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::new(),
        }
    }

    /// A request as the page sends it (token in its header); answers status and body.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(
            method,
            path,
            body,
            &[("x-runner-token", self.token.as_str())],
        )
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        self.runtime.block_on(async {
            let mut request = self
                .client
                .request(method.parse().unwrap(), format!("{}{path}", self.base));
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }

    fn upload(&self, text: &str) -> String {
        let (status, body) = self.runtime.block_on(async {
            let r = self
                .client
                .post(format!("{}/api/upload?format=csv", self.base))
                .header("x-runner-token", &self.token)
                .body(text.to_owned())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
        assert_eq!(status, 200, "{body}");
        body["upload"].as_str().unwrap().to_owned()
    }

    /// Polls a run until it has an exit code.
    fn finish(&self, id: &Value) -> Value {
        let started = Instant::now();
        loop {
            let (status, run) = self.call("GET", &format!("/api/runs/{id}"), None);
            assert_eq!(status, 200);
            if !run["exit"].is_null() {
                return run;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the run never ended"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The sandbox the page is connected to, as `GET /__sandbox/state` shows it.
    fn org(&self) -> Value {
        let (_, state) = self.call("GET", "/api/state", None);
        let host = state["connected"]["host"].as_str().unwrap().to_owned();
        self.runtime.block_on(crate::harness::sandbox_json(
            &self.client,
            &format!("{host}/__sandbox/state"),
            "api@example.com",
            "sandbox-token",
        ))
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emails(org: &Value) -> Vec<String> {
    let mut out: Vec<String> = org["customers"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|c| c["emails"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["original"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

#[test]
fn a_request_without_the_token_or_from_another_site_is_refused() {
    let ui = Ui::start();
    let (status, _) = ui.send("GET", "/api/state", None, &[]);
    assert_eq!(status, 401, "no token");
    let (status, _) = ui.send("GET", "/api/state", None, &[("x-runner-token", "0")]);
    assert_eq!(status, 401, "a wrong token");
    let (status, _) = ui.send("GET", "/", None, &[]);
    assert_eq!(status, 401, "the page itself needs the token");
    let t = ui.token.clone();
    let (status, _) = ui.send(
        "GET",
        "/api/state",
        None,
        &[("x-runner-token", &t), ("origin", "http://evil.example")],
    );
    assert_eq!(status, 403, "a foreign Origin");
    let (status, _) = ui.send(
        "GET",
        "/api/state",
        None,
        &[("x-runner-token", &t), ("host", "rebound.example:80")],
    );
    assert_eq!(status, 421, "a foreign Host (DNS rebinding)");
    // A write with the token only in the query string: what a cross-site form could send.
    let (status, _) = ui.send(
        "POST",
        &format!("/api/run?t={t}"),
        Some(json!({ "job": "create-customers.yaml" })),
        &[],
    );
    assert_eq!(status, 401);
    let (status, page) = ui.send("GET", &format!("/?t={t}"), None, &[]);
    assert_eq!(status, 200);
    assert!(
        page.as_str()
            .unwrap()
            .contains("<title>gladly-runner</title>")
    );
    // Nothing ran: the sandbox holds only its default customers.
    assert!(!emails(&ui.org()).contains(&"first1@example.com".to_owned()));
    // The state never carries the token.
    let (_, state) = ui.call("GET", "/api/state", None);
    assert!(!state.to_string().contains("sandbox-token"), "{state}");
    assert_eq!(state["connected"]["sandbox"], true);
}

#[test]
fn create_customers_from_an_upload_goes_through_check_plan_and_run() {
    let ui = Ui::start();
    let (_, jobs) = ui.call("GET", "/api/jobs", None);
    let create = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "create-customers")
        .unwrap();
    assert_eq!(create["group"], "Bulk changes");
    assert_eq!(create["input"], "csv");
    let topics = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "export-topics")
        .unwrap();
    assert_eq!(topics["group"], "Configuration exports");

    let (status, checked) = ui.call(
        "POST",
        "/api/check",
        Some(json!({ "job": "create-customers.yaml" })),
    );
    assert_eq!(
        (status, checked["ok"].clone()),
        (200, json!(true)),
        "{checked}"
    );

    let rows = "name,address,email:1\nAda Upload,,ada.upload@example.test\nBo Upload,,bo.upload@example.test\n\
                ,,nobody.upload@example.test\n";
    let upload = ui.upload(rows);
    let form = json!({ "job": "create-customers.yaml", "upload": upload });
    let (status, plan) = ui.call("POST", "/api/plan", Some(form.clone()));
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["exit"], 3, "one row is rejected: {plan}");
    assert_eq!(plan["summary"]["plan"]["steps"][0]["requests"], 2);
    assert_eq!(plan["table"]["total"], 3);
    assert_eq!(plan["table"]["columns"][3], "path");
    assert_eq!(plan["table"]["rows"][0][1], "create");
    assert_eq!(plan["table"]["rows"][0][2], "POST");
    assert!(
        plan["table"]["rows"][0][3]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/customer-profiles")
    );
    assert_eq!(plan["table"]["rows"][2][4], "rejected");
    assert_eq!(
        plan["table"]["rows"][2][6],
        "required column `name` is empty"
    );
    assert!(
        !emails(&ui.org()).contains(&"ada.upload@example.test".to_owned()),
        "a plan writes nothing"
    );

    let (status, started) = ui.call("POST", "/api/run", Some(form));
    assert_eq!(status, 200, "{started}");
    let run = ui.finish(&started["id"]);
    assert_eq!(run["exit"], 3, "{run}");
    assert_eq!(run["summary"]["results"]["done"], 2);
    assert_eq!(run["progress"]["done"], 3);
    let org = emails(&ui.org());
    assert!(
        org.contains(&"ada.upload@example.test".to_owned()),
        "{org:?}"
    );
    assert!(org.contains(&"bo.upload@example.test".to_owned()));
    assert!(!org.contains(&"nobody.upload@example.test".to_owned()));

    // The results the page downloads are the ledger the run wrote.
    let id = &started["id"];
    let (status, results) = ui.call("GET", &format!("/api/runs/{id}/download/results"), None);
    assert_eq!(status, 200);
    let ledger =
        std::fs::read_to_string(ui.dir.path().join("results/create-customers.csv")).unwrap();
    assert_eq!(results.as_str().unwrap(), ledger);
    let (_, failed) = ui.call("GET", &format!("/api/runs/{id}/download/failed"), None);
    assert_eq!(
        failed.as_str().unwrap(),
        "name,address,email:1,error\n,,nobody.upload@example.test,rejected: required column `name` is empty\n"
    );
    let (_, rejected) = ui.call(
        "GET",
        &format!("/api/runs/{id}/results?result=rejected"),
        None,
    );
    assert_eq!(rejected["total"], 1);
    let (_, history) = ui.call("GET", "/api/runs", None);
    assert_eq!(history[0]["job"], "create-customers");
    assert_eq!(history[0]["counts"]["done"], 2);

    // A second new run is refused by the ledger rules, as on the command line.
    let again = json!({ "job": "create-customers.yaml", "upload": upload });
    let (_, second) = ui.call("POST", "/api/run", Some(again));
    let second = ui.finish(&second["id"]);
    assert_eq!(second["exit"], 1);
    assert!(
        second["messages"].to_string().contains("--resume"),
        "{second}"
    );
}

#[test]
fn a_destructive_job_does_not_run_without_confirming_host_and_rows() {
    let ui = Ui::start();
    let before = emails(&ui.org());
    let upload = ui.upload("email\nfirst1@example.com\n");
    let form = json!({ "job": "delete-customers.yaml", "upload": upload });
    let (status, refused) = ui.call("POST", "/api/run", Some(form));
    assert_eq!(status, 428, "{refused}");
    let host = refused["confirm"]["host"].as_str().unwrap().to_owned();
    assert_eq!(
        refused["confirm"]["rows"], 1,
        "the row count the run would take"
    );
    let wrong = json!({ "job": "delete-customers.yaml", "upload": upload,
                        "confirm": { "host": "https://other.gladly.com", "rows": 1 } });
    assert_eq!(ui.call("POST", "/api/run", Some(wrong)).0, 428);
    let miscounted = json!({ "job": "delete-customers.yaml", "upload": upload,
                             "confirm": { "host": host, "rows": 7 } });
    assert_eq!(ui.call("POST", "/api/run", Some(miscounted)).0, 428);
    assert_eq!(emails(&ui.org()), before, "nothing was deleted");
    let (_, runs) = ui.call("GET", "/api/runs", None);
    assert_eq!(runs, json!([]), "no run was started");
    // Confirmed, it runs.
    let confirmed = json!({ "job": "delete-customers.yaml", "upload": upload,
                            "confirm": { "host": host, "rows": 1 } });
    let (status, started) = ui.call("POST", "/api/run", Some(confirmed));
    assert_eq!(status, 200, "{started}");
    let run = ui.finish(&started["id"]);
    assert!(run["summary"]["rows"] == 1, "{run}");
}

#[test]
fn a_run_stops_like_ctrl_c_and_resumes_from_the_page() {
    let ui = Ui::start();
    // 80 rows at the job's 10 requests/second: about 8 s, stopped after the first second.
    let mut rows = String::from("name,address,email:1\n");
    for i in 0..80 {
        let _ = writeln!(rows, "Stop {i},,stop{i}@example.test");
    }
    let upload = ui.upload(&rows);
    let form = json!({ "job": "create-customers.yaml", "upload": upload });
    let (_, started) = ui.call("POST", "/api/run", Some(form));
    let id = started["id"].clone();
    std::thread::sleep(Duration::from_millis(1500));
    let (status, _) = ui.call("POST", &format!("/api/runs/{id}/stop"), None);
    assert_eq!(status, 200);
    let stopped = ui.finish(&id);
    assert_eq!(stopped["exit"], 130, "stopped as by Ctrl-C: {stopped}");
    let done = stopped["summary"]["results"]["done"].as_u64().unwrap();
    assert!(done > 0 && done < 80, "{stopped}");
    let created_before = emails(&ui.org())
        .iter()
        .filter(|e| e.starts_with("stop"))
        .count() as u64;
    assert_eq!(created_before, done, "every finished row is recorded");
    // Resumed from the page: the rest run, nothing twice.
    let resume = json!({ "job": "create-customers.yaml", "upload": upload, "mode": "resume" });
    let (_, resumed) = ui.call("POST", "/api/run", Some(resume));
    let resumed = ui.finish(&resumed["id"]);
    assert_eq!(resumed["exit"], 0, "{resumed}");
    assert_eq!(resumed["summary"]["ledger"]["results"]["done"], 80);
    let created = emails(&ui.org());
    assert_eq!(created.iter().filter(|e| e.starts_with("stop")).count(), 80);
}

#[test]
fn stopping_the_server_stops_its_runs_and_leaves_them_recorded() {
    let mut ui = Ui::start();
    let mut rows = String::from("name,address,email:1\n");
    for i in 0..80 {
        let _ = writeln!(rows, "Down {i},,down{i}@example.test");
    }
    let upload = ui.upload(&rows);
    let (_, started) = ui.call(
        "POST",
        "/api/run",
        Some(json!({ "job": "create-customers.yaml", "upload": upload })),
    );
    assert!(started["id"].is_u64(), "{started}");
    std::thread::sleep(Duration::from_millis(1500));
    let pid = ui.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = ui.child.wait().unwrap();
    assert!(status.success(), "the server ends cleanly: {status:?}");
    // The run was stopped, not orphaned: its ledger is complete and its lock is free.
    let ledger =
        std::fs::read_to_string(ui.dir.path().join("results/create-customers.csv")).unwrap();
    let lines = crate::apply::csv_maps(&ledger);
    let done = lines.iter().filter(|l| l["result"] == "done").count();
    assert!(
        done > 0 && lines.len() < 80,
        "{done} done of {} lines",
        lines.len()
    );
    // Every row it took is recorded, done or not attempted; the rest wait for a resume.
    assert!(
        lines
            .iter()
            .all(|l| l["result"] == "done" || l["result"] == "not-attempted")
    );
    assert!(
        !ui.dir
            .path()
            .join("results/create-customers.csv.lock")
            .exists(),
        "the stopped run let go of the ledger and removed its lock"
    );
}

#[test]
fn a_reading_job_offers_the_files_it_wrote() {
    let ui = Ui::start();
    let (_, started) = ui.call(
        "POST",
        "/api/run",
        Some(json!({ "job": "export-topics.yaml" })),
    );
    let run = ui.finish(&started["id"]);
    assert_eq!(run["exit"], 0, "{run}");
    let id = &started["id"];
    let (status, topics) = ui.call("GET", &format!("/api/runs/{id}/download/data-0"), None);
    assert_eq!(status, 200);
    let on_disk = std::fs::read_to_string(ui.dir.path().join("exports/topics.csv")).unwrap();
    assert!(on_disk.starts_with("Id,Disabled,Name\n"));
    assert_eq!(topics.as_str().unwrap(), on_disk);
    let (status, _) = ui.call("GET", &format!("/api/runs/{id}/download/data-1"), None);
    assert_eq!(status, 404, "only the files the run wrote");
}

#[test]
fn files_come_only_from_the_folder_and_the_servers_own_uploads() {
    let ui = Ui::start();
    let (status, _) = ui.call(
        "POST",
        "/api/plan",
        Some(json!({ "job": "create-customers.yaml", "upload": "../../etc/passwd" })),
    );
    assert_eq!(status, 404);
    let (status, _) = ui.call(
        "POST",
        "/api/plan",
        Some(json!({ "job": "../create-customers.yaml" })),
    );
    assert_eq!(status, 404);
    let (status, _) = ui.call("GET", "/api/runs/999/download/results", None);
    assert_eq!(status, 404);
    let (status, _) = ui.call("POST", "/api/upload?format=exe", None);
    assert_eq!(status, 400);
    // Uploads are stored where only this user can read them.
    ui.upload("name,address,email:1\nA,,a@example.test\n");
    let prefix = format!("runner-ui-{}-", ui.child.id());
    let dir = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .expect("the uploads folder");
    let mode = std::os::unix::fs::PermissionsExt::mode(&dir.metadata().unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700);
    // An upload over the limit is refused and stored nowhere.
    let big = "x".repeat(64 * 1024 * 1024 + 1);
    let status = ui.runtime.block_on(async {
        ui.client
            .post(format!("{}/api/upload?format=csv", ui.base))
            .header("x-runner-token", &ui.token)
            .body(big)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 413);
}

/// The page in a real headless Chromium (`tests/e2e/drive.py`, over the `DevTools` protocol):
/// connect to the sandbox, run create-customers from an uploaded CSV through check, plan
/// and run, download the results, filter them; a destructive job asks and runs nothing.
/// `BLESS=1` writes the screenshots README shows into docs/screenshots.
#[test]
fn the_page_in_a_real_chromium_checks_plans_and_runs() {
    // `.ci/run` installs Chromium and sets RUNNER_E2E=1, so there its absence fails.
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|b| {
            Command::new("which")
                .arg(b)
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if !chromium && std::env::var_os("RUNNER_E2E").is_none() {
        eprintln!("SKIPPED: no chromium here (apt-get install chromium); .ci/run runs this test");
        return;
    }
    let ui = Ui::start();
    let csv = ui.dir.path().join("upload.csv");
    std::fs::write(
        &csv,
        "name,address,email,email:1\nAda Browser,,,ada.browser@example.test\n\
         Bo Browser,1 Main St,,bo.browser@example.test\n,,,nobody.browser@example.test\n",
    )
    .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = if std::env::var_os("BLESS").is_some() {
        root.join("docs/screenshots")
    } else {
        ui.dir.path().join("shots")
    };
    let out = Command::new("python3")
        .arg(root.join("tests/e2e/drive.py"))
        .arg(format!("{}/?t={}", ui.base, ui.token))
        .arg(&csv)
        .arg(&shots)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the browser run failed (is chromium installed? `apt-get install chromium`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        seen["connection"].as_str().unwrap().ends_with("(sandbox)"),
        "{seen}"
    );
    let groups: Vec<&str> = seen["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    assert_eq!(groups, ["Configuration exports", "Bulk changes"]);
    assert_eq!(
        seen["unlabelled_controls"],
        json!([]),
        "every control has a label"
    );
    let plan = seen["plan_text"].as_str().unwrap();
    assert!(plan.contains("3 rows: 2 planned, 1 rejected"), "{plan}");
    assert!(plan.contains("A real run would send 2 requests"), "{plan}");
    assert!(
        seen["run_text"]
            .as_str()
            .unwrap()
            .contains("Finished (exit 3)"),
        "{seen}"
    );
    assert_eq!(seen["results_rows"], 3);
    assert_eq!(seen["rejected_rows"], 1);
    let ledger =
        std::fs::read_to_string(ui.dir.path().join("results/create-customers.csv")).unwrap();
    assert_eq!(
        seen["results_csv"].as_str().unwrap(),
        ledger,
        "the download is the ledger"
    );
    let (_, state) = ui.call("GET", "/api/state", None);
    let host = state["connected"]["host"].as_str().unwrap();
    let confirm = seen["confirm_text"].as_str().unwrap();
    assert!(
        confirm.contains("delete-customers is destructive"),
        "{confirm}"
    );
    assert!(
        confirm.contains(host),
        "the confirmation names the host: {confirm}"
    );
    assert!(
        confirm.contains("for 3 row(s)"),
        "and the row count: {confirm}"
    );
    assert_eq!(
        seen["focused"], "confirm-yes",
        "the question takes the keyboard focus"
    );
    assert_eq!(
        seen["runs_after_refusal"], 1,
        "the refused job left no ledger"
    );
    let org = emails(&ui.org());
    assert!(
        org.contains(&"ada.browser@example.test".to_owned()),
        "{org:?}"
    );
    assert!(
        org.contains(&"bo.browser@example.test".to_owned()),
        "nothing was deleted"
    );
    assert!(!org.contains(&"nobody.browser@example.test".to_owned()));
    for shot in ["ui-plan.png", "ui-run.png", "ui-confirm.png"] {
        let png = std::fs::read(shots.join(shot)).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{shot}");
    }
}
