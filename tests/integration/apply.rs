//! `runner apply` for real, with the built binary against an in-process sandbox on an
//! ephemeral port. Every test asserts the sandbox's end state (what exists now), not only
//! what the runner printed.

use gladly_runner::sandbox::{self, LoggedRequest, Sandbox, SandboxOptions};
use pretty_assertions::assert_eq;
use serde_json::Value;
use std::fmt::Write as _;

use crate::harness::Test;

/// Resumes `jobs/create-customers.yaml` over `rows.csv` into the ledger `out.csv`.
pub(crate) const RESUME_CUSTOMERS: [&str; 6] = [
    "apply",
    "jobs/create-customers.yaml",
    "--input",
    "rows.csv",
    "--resume",
    "out.csv",
];

/// A sandbox org running on its own runtime for the length of a test. A test that sent
/// it writes must look at what it holds afterwards (`state`, `log`): an org dropped
/// unobserved after taking a write fails the test. (A read-only job's end state is the
/// files it wrote.)
pub(crate) struct Org {
    runtime: tokio::runtime::Runtime,
    sandbox: Option<Sandbox>,
    observed: std::cell::Cell<bool>,
}

impl Org {
    pub(crate) fn start(options: SandboxOptions) -> Org {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime.block_on(sandbox::start(options)).unwrap();
        Org {
            runtime,
            sandbox: Some(sandbox),
            observed: std::cell::Cell::new(false),
        }
    }

    pub(crate) fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().unwrap()
    }

    /// Points a test's binary at this org.
    pub(crate) fn env(&self, test: Test) -> Test {
        let s = self.sandbox();
        test.env("GLADLY_HOST", &s.base_url())
            .env("GLADLY_USERNAME", s.username())
            .env("GLADLY_API_TOKEN", s.token())
    }

    /// What the org holds now (its end state, once the run is over).
    pub(crate) fn state(&self) -> Value {
        self.observed.set(true);
        self.sandbox().snapshot()
    }

    /// Every request the org answered.
    pub(crate) fn log(&self) -> Vec<LoggedRequest> {
        self.observed.set(true);
        self.sandbox().request_log()
    }

    /// Customers as `email → number of customers having it`.
    pub(crate) fn customers_by_email(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        for customer in self.state()["customers"].as_object().unwrap().values() {
            for email in customer["emails"].as_array().into_iter().flatten() {
                let address = email["original"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase();
                *out.entry(address).or_default() += 1;
            }
        }
        out
    }
}

impl Drop for Org {
    fn drop(&mut self) {
        if !std::thread::panicking() && !self.observed.get() {
            let log = self.sandbox().request_log();
            let writes = log
                .iter()
                .filter(|r| r.method != "GET" && !r.path.starts_with("/api/v1/reports"))
                .count();
            assert!(
                writes == 0,
                "the org took {writes} writes and the test never looked at its end state: \
                 assert on `org.state()` or `org.log()`"
            );
        }
        if let Some(s) = self.sandbox.take() {
            self.runtime.block_on(s.shutdown());
        }
    }
}

