//! The read side's engine as users meet it: an input request that is throttled or fails is
//! retried like any read, a malformed line of an export file fails alone with its line,
//! and a job with steps leaves failed rows out of its outputs.

use gladly_runner::sandbox::SandboxOptions;
use pretty_assertions::assert_eq;

use crate::apply::{Org, csv_maps};
use crate::harness::{Test, unindent};

fn inboxes(org: &Org) -> (Test, crate::harness::Outcome) {
    let test = org.env(Test::new()).copy("jobs/export-inboxes.yaml");
    let out = test.run_args(&["apply", "jobs/export-inboxes.yaml"]);
    (test, out)
}

#[test]
fn a_throttled_and_failing_input_request_is_retried_and_the_export_is_whole() {
    let calm = Org::start(SandboxOptions::unlimited());
    let (calm_test, calm_out) = inboxes(&calm);
    calm_out.expect(0, &[]);
    let expected = calm_test.read("jobs/exports/inboxes.csv");
    assert_eq!(expected.lines().count(), 6, "{expected}");

    // Two 429s, then 503s on every other read until the retries get through.
    let stormy = Org::start(SandboxOptions {
        faults: "burst429=2@1,503=0.5:before,on=reads".parse().unwrap(),
        retry_after: true,
        ..SandboxOptions::unlimited()
    });
    let (test, out) = inboxes(&stormy);
    out.expect(0, &[]);
    assert_eq!(test.read("jobs/exports/inboxes.csv"), expected);
    let statuses: Vec<u16> = stormy.log().into_iter().map(|r| r.status).collect();
    assert_eq!(&statuses[..2], [429, 429], "{statuses:?}");
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
}

#[test]
fn an_input_request_refused_for_good_stops_before_any_file_is_written() {
    let org = Org::start(SandboxOptions::unlimited());
    let test = org.env(Test::new()).copy("jobs/export-conversation.yaml");
    let out = test.run_args(&[
        "apply",
        "jobs/export-conversation.yaml",
        "--set",
        "conversationId=nope",
    ]);
    assert_eq!(out.code(), 5, "{}{}", out.stdout(), out.stderr());
    assert!(
        out.stderr()
            .contains("GET /api/v1/conversations/nope/items answered 404"),
        "{}",
        out.stderr()
    );
    assert!(!test.dir().join("jobs/exports").exists());
}

#[test]
fn a_malformed_line_of_an_export_file_fails_alone_with_its_line() {
    let items = unindent(
        r#"
        {"id":"i1","conversationId":"c1","timestamp":"2026-11-20T10:00:00.000Z","content":{"type":"EMAIL","from":"a@x.com","subject":"Hi, there"}}
        {"id":"i2","conversationId":"c1","timestamp":oops}

        {"id":"i3","conversationId":"c1","timestamp":"2026-11-20T10:05:00.000Z","content":{"type":"CHAT_MESSAGE","content":"two\nlines"}}
        "#,
    );
    let test = Test::new()
        .copy("jobs/export-conversation.yaml")
        .file("items.jsonl", &items);
    let out = test.run_args(&[
        "apply",
        "jobs/export-conversation.yaml",
        "--input",
        "items.jsonl",
    ]);
    assert_eq!(out.code(), 3, "{}{}", out.stdout(), out.stderr());
    assert!(out.stderr().contains("row 2 (line 2)"), "{}", out.stderr());
    let csv = test.read("jobs/exports/conversation-tqbdfxQ1OaQ5Za89NoOCdw.csv");
    let records: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0][0], "i1");
    assert_eq!(records[1][0], "i3");
    assert!(records[1].contains(&"two\nlines".to_owned()), "{records:?}");
    let results = csv_maps(&test.read("jobs/results/export-conversation.csv"));
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["row"], "2");
    assert_eq!(results[0]["line"], "2");
    assert_eq!(results[0]["error_code"], "input");
    assert!(results[0]["detail"].contains("column"), "{results:?}");
}

#[test]
fn an_output_over_the_input_is_refused_before_anything_is_read() {
    let input = "jobs/exports/conversation-tqbdfxQ1OaQ5Za89NoOCdw.csv";
    let test = Test::new()
        .copy("jobs/export-conversation.yaml")
        .file(input, "id\ni1\n");
    let out = test.run_args(&["apply", "jobs/export-conversation.yaml", "--input", input]);
    assert_eq!(out.code(), 1, "{}{}", out.stdout(), out.stderr());
    assert!(
        out.stderr().contains("are the same file"),
        "{}",
        out.stderr()
    );
    assert_eq!(test.read(input), "id\ni1\n", "the input is untouched");
}

