//! Dry runs of real manifests with the built binary: the plan's row table and request
//! file contents, row by row, and the checks that happen before any row is read.

use pretty_assertions::assert_eq;

use crate::harness::Test;

/// Parses a CSV text into rows of fields (header included).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn plan_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn create_customers() -> Test {
    Test::new()
        .copy("jobs/create-customers.yaml")
        .copy("jobs/data/create-customers.csv")
}

#[test]
fn create_customers_dry_run_writes_results_and_plan_row_by_row() {
    let test = create_customers()
        .env("GLADLY_API_TOKEN", "s3cr3t-token-value")
        .env("GLADLY_USERNAME", "ops@example.com")
        .args(["apply", "jobs/create-customers.yaml", "--dry-run"]);
    let out = test.run();
    assert_eq!(out.code(), 3, "one row fails, so exit 3: {}", out.stderr());
    assert!(
        out.stdout()
            .contains("6 rows — 5 planned, 0 skipped, 1 rejected"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout().contains("create  POST    5"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout()
            .contains("a real run would send 5 requests: about 0.5s at 10 requests/second")
    );
    assert!(
        out.stderr()
            .contains("row 6 (line 7): required column `name` is empty"),
        "{}",
        out.stderr()
    );

    assert!(
        out.stdout().contains(
            "plan:    jobs/results/create-customers.plan.csv\n         \
             jobs/results/create-customers.plan.jsonl\n"
        ),
        "{}",
        out.stdout()
    );
    assert!(
        !test
            .dir()
            .join("jobs/results/create-customers.csv")
            .exists(),
        "a dry run never writes the results"
    );

    let results = csv_rows(&test.read("jobs/results/create-customers.plan.csv"));
    assert_eq!(
        results[0],
        [
            "row",
            "line",
            "name",
            "email:1",
            "result",
            "outcome",
            "step",
            "http_status",
            "attempts",
            "duration_ms",
            "error_code",
            "detail",
            "create.id",
            "row_key",
            "row_fingerprint"
        ]
    );
    assert_eq!(results.len(), 7, "a header and one line per input row");
    let column = |row: &Vec<String>, name: &str| {
        let i = results[0].iter().position(|c| c == name).unwrap();
        row[i].clone()
    };
    for (i, row) in results[1..6].iter().enumerate() {
        assert_eq!(column(row, "row"), (i + 1).to_string());
        assert_eq!(column(row, "result"), "planned");
        assert_eq!(column(row, "step"), "create");
        assert_eq!(
            column(row, "create.id").len(),
            22,
            "stable id captured: {row:?}"
        );
    }
    assert_eq!(column(&results[5], "name"), "{{ 7*7 }}");
    let failed = &results[6];
    assert_eq!(column(failed, "result"), "rejected");
    assert_eq!(column(failed, "outcome"), "rejected");
    assert_eq!(column(failed, "error_code"), "input");
    assert_eq!(column(failed, "detail"), "required column `name` is empty");

    let plan = plan_lines(&test.read("jobs/results/create-customers.plan.jsonl"));
    assert_eq!(plan.len(), 5);
    assert_eq!(
        plan[0],
        serde_json::json!({
            "row": 1, "step": "create", "method": "POST", "url": "/api/v1/customer-profiles",
            "body": {
                "id": column(&results[1], "create.id"),
                "name": "First1 Last1",
                "address": "Address 1, CA, 12345",
                "emails": [{"original": "first1@example.com"}],
                "phones": [{"original": "650 123 4567"}, {"original": "650 123 4571"}],
                "customAttributes": {"attr1": "hello", "attr3": "world"}
            }
        })
    );
    assert_eq!(
        plan[2]["body"]["emails"],
        serde_json::json!([
            {"original": "first3@example.com"},
            {"original": "first3.alt@example.com"},
            {"original": "first3.work@example.com"}
        ])
    );
    // A cell holding template syntax is data: it goes out as the literal text.
    assert_eq!(plan[4]["body"]["name"], "{{ 7*7 }}");
    assert_eq!(plan[4]["body"]["phones"], serde_json::json!([]));

    for file in [
        "jobs/results/create-customers.plan.csv",
        "jobs/results/create-customers.plan.jsonl",
    ] {
        let text = test.read(file);
        assert!(
            !text.contains("s3cr3t-token-value"),
            "{file} leaks the token"
        );
        assert!(
            !text.to_lowercase().contains("authorization"),
            "{file} has an auth header"
        );
    }
    assert!(!out.stdout().contains("s3cr3t") && !out.stderr().contains("s3cr3t"));
}

#[test]
fn stable_ids_are_the_same_on_every_run() {
    let test = create_customers().args(["apply", "jobs/create-customers.yaml", "--dry-run"]);
    let incomplete = ["row 6 (line 7): required column `name` is empty"];
    test.run().expect(3, &incomplete);
    let first = test.read("jobs/results/create-customers.plan.jsonl");
    test.run().expect(3, &incomplete);
    assert_eq!(first, test.read("jobs/results/create-customers.plan.jsonl"));
}

#[test]
fn payload_errors_fail_the_row_with_its_number_and_manifest_position() {
    let test = Test::new()
        .file(
            "job.yaml",
            r#"
            version: 1
            name: phones
            input: { csv: rows.csv, require: [id] }
            steps:
              - name: create
                operation: createCustomer
                body:
                  id: "{{ row.id }}"
                  phones:
                    - original: "{{ row.phone }}"
                      type: "{{ row.type }}"
            "#,
        )
        .file(
            "rows.csv",
            "id,phone,type\na1,+15550001,MOBILE\na2,+15550002,MOBIL\n",
        )
        .args(["apply", "job.yaml", "--dry-run", "--results", "out.csv"]);
    let out = test.run();
    assert_eq!(out.code(), 3, "{}", out.stderr());
    assert!(
        out.stderr().contains(
            "row 2 (line 3): step `create`: body of `createCustomer`: `phones[0].type` must be one of \
             `HOME`, `MOBILE`, `OFFICE`, found `MOBIL` (did you mean `MOBILE`?)\n  --> job.yaml:11:17"
        ),
        "{}",
        out.stderr()
    );
    assert!(!test.dir().join("out.csv").exists(), "no results file");
    let results = csv_rows(&test.read("out.plan.csv"));
    assert_eq!(results[0][2..4], ["id", "result"]);
    assert_eq!(results[1][3], "planned");
    assert_eq!(results[2][3], "rejected");
    assert_eq!(results[0][9], "error_code");
    assert_eq!(results[2][9], "payload");
    assert_eq!(test.read("out.plan.jsonl").lines().count(), 1);
}

#[test]
fn malformed_rows_fail_alone_and_the_run_goes_on() {
    let test = create_customers()
        .file(
            "broken.csv",
            "name,address,email:1\nA,addr,a@x.com\nB,too,many,fields\nC,addr,c@x.com\n",
        )
        .args([
            "apply",
            "jobs/create-customers.yaml",
            "--dry-run",
            "--input",
            "broken.csv",
        ]);
    let out = test.run();
    out.expect(
        3,
        &["row 2 (line 3): expected 3 fields, as in the header, found 4"],
    );
    let results = csv_rows(&test.read("jobs/results/create-customers.plan.csv"));
    let summary: Vec<(String, String, String)> = results[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[4].clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("1".into(), "2".into(), "planned".into()),
            ("2".into(), "3".into(), "rejected".into()),
            ("3".into(), "4".into(), "planned".into()),
        ]
    );
    assert!(
        results[2][11].contains("expected 3 fields"),
        "{:?}",
        results[2]
    );
}

#[test]
fn jsonl_input_can_replace_the_csv() {
    let test = create_customers()
        .file(
            "rows.jsonl",
            "{\"name\": \"J\", \"email:1\": \"j@x.com\", \"phone:1\": \"555\"}\n\n{\"name\": \"K\", \"email:1\": \"k@x.com\"}\n",
        )
        .args(["apply", "jobs/create-customers.yaml", "--dry-run", "--input", "rows.jsonl"]);
    let out = test.run();
    out.expect(0, &[]);
    let plan = plan_lines(&test.read("jobs/results/create-customers.plan.jsonl"));
    assert_eq!(plan.len(), 2);
    assert_eq!(
        plan[0]["body"]["phones"],
        serde_json::json!([{"original": "555"}])
    );
    assert_eq!(plan[1]["row"], 2);
}

#[test]
fn a_header_without_required_columns_stops_before_any_row() {
    let test = create_customers()
        .file("other.csv", "fullname,mail\nA,a@x.com\n")
        .args([
            "apply",
            "jobs/create-customers.yaml",
            "--dry-run",
            "--input",
            "other.csv",
        ]);
    let out = test.run();
    assert_eq!(out.code(), 2, "{}", out.stderr());
    assert!(
        out.stderr()
            .contains("error: required column `name` is not in the header of `other.csv`"),
        "{}",
        out.stderr()
    );
    assert!(
        out.stderr()
            .contains("--> jobs/create-customers.yaml:23:13"),
        "{}",
        out.stderr()
    );
    for file in [
        "jobs/results/create-customers.csv",
        "jobs/results/create-customers.plan.csv",
        "jobs/results/create-customers.plan.jsonl",
    ] {
        assert!(!test.dir().join(file).exists(), "{file} was written");
    }
}

#[test]
fn unknown_set_param_is_a_usage_error_with_a_hint() {
    let test = Test::new()
        .file(
            "job.yaml",
            r#"
            version: 1
            name: topics
            input: { csv: rows.csv }
            params:
              topicId: { default: "" }
            steps:
              - name: add
                request: POST /api/v1/conversations/{{ row.id }}/topics
                body: { topicIds: ["{{ params.topicId }}"] }
            "#,
        )
        .file("rows.csv", "id\nc1\n")
        .args(["apply", "job.yaml", "--dry-run", "--set", "topicID=t1"]);
    let out = test.run();
    assert_eq!(out.code(), 1);
    assert_eq!(
        out.stderr(),
        "error: `--set topicID`: the manifest has no param `topicID` (did you mean `topicId`?)\n"
    );
}

#[test]
fn set_params_and_path_templates_are_rendered_and_encoded() {
    let test = Test::new()
        .file(
            "job.yaml",
            r#"
            version: 1
            name: topics
            input: { csv: rows.csv }
            params:
              topicId: { default: "" }
            steps:
              - name: add
                request: POST /api/v1/conversations/{{ row.id }}/topics
                body: { topicIds: ["{{ params.topicId }}"] }
            "#,
        )
        .file("rows.csv", "id\nc:1 x&y\n")
        .args(["apply", "job.yaml", "--dry-run", "--set", "topicId=t1"]);
    test.run().expect(0, &[]);
    let plan = plan_lines(&test.read("results/topics.plan.jsonl"));
    assert_eq!(plan[0]["url"], "/api/v1/conversations/c%3A1%20x%26y/topics");
    assert_eq!(plan[0]["body"], serde_json::json!({"topicIds": ["t1"]}));
}

#[test]
fn checked_in_schema_matches_runner_schema() {
    let out = Test::new().args(["schema"]).run();
    out.expect(0, &[]);
    let checked_in = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/manifest.schema.json"),
    )
    .unwrap();
    assert!(
        out.stdout() == checked_in,
        "schemas/manifest.schema.json is stale: run `cargo run -- schema > schemas/manifest.schema.json`"
    );
}

