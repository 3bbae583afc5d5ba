//! The surface a new user touches, run as the README shows it: `runner init`, the failed
//! rows of a run fed back after correcting them, duplicates inside one input (also past
//! what the check keeps in memory), the online dry run's table, completions and the man
//! page, `--output json` and `--color`.

use std::fmt::Write as _;

use gladly_runner::sandbox::SandboxOptions;
use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::apply::{Org, csv_maps};
use crate::harness::Test;

const CUSTOMERS_JOB: &str = r#"
    version: 1
    name: customers
    input: { csv: rows.csv, require: [name, email] }
    results: { columns: [name] }
    concurrency: 1
    steps:
      - name: create
        operation: createCustomer
        body:
          id: "{{ stable_id('customer', row.email) }}"
          name: "{{ row.name }}"
          emails: "{{ [row.email, row.other] | select | list | to_objects('original') }}"
        outcome: created
        on:
          409: { action: fail, outcome: taken, message: "{{ response.body.errors[0].detail }}" }
    "#;

#[test]
fn init_writes_a_manifest_that_validates_and_never_overwrites() {
    let test = Test::new();
    let out = test.run_args(&[
        "init",
        "jobs/close.yaml",
        "--operation",
        "patchConversation",
    ]);
    out.expect(0, &[]);
    let manifest = test.read("jobs/close.yaml");
    assert!(
        manifest.starts_with("# yaml-language-server: $schema=manifest.schema.json\n"),
        "{manifest}"
    );
    assert!(manifest.contains("operation: patchConversation"));
    assert!(manifest.contains("conversationId: \"{{ row.conversationId }}\""));
    assert_eq!(test.read("jobs/data/close.csv"), "conversationId\n");
    // The schema the modeline names is there and is the one `runner schema` prints.
    let schema = test.run_args(&["schema"]);
    schema.expect(0, &[]);
    assert_eq!(test.read("jobs/manifest.schema.json"), schema.stdout());
    test.run_args(&["validate", "jobs/close.yaml"])
        .expect(0, &[]);

    // A second init with the same name changes nothing.
    std::fs::write(test.dir().join("jobs/close.yaml"), "edited").unwrap();
    let again = test.run_args(&[
        "init",
        "jobs/close.yaml",
        "--operation",
        "patchConversation",
    ]);
    again.expect(1, &["jobs/close.yaml exists; init never overwrites a file"]);
    assert_eq!(test.read("jobs/close.yaml"), "edited");
    // Nor does one whose input file is already there.
    let clash = test.run_args(&["init", "jobs/other.yaml", "--from", "close-conversations"]);
    clash.expect(0, &[]);
    let clash = test.run_args(&["init", "jobs/third.yaml", "--from", "close-conversations"]);
    clash.expect(1, &["jobs/data/close-conversations.csv exists"]);
    assert!(!test.dir().join("jobs/third.yaml").exists());

    // A shipped job, copied with its sample input, validates where it lands.
    let copied = test.run_args(&["init", "mine/cc.yaml", "--from", "create-customers"]);
    copied.expect(0, &[]);
    assert!(
        test.read("mine/data/create-customers.csv")
            .starts_with("name,")
    );
    test.run_args(&["validate", "mine/cc.yaml"]).expect(0, &[]);

    let wrong = test.run_args(&["init", "x.yaml", "--operation", "createCustomr"]);
    wrong.expect(
        1,
        &["no operation `createCustomr` (did you mean `createCustomer`?)"],
    );
    let wrong = test.run_args(&["init", "x.yaml", "--from", "create-customer"]);
    wrong.expect(1, &["(did you mean `create-customers`?)"]);
    assert!(!test.dir().join("x.yaml").exists());
}

#[test]
fn init_inside_the_repository_points_at_its_schema() {
    let test = Test::new().file("project/schemas/manifest.schema.json", "{}");
    let out = test.run_args(&[
        "init",
        "project/jobs/new.yaml",
        "--operation",
        "createCustomer",
    ]);
    out.expect(0, &[]);
    assert!(
        test.read("project/jobs/new.yaml")
            .starts_with("# yaml-language-server: $schema=../schemas/manifest.schema.json\n")
    );
    assert!(
        !test
            .dir()
            .join("project/jobs/manifest.schema.json")
            .exists()
    );
    let list = test.run_args(&["init", "--list"]);
    list.expect(0, &[]);
    assert!(list.stdout().lines().count() >= 22, "{}", list.stdout());
}

