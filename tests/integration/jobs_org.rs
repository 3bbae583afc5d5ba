//! The shipped conversation, topic and answer jobs (`jobs/close-conversations.yaml`,
//! `jobs/redact-calls.yaml`, `jobs/create-topics.yaml`, `jobs/update-topics.yaml`,
//! `jobs/add-and-update-answers.yaml`), each applied with its own sample input to a fresh
//! in-process sandbox: the org's end state, the results CSV row by row, and a dry run that
//! sends no write. Ids are the default org's (seed 1), as the sample inputs use them.

use gladly_runner::sandbox::SandboxOptions;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::apply::{Org, csv_maps, unescape};
use crate::harness::Test;
use crate::jobs::{apply, column, dry_run_sends_no_write, job};

// Topics of the default org.
const CONTACT_REASON: &str = "payi5Q-i_If4VCdMJw8zRw";
const BILLING_QUESTION: &str = "dUo8JV_itXdUV-VGO3o_Ig";
const SHIPPING: &str = "il-84BpCOYp_w7nEM7haNw";
const LATE_DELIVERY: &str = "P60bRGpVkaD_J7EIAD_xWA";
const RETURNS: &str = "RkmZzoOoe3b7VgFvhb3tlQ";
const WRONG_SIZE: &str = "E2h6l_l0jAKHr3uYNuIBRQ";
const VIP: &str = "uAWr_tsAGOjsGPXQfQe_pw";
const LOYALTY: &str = "rmgC0B8MvPi4h6f9dc0u0g";
// Conversations.
const ADA_CHAT: &str = "V8TlCIVeq4s5AfdeWfQ8RQ";
const GRACE_EMAIL: &str = "YibKFjUmJaYNx3UfPOAFQg";
const ALAN_CALL: &str = "mN3aZHr6KrzF9lYDg9YmXQ";
const MARGARET_SMS: &str = "QBo0J46x54E_aAN2fZhGlQ";
// Conversation items.
const ALAN_PHONE_CALL: &str = "qLtrdkwSjP_W5OjOAUFQwQ";
const GRACE_FIRST_EMAIL: &str = "-H7VI2LgvTujSHsAtK16QA";
const ALAN_NOTE: &str = "AD5W0T8JGjH7ER0hRbrC-A";
// Audiences and answers.
const AUDIENCE_1: &str = "z4naeVEoZwSa0GzipBhh6g";
const AUDIENCE_2: &str = "r4RnsWUPJ6IEb8GpLUHEnA";
const SAY_HELLO: &str = "kTajkIbsQpXv6RIfjCR9eg";

/// A results column with the escaping of formula-looking cells taken off.
fn unescaped(rows: &[std::collections::BTreeMap<String, String>], name: &str) -> Vec<String> {
    rows.iter().map(|r| unescape(&r[name]).to_owned()).collect()
}