#[test]
fn a_dry_run_plans_after_cycles_and_their_waiters_as_the_real_run_ends_them() {
    // a and b wait for each other; c waits for a (so never runs); d is free; e waits for d.
    let test = Test::new()
        .file(
            "job.yaml",
            r#"
            version: 1
            name: topics
            input: { csv: topics.csv, key: "{{ row.name }}", after: "{{ row.parent }}" }
            steps:
              - name: add
                request: POST /api/v1/topics
                body: { name: "{{ row.name }}" }
            "#,
        )
        .file("topics.csv", "name,parent\na,b\nb,a\nc,a\nd,\ne,d\n")
        .args(["apply", "job.yaml", "--dry-run"]);
    let cycle = "this row and the rows it waits for (`input.after`) wait for each other in a cycle";
    test.run().expect(
        3,
        &[
            &format!("row 1 (line 2): {cycle}"),
            &format!("row 2 (line 3): {cycle}"),
            "row 3 (line 4): row 1, which this row waits for (`input.after`), did not succeed",
        ],
    );
    let rows = csv_rows(&test.read("results/topics.plan.csv"));
    let at = rows[0].iter().position(|c| c == "result").unwrap();
    let results: Vec<&str> = rows[1..].iter().map(|r| r[at].as_str()).collect();
    assert_eq!(
        results,
        ["rejected", "rejected", "rejected", "planned", "planned"]
    );
    let plan = plan_lines(&test.read("results/topics.plan.jsonl"));
    let names: Vec<&str> = plan
        .iter()
        .map(|p| p["body"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["d", "e"], "only the rows that can run are planned");
}