/// Rows of a CSV as maps, for row-by-row assertions.
pub(crate) fn csv_maps(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .zip(r.unwrap().iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn column(rows: &[std::collections::BTreeMap<String, String>], name: &str) -> Vec<String> {
    rows.iter().map(|r| r[name].clone()).collect()
}

/// A results cell as it was before escaping: the `'` put before a cell a spreadsheet
/// would read as a formula (`=`, `+`, `-`, `@`, tab, CR) is taken off.
pub(crate) fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

fn fast() -> SandboxOptions {
    SandboxOptions::unlimited()
}

#[test]
fn create_customers_applied_twice_creates_nothing_the_second_time() {
    let org = Org::start(fast());
    let before = org.state()["customers"].as_object().unwrap().len();
    let test = org
        .env(Test::new())
        .copy("jobs/create-customers.yaml")
        .copy("jobs/data/create-customers.csv")
        .args(["apply", "jobs/create-customers.yaml"]);
    let first = test.run();
    first.expect(3, &["row 6 (line 7): required column `name` is empty"]);
    assert!(
        first
            .stdout()
            .contains(" — 5 done, 0 skipped, 0 failed, 1 rejected\n"),
        "{}",
        first.stdout()
    );
    assert!(
        first
            .stdout()
            .contains("ledger:  6 rows in all — 5 done, 1 rejected\n"),
        "{}",
        first.stdout()
    );
    let rows = csv_maps(&test.read("jobs/results/create-customers.csv"));
    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "done", "done", "done", "rejected"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        [
            "created", "created", "created", "created", "created", "rejected"
        ]
    );
    assert_eq!(
        column(&rows, "http_status")[..5],
        ["201", "201", "201", "201", "201"]
    );
    let customers = org.state()["customers"].as_object().unwrap().clone();
    assert_eq!(customers.len(), before + 5);
    let first_id = unescape(&rows[0]["create.id"]);
    let created = &customers[first_id];
    assert_eq!(created["name"], "First1 Last1");
    assert_eq!(created["emails"][0]["original"], "first1@example.com");
    assert_eq!(created["phones"].as_array().unwrap().len(), 2);
    assert_eq!(
        created["customAttributes"],
        serde_json::json!({"attr1": "hello", "attr3": "world"})
    );
    let literal = &customers[unescape(&rows[4]["create.id"])];
    assert_eq!(
        literal["name"], "{{ 7*7 }}",
        "a cell is data, never a template"
    );

    // The ledger is never overwritten: the same command again is refused, sending nothing.
    let ledger = test.read("jobs/results/create-customers.csv");
    let sent = org.log().len();
    let refused = test.run();
    refused.expect(
        1,
        &["error: `jobs/results/create-customers.csv` already holds the ledger of an earlier run"],
    );
    for option in ["--resume", "--results", "--replace"] {
        assert!(refused.stderr().contains(option), "{}", refused.stderr());
    }
    assert_eq!(org.log().len(), sent, "nothing was sent");
    assert_eq!(test.read("jobs/results/create-customers.csv"), ledger);

    // A new ledger runs every row again: the customers exist, none is created twice.
    let second = test.run_args(&["apply", "jobs/create-customers.yaml", "--replace"]);
    second.expect(
        3,
        &[
            "moved the earlier ledger aside to `jobs/results/create-customers.1.csv`",
            "row 6 (line 7): required column `name` is empty",
        ],
    );
    assert!(
        second
            .stdout()
            .contains(" — 0 done, 5 skipped, 0 failed, 1 rejected\n"),
        "{}",
        second.stdout()
    );
    assert_eq!(
        test.read("jobs/results/create-customers.1.csv"),
        ledger,
        "the first ledger was moved aside"
    );
    let rows = csv_maps(&test.read("jobs/results/create-customers.csv"));
    assert_eq!(rows.len(), 6);
    assert_eq!(column(&rows, "result")[..5], ["skipped"; 5]);
    assert_eq!(column(&rows, "outcome")[..5], ["exists"; 5]);
    assert_eq!(
        org.state()["customers"].as_object().unwrap().len(),
        before + 5
    );
}

const TOPICS_UPSERT: &str = r#"
    version: 1
    name: upsert-topics
    input: { csv: topics.csv, require: [name] }
    steps:
      - name: create
        operation: addTopic
        body: { name: "{{ row.name }}", disabled: false }
        capture:
          existing: "{{ response.body.errors[0].meta.id if response.status == 409 else '' }}"
        outcome: created
        on:
          409: { action: continue, outcome: updated }
      - name: update
        when: "{{ create.existing }}"
        operation: updateTopic
        params: { topicId: "{{ create.existing }}" }
        body: { name: "{{ row.name }}", disabled: true }
    "#;

#[test]
fn conflict_rules_drive_the_update_path() {
    let org = Org::start(fast());
    let existing = org.state()["topics"]
        .as_object()
        .unwrap()
        .values()
        .find(|t| t["disabled"] == false)
        .unwrap()
        .clone();
    let name = existing["name"].as_str().unwrap();
    let test = org
        .env(Test::new())
        .file("job.yaml", TOPICS_UPSERT)
        .file("topics.csv", &format!("name\n{name}\nBrand New Topic\n"))
        .args(["apply", "job.yaml"]);
    let out = test.run();
    out.expect(0, &[]);
    let rows = csv_maps(&test.read("results/upsert-topics.csv"));
    assert_eq!(column(&rows, "outcome"), ["updated", "created"]);
    assert_eq!(column(&rows, "step"), ["update", "create"]);
    let topics = org.state()["topics"].clone();
    assert_eq!(
        topics[existing["id"].as_str().unwrap()]["disabled"],
        true,
        "updated in place"
    );
    let new: Vec<_> = topics
        .as_object()
        .unwrap()
        .values()
        .filter(|t| t["name"] == "Brand New Topic")
        .collect();
    assert_eq!(new.len(), 1);
}

#[test]
fn parents_later_in_the_file_are_created_first() {
    let org = Org::start(fast());
    let test = org
        .env(Test::new())
        .file(
            "job.yaml",
            r#"
            version: 1
            name: topic-tree
            input: { csv: topics.csv, require: [id, name], key: "{{ row.id }}", after: "{{ row.parentId }}" }
            concurrency: 8
            steps:
              - name: create
                operation: addTopic
                body:
                  id: "{{ row.id }}"
                  name: "{{ row.name }}"
                  parentId: "{{ row.parentId or omit }}"
            "#,
        )
        .file(
            "topics.csv",
            "id,name,parentId\ngrandchild1,Grandchild,child1\nchild1,Child,root1\nchild2,Child 2,root1\nroot1,Root,\n",
        )
        .args(["apply", "job.yaml"]);
    let out = test.run();
    out.expect(0, &[]);
    let topics = org.state()["topics"].clone();
    assert_eq!(topics["grandchild1"]["parentId"], "child1");
    assert_eq!(topics["child1"]["parentId"], "root1");
    let order: Vec<String> = org
        .log()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.status.to_string())
        .collect();
    assert_eq!(
        order,
        ["201", "201", "201", "201"],
        "no create was refused for a missing parent"
    );
    let rows = csv_maps(&test.read("results/topic-tree.csv"));
    assert_eq!(
        column(&rows, "row"),
        ["1", "2", "3", "4"],
        "results stay in input order"
    );
}

