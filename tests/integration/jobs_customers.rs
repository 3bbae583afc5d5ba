//! The shipped customer and task jobs (`jobs/update-customers.yaml`,
//! `jobs/delete-customers.yaml`, `jobs/create-tasks.yaml`, `jobs/close-tasks.yaml`), each
//! applied with its own sample input to a fresh in-process sandbox: the org's end state,
//! the results CSV row by row, and a dry run that sends no write.

use gladly_runner::sandbox::SandboxOptions;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::apply::{Org, unescape};
use crate::jobs::{apply, column, dry_run_sends_no_write, job};

/// The id of the customer having `email`.
fn customer_id(state: &Value, email: &str) -> String {
    state["customers"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| {
            c["emails"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["normalized"] == email)
        })
        .unwrap_or_else(|| panic!("no customer has {email}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The id of the item of `collection` whose `field` is `value` (inboxes by name, agents
/// by email).
fn id_where(state: &Value, collection: &str, field: &str, value: &str) -> String {
    state[collection]
        .as_object()
        .unwrap()
        .values()
        .find(|v| v[field] == value)
        .unwrap_or_else(|| panic!("no {collection} with {field} {value}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

/// The writes the org received, as (method, path), in arrival order.
fn writes(org: &Org) -> Vec<(String, String)> {
    org.log()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method, r.path))
        .collect()
}

#[test]
fn update_customers_sets_the_given_fields_of_the_customer_found_by_email() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state();
    let ada = customer_id(&before, "ada@example.com");
    let grace = customer_id(&before, "grace@example.com");
    let katherine = customer_id(&before, "katherine@example.com");
    let alan = customer_id(&before, "alan@example.com");
    let test = job(&org, "update-customers");
    let (out, rows) = apply(&test, "update-customers", &[]);
    assert_eq!(
        out.code(),
        3,
        "one row fails: {}{}",
        out.stdout(),
        out.stderr()
    );

    // End state: only the filled-in fields changed, and nobody was created.
    let after = org.state();
    let customers = &after["customers"];
    assert_eq!(customers[&ada]["name"], "Ada King, Countess of Lovelace");
    assert_eq!(
        customers[&ada]["address"], before["customers"][&ada]["address"],
        "a blank cell leaves the field as it is"
    );
    assert_eq!(
        customers[&ada]["customAttributes"],
        json!({"tier": "platinum"})
    );
    assert_eq!(
        customers[&ada]["emails"], before["customers"][&ada]["emails"],
        "emails are not touched"
    );
    assert_eq!(customers[&grace]["name"], "Grace Brewster Hopper");
    assert_eq!(customers[&grace]["address"], "1 Navy Yard, Arlington, VA");
    assert_eq!(customers[&katherine]["name"], "Katherine G. Johnson");
    assert_eq!(customers[&alan], before["customers"][&alan], "skipped row");
    assert_eq!(
        customers.as_object().unwrap().len(),
        before["customers"].as_object().unwrap().len()
    );
    let patched: Vec<String> = writes(&org)
        .into_iter()
        .map(|(m, p)| m + " " + &p)
        .collect();
    assert_eq!(
        patched.len(),
        3,
        "one PATCH per found customer: {patched:?}"
    );
    assert!(patched.iter().all(|w| w.starts_with("PATCH ")));

    // Results, row by row.
    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "done", "rejected", "skipped"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        [
            "updated",
            "updated",
            "updated",
            "not_found",
            "nothing_to_set"
        ]
    );
    assert_eq!(
        column(&rows, "find.id"),
        [ada.as_str(), &grace, &katherine, "", &alan]
    );
    assert_eq!(
        rows[0]["find.previous_name"], "Ada Lovelace",
        "the results keep what the update replaced"
    );
    assert_eq!(
        rows[0]["find.previous_address"],
        "12 Analytical Way, London"
    );
    assert_eq!(rows[3]["step"], "not_found");
    assert_eq!(
        rows[3]["detail"],
        "no customer has the email nobody@example.com"
    );
    assert_eq!(rows[4]["detail"], "the row fills in no field to change");
    assert!(
        out.stderr().contains(
            "row 4 (line 5): step `not_found`: no customer has the email nobody@example.com"
        ),
        "{}",
        out.stderr()
    );

    let plan = dry_run_sends_no_write(
        "update-customers",
        &["planned", "planned", "planned", "rejected", "skipped"],
    );
    let patch = plan.iter().find(|l| l["method"] == "PATCH").unwrap();
    assert_eq!(
        patch["body"],
        json!({"name": "Ada King, Countess of Lovelace", "customAttributes": {"tier": "platinum"}})
    );
}

#[test]
fn delete_customers_deletes_by_email_and_reports_gladlys_refusal() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state();
    let ada = customer_id(&before, "ada@example.com");
    let katherine = customer_id(&before, "katherine@example.com");
    let alan = customer_id(&before, "alan@example.com");
    let test = job(&org, "delete-customers");

    let refused = test.run_args(&["apply", "jobs/delete-customers.yaml"]);
    refused.expect(
        1,
        &["error: `delete-customers` is destructive and there is no terminal to confirm on"],
    );
    assert!(org.log().is_empty(), "nothing was sent without --yes");

    let (out, rows) = apply(&test, "delete-customers", &["--yes"]);
    out.expect(3, &["row 3 (line 4): step `delete`: Gladly refused: customer has an OPEN or WAITING conversation", "row 4 (line 5): step `not_found`: no customer has the email nobody@example.com"]);

    // End state: Katherine and Alan are gone with Alan's closed conversation and task;
    // Ada, whose chat is open, is still there.
    let after = org.state();
    let customers = after["customers"].as_object().unwrap();
    assert!(!customers.contains_key(&katherine));
    assert!(!customers.contains_key(&alan));
    assert_eq!(customers[&ada], before["customers"][&ada]);
    assert_eq!(
        customers.len(),
        before["customers"].as_object().unwrap().len() - 2
    );
    assert!(after["tasks"].get("Zi1sqGD2_Hg6VuX46CtgiA").is_none());
    assert!(
        after["conversations"]
            .as_object()
            .unwrap()
            .values()
            .all(|c| c["customerId"] != alan.as_str())
    );
    assert!(
        after["conversations"]
            .as_object()
            .unwrap()
            .values()
            .any(|c| c["customerId"] == ada.as_str() && c["status"] == "OPEN")
    );

    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "rejected", "rejected"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        ["deleted", "deleted", "open_conversation", "not_found"]
    );
    assert_eq!(
        column(&rows, "find.name"),
        ["Katherine Johnson", "Alan Turing", "Ada Lovelace", ""]
    );
    assert_eq!(
        rows[1]["find.id"], alan,
        "found whatever the case of the email"
    );
    assert_eq!(rows[2]["step"], "delete");
    assert_eq!(rows[2]["http_status"], "400");
    assert_eq!(rows[2]["error_code"], "invalid_state");
    assert_eq!(
        rows[2]["detail"],
        "Gladly refused: customer has an OPEN or WAITING conversation; close it before deleting the profile"
    );
    assert_eq!(
        rows[3]["detail"],
        "no customer has the email nobody@example.com"
    );
    let mut expected = vec![
        (
            "DELETE".to_owned(),
            format!("/api/v1/customer-profiles/{katherine}"),
        ),
        (
            "DELETE".to_owned(),
            format!("/api/v1/customer-profiles/{alan}"),
        ),
        (
            "DELETE".to_owned(),
            format!("/api/v1/customer-profiles/{ada}"),
        ),
    ];
    expected.sort();
    assert_eq!(
        sorted(writes(&org)),
        expected,
        "one DELETE per found customer"
    );

    // A dry run cannot know Gladly would refuse Ada: it plans her delete.
    dry_run_sends_no_write(
        "delete-customers",
        &["planned", "planned", "planned", "rejected"],
    );
}

