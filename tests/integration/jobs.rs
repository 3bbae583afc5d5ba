//! Helpers shared by the job-library tests: copy a shipped job and its sample input into a
//! test folder, apply it, and dry-run it against a fresh sandbox checking that no write
//! was sent.

use std::collections::BTreeMap;

use gladly_runner::sandbox::SandboxOptions;
use serde_json::Value;

use crate::apply::{Org, csv_maps};
use crate::harness::{Outcome, Test};

pub(crate) type Rows = Vec<BTreeMap<String, String>>;

pub(crate) fn column(rows: &Rows, name: &str) -> Vec<String> {
    rows.iter().map(|r| r[name].clone()).collect()
}

/// A test folder holding `jobs/NAME.yaml` and `jobs/data/NAME.csv`, pointed at `org`.
pub(crate) fn job(org: &Org, name: &str) -> Test {
    org.env(Test::new())
        .copy(&format!("jobs/{name}.yaml"))
        .copy(&format!("jobs/data/{name}.csv"))
}

/// Applies the job (with `extra` arguments) and returns the run and its results.
pub(crate) fn apply(test: &Test, name: &str, extra: &[&str]) -> (Outcome, Rows) {
    let mut args = vec!["apply".to_owned(), format!("jobs/{name}.yaml")];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let out = test.run_args(&args);
    let rows = csv_maps(&test.read(&format!("jobs/results/{name}.csv")));
    (out, rows)
}

/// Dry-runs the job against a fresh sandbox: only reads reach the org, nothing in it
/// changes, and each row's result in the plan's row table (`NAME.plan.csv`) is
/// `expected`. Returns the plan lines.
pub(crate) fn dry_run_sends_no_write(name: &str, expected: &[&str]) -> Vec<Value> {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state();
    let test = job(&org, name);
    let out = test.run_args(&["apply", &format!("jobs/{name}.yaml"), "--dry-run"]);
    let settled = expected.iter().all(|r| ["planned", "skipped"].contains(r));
    // Each row that cannot be planned is named on stderr.
    if settled {
        out.expect(0, &[]);
    } else {
        out.expect(3, &["row "]);
    }
    assert!(
        !test.dir().join(format!("jobs/results/{name}.csv")).exists(),
        "a dry run writes its plan, never the results"
    );
    let rows = csv_maps(&test.read(&format!("jobs/results/{name}.plan.csv")));
    let methods: Vec<String> = org.log().into_iter().map(|r| r.method).collect();
    assert!(!methods.is_empty(), "the dry run read the org");
    assert!(
        methods.iter().all(|m| m == "GET"),
        "a dry run sends no write: {methods:?}"
    );
    let after = org.state();
    for part in [
        "customers",
        "tasks",
        "conversations",
        "items",
        "topics",
        "answers",
        "answerContents",
    ] {
        assert_eq!(after[part], before[part], "{part} unchanged");
    }
    assert_eq!(column(&rows, "result"), expected, "{rows:#?}");
    let plan: Vec<Value> = test
        .read(&format!("jobs/results/{name}.plan.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for line in &plan {
        assert_eq!(
            line["sent"],
            line["method"] == "GET",
            "only reads are marked sent: {line}"
        );
    }
    plan
}