/// `n` generated customer rows for the create-customers job.
fn customers_csv(n: usize, tag: &str) -> String {
    let mut text = String::from("name,address,email:1,phone:1\n");
    for i in 1..=n {
        let _ = writeln!(
            text,
            "Customer {i},{i} Main St,{tag}{i}@example.com,650 555 {i:04}"
        );
    }
    text
}

#[test]
fn a_fault_mix_loses_no_row_and_duplicates_none() {
    let org = Org::start(SandboxOptions {
        faults: "5xx=0.2,reset=0.05".parse().unwrap(),
        seed: 7,
        ..fast()
    });
    let test = org
        .env(Test::new())
        .copy("jobs/create-customers.yaml")
        .file("rows.csv", &customers_csv(60, "fault"))
        .args([
            "apply",
            "jobs/create-customers.yaml",
            "--input",
            "rows.csv",
            "--results",
            "out.csv",
        ]);
    // A quarter of the attempts fail, so about one row in a thousand gets five failures in
    // a row and is recorded as failed in transit (which row depends on the order requests
    // arrive in, which load changes). Nothing is lost: a resume finishes it.
    let mut out = test.run();
    for _ in 0..3 {
        if out.code() == 0 {
            break;
        }
        for line in out
            .stderr()
            .lines()
            .filter(|l| !l.starts_with("progress: "))
        {
            assert!(line.contains("gave up after 5 attempts"), "{line}");
        }
        assert_eq!(out.code(), 3, "{}", out.stdout());
        let rows = csv_maps(&test.read("out.csv"));
        assert_eq!(rows.len(), 60, "one line per row, finished or not");
        out = test.run_args(&RESUME_CUSTOMERS);
    }
    out.expect(0, &[]);
    let rows = csv_maps(&test.read("out.csv"));
    assert_eq!(rows.len(), 60, "one line per row");
    assert!(rows.iter().all(|r| r["result"] == "done"), "{rows:?}");
    let log = org.log();
    assert!(log.iter().any(|r| r.status >= 500), "faults were injected");
    assert!(
        log.iter()
            .any(|r| r.fault.as_deref().is_some_and(|f| f.contains("reset")))
    );
    let by_email = org.customers_by_email();
    for i in 1..=60 {
        assert_eq!(
            by_email.get(&format!("fault{i}@example.com")),
            Some(&1),
            "customer {i}"
        );
    }
}