/// The topics (the state's `topics`) named `name`, in any case.
fn topics_named(topics: &Value, name: &str) -> Vec<Value> {
    topics
        .as_object()
        .unwrap()
        .values()
        .filter(|t| t["name"].as_str().unwrap().eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}

#[test]
fn close_conversations_closes_keeping_the_assignee_and_reports_each_refusal() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state()["conversations"].clone();
    let test = job(&org, "close-conversations");
    let (out, rows) = apply(&test, "close-conversations", &["--yes"]);
    out.expect(3, &["row 4 (line 5): step `close`: Gladly requires a topic before closing", "row 5 (line 6): step `close`: the customer is awaiting a reply, so Gladly did not close it", "row 6 (line 7): step `fetch`: conversation [DoesNotExist0000000000] does not exist"]);

    // The results, row by row.
    assert_eq!(
        column(&rows, "conversationId"),
        [
            GRACE_EMAIL,
            MARGARET_SMS,
            ALAN_CALL,
            ADA_CHAT,
            ADA_CHAT,
            "DoesNotExist0000000000"
        ]
    );
    assert_eq!(
        column(&rows, "result"),
        [
            "done", "done", "skipped", "rejected", "rejected", "rejected"
        ]
    );
    assert_eq!(
        column(&rows, "outcome"),
        [
            "closed",
            "closed",
            "already_closed",
            "topic_required",
            "awaiting_reply",
            "not_found"
        ]
    );
    assert_eq!(
        column(&rows, "step"),
        ["close", "close", "closed", "close", "close", "fetch"]
    );
    assert_eq!(rows[2]["detail"], "the conversation is already closed");
    assert_eq!(
        rows[3]["detail"],
        "Gladly requires a topic before closing (conversation needs a topic under [Contact Reason] \
         before it can be closed): give the row a topicId or run with --set topicId=ID"
    );
    assert_eq!(rows[3]["error_code"], "invalid_state");
    assert_eq!(
        rows[4]["detail"],
        "the customer is awaiting a reply, so Gladly did not close it; to close it anyway run \
         again with --set force=true"
    );
    assert_eq!(rows[4]["error_code"], "invalid_state");
    assert_eq!(
        rows[5]["detail"],
        "conversation [DoesNotExist0000000000] does not exist"
    );
    assert_eq!(rows[5]["error_code"], "not_exist");
    // What each conversation was before: the undo information, failed rows included.
    for row in &rows[..5] {
        let was = &before[&row["conversationId"]];
        assert_eq!(row["fetch.status"], was["status"].as_str().unwrap());
        assert_eq!(row["fetch.inboxId"], was["inboxId"].as_str().unwrap());
        assert_eq!(row["fetch.agentId"], was["agentId"].as_str().unwrap());
    }

    // The end state.
    let after = org.state()["conversations"].clone();
    for id in [GRACE_EMAIL, MARGARET_SMS] {
        assert_eq!(after[id]["status"], "CLOSED", "{id}");
        assert_eq!(
            (&after[id]["inboxId"], &after[id]["agentId"]),
            (&before[id]["inboxId"], &before[id]["agentId"]),
            "closing kept the assignee of {id}"
        );
    }
    assert_eq!(after[GRACE_EMAIL]["topicIds"], json!([BILLING_QUESTION]));
    assert_eq!(after[MARGARET_SMS]["topicIds"], json!([WRONG_SIZE]));
    assert_eq!(
        after[ALAN_CALL], before[ALAN_CALL],
        "a closed one is left alone"
    );
    assert_eq!(after[ADA_CHAT]["status"], "OPEN", "not forced closed");
    assert_eq!(
        after[ADA_CHAT]["topicIds"],
        json!([BILLING_QUESTION]),
        "row 5 added its topic before Gladly refused to close"
    );

    // Reviewed: close the refused ones anyway. Rows of one conversation run in file order,
    // so row 4 closes Ada's chat (it has a topic now) and row 5 finds it closed. The ledger
    // keeps one line per row: the done rows as they were, the others as they ended now.
    let first = rows;
    let (out, rows) = apply(
        &test,
        "close-conversations",
        &[
            "--yes",
            "--set",
            "force=true",
            "--only-failed",
            "jobs/results/close-conversations.csv",
        ],
    );
    out.expect(
        3,
        &["row 6 (line 7): step `fetch`: conversation [DoesNotExist0000000000] does not exist"],
    );
    let ledger: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (&*r["row"], &*r["result"], &*r["outcome"]))
        .collect();
    assert_eq!(
        ledger,
        [
            ("1", "done", "closed"),
            ("2", "done", "closed"),
            ("3", "skipped", "already_closed"),
            ("4", "done", "closed"),
            ("5", "skipped", "already_closed"),
            ("6", "rejected", "not_found")
        ]
    );
    assert_eq!(rows[..3], first[..3], "the settled rows did not run again");
    let ada = &org.state()["conversations"][ADA_CHAT];
    assert_eq!(ada["status"], "CLOSED");
    assert_eq!(
        (&ada["inboxId"], &ada["agentId"]),
        (&before[ADA_CHAT]["inboxId"], &before[ADA_CHAT]["agentId"])
    );

    // The dry run reads each conversation, skips Alan's and plans the writes with the
    // assignee it read.
    let plan = dry_run_sends_no_write(
        "close-conversations",
        &[
            "planned", "planned", "skipped", "planned", "planned", "rejected",
        ],
    );
    let closes: Vec<&Value> = plan.iter().filter(|l| l["step"] == "close").collect();
    assert_eq!(closes.len(), 4);
    assert_eq!(
        closes[0]["body"],
        json!({
            "status": {"value": "CLOSED", "force": false},
            "assignee": {
                "inboxId": before[GRACE_EMAIL]["inboxId"],
                "agentId": before[GRACE_EMAIL]["agentId"]
            }
        })
    );
    let topics: Vec<&Value> = plan.iter().filter(|l| l["step"] == "topic").collect();
    assert_eq!(topics.len(), 2, "only rows with a topic add one");
    assert_eq!(topics[0]["body"], json!({"topicIds": [WRONG_SIZE]}));
}