#[test]
fn a_dry_run_of_a_reading_job_sends_nothing_and_writes_no_data_file() {
    let org = Org::start(SandboxOptions::unlimited());
    let test = org.env(Test::new()).copy("jobs/export-inboxes.yaml");
    let out = test.run_args(&["apply", "jobs/export-inboxes.yaml", "--dry-run"]);
    out.expect(0, &[]);
    assert!(out.stdout().contains("only reads"), "{}", out.stdout());
    assert!(org.log().is_empty(), "nothing was sent");
    assert!(!test.dir().join("jobs/exports").exists());
}

/// A server that answers one export file with a body cut short: two whole lines, then the
/// connection closes before the promised length.
fn broken_download_server() -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let body = "{\"id\":\"i1\"}\n{\"id\":\"i2\"}\n{\"id\":\"i3\",\"cont";
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n\
                        content-length: 100000\r\nconnection: close\r\n\r\n";
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    url
}

#[test]
fn a_download_that_breaks_off_stops_the_run_and_keeps_the_rows_before_it() {
    let url = broken_download_server();
    let test = Test::new()
        .file(
            "job.yaml",
            "version: 1\nname: broken\ninput: { export: { job: j1, file: items.jsonl } }\n\
             outputs: [ { path: out.jsonl } ]\n",
        )
        .env("GLADLY_HOST", &url)
        .env("GLADLY_USERNAME", "ops@example.com")
        .env("GLADLY_API_TOKEN", "secret-token");
    let out = test.run_args(&["apply", "job.yaml", "--timeout", "5"]);
    assert_eq!(out.code(), 5, "{}{}", out.stdout(), out.stderr());
    assert!(
        out.stdout().contains("could not be read to its end"),
        "{}{}",
        out.stdout(),
        out.stderr()
    );
    assert_eq!(test.read("out.jsonl"), "{\"id\":\"i1\"}\n{\"id\":\"i2\"}\n");
    assert!(!format!("{}{}", out.stdout(), out.stderr()).contains("secret-token"));
}

#[test]
fn a_lookup_is_fetched_only_when_its_filter_is_given() {
    let files = |org: &Org| -> Vec<String> {
        org.log()
            .into_iter()
            .map(|r| r.path)
            .filter(|p| p.contains("/files/"))
            .map(|p| p.rsplit('/').next().unwrap_or_default().to_owned())
            .collect()
    };
    let org = Org::start(SandboxOptions::unlimited());
    let test = org.env(Test::new()).copy("jobs/export-file.yaml");
    let out = test.run_args(&["apply", "jobs/export-file.yaml"]);
    out.expect(0, &[]);
    assert_eq!(files(&org), ["conversation_items.jsonl"]);

    let org = Org::start(SandboxOptions::unlimited());
    let test = org.env(Test::new()).copy("jobs/export-file.yaml");
    let out = test.run_args(&[
        "apply",
        "jobs/export-file.yaml",
        "--set",
        "contact=@example.com",
    ]);
    out.expect(0, &[]);
    assert_eq!(files(&org), ["customers.jsonl", "conversation_items.jsonl"]);
}

#[test]
fn rows_from_the_api_with_steps_load_lookups_first_and_write_each_done_row() {
    let manifest = r#"
version: 1
name: conversations-by-inbox
params: { customerId: { default: GfkFIKfgRoQ85jUsrlJqIQ } }
input: { api: "GET /api/v1/customers/{{ params.customerId }}/conversations" }
lookups: { inboxes: { request: GET /api/v1/inboxes, key: "{{ item.id }}" } }
steps:
  - name: items
    request: GET /api/v1/conversations/{{ row.id }}/items
    capture: { count: "{{ response.body | length }}" }
outputs:
  - path: out.csv
    columns: [id, { Inbox: "{{ lookup('inboxes', row.inboxId).name }}" }, { Items: "{{ items.count }}" }]
"#;
    let clock: chrono::DateTime<chrono::Utc> = "2026-11-20T18:00:00Z".parse().unwrap();
    let org = Org::start(SandboxOptions {
        clock: Some(clock),
        ..SandboxOptions::unlimited()
    });
    let test = org.env(Test::new()).file("job.yaml", manifest);
    let out = test.run_args(&["apply", "job.yaml"]);
    out.expect(0, &[]);
    let paths: Vec<String> = org.log().into_iter().map(|r| r.path).collect();
    assert_eq!(paths[0], "/api/v1/inboxes", "{paths:?}");
    assert!(paths[1].ends_with("/conversations"), "{paths:?}");
    // Ada's email, call and chat conversations (oldest first), with their inboxes' names.
    assert_eq!(
        test.read("out.csv"),
        unindent(
            "
            id,Inbox,Items
            tqbdfxQ1OaQ5Za89NoOCdw,Billing,5
            Ua2HMJZk3nwP34Y_0IF5NA,Billing,2
            V8TlCIVeq4s5AfdeWfQ8RQ,Support,3
            "
        )
    );
    let results = csv_maps(&test.read("results/conversations-by-inbox.csv"));
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r["result"] == "done"), "{results:?}");
}