#[test]
fn a_429_storm_is_absorbed_without_failing_a_row() {
    // With `Retry-After: 1` each round of 429s pauses every worker for a second; without
    // it the backoff doubles per round up to 30 s (right for production, slow for a test).
    let org = Org::start(SandboxOptions {
        faults: "burst429=12@3".parse().unwrap(),
        retry_after: true,
        ..fast()
    });
    let test = org
        .env(Test::new())
        .copy("jobs/create-customers.yaml")
        .file("rows.csv", &customers_csv(20, "storm"))
        .args([
            "apply",
            "jobs/create-customers.yaml",
            "--input",
            "rows.csv",
            "--results",
            "out.csv",
        ]);
    let out = test.run();
    out.expect(0, &[]);
    let rows = csv_maps(&test.read("out.csv"));
    assert!(rows.iter().all(|r| r["result"] == "done"), "{rows:?}");
    assert_eq!(org.log().iter().filter(|r| r.status == 429).count(), 12);
    assert!(out.stdout().contains("12 answered 429"), "{}", out.stdout());
    assert_eq!(
        org.customers_by_email()
            .keys()
            .filter(|e| e.starts_with("storm"))
            .count(),
        20
    );
}

#[test]
fn a_refused_token_stops_the_run_at_once() {
    let org = Org::start(fast());
    let test = org
        .env(Test::new())
        .env("GLADLY_API_TOKEN", "wrong-token")
        .copy("jobs/create-customers.yaml")
        .file("rows.csv", &customers_csv(200, "auth"))
        .args([
            "apply",
            "jobs/create-customers.yaml",
            "--input",
            "rows.csv",
            "--results",
            "out.csv",
        ]);
    let out = test.run();
    assert_eq!(out.code(), 5, "{}{}", out.stdout(), out.stderr());
    assert!(
        out.stdout().contains("stopped: Gladly answered 401"),
        "{}",
        out.stdout()
    );
    assert!(!out.stderr().contains("wrong-token") && !out.stdout().contains("wrong-token"));
    let sent = org.log().len();
    assert!(
        sent <= 8,
        "stopped at once, not row by row: {sent} requests"
    );
    let rows = csv_maps(&test.read("out.csv"));
    assert!(
        rows.len() < 10,
        "unstarted rows are not recorded as failed: {}",
        rows.len()
    );
}

#[test]
fn a_dry_run_with_a_host_sends_reads_but_no_write() {
    let org = Org::start(fast());
    let conversation = org.state()["conversations"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["status"] == "OPEN")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let test = org
        .env(Test::new())
        .file(
            "job.yaml",
            r#"
            version: 1
            name: close
            input: { csv: rows.csv, require: [conversationId] }
            steps:
              - name: fetch
                request: GET /api/v1/conversations/{{ row.conversationId }}
                capture: { inboxId: "{{ response.body.inboxId }}" }
              - name: close
                operation: patchConversation
                params: { conversationId: "{{ row.conversationId }}" }
                body:
                  status: { value: CLOSED, force: true }
                  assignee: { inboxId: "{{ fetch.inboxId }}" }
            "#,
        )
        .file("rows.csv", &format!("conversationId\n{conversation}\n"))
        .args(["apply", "job.yaml", "--dry-run"]);
    let out = test.run();
    out.expect(0, &[]);
    let methods: Vec<String> = org.log().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["GET"], "only the read was sent");
    assert_eq!(
        org.state()["conversations"][&conversation]["status"],
        "OPEN"
    );
    let plan: Vec<Value> = test
        .read("results/close.plan.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(plan.len(), 2);
    assert_eq!(plan[1]["method"], "PATCH");
    assert_eq!(plan[1]["sent"], false);
    let inbox = org.state()["conversations"][&conversation]["inboxId"].clone();
    assert_eq!(
        plan[1]["body"]["assignee"]["inboxId"], inbox,
        "the real read fed the plan"
    );
}