#[test]
fn create_tasks_checks_inbox_agent_and_customer_before_writing() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state();
    let billing = id_where(&before, "inboxes", "name", "Billing");
    let returns = id_where(&before, "inboxes", "name", "Returns");
    let support = id_where(&before, "inboxes", "name", "Support");
    let alice = id_where(&before, "agents", "emailAddress", "alice@example.com");
    let bob = id_where(&before, "agents", "emailAddress", "bob@example.com");
    let test = job(&org, "create-tasks");
    let started = chrono::Utc::now();
    let (out, rows) = apply(&test, "create-tasks", &[]);
    out.expect(3, &["row 4 (line 5): step `vars`: `Biling` is not in lookup `inboxes` (did you mean `Billing`?)", "row 5 (line 6): step `vars`: `dave@exmaple.com` is not in lookup `agents` (did you mean `dave@example.com`?)", "row 6 (line 7): step `inbox_disabled`: inbox `Legacy` is disabled", "row 7 (line 8): step `customer_not_found`: no customer has the email new.customer@example.com"]);

    assert_eq!(
        column(&rows, "result"),
        [
            "done", "done", "done", "rejected", "rejected", "rejected", "rejected"
        ]
    );
    assert_eq!(
        column(&rows, "outcome"),
        [
            "created",
            "created",
            "created",
            "rejected",
            "rejected",
            "inbox_disabled",
            "customer_not_found"
        ]
    );
    assert_eq!(column(&rows, "error_code")[3..5], ["lookup", "lookup"]);
    assert_eq!(
        column(&rows, "step")[3..],
        ["vars", "vars", "inbox_disabled", "customer_not_found"]
    );
    assert_eq!(
        rows[3]["detail"],
        "`Biling` is not in lookup `inboxes` (did you mean `Billing`?)"
    );
    assert_eq!(
        rows[4]["detail"],
        "`dave@exmaple.com` is not in lookup `agents` (did you mean `dave@example.com`?)"
    );
    assert_eq!(
        rows[5]["detail"],
        "inbox `Legacy` is disabled; assign the task to an active inbox"
    );
    assert_eq!(
        rows[6]["detail"],
        "no customer has the email new.customer@example.com (run with `--set create_customers=yes` to create one with the task)"
    );

    // End state: exactly the three tasks, assigned as the rows say.
    let after = org.state();
    let tasks = after["tasks"].as_object().unwrap();
    assert_eq!(tasks.len(), before["tasks"].as_object().unwrap().len() + 3);
    let task = |row: usize| tasks[unescape(&rows[row]["create.id"])].clone();
    let expected = [
        (
            "ada@example.com",
            &billing,
            Some(&alice),
            "Send the corrected invoice for order #1001",
        ),
        (
            "grace@example.com",
            &returns,
            None,
            "Please initiate a return for order #2002",
        ),
        (
            "katherine@example.com",
            &support,
            Some(&bob),
            "Call back about the launch window",
        ),
    ];
    for (row, (email, inbox, agent, body)) in expected.iter().enumerate() {
        let t = task(row);
        assert_eq!(
            t["customerId"],
            customer_id(&after, email),
            "row {}",
            row + 1
        );
        assert_eq!(
            unescape(&rows[row]["find.customerId"]),
            customer_id(&after, email)
        );
        assert_eq!(t["assignee"]["inboxId"], inbox.as_str(), "row {}", row + 1);
        assert_eq!(
            t["assignee"]["agentId"],
            agent.map_or(Value::Null, |a| json!(a)),
            "row {}",
            row + 1
        );
        assert_eq!(t["body"], *body);
        assert_eq!(t["status"], "OPEN");
    }
    assert_eq!(
        task(2)["dueAt"],
        "2036-06-30T09:00:00.000Z",
        "a local date-time is read in the timezone param (UTC)"
    );
    let due = |row: usize| {
        chrono::DateTime::parse_from_rfc3339(task(row)["dueAt"].as_str().unwrap()).unwrap()
    };
    let days = |row: usize| (due(row).signed_duration_since(started)).num_minutes();
    assert!(
        (3 * 1440..3 * 1440 + 5).contains(&days(0)),
        "+3 is three days from now"
    );
    assert!((7 * 1440..7 * 1440 + 5).contains(&days(1)));
    assert_eq!(
        after["customers"].as_object().unwrap().len(),
        before["customers"].as_object().unwrap().len(),
        "no customer was created for the unknown email"
    );

    // The lookups failed their rows before any request: rows 4-6 sent nothing, row 7
    // only its find.
    let log = org.log();
    let posts = log.iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 3);
    let finds = log
        .iter()
        .filter(|r| r.path == "/api/v1/customer-profiles")
        .count();
    assert_eq!(finds, 4, "rows 1-3 and 7 looked their customer up");
    assert_eq!(
        log.iter().filter(|r| r.path == "/api/v1/inboxes").count(),
        1,
        "lookups are fetched once per run"
    );

    // Applying again, on a new ledger that runs every row, creates nothing: the stable
    // ids answer 409.
    let (again, rows) = apply(&test, "create-tasks", &["--replace"]);
    again.expect(
        3,
        &[
            "moved the earlier ledger aside to `jobs/results/create-tasks.1.csv`",
            "row ",
        ],
    );
    assert_eq!(rows.len(), 7);
    assert_eq!(
        column(&rows, "result")[..3],
        ["skipped", "skipped", "skipped"]
    );
    assert_eq!(
        column(&rows, "outcome")[..3],
        ["exists", "exists", "exists"]
    );
    assert_eq!(
        org.state()["tasks"].as_object().unwrap().len(),
        before["tasks"].as_object().unwrap().len() + 3
    );

    let plan = dry_run_sends_no_write(
        "create-tasks",
        &[
            "planned", "planned", "planned", "rejected", "rejected", "rejected", "rejected",
        ],
    );
    let create = plan.iter().find(|l| l["method"] == "POST").unwrap();
    assert_eq!(
        create["body"]["assignee"],
        json!({"inboxId": billing, "agentId": alice}),
        "the plan shows the real ids the lookups found"
    );
}

