//! `runner validate` as a user runs it: golden diagnostics for every invalid fixture, and
//! every shipped job and valid fixture accepted.
//!
//! Each `tests/fixtures/invalid/<case>.yaml` is copied alone into a fresh folder and
//! validated there, so the path in the output is just `<case>.yaml`; its stderr must equal
//! `<case>.stderr` byte for byte. `BLESS=1 cargo test --test integration validate` rewrites
//! the goldens from the current output: review every changed one by eye before committing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pretty_assertions::StrComparison;

use crate::harness::Test;

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
}

/// The files in `dir` (recursively) whose name ends with `suffix`, sorted.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn invalid_manifests_print_their_golden_diagnostics() {
    let dir = fixtures("invalid");
    let bless = std::env::var_os("BLESS").is_some();
    let cases = files(&dir, ".yaml");
    assert!(cases.len() >= 20, "only {} invalid fixtures", cases.len());
    let mut failures = String::new();
    for case in &cases {
        let name = file_name(case);
        let golden = case.with_extension("stderr");
        let out = Test::new()
            .copy_as(case, &name)
            .args(["validate", name.as_str()])
            .run();
        if out.code() != 2 || !out.stdout().is_empty() {
            let _ = writeln!(
                failures,
                "{name}: exit {} (want 2), stdout {:?}",
                out.code(),
                out.stdout()
            );
        }
        if bless {
            std::fs::write(&golden, out.stderr()).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == out.stderr() => {}
            Ok(expected) => {
                let diff = StrComparison::new(&expected, out.stderr());
                let _ = writeln!(failures, "{name}: stderr differs from its golden\n{diff}");
            }
            Err(_) => {
                let _ = writeln!(
                    failures,
                    "{name}: no golden {} (run with BLESS=1)",
                    file_name(&golden)
                );
            }
        }
    }
    for golden in files(&dir, ".stderr") {
        if !golden.with_extension("yaml").exists() {
            let _ = writeln!(
                failures,
                "{}: golden without a manifest",
                file_name(&golden)
            );
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn every_shipped_job_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut test = Test::new();
    for file in files(&root.join("jobs"), "") {
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        test = test.copy(&relative);
    }
    let jobs: Vec<String> = files(&root.join("jobs"), ".yaml")
        .iter()
        .filter(|f| f.parent() == Some(&root.join("jobs")))
        .map(|f| format!("jobs/{}", file_name(f)))
        .collect();
    assert!(!jobs.is_empty());
    let out = test
        .args(["validate"])
        .args(jobs.iter().map(String::as_str))
        .run();
    assert_eq!(out.stderr(), "");
    assert_eq!(out.code(), 0);
    for job in &jobs {
        assert!(
            out.stdout().contains(&format!("ok: {job} (")),
            "{}",
            out.stdout()
        );
    }
}

#[test]
fn valid_fixtures_are_accepted() {
    let dir = fixtures("valid");
    let cases = files(&dir, ".yaml");
    assert!(!cases.is_empty());
    for case in &cases {
        let name = file_name(case);
        // Sibling data files come along, so header checks run where an input exists.
        let mut test = Test::new();
        for data in files(&dir, "")
            .iter()
            .filter(|f| !f.to_string_lossy().ends_with(".yaml"))
        {
            test = test.copy_as(data, &file_name(data));
        }
        let out = test
            .copy_as(case, &name)
            .args(["validate", name.as_str()])
            .run();
        assert_eq!(out.stderr(), "", "{name}");
        assert_eq!(out.code(), 0, "{name}");
        assert!(
            out.stdout().starts_with(&format!("ok: {name} (")),
            "{name}: {}",
            out.stdout()
        );
    }
}

#[test]
fn ops_shows_one_operation_in_full_and_its_example_step_validates() {
    let out = Test::new().args(["ops", "createTask"]).run();
    out.expect(0, &[]);
    for part in [
        "POST /api/v1/customers/{customerId}/tasks  (createTask, Tasks)",
        "path parameters: customerId",
        "rate class: default (10 requests/second for the org)",
        "success: 201 (empty); errors documented: 400, 404, 409",
        "  assignee (required): object",
        "    inboxId (required): string",
        "  body (required): string (at most 10000 characters)",
        "      operation: createTask",
    ] {
        assert!(
            out.stdout().contains(part),
            "missing `{part}`:\n{}",
            out.stdout()
        );
    }
    // Every operation's example step, dropped into a manifest, passes `validate`.
    let list = Test::new().args(["ops", "--json"]).run();
    list.expect(0, &[]);
    let ops: Vec<serde_json::Value> = serde_json::from_str(list.stdout()).unwrap();
    assert_eq!(ops.len(), 80);
    let mut test = Test::new();
    let mut names = Vec::new();
    for op in &ops {
        let id = op["id"].as_str().unwrap();
        let step = &op["example"];
        let mut text = format!(
            "version: 1\nname: example\ninput: {{ csv: rows.csv }}\nsteps:\n  - name: {id}\n    operation: {id}\n"
        );
        for key in ["params", "query", "body"] {
            if let Some(value) = step.get(key) {
                let _ = writeln!(text, "    {key}: {value}");
            }
        }
        let name = format!("{id}.yaml");
        test = test.file(&name, &text);
        names.push(name);
    }
    let out = test
        .args(["validate"])
        .args(names.iter().map(String::as_str))
        .run();
    out.expect(0, &[]);
    assert_eq!(
        out.stdout()
            .lines()
            .filter(|l| l.starts_with("ok: "))
            .count(),
        80
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = Test::new().args(["--version"]).run();
    out.expect(0, &[]);
    let version = out.stdout().trim();
    assert!(
        version.starts_with(&format!("runner {} (", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    // A build outside a git checkout says `unknown commit`; inside one, the HEAD it saw.
    if let Some(head) = head.ok().filter(|h| h.status.success()) {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        assert_eq!(
            version,
            format!("runner {} ({head})", env!("CARGO_PKG_VERSION"))
        );
    }
}