#[test]
fn ctrl_c_finishes_in_flight_rows_records_them_and_says_how_to_resume() {
    let org = Org::start(SandboxOptions {
        latency: Some("50".parse().unwrap()),
        ..fast()
    });
    let test = org
        .env(Test::new())
        .copy("jobs/create-customers.yaml")
        .file("rows.csv", &customers_csv(60, "sigint"));
    let s = org.sandbox();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runner"))
        .current_dir(test.dir())
        .args([
            "apply",
            "jobs/create-customers.yaml",
            "--input",
            "rows.csv",
            "--results",
            "out.csv",
        ])
        .env("GLADLY_HOST", s.base_url())
        .env("GLADLY_USERNAME", s.username())
        .env("GLADLY_API_TOKEN", s.token())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let results = test.dir().join("out.csv");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&results).map_or(0, |t| t.lines().count()) < 6 {
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "resume with `runner apply jobs/create-customers.yaml --input rows.csv --resume out.csv`"
        ),
        "{stdout}"
    );
    let rows = csv_maps(&test.read("out.csv"));
    let done = rows.iter().filter(|r| r["result"] == "done").count();
    assert!(done < 60, "stopped taking rows: {done} done");
    assert!(
        rows.iter().all(|r| r["result"] == "done"
            || r["result"] == "not-attempted"
                && r["error_code"] == "stopped"
                && r["attempts"] == "0"),
        "in-flight rows finished; rows taken but not started are recorded as not attempted: \
         {rows:?}"
    );
    let created = org
        .customers_by_email()
        .keys()
        .filter(|e| e.starts_with("sigint"))
        .count();
    assert_eq!(
        created, done,
        "every row recorded as done, and only those, was applied"
    );

    let resumed = test.run_args(&RESUME_CUSTOMERS);
    resumed.expect(0, &[]);
    let rows = csv_maps(&test.read("out.csv"));
    assert_eq!(rows.len(), 60, "one line per row");
    assert!(rows.iter().all(|r| r["result"] == "done"), "{rows:?}");
    let by_email = org.customers_by_email();
    assert!((1..=60).all(|i| by_email.get(&format!("sigint{i}@example.com")) == Some(&1)));
}

const DELETE_JOB: &str = r#"
    version: 1
    name: delete-customers
    destructive: true
    input: { csv: rows.csv, require: [email] }
    steps:
      - name: find
        request: GET /api/v1/customer-profiles
        query: { email: "{{ row.email }}" }
        capture: { id: "{{ response.body[0].id if response.body else '' }}" }
      - name: missing
        when: "{{ not find.id }}"
        action: fail
        message: no customer has this email
      - name: delete
        request: DELETE /api/v1/customer-profiles/{{ find.id }}
        outcome: deleted
    "#;

#[test]
fn a_destructive_job_needs_yes_without_a_terminal() {
    let org = Org::start(fast());
    let email = "katherine@example.com";
    let test = org
        .env(Test::new())
        .file("job.yaml", DELETE_JOB)
        .file("rows.csv", &format!("email\n{email}\nnobody@example.com\n"));
    let refused = test.run_args(&["apply", "job.yaml"]);
    refused.expect(1, &["error: `delete-customers` is destructive and there is no terminal to confirm on: pass `--yes`"]);
    assert!(
        refused.stderr().contains("pass `--yes`"),
        "{}",
        refused.stderr()
    );
    assert!(org.log().is_empty(), "nothing was sent");

    let done = test.run_args(&["apply", "job.yaml", "--yes"]);
    done.expect(
        3,
        &["row 2 (line 3): step `missing`: no customer has this email"],
    );
    let rows = csv_maps(&test.read("results/delete-customers.csv"));
    assert_eq!(column(&rows, "result"), ["done", "rejected"]);
    assert_eq!(column(&rows, "outcome"), ["deleted", "rejected"]);
    assert_eq!(rows[1]["detail"], "no customer has this email");
    let left = org.customers_by_email();
    assert!(!left.contains_key(email), "the customer is gone");
}