#[test]
fn duplicates_inside_one_input_are_named_and_never_sent() {
    let org = Org::start(SandboxOptions::unlimited());
    let rows = "name,email,other\nAnn,ann@example.com,\nBob,bob@example.com,\n\
                Ann Again,ann@example.com,\nDee,dee@example.com,\n";
    let test = org
        .env(Test::new())
        .file("job.yaml", CUSTOMERS_JOB)
        .file("rows.csv", rows);
    // The dry run says it first, offline.
    let plan = Test::new()
        .file("job.yaml", CUSTOMERS_JOB)
        .file("rows.csv", rows);
    let planned = plan.run_args(&["apply", "job.yaml", "--dry-run"]);
    planned.expect(3, &["row 3 (line 4): step `create`: same `email` as row 1"]);
    let lines = csv_maps(&plan.read("results/customers.plan.csv"));
    assert_eq!(lines[2]["error_code"], "duplicate");
    let requests = plan.read("results/customers.plan.jsonl");
    assert_eq!(
        requests.lines().count(),
        3,
        "the duplicate is not in the plan"
    );

    let out = test.run_args(&["apply", "job.yaml"]);
    out.expect(3, &["row 3 (line 4): step `create`: same `email` as row 1"]);
    let results = csv_maps(&test.read("results/customers.csv"));
    assert_eq!(results[2]["result"], "rejected");
    assert_eq!(results[2]["error_code"], "duplicate");
    assert!(results[2]["detail"].contains("same `email` as row 1"));
    let posts = org.log().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 3, "the duplicate row was never sent");
    assert_eq!(org.customers_by_email()["ann@example.com"], 1);
    let names: Vec<Value> = org.state()["customers"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["name"].clone())
        .collect();
    assert!(!names.contains(&Value::from("Ann Again")));
}