#[test]
fn close_conversations_takes_the_portals_one_column_file_and_a_topic_for_all() {
    let org = Org::start(SandboxOptions::unlimited());
    let test = org
        .env(Test::new())
        .copy("jobs/close-conversations.yaml")
        .file("ids.csv", &format!("conversationId\n{MARGARET_SMS}\n"));
    let out = test.run_args(&[
        "apply",
        "jobs/close-conversations.yaml",
        "--input",
        "ids.csv",
        "--results",
        "out.csv",
        "--set",
        &format!("topicId={RETURNS}"),
        "--yes",
    ]);
    out.expect(0, &[]);
    let rows = csv_maps(&test.read("out.csv"));
    assert_eq!(column(&rows, "outcome"), ["closed"]);
    let margaret = &org.state()["conversations"][MARGARET_SMS];
    assert_eq!(margaret["status"], "CLOSED");
    assert_eq!(margaret["topicIds"], json!([RETURNS]));

    let refused = test.run_args(&[
        "apply",
        "jobs/close-conversations.yaml",
        "--input",
        "ids.csv",
        "--results",
        "refused.csv",
        "--set",
        "force=yes",
        "--yes",
    ]);
    refused.expect(
        4,
        &["row 1 (line 2): step `check_force`: `--set force=` must be true or false, not `yes`"],
    );
    let rows = csv_maps(&test.read("refused.csv"));
    assert_eq!(
        rows[0]["detail"],
        "`--set force=` must be true or false, not `yes`"
    );
}

#[test]
fn redact_calls_blanks_each_item_once_and_reports_what_cannot_be() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state()["items"].clone();
    let test = job(&org, "redact-calls");
    let (out, rows) = apply(&test, "redact-calls", &["--yes"]);
    out.expect(3, &["row 3 (line 4): step `redact`: id: items of type [CONVERSATION_NOTE] cannot be redacted", "row 4 (line 5): step `fetch`: conversation item [NoSuchItem000000000000] does not exist"]);

    assert_eq!(
        column(&rows, "itemId"),
        [
            ALAN_PHONE_CALL,
            // A cell a spreadsheet would read as a formula is escaped.
            &format!("'{GRACE_FIRST_EMAIL}"),
            ALAN_NOTE,
            "NoSuchItem000000000000"
        ]
    );
    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "rejected", "rejected"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        ["redacted", "redacted", "rejected", "not_found"]
    );
    assert_eq!(
        column(&rows, "fetch.type"),
        ["PHONE_CALL", "EMAIL", "CONVERSATION_NOTE", ""]
    );
    assert_eq!(
        column(&rows, "fetch.conversationId"),
        [ALAN_CALL, GRACE_EMAIL, ALAN_CALL, ""]
    );
    assert_eq!(rows[2]["step"], "redact");
    assert_eq!(rows[2]["error_code"], "invalid");
    assert_eq!(
        rows[2]["detail"],
        "id: items of type [CONVERSATION_NOTE] cannot be redacted"
    );
    assert_eq!(rows[3]["step"], "fetch");
    assert_eq!(
        rows[3]["detail"],
        "conversation item [NoSuchItem000000000000] does not exist"
    );

    let items = org.state()["items"].clone();
    let call = &items[ALAN_PHONE_CALL]["content"];
    assert_eq!(call["recordingStatus"], "DELETED");
    assert!(call.get("recordingUrl").is_none(), "{call}");
    assert_eq!(call["recordingSummary"]["status"], "REDACTED");
    assert!(call["recordingSummary"].get("summary").is_none());
    assert_eq!(
        call["startedAt"],
        before[ALAN_PHONE_CALL]["content"]["startedAt"]
    );
    let email = &items[GRACE_FIRST_EMAIL]["content"];
    assert_eq!(
        (&email["content"], &email["subject"], &email["attachments"]),
        (&json!(""), &json!(""), &json!([]))
    );
    assert_eq!(items[ALAN_NOTE], before[ALAN_NOTE], "the note is untouched");
    assert_eq!(
        items.as_object().unwrap().len(),
        before.as_object().unwrap().len(),
        "redacted items stay on the timeline"
    );

    // Again, on a new ledger that runs every row: the call's recording is gone already,
    // so it is skipped.
    let (again, rows) = apply(&test, "redact-calls", &["--yes", "--replace"]);
    again.expect(
        3,
        &[
            "moved the earlier ledger aside to `jobs/results/redact-calls.1.csv`",
            "row ",
        ],
    );
    assert_eq!(
        column(&rows, "outcome"),
        ["already_redacted", "redacted", "rejected", "not_found"]
    );
    assert_eq!(
        rows[0]["detail"],
        "the PHONE_CALL's recording is already deleted"
    );

    dry_run_sends_no_write(
        "redact-calls",
        &["planned", "planned", "planned", "rejected"],
    );
}