#[test]
fn the_token_never_appears_even_at_trace_level() {
    let org = Org::start(SandboxOptions {
        faults: "5xx=0.3".parse().unwrap(),
        token: "tok-Zq9-very-secret".into(),
        ..fast()
    });
    let test = org
        .env(Test::new())
        .copy("jobs/create-customers.yaml")
        .file("rows.csv", &customers_csv(10, "secret"))
        .env("RUST_LOG", "trace");
    let out = test.run_args(&[
        "-vvv",
        "--log-format",
        "json",
        "apply",
        "jobs/create-customers.yaml",
        "--input",
        "rows.csv",
        "--results",
        "out.csv",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr());
    assert!(
        out.stderr().contains("retrying"),
        "debug events were logged: {}",
        out.stderr()
    );
    let everything = format!("{}{}{}", out.stdout(), out.stderr(), test.read("out.csv"));
    assert!(!everything.contains("tok-Zq9-very-secret"));
    // Basic auth would carry it base64-encoded.
    assert!(!everything.contains("dG9rLVpxOS12ZXJ5LXNlY3JldA"));
    assert!(!everything.to_lowercase().contains("authorization: basic"));
    // Through the faults, every customer was created once.
    let by_email = org.customers_by_email();
    for i in 1..=10 {
        assert_eq!(by_email.get(&format!("secret{i}@example.com")), Some(&1));
    }
}

#[test]
fn a_create_that_never_reached_the_server_is_retried_not_left_unknown() {
    // A port nobody listens on: every attempt fails to connect, so nothing was sent and
    // even a POST without a client id may be tried again (and fails as a network error,
    // not as "outcome unknown").
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let test = Test::new()
        .file(
            "job.yaml",
            r#"
            version: 1
            name: notes
            input: { csv: rows.csv }
            steps:
              - name: note
                operation: addNoteToConversation
                params: { conversationId: "{{ row.id }}" }
                body: { content: { body: "hello" } }
            "#,
        )
        .file("rows.csv", "id\nc1\n")
        .env("GLADLY_HOST", &format!("http://127.0.0.1:{port}"))
        .env("GLADLY_USERNAME", "u@example.com")
        .env("GLADLY_API_TOKEN", "t");
    let out = test.run_args(&["apply", "job.yaml"]);
    out.expect(
        3,
        &["row 1 (line 2): step `note`: gave up after 5 attempts"],
    );
    let rows = csv_maps(&test.read("results/notes.csv"));
    assert_eq!(rows[0]["error_code"], "network", "{rows:?}");
    assert!(rows[0]["detail"].contains("could not connect"), "{rows:?}");
    assert!(
        rows[0]["detail"].contains("gave up after 5 attempts"),
        "{rows:?}"
    );
    assert!(!rows[0]["detail"].contains("outcome unknown"), "{rows:?}");
}

#[test]
fn a_path_value_is_one_segment_and_never_changes_the_operation() {
    // `..` once turned `/customers/{id}/...` into another operation; `/`, `?` and `#` would
    // change or cut the path. Each such row fails alone and nothing else is sent for it.
    let org = Org::start(fast());
    let customer = org.state()["customers"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let test = org
        .env(Test::new())
        .file(
            "job.yaml",
            "
            version: 1
            name: fetch
            input: { csv: rows.csv, require: [id] }
            steps:
              - name: fetch
                request: GET /api/v1/customer-profiles/{{ row.id }}
            ",
        )
        .file(
            "rows.csv",
            &format!("id\n{customer}\n..\n.\n../tasks\nab/cd\n\"x?y\"\n#frag\n"),
        )
        .args(["apply", "job.yaml"]);
    let out = test.run();
    let refused = |row: usize, line: usize, value: &str| {
        format!(
            "row {row} (line {line}): step `fetch`: path value `{{{{ row.id }}}}` is `{value}`: a path value must be one segment, not `.` or `..` and without `/`, `?` or `#`"
        )
    };
    out.expect(
        3,
        &[
            &refused(2, 3, ".."),
            &refused(3, 4, "."),
            &refused(4, 5, "../tasks"),
            &refused(5, 6, "ab/cd"),
            &refused(6, 7, "x?y"),
            &refused(7, 8, "#frag"),
        ],
    );
    let paths: Vec<String> = org.log().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, [format!("/api/v1/customer-profiles/{customer}")]);
    let rows = csv_maps(&test.read("results/fetch.csv"));
    assert_eq!(
        column(&rows, "result"),
        [
            "done", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected"
        ]
    );
    assert!(
        rows[1..].iter().all(|r| r["error_code"] == "path"),
        "{rows:?}"
    );
}
