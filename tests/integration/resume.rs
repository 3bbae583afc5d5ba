//! Crash and resume with the real binaries: `runner sandbox` serves an org in its own
//! process, `runner apply` is killed with SIGKILL part-way, then resumed; every row must
//! end applied exactly once, and recorded exactly once.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::apply::{RESUME_CUSTOMERS, csv_maps};
use crate::harness::Test;

/// `runner sandbox` on a free port, with the three printed credential lines.
/// Like the in-process `Org`, a test must look at what it holds once it was sent requests
/// (`state`, `get`, `requests`).
pub(crate) struct SandboxProcess {
    pub(crate) child: Child,
    pub(crate) vars: Vec<(String, String)>,
    observed: std::cell::Cell<bool>,
}

impl SandboxProcess {
    pub(crate) fn start(args: &[&str]) -> SandboxProcess {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("runner"))
            .args(["sandbox", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut vars = Vec::new();
        while vars.len() < 3 {
            let line = lines
                .next()
                .expect("sandbox printed its credentials")
                .unwrap();
            if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
                vars.push((k.to_owned(), v.to_owned()));
            }
        }
        SandboxProcess {
            child,
            vars,
            observed: std::cell::Cell::new(false),
        }
    }

    pub(crate) fn host(&self) -> &str {
        &self
            .vars
            .iter()
            .find(|(k, _)| k == "GLADLY_HOST")
            .unwrap()
            .1
    }

    pub(crate) fn env(&self, test: Test) -> Test {
        self.vars.iter().fold(test, |t, (k, v)| t.env(k, v))
    }

    /// Requests the org has answered so far (`GET /__sandbox/requests`).
    pub(crate) fn requests(&self) -> usize {
        self.get("/__sandbox/requests")
            .as_array()
            .map_or(0, Vec::len)
    }

    /// The org as `GET /__sandbox/state` shows it.
    pub(crate) fn state(&self) -> serde_json::Value {
        self.get("/__sandbox/state")
    }

    pub(crate) fn get(&self, path: &str) -> serde_json::Value {
        self.observed.set(true);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = format!("{}{path}", self.host());
        let user = self
            .vars
            .iter()
            .find(|(k, _)| k == "GLADLY_USERNAME")
            .unwrap()
            .1
            .clone();
        let token = self
            .vars
            .iter()
            .find(|(k, _)| k == "GLADLY_API_TOKEN")
            .unwrap()
            .1
            .clone();
        let _ = rustls::crypto::ring::default_provider().install_default();
        runtime.block_on(crate::harness::sandbox_json(
            &reqwest::Client::new(),
            &url,
            &user,
            &token,
        ))
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        if !std::thread::panicking() && !self.observed.get() {
            let log = self.get("/__sandbox/requests");
            let writes = log
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["method"] != "GET")
                .count();
            assert!(
                writes == 0,
                "the sandbox took {writes} writes and the test never looked at its end \
                 state: assert on `state()`, `get()` or `requests()`"
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines in a file (0 when it does not exist yet).
fn lines_in(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn killed_runs_resume_to_every_row_applied_exactly_once() {
    // The org allows 8 requests a second (the runner follows its headers), so a run of
    // 48 rows takes about 6 s: room to kill it part-way even on a loaded machine.
    const ROWS: usize = 48;
    let sandbox = SandboxProcess::start(&["--rate-limit", "8", "--latency", "20"]);
    for (kill_after, tag) in [(1, "early"), (ROWS / 2, "middle"), (ROWS - 12, "late")] {
        let mut csv = String::from("name,address,email:1\n");
        for i in 1..=ROWS {
            let _ = writeln!(csv, "Customer {i},{i} Main St,{tag}{i}@example.com");
        }
        let test = sandbox
            .env(Test::new())
            .copy("jobs/create-customers.yaml")
            .file("rows.csv", &csv);
        let results = test.dir().join("out.csv");
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("runner"))
            .current_dir(test.dir())
            .args([
                "apply",
                "jobs/create-customers.yaml",
                "--input",
                "rows.csv",
                "--results",
                "out.csv",
            ])
            .envs(sandbox.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        // SIGKILL once the org has answered `kill_after` of this run's requests.
        let before = sandbox.requests();
        while sandbox.requests() < before + kill_after {
            assert!(Instant::now() < deadline, "the run made no progress");
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let recorded = lines_in(&results).saturating_sub(1);
        assert!(
            recorded < ROWS,
            "killed before the end ({tag}: {recorded} rows)"
        );

        let resumed = test.run_args(&RESUME_CUSTOMERS);
        resumed.expect(0, &[]);
        let rows = csv_maps(&test.read("out.csv"));
        let mut numbers: Vec<u64> = rows.iter().map(|r| r["row"].parse().unwrap()).collect();
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            (1..=ROWS as u64).collect::<Vec<_>>(),
            "{tag}: every row recorded once"
        );
        assert!(
            rows.iter()
                .all(|r| r["result"] == "done" || r["outcome"] == "exists"),
            "{tag}: {rows:?}"
        );

        let state = sandbox.state();
        for i in 1..=ROWS {
            let email = format!("{tag}{i}@example.com");
            let holders = state["customers"]
                .as_object()
                .unwrap()
                .values()
                .filter(|c| c["emails"][0]["original"] == email.as_str())
                .count();
            assert_eq!(holders, 1, "{email} applied exactly once");
        }
    }
}

#[test]
fn resume_refuses_a_changed_input() {
    let sandbox = SandboxProcess::start(&["--rate-limit", "0"]);
    let test = sandbox
        .env(Test::new())
        .copy("jobs/create-customers.yaml")
        .file(
            "rows.csv",
            "name,address,email:1\nA,1 St,refuse1@example.com\n",
        );
    let first = test.run_args(&[
        "apply",
        "jobs/create-customers.yaml",
        "--input",
        "rows.csv",
        "--results",
        "out.csv",
    ]);
    first.expect(0, &[]);
    std::fs::write(
        test.dir().join("rows.csv"),
        "name,address,email:1\nA,1 St,refuse1@example.com\nB,2 St,refuse2@example.com\n",
    )
    .unwrap();
    let refused = test.run_args(&RESUME_CUSTOMERS);
    refused.expect(1, &["error: the input changed since `out.csv` was written"]);
    assert!(
        refused
            .stderr()
            .contains("the input changed since `out.csv` was written"),
        "{}",
        refused.stderr()
    );
    let forced = test.run_args(&[&RESUME_CUSTOMERS[..], &["--force"]].concat());
    forced.expect(0, &[]);
    assert_eq!(
        csv_maps(&test.read("out.csv")).len(),
        2,
        "the new row ran, the old one did not"
    );
    let state = sandbox.state();
    let customers = state["customers"].as_object().unwrap();
    for email in ["refuse1@example.com", "refuse2@example.com"] {
        let holders = customers
            .values()
            .filter(|c| c["emails"][0]["original"] == email)
            .count();
        assert_eq!(holders, 1, "{email} exists once");
    }
}