#[test]
fn create_topics_creates_parents_first_and_names_the_owner_of_a_taken_name() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state()["topics"].clone();
    let test = job(&org, "create-topics");
    let (out, rows) = apply(&test, "create-topics", &[]);
    out.expect(3, &["row 5 (line 6): step `taken`: topic RkmZzoOoe3b7VgFvhb3tlQ (`Returns`) already has this name", "row 6 (line 7): row 5, which this row waits for (`input.after`), did not succeed"]);

    assert_eq!(
        column(&rows, "id"),
        [
            "exchange-size",
            "exchange-color",
            "exchanges",
            "gift-cards",
            "returns-2",
            "returns-damaged"
        ]
    );
    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "done", "done", "rejected", "rejected"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        [
            "created",
            "created",
            "created",
            "created",
            "name_taken",
            "rejected"
        ]
    );
    assert_eq!(
        column(&rows, "create.id")[..4],
        ["exchange-size", "exchange-color", "exchanges", "gift-cards"]
    );
    assert_eq!(rows[4]["step"], "taken");
    assert_eq!(
        rows[4]["detail"],
        format!("topic {RETURNS} (`Returns`) already has this name")
    );
    assert_eq!(rows[5]["error_code"], "input");
    assert_eq!(
        rows[5]["detail"],
        "row 5, which this row waits for (`input.after`), did not succeed"
    );

    let topics = org.state()["topics"].clone();
    assert_eq!(
        topics["exchanges"],
        json!({"id": "exchanges", "name": "Exchanges", "disabled": false, "parentId": CONTACT_REASON})
    );
    for child in ["exchange-size", "exchange-color"] {
        assert_eq!(topics[child]["parentId"], "exchanges", "{child}");
        assert_eq!(topics[child]["disabled"], false, "{child}");
    }
    assert_eq!(topics["gift-cards"]["disabled"], true);
    assert!(topics["gift-cards"].get("parentId").is_none());
    assert_eq!(
        topics_named(&topics, "Returns").len(),
        1,
        "no second Returns"
    );
    assert!(topics.get("returns-damaged").is_none());
    assert_eq!(
        topics.as_object().unwrap().len(),
        before.as_object().unwrap().len() + 4
    );
    let creates: Vec<u16> = org
        .log()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.status)
        .collect();
    assert_eq!(
        creates,
        [201, 201, 201, 201],
        "children listed before their parent were not refused; the taken name was not sent"
    );

    // Again, on a new ledger that runs every row: everything it created exists, the
    // taken name is still taken.
    let (again, rows) = apply(&test, "create-topics", &["--replace"]);
    again.expect(
        3,
        &[
            "moved the earlier ledger aside to `jobs/results/create-topics.1.csv`",
            "row ",
        ],
    );
    assert_eq!(
        column(&rows, "outcome"),
        [
            "exists",
            "exists",
            "exists",
            "exists",
            "name_taken",
            "rejected"
        ]
    );
    assert_eq!(
        org.state()["topics"].as_object().unwrap().len(),
        before.as_object().unwrap().len() + 4
    );

    dry_run_sends_no_write(
        "create-topics",
        &[
            "planned", "planned", "planned", "planned", "rejected", "rejected",
        ],
    );
}