#[test]
fn duplicates_are_found_past_the_claims_kept_in_memory() {
    // 70,000 creates: more than the duplicate check keeps in memory (28,672), so the
    // first rows' claims are in its temporary files by the time they are repeated.
    let mut rows = String::from("name,email,other\n");
    for i in 1..=70_000 {
        writeln!(rows, "C{i},c{i}@example.com,").unwrap();
    }
    // Rows 70,001–70,010 repeat rows 1–10 (long spilled); 70,011 repeats 69,999 (in
    // memory); 70,012 repeats 40,000 (in a run not yet merged).
    for i in (1..=10).chain([69_999, 40_000]) {
        writeln!(rows, "Again {i},c{i}@example.com,").unwrap();
    }
    let test = Test::new()
        .file("job.yaml", CUSTOMERS_JOB)
        .file("rows.csv", &rows);
    let out = test.run_args(&["apply", "job.yaml", "--dry-run"]);
    out.expect(
        3,
        &[
            "row 70001 (line 70002): step `create`: same `email` as row 1: both create",
            "row 70010 (line 70011): step `create`: same `email` as row 10: both create",
            ": step `create`: same `email` as row ",
            "… 2 more failed rows in the plan",
        ],
    );
    let plan = csv_maps(&test.read("results/customers.plan.csv"));
    assert_eq!(plan.len(), 70_012);
    let duplicates: Vec<(&str, &str)> = plan
        .iter()
        .filter(|line| line["error_code"] == "duplicate")
        .map(|line| (line["row"].as_str(), line["detail"].as_str()))
        .collect();
    let expected: Vec<(String, String)> = (1..=10)
        .chain([69_999, 40_000])
        .enumerate()
        .map(|(n, first)| {
            (
                format!("{}", 70_001 + n),
                format!("same `email` as row {first}:"),
            )
        })
        .collect();
    assert_eq!(duplicates.len(), expected.len(), "{duplicates:?}");
    for ((row, detail), (want_row, want_detail)) in duplicates.iter().zip(&expected) {
        assert_eq!(row, want_row);
        assert!(detail.starts_with(want_detail), "row {row}: {detail}");
    }
    let requests = test.read("results/customers.plan.jsonl");
    assert_eq!(requests.lines().count(), 70_000, "no duplicate is planned");
    // The temporary files were unlinked when made, and the lock goes with the run: the
    // results folder holds the plan.
    let mut left: Vec<String> = std::fs::read_dir(test.dir().join("results"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["customers.plan.csv", "customers.plan.jsonl"]);
}

#[test]
fn failed_rows_come_back_with_their_errors_and_run_once_corrected() {
    let org = Org::start(SandboxOptions::unlimited());
    let test = org.env(Test::new()).file("job.yaml", CUSTOMERS_JOB).file(
        "rows.csv",
        "name,email,other\nAnn,ann@example.com,\nCarl,carl@example.com,ann@example.com\n\
             Dee,dee@example.com,\n",
    );
    let out = test.run_args(&["apply", "job.yaml"]);
    out.expect(3, &["row 2 (line 3): step `create`:"]);
    assert!(
        out.stdout()
            .contains("or `runner failed job.yaml --results results/customers.csv`"),
        "{}",
        out.stdout()
    );

    let failed = test.run_args(&["failed", "job.yaml"]);
    failed.expect(0, &[]);
    assert!(
        failed
            .stdout()
            .contains("wrote:   results/customers.failed.csv (1 failed row"),
        "{}",
        failed.stdout()
    );
    let rows = csv_maps(&test.read("results/customers.failed.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "Carl");
    assert_eq!(rows[0]["other"], "ann@example.com");
    assert!(
        rows[0]["error"].starts_with("taken at step `create` (HTTP 409):"),
        "{}",
        rows[0]["error"]
    );
    let header = test.read("results/customers.failed.csv");
    assert!(header.starts_with("name,email,other,error\n"));

    // Corrected in that file and fed back: only Carl runs, and the ledger says so.
    std::fs::write(
        test.dir().join("results/customers.failed.csv"),
        "name,email,other,error\nCarl,carl@example.com,,was taken\n",
    )
    .unwrap();
    let rerun = test.run_args(&[
        "apply",
        "job.yaml",
        "--input",
        "results/customers.failed.csv",
        "--only-failed",
        "results/customers.csv",
    ]);
    rerun.expect(0, &[]);
    assert!(rerun.stdout().contains("ledger:  3 rows in all — 3 done"));
    assert_eq!(org.customers_by_email()["carl@example.com"], 1);
    assert_eq!(org.customers_by_email()["ann@example.com"], 1);
    // Nothing fails now: the failed-rows file (the last run's input) holds the header
    // alone, with one `error` column.
    test.run_args(&["failed", "job.yaml"]).expect(0, &[]);
    assert_eq!(
        test.read("results/customers.failed.csv"),
        "name,email,other,error\n"
    );
}

#[test]
fn failed_needs_the_ledger_of_a_real_run() {
    let test = Test::new()
        .file("job.yaml", CUSTOMERS_JOB)
        .file("rows.csv", "name,email,other\nAnn,ann@example.com,\n");
    test.run_args(&["apply", "job.yaml", "--dry-run"])
        .expect(0, &[]);
    let out = test.run_args(&["failed", "job.yaml"]);
    out.expect(1, &["is not the ledger of a real run"]);
}

#[test]
fn the_online_dry_run_prints_the_same_table_as_the_offline_one() {
    let org = Org::start(SandboxOptions::unlimited());
    let rows = "name,email,other\nAnn,ann@example.com,\nBob,bob@example.com,\n";
    let offline = Test::new()
        .file("job.yaml", CUSTOMERS_JOB)
        .file("rows.csv", rows);
    let off = offline.run_args(&["apply", "job.yaml", "--dry-run"]);
    off.expect(0, &[]);
    let online = org
        .env(Test::new())
        .file("job.yaml", CUSTOMERS_JOB)
        .file("rows.csv", rows);
    let on = online.run_args(&["apply", "job.yaml", "--dry-run"]);
    on.expect(0, &[]);
    let table = |text: &str| -> Vec<String> {
        let mut lines: Vec<String> = text
            .lines()
            .skip_while(|l| !l.starts_with("  step"))
            .take_while(|l| l.starts_with("  "))
            .map(str::to_owned)
            .collect();
        lines.extend(
            text.lines()
                .filter(|l| l.starts_with("a real run"))
                .map(str::to_owned),
        );
        lines
    };
    let expected = [
        "  step    method  requests",
        "  create  POST    2",
        "a real run would send 2 requests: about 0.2s at 10 requests/second",
    ];
    assert_eq!(table(off.stdout()), expected, "{}", off.stdout());
    assert_eq!(table(on.stdout()), expected, "{}", on.stdout());
    assert_eq!(org.log().len(), 0, "a dry run of creates sends nothing");
}

#[test]
fn json_output_gives_scripts_the_summary() {
    let org = Org::start(SandboxOptions::unlimited());
    let test = org
        .env(Test::new())
        .file("job.yaml", CUSTOMERS_JOB)
        .file(
            "bad.yaml",
            "version: 1\nname: x\ninput: { csv: rows.csv }\nstpes: []\n",
        )
        .file(
            "rows.csv",
            "name,email,other\nAnn,ann@example.com,\nAnn2,ann@example.com,\n",
        );
    let checked = test.run_args(&["validate", "job.yaml", "bad.yaml", "--output", "json"]);
    checked.expect(2, &[]);
    let report: Value = serde_json::from_str(checked.stdout()).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["files"][0]["ok"], true);
    assert_eq!(report["files"][0]["job"], "customers");
    assert_eq!(report["files"][1]["ok"], false);
    let problem = &report["files"][1]["problems"][0];
    assert_eq!(problem["severity"], "error");
    assert_eq!(problem["line"], 4);
    assert_eq!(problem["column"], 1);
    assert!(problem["message"].as_str().unwrap().contains("stpes"));

    let planned = test.run_args(&["apply", "job.yaml", "--dry-run", "--output", "json"]);
    planned.expect(3, &[]);
    let plan: Value = serde_json::from_str(planned.stdout()).unwrap();
    assert_eq!(plan["mode"], "dry-run");
    assert_eq!(plan["results"]["planned"], 1);
    assert_eq!(plan["results"]["rejected"], 1);
    assert_eq!(plan["plan"]["steps"][0]["requests"], 1);
    assert_eq!(plan["failures"][0]["row"], 2);

    let ran = test.run_args(&["apply", "job.yaml", "--output", "json"]);
    ran.expect(3, &[]);
    let run: Value = serde_json::from_str(ran.stdout()).unwrap();
    assert_eq!(run["job"], "customers");
    assert_eq!(run["mode"], "apply");
    assert_eq!(run["results"]["done"], 1);
    assert_eq!(run["ledger"]["results"]["rejected"], 1);
    assert_eq!(run["rerun"], "runner apply job.yaml");
    assert_eq!(run["requests"], 1);
    assert_eq!(org.customers_by_email()["ann@example.com"], 1);
}

#[test]
fn colour_is_off_in_a_pipe_and_on_when_forced() {
    let test = Test::new().file("bad.yaml", "version: 1\nname: x\nstpes: []\n");
    let plain = test.run_args(&["validate", "bad.yaml"]);
    plain.expect(2, &["error", "-->", "|", "help", "unknown key"]);
    assert!(!plain.stderr().contains('\x1b'));
    let forced = test.run_args(&["validate", "bad.yaml", "--color", "always"]);
    assert_eq!(forced.code(), 2);
    assert!(
        forced.stderr().contains("\x1b[1;31merror\x1b[0m"),
        "{}",
        forced.stderr()
    );
    let never = Test::new()
        .file("bad.yaml", "version: 1\nname: x\nstpes: []\n")
        .env("NO_COLOR", "1");
    let out = never.run_args(&["validate", "bad.yaml", "--color", "never"]);
    assert_eq!(out.code(), 2);
    assert!(!out.stderr().contains('\x1b'));
}

#[test]
fn completions_and_man_pages_cover_every_command() {
    let test = Test::new();
    for (shell, marker) in [
        ("bash", "_runner()"),
        ("zsh", "#compdef runner"),
        ("fish", "complete -c runner"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = test.run_args(&["completions", shell]);
        out.expect(0, &[]);
        assert!(out.stdout().contains(marker), "{shell}: {}", out.stdout());
        for command in ["apply", "validate", "init", "failed", "ops"] {
            assert!(out.stdout().contains(command), "{shell} lacks {command}");
        }
    }
    let man = test.run_args(&["man"]);
    man.expect(0, &[]);
    assert!(man.stdout().contains(".TH runner 1"), "{}", man.stdout());
    let pages = test.run_args(&["man", "--dir", "man"]);
    pages.expect(0, &[]);
    for page in [
        "runner.1",
        "runner-apply.1",
        "runner-init.1",
        "runner-failed.1",
    ] {
        let text = test.read(&format!("man/{page}"));
        assert!(text.contains(".SH"), "{page}");
    }
    assert!(test.read("man/runner-apply.1").contains("only\\-failed"));
}