#[test]
fn close_tasks_keeps_the_assignee_and_skips_closed_tasks() {
    let org = Org::start(SandboxOptions::unlimited());
    let before = org.state();
    let test = job(&org, "close-tasks");
    let (out, rows) = apply(&test, "close-tasks", &["--yes"]);
    out.expect(
        3,
        &["row 4 (line 5): step `fetch`: task [no-such-task] does not exist"],
    );

    let after = org.state();
    for id in ["csf8NxKTpSa4BDQ55LTcCg", "h8eHk1VNhklB6UNdPcxzrQ"] {
        assert_eq!(before["tasks"][id]["status"], "OPEN");
        assert_eq!(after["tasks"][id]["status"], "CLOSED", "{id}");
        assert_eq!(
            after["tasks"][id]["assignee"], before["tasks"][id]["assignee"],
            "{id} keeps its inbox and agent"
        );
    }
    assert_eq!(
        after["tasks"]["Zi1sqGD2_Hg6VuX46CtgiA"],
        before["tasks"]["Zi1sqGD2_Hg6VuX46CtgiA"]
    );
    assert_eq!(
        sorted(writes(&org)),
        [
            (
                "PATCH".to_owned(),
                "/api/v1/tasks/csf8NxKTpSa4BDQ55LTcCg".to_owned()
            ),
            (
                "PATCH".to_owned(),
                "/api/v1/tasks/h8eHk1VNhklB6UNdPcxzrQ".to_owned()
            ),
        ],
        "nothing is sent to close a closed task"
    );

    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "skipped", "rejected"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        ["closed", "closed", "already_closed", "not_found"]
    );
    assert_eq!(rows[2]["detail"], "the task was already closed");
    assert_eq!(rows[2]["fetch.status"], "CLOSED");
    assert_eq!(rows[3]["step"], "fetch");
    assert_eq!(rows[3]["http_status"], "404");
    assert_eq!(rows[3]["error_code"], "not_exist");
    assert_eq!(rows[3]["detail"], "task [no-such-task] does not exist");
    assert_eq!(
        rows[0]["fetch.agentId"],
        before["tasks"]["csf8NxKTpSa4BDQ55LTcCg"]["assignee"]["agentId"]
    );

    let plan = dry_run_sends_no_write(
        "close-tasks",
        &["planned", "planned", "skipped", "rejected"],
    );
    let closes: Vec<&Value> = plan.iter().filter(|l| l["method"] == "PATCH").collect();
    assert_eq!(closes.len(), 2);
    assert_eq!(
        closes[0]["body"],
        json!({"status": "CLOSED", "assignee": before["tasks"]["csf8NxKTpSa4BDQ55LTcCg"]["assignee"]}),
        "the close sends the assignee it read"
    );
}