#[test]
fn update_topics_changes_only_what_the_row_fills_in() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state()["topics"].clone();
    let test = job(&org, "update-topics");
    let (out, rows) = apply(&test, "update-topics", &[]);
    out.expect(3, &["row 5 (line 6): step `taken`: topic il-84BpCOYp_w7nEM7haNw (`Shipping`) already has this name", "row 6 (line 7): step `fetch`: topic [NoSuchTopic00000000000] does not exist"]);

    assert_eq!(
        column(&rows, "id"),
        [
            LOYALTY,
            WRONG_SIZE,
            VIP,
            RETURNS,
            LATE_DELIVERY,
            "NoSuchTopic00000000000"
        ]
    );
    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "done", "skipped", "rejected", "rejected"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        [
            "updated",
            "updated",
            "updated",
            "unchanged",
            "name_taken",
            "not_found"
        ]
    );
    assert_eq!(
        rows[3]["detail"],
        "the topic already has the name, state and parent the row asks for"
    );
    assert_eq!(
        rows[4]["detail"],
        format!("topic {SHIPPING} (`Shipping`) already has this name")
    );
    assert_eq!(rows[4]["step"], "taken");
    assert_eq!(
        rows[5]["detail"],
        "topic [NoSuchTopic00000000000] does not exist"
    );
    // The undo list: what each topic was before.
    assert_eq!(
        column(&rows, "fetch.name")[..4],
        ["Loyalty Program (ARCHIVED)", "Wrong Size", "VIP", "Returns"]
    );
    assert_eq!(
        column(&rows, "fetch.disabled")[..4],
        ["true", "false", "false", "false"]
    );
    assert_eq!(rows[1]["fetch.parentId"], RETURNS);

    let topics = org.state()["topics"].clone();
    assert_eq!(
        topics[LOYALTY],
        json!({"id": LOYALTY, "name": "Loyalty Program", "disabled": false})
    );
    assert_eq!(
        topics[WRONG_SIZE],
        json!({"id": WRONG_SIZE, "name": "Wrong Size or Fit", "disabled": false, "parentId": RETURNS}),
        "blank cells kept the state and the parent"
    );
    assert_eq!(
        topics[VIP],
        json!({"id": VIP, "name": "VIP", "disabled": false, "parentId": CONTACT_REASON}),
        "a blank name kept the name"
    );
    for unchanged in [RETURNS, LATE_DELIVERY, SHIPPING] {
        assert_eq!(topics[unchanged], before[unchanged], "{unchanged}");
    }
    let patches = org
        .log()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(
        patches, 3,
        "no update for the unchanged, taken and missing rows"
    );

    dry_run_sends_no_write(
        "update-topics",
        &[
            "planned", "planned", "planned", "skipped", "rejected", "rejected",
        ],
    );
}

#[test]
fn add_and_update_answers_adds_or_updates_then_puts_the_public_content() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state();
    let test = job(&org, "add-and-update-answers");
    let (out, rows) = apply(&test, "add-and-update-answers", &[]);
    out.expect(3, &["row 5 (line 6): step `vars`: `VIP Customer` is not in lookup `audiences` (did you mean `VIP Customers`?)"]);

    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "done", "done", "rejected"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        ["updated", "updated", "added", "updated", "rejected"]
    );
    assert_eq!(rows[4]["step"], "vars");
    assert_eq!(rows[4]["error_code"], "lookup");
    assert_eq!(
        rows[4]["detail"],
        "`VIP Customer` is not in lookup `audiences` (did you mean `VIP Customers`?)"
    );
    let goodbye = unescape(&rows[2]["add.id"]).to_owned();
    assert_eq!(
        unescaped(&rows, "add.id"),
        [SAY_HELLO, SAY_HELLO, &goodbye, &goodbye, ""]
    );
    assert_ne!(goodbye, "");

    let state = org.state();
    let answers = state["answers"].as_object().unwrap();
    assert_eq!(
        answers.len(),
        before["answers"].as_object().unwrap().len() + 1,
        "one answer added, none for the failed row"
    );
    let hello = &answers[SAY_HELLO];
    assert_eq!(hello["name"], "How to: Say Hello");
    assert_eq!(hello["description"], "How to say hello in any language");
    assert_eq!(hello["audienceIds"], json!([AUDIENCE_1]));
    let added = &answers[&goodbye];
    assert_eq!(added["name"], "How to: Say Goodbye");
    assert_eq!(added["audienceIds"], json!([AUDIENCE_1, AUDIENCE_2]));
    let content = |id: &str, language: &str| {
        let c = &state["answerContents"][format!("{id}/{language}/public")];
        (
            c["title"].as_str().unwrap_or_default().to_owned(),
            c["bodyHtml"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(
        content(SAY_HELLO, "en-us"),
        ("Hello in English".into(), "<p>Hello World</p>".into())
    );
    assert_eq!(
        content(SAY_HELLO, "fr-ca"),
        ("Hello in French".into(), "<p>Bonjour</p>".into()),
        "`Fr-ca` is read as fr-ca"
    );
    assert_eq!(
        content(&goodbye, "fr-ca"),
        ("Goodbye in French".into(), "<p>Au Revoir</p>".into())
    );
    assert_eq!(
        content(&goodbye, "en-us"),
        ("Goodbye in English".into(), "<p>Goodbye</p>".into())
    );
    assert!(
        !answers.values().any(|a| a["name"] == "Gift Wrapping"),
        "the row with an unknown audience wrote nothing"
    );

    // Again, on a new ledger that runs every row: the same answers are updated, nothing
    // is duplicated.
    let (again, rows) = apply(&test, "add-and-update-answers", &["--replace"]);
    again.expect(
        3,
        &[
            "moved the earlier ledger aside to `jobs/results/add-and-update-answers.1.csv`",
            "row 5 (line 6): step `vars`: `VIP Customer` is not in lookup `audiences`",
        ],
    );
    assert_eq!(
        column(&rows, "outcome"),
        ["updated", "updated", "updated", "updated", "rejected"]
    );
    assert_eq!(unescape(&rows[2]["add.id"]), goodbye);
    assert_eq!(
        org.state()["answers"].as_object().unwrap().len(),
        before["answers"].as_object().unwrap().len() + 1
    );

    dry_run_sends_no_write(
        "add-and-update-answers",
        &["planned", "planned", "planned", "planned", "rejected"],
    );
}

#[test]
fn close_conversations_leaves_out_an_agent_who_is_no_longer_in_the_org() {
    // Ada's chat is assigned to Alice; this org no longer lists Alice (deactivated).
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("org.json");
    let mut state = Org::start(SandboxOptions::unlimited()).state();
    let alice = state["conversations"][ADA_CHAT]["agentId"]
        .as_str()
        .unwrap()
        .to_owned();
    state["agents"].as_object_mut().unwrap().remove(&alice);
    std::fs::write(&state_file, serde_json::to_string(&state).unwrap()).unwrap();
    let org = Org::start(SandboxOptions {
        state_file: Some(state_file),
        ..SandboxOptions::unlimited()
    });
    let test = org
        .env(Test::new())
        .copy("jobs/close-conversations.yaml")
        .file(
            "ids.csv",
            &format!("conversationId,topicId\n{ADA_CHAT},{BILLING_QUESTION}\n"),
        );
    let out = test.run_args(&[
        "apply",
        "jobs/close-conversations.yaml",
        "--input",
        "ids.csv",
        "--results",
        "out.csv",
        "--set",
        "force=true",
        "--yes",
    ]);
    out.expect(0, &[]);
    let rows = csv_maps(&test.read("out.csv"));
    assert_eq!(column(&rows, "outcome"), ["closed"]);
    assert_eq!(
        rows[0]["fetch.agentId"], alice,
        "the results say who had it"
    );
    let ada = &org.state()["conversations"][ADA_CHAT];
    assert_eq!(
        ada["status"], "CLOSED",
        "forced: the customer awaited a reply"
    );
    assert_eq!(ada["inboxId"], state["conversations"][ADA_CHAT]["inboxId"]);
    assert!(
        ada.get("agentId").is_none_or(Value::is_null),
        "closed in its inbox without the missing agent: {ada}"
    );
}
