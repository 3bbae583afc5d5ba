//! The shipped read-side jobs (`jobs/export-contacts.yaml`, `jobs/export-file.yaml`,
//! `jobs/export-events.yaml`, `jobs/report-work-sessions.yaml`,
//! `jobs/report-daily-counts.yaml`), each applied with the built binary to a fresh
//! in-process sandbox whose clock is pinned at `2026-11-20T18:00:00Z`, so the default org's
//! records have exact timestamps: the files they write are compared byte for byte. Each
//! job also runs out of the box (`runner apply jobs/NAME.yaml --sandbox`, no params).
//! Ids are the default org's (seed 1).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Los_Angeles;
use gladly_runner::sandbox::SandboxOptions;
use pretty_assertions::assert_eq;

use crate::apply::{Org, csv_maps};
use crate::harness::{Outcome, Test, unindent};
use crate::jobs::{Rows, apply, column, job};
use crate::sandbox::id;

/// The instant the sandbox lives at: the org's working day is 2026-11-19 in
/// `America/Los_Angeles`.
const CLOCK: &str = "2026-11-20T18:00:00Z";

/// The results CSV of a job without steps when every record converted.
const NO_FAILURES: &str = "row,line,result,outcome,step,http_status,attempts,duration_ms,error_code,detail,row_key,row_fingerprint\n";

// Customers.
const ADA: &str = "GfkFIKfgRoQ85jUsrlJqIQ";
const GRACE: &str = "ZRQoB0miyahP2BH9iF8YaQ";
const ALAN: &str = "sOLfzwZmW1UJfUhFw7BYpA";
const MARGARET: &str = "WxFPTbRSONUKO118j0zSKQ";
// Agents.
const ALICE: &str = "KM6NJzfhj5Mq1EcH0__P5Q";
const BOB: &str = "FAYlGDBzA6WeEqyaqWGSdA";
const CAROL: &str = "lpqRLpW1NPW8D9IelzKWgw";
// Inboxes.
const BILLING: &str = "3qbOy2HIHsROeHD3dk7N2g";
const SUPPORT: &str = "w8nXqej9YUXh4aOq-RsA_g";
// Conversations.
const ALAN_CALL: &str = "mN3aZHr6KrzF9lYDg9YmXQ";
const ADA_EMAIL: &str = "tqbdfxQ1OaQ5Za89NoOCdw";
const ADA_CALL: &str = "Ua2HMJZk3nwP34Y_0IF5NA";
// Export jobs.
const COMPLETED_JOB: &str = "DVBSVQyTgubn6LcY2cUP_g";
const FAILED_JOB: &str = "t0XJoBYUwHLnaAQxLV1JFA";

/// A fresh sandbox living at [`CLOCK`].
fn pinned() -> Org {
    Org::start(SandboxOptions {
        clock: Some(CLOCK.parse().unwrap()),
        ..SandboxOptions::unlimited()
    })
}

/// A test folder holding only `jobs/NAME.yaml` (the job has no input file), pointed at `org`.
fn job_alone(org: &Org, name: &str) -> Test {
    org.env(Test::new()).copy(&format!("jobs/{name}.yaml"))
}

/// Applies a job without an input file to a fresh pinned sandbox; the run, its results
/// and the folder (to read what it wrote).
fn run(name: &str, extra: &[&str]) -> (Outcome, Rows, Test) {
    let org = pinned();
    let test = job_alone(&org, name);
    let (out, rows) = apply(&test, name, extra);
    (out, rows, test)
}

/// Applies a job without an input file to a fresh pinned sandbox, expecting its input
/// request to fail before any row: the run and its folder (no results CSV is written).
fn run_refused(name: &str, extra: &[&str]) -> (Outcome, Test) {
    let org = pinned();
    let test = job_alone(&org, name);
    let mut args = vec!["apply".to_owned(), format!("jobs/{name}.yaml")];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let out = test.run_args(&args);
    out.expect(5, &["error: "]);
    assert!(!test.dir().join("jobs/exports").exists(), "nothing written");
    (out, test)
}

/// Runs the job as shipped, with no param, against the runner's own in-process sandbox
/// (a fresh org dated from the real clock). Also returns yesterday's date in Los Angeles
/// as read before and after the run (they differ only when the run straddles midnight).
fn out_of_the_box(name: &str, with_data: bool) -> (Outcome, Test, [NaiveDate; 2]) {
    let mut test = Test::new().copy(&format!("jobs/{name}.yaml"));
    if with_data {
        test = test.copy(&format!("jobs/data/{name}.csv"));
    }
    let before = yesterday_in_los_angeles();
    let out = test.run_args(&["apply", &format!("jobs/{name}.yaml"), "--sandbox"]);
    let after = yesterday_in_los_angeles();
    out.expect(0, &["sandbox: started in-process"]);
    (out, test, [before, after])
}

#[track_caller]
fn succeeded(out: &Outcome) {
    out.expect(0, &[]);
}

/// Yesterday's date in Los Angeles, the jobs' default day.
fn yesterday_in_los_angeles() -> NaiveDate {
    Utc::now().with_timezone(&Los_Angeles).date_naive() - Duration::days(1)
}

/// Midnight starting `day` in Los Angeles.
fn midnight_in_los_angeles(day: NaiveDate) -> DateTime<Utc> {
    Los_Angeles
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn the_ids_named_here_are_the_default_orgs() {
    for (constant, label) in [
        (ADA, "customer:ada"),
        (GRACE, "customer:grace"),
        (ALAN, "customer:alan"),
        (MARGARET, "customer:margaret"),
        (ALICE, "agent:alice"),
        (BOB, "agent:bob"),
        (CAROL, "agent:carol"),
        (BILLING, "inbox:Billing"),
        (SUPPORT, "inbox:Support"),
        (ALAN_CALL, "conversation:alan-call"),
        (ADA_EMAIL, "conversation:ada-email"),
        (ADA_CALL, "conversation:ada-call"),
        (COMPLETED_JOB, "export-job:completed"),
        (FAILED_JOB, "export-job:failed"),
    ] {
        assert_eq!(constant, id(label), "{label}");
    }
}

// ---------------------------------------------------------------- export-contacts

/// The Contact Export report's columns as Gladly documents them (the documented part of
/// the list), after the job's two filter columns.
const CONTACTS_HEADER: &str = "Timezone Filter,Inboxes Filter,Queued At,Customer ID,Conversation ID,Contact ID,Link,Channel,Direction,Contact Initiator,Entry Point,Final IVR Selection\n";

/// A report as written, with the sandbox's address in its links (a port chosen per run)
/// written `GLADLY`.
fn with_stable_links(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("http://127.0.0.1:") {
        out.push_str(&rest[..at]);
        out.push_str("GLADLY");
        let tail = &rest[at + "http://127.0.0.1:".len()..];
        rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

#[test]
fn export_contacts_writes_every_column_of_the_days_contact_report_after_the_time_zone() {
    let (out, rows, test) = run("export-contacts", &["--set", "from=2026-11-19"]);
    succeeded(&out);
    assert!(out.stdout().contains("ran 5 rows"), "{}", out.stdout());
    assert_eq!(
        with_stable_links(&test.read("jobs/exports/ContactExportReportV3.csv")),
        CONTACTS_HEADER.to_owned()
            + "America/Los_Angeles,All,2026-11-19T22:30:00.000Z,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,4w1_f-dXv2-FzaV3xUQ3ow,GLADLY/customer/sOLfzwZmW1UJfUhFw7BYpA/conversation/mN3aZHr6KrzF9lYDg9YmXQ,PHONE_CALL,INBOUND,Customer,,\n"
            + "America/Los_Angeles,All,2026-11-19T22:50:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,P_SyHvp9YAUVXAF4YCLC0g,GLADLY/customer/GfkFIKfgRoQ85jUsrlJqIQ/conversation/tqbdfxQ1OaQ5Za89NoOCdw,EMAIL,INBOUND,Customer,,\n"
            + "America/Los_Angeles,All,2026-11-19T23:00:00.000Z,ZRQoB0miyahP2BH9iF8YaQ,ozx1SrfuNn7ub1w0oE7ZIA,YvNj46W7MAWv2vJkxZiZfw,GLADLY/customer/ZRQoB0miyahP2BH9iF8YaQ/conversation/ozx1SrfuNn7ub1w0oE7ZIA,PHONE_CALL,OUTBOUND,Agent,,\n"
            + "America/Los_Angeles,All,2026-11-19T23:30:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,Ua2HMJZk3nwP34Y_0IF5NA,xxdLoDOXfrHAQIMPTnUAdw,GLADLY/customer/GfkFIKfgRoQ85jUsrlJqIQ/conversation/Ua2HMJZk3nwP34Y_0IF5NA,PHONE_CALL,OUTBOUND,Agent,,\n"
            + "America/Los_Angeles,All,2026-11-20T00:00:00.000Z,WxFPTbRSONUKO118j0zSKQ,pT0_Y67QfkrNABZHz62uYw,9DhYPpIfdF8q5pIpsXOwkQ,GLADLY/customer/WxFPTbRSONUKO118j0zSKQ/conversation/pT0_Y67QfkrNABZHz62uYw,PHONE_CALL,OUTBOUND,Agent,,\n"
    );
    assert!(
        rows.is_empty(),
        "an export records only failures: {rows:#?}"
    );
    assert_eq!(test.read("jobs/results/export-contacts.csv"), NO_FAILURES);
}

#[test]
fn export_contacts_reads_the_days_in_the_time_zone_and_keeps_only_the_inboxes_given() {
    // In Tokyo, 2026-11-20 is 2026-11-19T15:00Z to 2026-11-20T15:00Z: the three contacts
    // of the Los Angeles day and Margaret's SMS; Billing keeps Ada's email and call and
    // Alice's call to Grace.
    let (out, _, test) = run(
        "export-contacts",
        &[
            "--set",
            "from=2026-11-20",
            "--set",
            "timezone=Asia/Tokyo",
            "--set",
            &format!("inboxes= {BILLING} "),
        ],
    );
    succeeded(&out);
    assert_eq!(
        with_stable_links(&test.read("jobs/exports/ContactExportReportV3.csv")),
        CONTACTS_HEADER.to_owned()
            + "Asia/Tokyo,3qbOy2HIHsROeHD3dk7N2g,2026-11-19T22:50:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,P_SyHvp9YAUVXAF4YCLC0g,GLADLY/customer/GfkFIKfgRoQ85jUsrlJqIQ/conversation/tqbdfxQ1OaQ5Za89NoOCdw,EMAIL,INBOUND,Customer,,\n"
            + "Asia/Tokyo,3qbOy2HIHsROeHD3dk7N2g,2026-11-19T23:00:00.000Z,ZRQoB0miyahP2BH9iF8YaQ,ozx1SrfuNn7ub1w0oE7ZIA,YvNj46W7MAWv2vJkxZiZfw,GLADLY/customer/ZRQoB0miyahP2BH9iF8YaQ/conversation/ozx1SrfuNn7ub1w0oE7ZIA,PHONE_CALL,OUTBOUND,Agent,,\n"
            + "Asia/Tokyo,3qbOy2HIHsROeHD3dk7N2g,2026-11-19T23:30:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,Ua2HMJZk3nwP34Y_0IF5NA,xxdLoDOXfrHAQIMPTnUAdw,GLADLY/customer/GfkFIKfgRoQ85jUsrlJqIQ/conversation/Ua2HMJZk3nwP34Y_0IF5NA,PHONE_CALL,OUTBOUND,Agent,,\n"
    );
}

#[test]
fn export_contacts_writes_the_conversation_report_of_a_range_under_its_own_name() {
    let (out, _, test) = run(
        "export-contacts",
        &[
            "--set",
            "from=2026-11-17",
            "--set",
            "to=2026-11-19",
            "--set",
            "metricSet=ConversationExportReport",
        ],
    );
    succeeded(&out);
    assert_eq!(
        with_stable_links(&test.read("jobs/exports/ConversationExportReport.csv")),
        // Gladly's documented columns; the sandbox does not fill the `- Created` ones.
        unindent(
            "
            Timezone Filter,Inboxes Filter,Created At,Conversation ID,Customer ID,Conversation Link,Status,Assigned Agent ID - Current,Assigned Agent Name - Current,Inbox ID - Current,Inbox Name - Current,First Closed At,Last Closed At,Initiator Type - Created,Initiator Agent ID - Created,Initiator Agent Name - Created,Inbox ID - Created,Inbox Name - Created
            America/Los_Angeles,All,2026-11-17T18:00:00.000Z,YibKFjUmJaYNx3UfPOAFQg,ZRQoB0miyahP2BH9iF8YaQ,GLADLY/customer/ZRQoB0miyahP2BH9iF8YaQ/conversation/YibKFjUmJaYNx3UfPOAFQg,OPEN,lpqRLpW1NPW8D9IelzKWgw,Carol Chen,3qbOy2HIHsROeHD3dk7N2g,Billing,,,,,,,
            America/Los_Angeles,All,2026-11-19T22:30:00.000Z,mN3aZHr6KrzF9lYDg9YmXQ,sOLfzwZmW1UJfUhFw7BYpA,GLADLY/customer/sOLfzwZmW1UJfUhFw7BYpA/conversation/mN3aZHr6KrzF9lYDg9YmXQ,CLOSED,FAYlGDBzA6WeEqyaqWGSdA,Bob Baker,w8nXqej9YUXh4aOq-RsA_g,Support,2026-11-19T23:00:00.000Z,2026-11-19T23:00:00.000Z,,,,,
            America/Los_Angeles,All,2026-11-19T22:50:00.000Z,tqbdfxQ1OaQ5Za89NoOCdw,GfkFIKfgRoQ85jUsrlJqIQ,GLADLY/customer/GfkFIKfgRoQ85jUsrlJqIQ/conversation/tqbdfxQ1OaQ5Za89NoOCdw,CLOSED,KM6NJzfhj5Mq1EcH0__P5Q,Alice Anders,3qbOy2HIHsROeHD3dk7N2g,Billing,2026-11-19T23:20:00.000Z,2026-11-19T23:20:00.000Z,,,,,
            America/Los_Angeles,All,2026-11-19T23:00:00.000Z,ozx1SrfuNn7ub1w0oE7ZIA,ZRQoB0miyahP2BH9iF8YaQ,GLADLY/customer/ZRQoB0miyahP2BH9iF8YaQ/conversation/ozx1SrfuNn7ub1w0oE7ZIA,CLOSED,KM6NJzfhj5Mq1EcH0__P5Q,Alice Anders,3qbOy2HIHsROeHD3dk7N2g,Billing,2026-11-19T23:30:00.000Z,2026-11-19T23:30:00.000Z,,,,,
            America/Los_Angeles,All,2026-11-19T23:30:00.000Z,Ua2HMJZk3nwP34Y_0IF5NA,GfkFIKfgRoQ85jUsrlJqIQ,GLADLY/customer/GfkFIKfgRoQ85jUsrlJqIQ/conversation/Ua2HMJZk3nwP34Y_0IF5NA,CLOSED,KM6NJzfhj5Mq1EcH0__P5Q,Alice Anders,3qbOy2HIHsROeHD3dk7N2g,Billing,2026-11-20T00:00:00.000Z,2026-11-20T00:00:00.000Z,,,,,
            America/Los_Angeles,All,2026-11-20T00:00:00.000Z,pT0_Y67QfkrNABZHz62uYw,WxFPTbRSONUKO118j0zSKQ,GLADLY/customer/WxFPTbRSONUKO118j0zSKQ/conversation/pT0_Y67QfkrNABZHz62uYw,CLOSED,lpqRLpW1NPW8D9IelzKWgw,Carol Chen,Tw9stYZXlgKj29uKZknNaA,Returns,2026-11-20T00:30:00.000Z,2026-11-20T00:30:00.000Z,,,,,
            "
        )
    );
    assert!(
        !test
            .dir()
            .join("jobs/exports/ContactExportReportV3.csv")
            .exists(),
        "one report, one file"
    );
}

#[test]
fn export_contacts_fails_clearly_on_a_day_gladly_refuses() {
    let (out, _) = run_refused("export-contacts", &["--set", "from=19/11/2026"]);
    assert!(
        out.stderr().contains(
            "POST /api/v1/reports answered 400: startAt: [19/11/2026] must be a YYYY-mm-dd date"
        ),
        "{}",
        out.stderr()
    );
}

#[test]
fn export_contacts_runs_out_of_the_box_for_yesterday() {
    let (out, test, yesterday) = out_of_the_box("export-contacts", false);
    let text = test.read("jobs/exports/ContactExportReportV3.csv");
    assert!(text.starts_with(CONTACTS_HEADER), "{text}");
    // The default org's contacts are spread over the hours before now; whatever fell
    // yesterday is there, each created that day in Los Angeles.
    for row in csv_maps(&text) {
        let created: DateTime<Utc> = row["Queued At"].parse().unwrap();
        let day = created.with_timezone(&Los_Angeles).date_naive();
        assert!(yesterday.contains(&day), "{row:?}\n{}", out.stdout());
    }
}

// ---------------------------------------------------------------- export-file

const ITEMS_HEADER: &str = "id,customerId,conversationId,timestamp,initiator.id,initiator.type,responder.id,responder.type,content.type,content.messageType,content.sessionId,content.content,content.attachments,content.messageData,content.status,content.title,content.body,content.activityType,content.sourceName,content.link.url,content.link.text,content.expandByDefault,content.occurredAt,content.receivedAt,content.from,content.to,content.cc,content.bcc,content.subject,content.pageId,content.userId,content.startedAt,content.answeredAt,content.completedAt,content.recordingStatus,content.recordingUrl,content.recordingDuration,content.recordingSummary.status,content.recordingSummary.summary,content.recordingSummary.language,content.addedTopicIds,content.removedTopicIds\n";

/// The completed export job's conversation items as export-file writes them, oldest
/// first, each under a name.
const ITEMS: [(&str, &str); 22] = [
    (
        "grace-email-0",
        r#"-H7VI2LgvTujSHsAtK16QA,ZRQoB0miyahP2BH9iF8YaQ,YibKFjUmJaYNx3UfPOAFQg,2026-11-17T18:00:00.000Z,ZRQoB0miyahP2BH9iF8YaQ,CUSTOMER,,,EMAIL,,,I was charged twice for order #2002.,"[{""id"":""M1-o1YFoqcDYtGGam5RjkA"",""contentType"":""application/pdf"",""filename"":""invoice-2002.pdf"",""fileSize"":1234}]",,,,,,,,,,,,grace@example.com,billing@acme.example,,,Double charge,,,,,,,,,,,,,"#,
    ),
    (
        "grace-email-1",
        "jDJFG3yOZw-var4Le3UGww,ZRQoB0miyahP2BH9iF8YaQ,YibKFjUmJaYNx3UfPOAFQg,2026-11-17T19:30:00.000Z,lpqRLpW1NPW8D9IelzKWgw,AGENT,,,EMAIL,,,We refunded the duplicate charge.,,,,,,,,,,,,,billing@acme.example,grace@example.com,,,Re: Double charge,,,,,,,,,,,,,",
    ),
    (
        "alan-call",
        "qLtrdkwSjP_W5OjOAUFQwQ,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,2026-11-19T22:30:00.000Z,sOLfzwZmW1UJfUhFw7BYpA,CUSTOMER,,,PHONE_CALL,,,,,,,,,,,,,,,,+14155550103,+18005550000,,,,,,2026-11-19T22:30:00.000Z,2026-11-19T22:32:00.000Z,2026-11-19T22:40:00.000Z,AVAILABLE,/api/v1/conversation-items/qLtrdkwSjP_W5OjOAUFQwQ/media/recording,245,READY,Customer asked where the parcel is.,en-us,,",
    ),
    (
        "alan-note",
        "AD5W0T8JGjH7ER0hRbrC-A,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,2026-11-19T22:41:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,,,CONVERSATION_NOTE,,,,,,,,Carrier confirmed a two-day delay.,,,,,,,,,,,,,,,,,,,,,,,,,",
    ),
    (
        "alan-topic",
        "_Jb9gnPaiR-41KUYuzOxAA,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,2026-11-19T22:42:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,,,TOPIC_CHANGE,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,P60bRGpVkaD_J7EIAD_xWA,",
    ),
    (
        "ada-email-0",
        "jB17VK5VbjM5owMBieP3dw,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,2026-11-19T22:50:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,CUSTOMER,,,EMAIL,,,Could you send me a copy of invoice #3003? Please copy my work address.,,,,,,,,,,,,,ada@example.com,billing@acme.example,ada.l@work.example,,Copy of invoice #3003,,,,,,,,,,,,,",
    ),
    (
        "grace-call",
        "BLlp6h3qqz9lzqCqaxss3g,ZRQoB0miyahP2BH9iF8YaQ,ozx1SrfuNn7ub1w0oE7ZIA,2026-11-19T23:00:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,ZRQoB0miyahP2BH9iF8YaQ,CUSTOMER,PHONE_CALL,,,,,,,,,,,,,,,,+18005550000,+14155550102,,,,,,2026-11-19T23:00:00.000Z,2026-11-19T23:00:15.000Z,2026-11-19T23:10:00.000Z,,,,,,,,",
    ),
    (
        "ada-email-1",
        "Q2EBhD_8GPLBs33RTKENkA,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,2026-11-19T23:00:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,EMAIL,,,Here is the copy of invoice #3003.,,,,,,,,,,,,,billing@acme.example,ada@example.com,ada.l@work.example,records@acme.example,Re: Copy of invoice #3003,,,,,,,,,,,,,",
    ),
    (
        "alan-closed",
        "nQx7KiAWDTq3IztEMJHU6Q,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,2026-11-19T23:00:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,,,CONVERSATION_STATUS_CHANGE,,,,,,CLOSED,,,,,,,,,,,,,,,,,,,,,,,,,,,",
    ),
    (
        "ada-email-topic-added",
        "PSjsAZ_oXG-mA9Amropzfw,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,2026-11-19T23:02:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,TOPIC_CHANGE,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,il-84BpCOYp_w7nEM7haNw,",
    ),
    (
        "ada-email-topic-swapped",
        "S2ua_TQ_Zn4M5YbLyB3A4w,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,2026-11-19T23:04:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,TOPIC_CHANGE,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,dUo8JV_itXdUV-VGO3o_Ig,il-84BpCOYp_w7nEM7haNw",
    ),
    (
        "ada-email-closed",
        "mvXP8_8bv0fH0kbW5NS7tA,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,2026-11-19T23:20:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,CONVERSATION_STATUS_CHANGE,,,,,,CLOSED,,,,,,,,,,,,,,,,,,,,,,,,,,,",
    ),
    (
        "ada-call",
        "H1TcZiZwlGdj9WIbkXAMJQ,GfkFIKfgRoQ85jUsrlJqIQ,Ua2HMJZk3nwP34Y_0IF5NA,2026-11-19T23:30:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,GfkFIKfgRoQ85jUsrlJqIQ,CUSTOMER,PHONE_CALL,,,,,,,,,,,,,,,,+18005550000,+14155550101,,,,,,2026-11-19T23:30:00.000Z,2026-11-19T23:30:12.000Z,2026-11-19T23:40:00.000Z,AVAILABLE,/api/v1/conversation-items/H1TcZiZwlGdj9WIbkXAMJQ/media/recording,588,READY,Agent confirmed invoice #3003 was resent.,en-us,,",
    ),
    (
        "grace-call-closed",
        "IkkdpKgkaJlpIJjlhj_zLw,ZRQoB0miyahP2BH9iF8YaQ,ozx1SrfuNn7ub1w0oE7ZIA,2026-11-19T23:30:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,CONVERSATION_STATUS_CHANGE,,,,,,CLOSED,,,,,,,,,,,,,,,,,,,,,,,,,,,",
    ),
    (
        "margaret-call",
        "cKTQZJDowddp928AUW7t8Q,WxFPTbRSONUKO118j0zSKQ,pT0_Y67QfkrNABZHz62uYw,2026-11-20T00:00:00.000Z,lpqRLpW1NPW8D9IelzKWgw,AGENT,WxFPTbRSONUKO118j0zSKQ,CUSTOMER,PHONE_CALL,,,,,,,,,,,,,,,,+18005550000,+14155550105,,,,,,2026-11-20T00:00:00.000Z,2026-11-20T00:00:15.000Z,2026-11-20T00:10:00.000Z,,,,,,,,",
    ),
    (
        "ada-call-closed",
        "pOKV0_iYUFJvPbH7jfb8rw,GfkFIKfgRoQ85jUsrlJqIQ,Ua2HMJZk3nwP34Y_0IF5NA,2026-11-20T00:00:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,CONVERSATION_STATUS_CHANGE,,,,,,CLOSED,,,,,,,,,,,,,,,,,,,,,,,,,,,",
    ),
    (
        "margaret-call-closed",
        "6N7qaEVCzJWCcJQD7YodYw,WxFPTbRSONUKO118j0zSKQ,pT0_Y67QfkrNABZHz62uYw,2026-11-20T00:30:00.000Z,lpqRLpW1NPW8D9IelzKWgw,AGENT,,,CONVERSATION_STATUS_CHANGE,,,,,,CLOSED,,,,,,,,,,,,,,,,,,,,,,,,,,,",
    ),
    (
        "margaret-sms-0",
        "OFf1mLJCUMxYtbDbysAqsw,WxFPTbRSONUKO118j0zSKQ,QBo0J46x54E_aAN2fZhGlQ,2026-11-20T13:00:00.000Z,WxFPTbRSONUKO118j0zSKQ,CUSTOMER,,,SMS,,,These shoes are too small,,,,,,,,,,,,,+14155550105,+18005550000,,,,,,,,,,,,,,,,",
    ),
    (
        "margaret-sms-1",
        "cNUx5a69nNCc8oF36ZwJEg,WxFPTbRSONUKO118j0zSKQ,QBo0J46x54E_aAN2fZhGlQ,2026-11-20T13:10:00.000Z,cP8blU9RS0PIFu-lNxUkZQ,AGENT,,,SMS,,,A return label is on its way,,,,,,,,,,,,,+18005550000,+14155550105,,,,,,,,,,,,,,,,",
    ),
    (
        "ada-chat-0",
        r#"wCWadfchNKnJv2D_g7RpWg,GfkFIKfgRoQ85jUsrlJqIQ,V8TlCIVeq4s5AfdeWfQ8RQ,2026-11-20T16:00:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,CUSTOMER,,,CHAT_MESSAGE,TEXT,8Pj5i2GeLj2Rb-WFuH1iCw,"Hi, my invoice looks wrong",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"#,
    ),
    (
        "ada-chat-1",
        "BfrgAFSVDJeiZCU6vo-ZhA,GfkFIKfgRoQ85jUsrlJqIQ,V8TlCIVeq4s5AfdeWfQ8RQ,2026-11-20T16:10:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,CHAT_MESSAGE,TEXT,8Pj5i2GeLj2Rb-WFuH1iCw,Let me check that for you,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
    ),
    (
        "ada-chat-2",
        "b_uaaH7IL2ls2Vim1MxzWg,GfkFIKfgRoQ85jUsrlJqIQ,V8TlCIVeq4s5AfdeWfQ8RQ,2026-11-20T17:00:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,CUSTOMER,,,CHAT_MESSAGE,TEXT,8Pj5i2GeLj2Rb-WFuH1iCw,Any news?,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
    ),
];

/// The conversation-items CSV holding the named items, in file order.
fn items(names: &[&str]) -> String {
    for name in names {
        assert!(ITEMS.iter().any(|(n, _)| n == name), "no item named {name}");
    }
    let mut out = ITEMS_HEADER.to_owned();
    for (name, line) in ITEMS {
        if names.contains(&name) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every item name, in file order.
fn all_items() -> Vec<&'static str> {
    ITEMS.iter().map(|(name, _)| *name).collect()
}

/// Every item of one conversation (named by its items' prefix).
fn items_of(prefix: &str) -> Vec<&'static str> {
    all_items()
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// Runs export-file with `sets` (each `NAME=VALUE`) on a fresh pinned sandbox and returns
/// the conversation-items CSV it wrote.
fn export_items(sets: &[&str]) -> String {
    let mut args = Vec::new();
    for set in sets {
        args.extend(["--set", *set]);
    }
    let (out, _, test) = run("export-file", &args);
    succeeded(&out);
    assert_eq!(test.read("jobs/results/export-file.csv"), NO_FAILURES);
    test.read("jobs/exports/export-conversation_items.csv")
}

#[test]
fn export_file_converts_the_latest_completed_jobs_conversation_items() {
    let org = pinned();
    let test = job_alone(&org, "export-file");
    let (out, rows) = apply(&test, "export-file", &[]);
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/export-conversation_items.csv"),
        items(&all_items())
    );
    assert!(rows.is_empty(), "{rows:#?}");
    // `latest` is the completed job: not the newer one in progress, nor the failed one.
    let files: Vec<String> = org
        .log()
        .into_iter()
        .filter(|r| r.path.contains("/files/"))
        .map(|r| r.path)
        .collect();
    // Without filters the customers and topics files are not needed, so not read.
    assert_eq!(
        files,
        [format!(
            "/api/v1/export/jobs/{COMPLETED_JOB}/files/conversation_items.jsonl"
        )]
    );
}

#[test]
fn export_file_converts_a_named_job() {
    assert_eq!(
        export_items(&[&format!("job={COMPLETED_JOB}")]),
        items(&all_items())
    );
}

#[test]
fn export_file_converts_the_customers_agents_and_topics_files() {
    let (out, _, test) = run("export-file", &["--set", "file=customers"]);
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/export-customers.csv"),
        unindent(
            r#"
            id,name,address,emailAddresses,phoneNumbers,externalCustomerId,externalCustomerIds
            GfkFIKfgRoQ85jUsrlJqIQ,Ada Lovelace,"12 Analytical Way, London","ada@example.com,ada.l@work.example",+14155550101,,{}
            WxFPTbRSONUKO118j0zSKQ,Margaret Hamilton,,margaret@example.com,+14155550105,,{}
            ZRQoB0miyahP2BH9iF8YaQ,Grace Hopper,,grace@example.com,+14155550102,,{}
            sMcVHySsuSR2qdLQFY-fPQ,Katherine Johnson,,katherine@example.com,,EXT-1001,{}
            sOLfzwZmW1UJfUhFw7BYpA,Alan Turing,,alan@example.com,+14155550103,,{}
            "#
        )
    );
    assert!(
        !test
            .dir()
            .join("jobs/exports/export-conversation_items.csv")
            .exists(),
        "only the chosen file's CSV is written"
    );

    let (out, _, test) = run("export-file", &["--set", "file=agents"]);
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/export-agents.csv"),
        unindent(
            "
            id,name,emailAddress
            FAYlGDBzA6WeEqyaqWGSdA,Bob Baker,bob@example.com
            KM6NJzfhj5Mq1EcH0__P5Q,Alice Anders,alice@example.com
            cP8blU9RS0PIFu-lNxUkZQ,Dave Diaz,dave@example.com
            diu8RdhU5hfGC5Pi72wrDA,API User,api@example.com
            lpqRLpW1NPW8D9IelzKWgw,Carol Chen,carol@example.com
            "
        )
    );

    let (out, _, test) = run(
        "export-file",
        &[
            "--set",
            "file=topics",
            "--set",
            &format!("job={COMPLETED_JOB}"),
        ],
    );
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/export-topics.csv"),
        unindent(
            "
            id,name,disabled,parentId
            E2h6l_l0jAKHr3uYNuIBRQ,Wrong Size,false,RkmZzoOoe3b7VgFvhb3tlQ
            P60bRGpVkaD_J7EIAD_xWA,Late Delivery,false,il-84BpCOYp_w7nEM7haNw
            RkmZzoOoe3b7VgFvhb3tlQ,Returns,false,payi5Q-i_If4VCdMJw8zRw
            dUo8JV_itXdUV-VGO3o_Ig,Billing Question,false,payi5Q-i_If4VCdMJw8zRw
            il-84BpCOYp_w7nEM7haNw,Shipping,false,payi5Q-i_If4VCdMJw8zRw
            payi5Q-i_If4VCdMJw8zRw,Contact Reason,false,
            rmgC0B8MvPi4h6f9dc0u0g,Loyalty Program (ARCHIVED),true,
            uAWr_tsAGOjsGPXQfQe_pw,VIP,false,
            "
        )
    );
}

#[test]
fn export_file_contact_filter_matches_an_exact_email_in_any_case_through_the_customer() {
    // ada.l@work.example is Ada's second address: every item of her conversations is kept,
    // whoever wrote it, though only two name the address in cc.
    let mut ada = items_of("ada-");
    ada.sort_unstable();
    let kept = export_items(&["contact=Ada.L@WORK.example"]);
    assert_eq!(kept, items(&ada));
    assert_eq!(ada.len(), 10);
}

#[test]
fn export_file_contact_filter_matches_an_address_in_from_to_cc_or_bcc() {
    // No customer has an acme.example address: the four emails sent to or from the
    // company's billing address are kept, nothing else.
    assert_eq!(
        export_items(&["contact=@acme.example"]),
        items(&[
            "grace-email-0",
            "grace-email-1",
            "ada-email-0",
            "ada-email-1"
        ])
    );
    assert_eq!(
        export_items(&["contact=records@acme.example"]),
        items(&["ada-email-1"]),
        "bcc"
    );
    assert_eq!(
        export_items(&["contact=nobody@example.com"]),
        ITEMS_HEADER,
        "no match, header only"
    );
}

#[test]
fn export_file_contact_filter_matches_an_e164_phone_ignoring_punctuation() {
    // Alan's number: his call (from) and, through his profile, the rest of his conversation.
    assert_eq!(
        export_items(&["contact=+1 (415) 555-0103"]),
        items(&items_of("alan-"))
    );
    // Several patterns: Margaret's number (her SMS) or Katherine's email (no items).
    assert_eq!(
        export_items(&["contact=+14155550105, katherine@example.com"]),
        items(&items_of("margaret-"))
    );
}

#[test]
fn export_file_phrases_filter_searches_bodies_subjects_and_topic_names_ignoring_case() {
    // Message text, in any case (the attachment's file name and the call summary also say
    // "invoice" but are not searched).
    assert_eq!(
        export_items(&["phrases=INVOICE"]),
        items(&["ada-email-0", "ada-email-1", "ada-chat-0"])
    );
    // A note's body.
    assert_eq!(export_items(&["phrases=carrier"]), items(&["alan-note"]));
    // Email subjects: the first email's text says "charged twice", not "double charge".
    assert_eq!(
        export_items(&["phrases=double CHARGE"]),
        items(&["grace-email-0", "grace-email-1"])
    );
    // Topic names: Shipping added, then removed; the billing@ addresses are not searched,
    // so "billing" finds only the Billing Question topic change.
    assert_eq!(
        export_items(&["phrases=shipping"]),
        items(&["ada-email-topic-added", "ada-email-topic-swapped"])
    );
    assert_eq!(
        export_items(&["phrases=billing"]),
        items(&["ada-email-topic-swapped"])
    );
    // Any of several phrases.
    assert_eq!(
        export_items(&["phrases=Late Delivery, shoes"]),
        items(&["alan-topic", "margaret-sms-0"])
    );
}

#[test]
fn export_file_contact_and_phrases_together_keep_items_passing_both() {
    assert_eq!(
        export_items(&["contact=ada@example.com", "phrases=shipping,parcel"]),
        items(&["ada-email-topic-added", "ada-email-topic-swapped"])
    );
}

#[test]
fn export_file_writes_json_records_whole_filtered_like_the_csv() {
    let (out, _, test) = run(
        "export-file",
        &[
            "--set",
            "format=json",
            "--set",
            "contact=+14155550105",
            "--set",
            "phrases=return label",
        ],
    );
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/export-conversation_items.json"),
        unindent(
            r#"
            [
            {"id":"cNUx5a69nNCc8oF36ZwJEg","customerId":"WxFPTbRSONUKO118j0zSKQ","conversationId":"QBo0J46x54E_aAN2fZhGlQ","timestamp":"2026-11-20T13:10:00.000Z","initiator":{"id":"cP8blU9RS0PIFu-lNxUkZQ","type":"AGENT"},"content":{"type":"SMS","from":"+18005550000","to":"+14155550105","content":"A return label is on its way"}}
            ]
            "#
        )
    );
    assert!(
        !test
            .dir()
            .join("jobs/exports/export-conversation_items.csv")
            .exists()
    );

    // Other files too; the filters are for conversation items only.
    let (out, _, test) = run(
        "export-file",
        &[
            "--set",
            "format=JSON",
            "--set",
            "file=agents",
            "--set",
            "phrases=anything",
        ],
    );
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/export-agents.json"),
        unindent(
            r#"
            [
            {"id":"FAYlGDBzA6WeEqyaqWGSdA","name":"Bob Baker","emailAddress":"bob@example.com"},
            {"id":"KM6NJzfhj5Mq1EcH0__P5Q","name":"Alice Anders","emailAddress":"alice@example.com"},
            {"id":"cP8blU9RS0PIFu-lNxUkZQ","name":"Dave Diaz","emailAddress":"dave@example.com"},
            {"id":"diu8RdhU5hfGC5Pi72wrDA","name":"API User","emailAddress":"api@example.com"},
            {"id":"lpqRLpW1NPW8D9IelzKWgw","name":"Carol Chen","emailAddress":"carol@example.com"}
            ]
            "#
        )
    );
}

#[test]
fn export_file_names_the_missing_file_of_a_failed_job() {
    let (out, _) = run_refused("export-file", &["--set", &format!("job={FAILED_JOB}")]);
    assert!(
        out.stderr().contains(&format!(
            "answered 404: file [conversation_items.jsonl] does not exist in job [{FAILED_JOB}]"
        )),
        "{}",
        out.stderr()
    );
}

#[test]
fn export_file_runs_out_of_the_box() {
    let (_, test, _) = out_of_the_box("export-file", false);
    let text = test.read("jobs/exports/export-conversation_items.csv");
    assert!(text.starts_with(ITEMS_HEADER), "{text}");
    assert_eq!(text.lines().count(), 1 + 22);
}

// ---------------------------------------------------------------- export-events

const EVENTS_HEADER: &str = "id,type,timestamp,initiator.id,initiator.type,content.agentId,content.customerId,content.conversationId,content.contactId,content.channel,content.status,content.reason,content.availableFor,content.occurredAt,content.context.assignee.inboxId,content.context.assignee.agentId\n";

#[test]
fn export_events_writes_a_line_per_event_with_the_shared_content_fields() {
    // Bob's and Carol's logins with their availability, then Alan's inbound call up to the
    // hold (the end is included).
    let (out, rows, test) = run(
        "export-events",
        &[
            "--set",
            "startAt=2026-11-19T22:05:00Z",
            "--set",
            "endAt=2026-11-19T22:33:00Z",
        ],
    );
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/events.csv"),
        EVENTS_HEADER.to_owned()
            + &unindent(
                r#"
                1sXKZDg-rO36T2c1CKnD9g,AGENT_STATUS/LOGGED_IN,2026-11-19T22:05:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,FAYlGDBzA6WeEqyaqWGSdA,,,,,,,,2026-11-19T22:05:00.000Z,,
                U_jEHmzlsumRM2KLJc4gxA,AGENT_AVAILABILITY/UPDATED,2026-11-19T22:06:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,FAYlGDBzA6WeEqyaqWGSdA,,,,,,,"MAIL,MESSAGING,VOICE",2026-11-19T22:06:00.000Z,,
                izxX6XMKAdmdgxyOT-k_Mw,AGENT_STATUS/LOGGED_IN,2026-11-19T22:10:00.000Z,lpqRLpW1NPW8D9IelzKWgw,AGENT,lpqRLpW1NPW8D9IelzKWgw,,,,,,,,2026-11-19T22:10:00.000Z,,
                zEf-lIPV6ay87Z3M6buddw,AGENT_AVAILABILITY/UPDATED,2026-11-19T22:11:00.000Z,lpqRLpW1NPW8D9IelzKWgw,AGENT,lpqRLpW1NPW8D9IelzKWgw,,,,,,,"MAIL,MESSAGING,VOICE",2026-11-19T22:11:00.000Z,,
                HujwjOOo3adWu7A_4dTZvw,CONTACT/STARTED,2026-11-19T22:30:00.000Z,sOLfzwZmW1UJfUhFw7BYpA,CUSTOMER,,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,4w1_f-dXv2-FzaV3xUQ3ow,PHONE_CALL,,,,,w8nXqej9YUXh4aOq-RsA_g,FAYlGDBzA6WeEqyaqWGSdA
                LwTIPnh4mJIjNI33n1FbMA,CONTACT/OFFERED,2026-11-19T22:31:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,FAYlGDBzA6WeEqyaqWGSdA,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,4w1_f-dXv2-FzaV3xUQ3ow,PHONE_CALL,,,,,w8nXqej9YUXh4aOq-RsA_g,FAYlGDBzA6WeEqyaqWGSdA
                lqkmVGUejD0UyRP8Qu2ZSA,CONTACT/OFFER_ACCEPTED,2026-11-19T22:32:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,FAYlGDBzA6WeEqyaqWGSdA,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,4w1_f-dXv2-FzaV3xUQ3ow,PHONE_CALL,,,,,w8nXqej9YUXh4aOq-RsA_g,FAYlGDBzA6WeEqyaqWGSdA
                z3nZi48HSS9_EEhr1JCy9w,CONTACT/HOLD_STARTED,2026-11-19T22:33:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,4w1_f-dXv2-FzaV3xUQ3ow,PHONE_CALL,,MANUAL,,,w8nXqej9YUXh4aOq-RsA_g,FAYlGDBzA6WeEqyaqWGSdA
                "#
            )
    );
    assert!(rows.is_empty(), "{rows:#?}");
    assert_eq!(test.read("jobs/results/export-events.csv"), NO_FAILURES);
    assert!(!test.dir().join("jobs/exports/events.json").exists());
}

#[test]
fn export_events_asks_for_every_portal_entity_by_default() {
    let org = pinned();
    let test = job_alone(&org, "export-events");
    let (out, _) = apply(
        &test,
        "export-events",
        &[
            "--set",
            "startAt=2026-11-19T18:00:00Z",
            "--set",
            &format!("endAt={CLOCK}"),
        ],
    );
    succeeded(&out);
    let request = org
        .log()
        .into_iter()
        .find(|r| r.path == "/api/v1/events")
        .unwrap();
    assert_eq!(
        request.query.as_deref(),
        Some(
            "startAt=2026-11-19T18%3A00%3A00Z&endAt=2026-11-20T18%3A00%3A00Z&entities=AGENT_AVAILABILITY&entities=AGENT_STATUS&entities=CONTACT&entities=CONVERSATION&entities=CUSTOMER&entities=PAYMENT_REQUEST"
        )
    );
    // The day holds 31 events of three entities (the org has no conversation, customer or
    // payment-request events).
    let rows = csv_maps(&test.read("jobs/exports/events.csv"));
    let count = |prefix: &str| {
        column(&rows, "type")
            .iter()
            .filter(|t| t.starts_with(prefix))
            .count()
    };
    // Each of the three agents: logged in, three availability changes, unavailable for
    // every channel on logging out, logged out.
    assert_eq!(rows.len(), 34);
    assert_eq!(count("AGENT_STATUS/LOGGED_IN"), 3);
    assert_eq!(count("AGENT_STATUS/LOGGED_OUT"), 3);
    assert_eq!(count("AGENT_AVAILABILITY/"), 12);
    assert_eq!(count("CONTACT/"), 16);
    let stamps = column(&rows, "timestamp");
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "oldest first");
}

#[test]
fn export_events_takes_entities_in_any_case_and_leaves_blank_what_an_event_lacks() {
    // The lunch break: three availability updates to nothing (an empty list is blank).
    let (out, _, test) = run(
        "export-events",
        &[
            "--set",
            "startAt=2026-11-20T02:00:00Z",
            "--set",
            "endAt=2026-11-20T02:10:00Z",
            "--set",
            "entities= agent_status ,agent_availability,",
        ],
    );
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/events.csv"),
        EVENTS_HEADER.to_owned()
            + &unindent(
                "
                2NBYMsAJs04yyjilli082w,AGENT_AVAILABILITY/UPDATED,2026-11-20T02:00:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,KM6NJzfhj5Mq1EcH0__P5Q,,,,,,,,2026-11-20T02:00:00.000Z,,
                RU68AidOJH9hlS_1tkKHhw,AGENT_AVAILABILITY/UPDATED,2026-11-20T02:05:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,FAYlGDBzA6WeEqyaqWGSdA,,,,,,,,2026-11-20T02:05:00.000Z,,
                VX-s3_SV6Su-rgQdGKYxYw,AGENT_AVAILABILITY/UPDATED,2026-11-20T02:10:00.000Z,lpqRLpW1NPW8D9IelzKWgw,AGENT,lpqRLpW1NPW8D9IelzKWgw,,,,,,,,2026-11-20T02:10:00.000Z,,
                "
            )
    );
}

#[test]
fn export_events_writes_json_with_each_event_whole() {
    // Carol's outbound call to Margaret: started and ended.
    let (out, _, test) = run(
        "export-events",
        &[
            "--set",
            "startAt=2026-11-20T00:00:00Z",
            "--set",
            "endAt=2026-11-20T00:10:00Z",
            "--set",
            "entities=CONTACT",
            "--set",
            "format=json",
        ],
    );
    succeeded(&out);
    assert_eq!(
        test.read("jobs/exports/events.json"),
        unindent(
            r#"
            [
            {"id":"A1jXjK6XLWhG_OQ-FdlsCA","type":"CONTACT/STARTED","timestamp":"2026-11-20T00:00:00.000Z","initiator":{"id":"lpqRLpW1NPW8D9IelzKWgw","type":"AGENT"},"content":{"channel":"PHONE_CALL","contactId":"9DhYPpIfdF8q5pIpsXOwkQ","conversationId":"pT0_Y67QfkrNABZHz62uYw","customerId":"WxFPTbRSONUKO118j0zSKQ","context":{"assignee":{"inboxId":"Tw9stYZXlgKj29uKZknNaA","agentId":"lpqRLpW1NPW8D9IelzKWgw"}}}},
            {"id":"iY_tZODiN5mjHOoXwqH2cA","type":"CONTACT/ENDED","timestamp":"2026-11-20T00:10:00.000Z","initiator":{"id":"lpqRLpW1NPW8D9IelzKWgw","type":"AGENT"},"content":{"channel":"PHONE_CALL","contactId":"9DhYPpIfdF8q5pIpsXOwkQ","conversationId":"pT0_Y67QfkrNABZHz62uYw","customerId":"WxFPTbRSONUKO118j0zSKQ","context":{"assignee":{"inboxId":"Tw9stYZXlgKj29uKZknNaA","agentId":"lpqRLpW1NPW8D9IelzKWgw"}},"status":"ANSWERED","reason":"AGENT_ENDED"}}
            ]
            "#
        )
    );
    assert!(!test.dir().join("jobs/exports/events.csv").exists());
}

#[test]
fn export_events_fails_clearly_for_a_start_older_than_a_day() {
    let (out, _) = run_refused("export-events", &["--set", "startAt=2026-11-18T00:00:00Z"]);
    assert!(
        out.stderr()
            .contains("answered 400: startAt: startAt must be within the last 24 hours"),
        "{}",
        out.stderr()
    );
}

#[test]
fn export_events_runs_out_of_the_box_for_the_last_24_hours() {
    // The default org's events all fall in the day before it started.
    let (_, test, _) = out_of_the_box("export-events", false);
    let text = test.read("jobs/exports/events.csv");
    assert!(text.starts_with(EVENTS_HEADER), "{text}");
    assert_eq!(csv_maps(&text).len(), 34);
}

// ---------------------------------------------------------------- report-work-sessions

const SESSIONS_HEADER: &str =
    "Start At Time,End At Time,Work Sessions,Handle Time (seconds),After Contact Time (seconds)\n";

#[test]
fn report_work_sessions_sums_the_handle_time_of_the_sessions_ended_in_the_window() {
    // Alan's call, Ada's email, Ada's call, Alice's call to Grace and Carol's to Margaret
    // (600 s each), 15 s after each.
    let (out, rows, test) = run(
        "report-work-sessions",
        &[
            "--set",
            "startAtTime=2026-11-19T00:00-08:00",
            "--set",
            "endAtTime=2026-11-20T00:00-08:00",
        ],
    );
    succeeded(&out);
    assert_eq!(
        test.read("jobs/reports/work-sessions.csv"),
        SESSIONS_HEADER.to_owned() + "2026-11-19T00:00-08:00,2026-11-20T00:00-08:00,5,3000,75\n"
    );
    assert!(rows.is_empty(), "{rows:#?}");
    assert_eq!(
        test.read("jobs/results/report-work-sessions.csv"),
        NO_FAILURES
    );
}

#[test]
fn report_work_sessions_writes_its_line_with_zeros_for_an_empty_window() {
    let (out, _, test) = run(
        "report-work-sessions",
        &[
            "--set",
            "startAtTime=2026-11-10T00:00:00Z",
            "--set",
            "endAtTime=2026-11-11T00:00:00Z",
        ],
    );
    succeeded(&out);
    assert_eq!(
        test.read("jobs/reports/work-sessions.csv"),
        SESSIONS_HEADER.to_owned() + "2026-11-10T00:00:00Z,2026-11-11T00:00:00Z,0,0,0\n"
    );
}

#[test]
fn report_work_sessions_runs_out_of_the_box_for_yesterday() {
    let (_, test, yesterday) = out_of_the_box("report-work-sessions", false);
    let rows = csv_maps(&test.read("jobs/reports/work-sessions.csv"));
    assert_eq!(rows.len(), 1);
    // Yesterday from midnight to midnight in Los Angeles, as UTC instants.
    let window = [
        rows[0]["Start At Time"].parse::<DateTime<Utc>>().unwrap(),
        rows[0]["End At Time"].parse::<DateTime<Utc>>().unwrap(),
    ];
    assert!(
        yesterday.iter().any(|day| window
            == [
                midnight_in_los_angeles(*day),
                midnight_in_los_angeles(*day + Duration::days(1))
            ]),
        "{rows:?}"
    );
}

// ---------------------------------------------------------------- report-daily-counts

#[test]
fn report_daily_counts_counts_email_contacts_and_logins_of_the_day() {
    let org = pinned();
    let test = job(&org, "report-daily-counts");
    let (out, rows) = apply(&test, "report-daily-counts", &["--set", "day=2026-11-19"]);
    succeeded(&out);
    assert_eq!(
        test.read("jobs/reports/daily-counts.csv"),
        unindent(
            "
            Day,Timezone,EMAIL Contacts Created,Agent Logins
            2026-11-19,America/Los_Angeles,1,3
            "
        )
    );
    assert_eq!(column(&rows, "result"), ["done"]);
    assert_eq!(column(&rows, "outcome"), ["counted"]);
    assert_eq!(column(&rows, "contacts.day"), ["2026-11-19"]);
    assert_eq!(column(&rows, "contacts.email"), ["1"]);
    assert_eq!(column(&rows, "logins.count"), ["3"]);
    let reports: Vec<String> = org
        .log()
        .into_iter()
        .filter(|r| r.path == "/api/v1/reports")
        .map(|r| format!("{} {}", r.method, r.status))
        .collect();
    assert_eq!(reports, ["POST 200", "POST 200"], "two reports for the day");
}

#[test]
fn report_daily_counts_takes_days_and_time_zones_from_its_input() {
    // 2026-11-17 in Los Angeles: Grace's email, nobody logged in. 2026-11-20 in Tokyo
    // (2026-11-19T15:00Z to 2026-11-20T15:00Z): Ada's email and the three logins. An
    // unknown time zone is Gladly's 400, and that day has no line.
    let org = pinned();
    let test = job(&org, "report-daily-counts").file(
        "days.csv",
        "
        day,timezone
        2026-11-17,
        2026-11-20,Asia/Tokyo
        2026-11-19,Mars/Base
        ",
    );
    let (out, rows) = apply(&test, "report-daily-counts", &["--input", "days.csv"]);
    out.expect(
        3,
        &["row 3 (line 4): step `contacts`: timezone: [Mars/Base] is not an IANA time zone"],
    );
    assert_eq!(
        test.read("jobs/reports/daily-counts.csv"),
        unindent(
            "
            Day,Timezone,EMAIL Contacts Created,Agent Logins
            2026-11-17,America/Los_Angeles,1,0
            2026-11-20,Asia/Tokyo,1,3
            "
        )
    );
    assert_eq!(column(&rows, "result"), ["done", "done", "rejected"]);
    assert_eq!(column(&rows, "outcome")[2], "rejected");
    assert_eq!(
        column(&rows, "contacts.day"),
        ["2026-11-17", "2026-11-20", ""]
    );
    assert_eq!(column(&rows, "contacts.email"), ["1", "1", ""]);
    assert_eq!(column(&rows, "logins.count"), ["0", "3", ""]);
    assert_eq!(rows[2]["step"], "contacts");
    assert_eq!(rows[2]["http_status"], "400");
    assert_eq!(
        rows[2]["detail"],
        "timezone: [Mars/Base] is not an IANA time zone"
    );
}

#[test]
fn report_daily_counts_runs_out_of_the_box_for_yesterday() {
    let (_, test, yesterday) = out_of_the_box("report-daily-counts", true);
    let rows = csv_maps(&test.read("jobs/reports/daily-counts.csv"));
    assert_eq!(rows.len(), 1);
    assert!(
        yesterday.contains(&rows[0]["Day"].parse().unwrap()),
        "{rows:?}"
    );
    assert_eq!(rows[0]["Timezone"], "America/Los_Angeles");
}

/// A `conversation_items.jsonl` written by hand from the API reference's item schemas (one
/// item of each content type, every field the reference defines for it), not by the
/// sandbox: a sandbox that drifted from Gladly cannot hide a job that did.
const SPEC_ITEMS: &str = r#"{"id":"i01","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:00:00.000Z","initiator":{"id":"cus1","type":"CUSTOMER"},"content":{"type":"CHAT_MESSAGE","messageType":"TEXT","sessionId":"ses1","content":"Where is my order?","attachments":[{"id":"att1","contentType":"image/png","filename":"order.png","fileSize":2048}]}}
{"id":"i02","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:01:00.000Z","initiator":{"id":"agt1","type":"AGENT"},"responder":{"id":"cus1","type":"CUSTOMER"},"content":{"type":"CHAT_MESSAGE","messageType":"QUICK_REPLY_REQUEST","sessionId":"ses1","content":"Pick one","messageData":{"options":[{"id":"o1","label":"Refund"}]}}}
{"id":"i03","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:02:00.000Z","initiator":{"id":"agt1","type":"AGENT"},"content":{"type":"CONVERSATION_STATUS_CHANGE","status":"CLOSED"}}
{"id":"i04","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:03:00.000Z","initiator":{"id":"app1","type":"API"},"content":{"type":"CUSTOMER_ACTIVITY","title":"Order shipped","body":"Parcel 42 left the warehouse","activityType":"EMAIL","sourceName":"Shop","link":{"url":"https://shop.example/42","text":"Track"},"expandByDefault":true,"occurredAt":"2026-11-19T09:59:00.000Z","receivedAt":"2026-11-19T10:03:00.000Z"}}
{"id":"i05","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:04:00.000Z","initiator":{"id":"cus1","type":"CUSTOMER"},"content":{"type":"EMAIL","from":"ada@example.com","to":["help@acme.example","billing@acme.example"],"cc":["boss@example.com"],"bcc":["audit@acme.example"],"subject":"Refund","content":"Please refund order 42"}}
{"id":"i06","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:05:00.000Z","initiator":{"id":"cus1","type":"CUSTOMER"},"content":{"type":"FACEBOOK_MESSAGE","pageId":"page1","userId":"user1","content":"Hello from Messenger"}}
{"id":"i07","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:06:00.000Z","initiator":{"id":"agt1","type":"AGENT"},"content":{"type":"CONVERSATION_NOTE","body":"Refund approved"}}
{"id":"i08","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:07:00.000Z","initiator":{"id":"cus1","type":"CUSTOMER"},"responder":{"id":"agt1","type":"AGENT"},"content":{"type":"PHONE_CALL","from":"+14155550101","to":"+18005550000","startedAt":"2026-11-19T10:07:00Z","answeredAt":"2026-11-19T10:07:30Z","completedAt":"2026-11-19T10:12:00Z","recordingStatus":"AVAILABLE","recordingUrl":"https://rec.example/i08","recordingDuration":270,"recordingSummary":{"status":"READY","summary":"Asked for a refund","language":"en-us"}}}
{"id":"i09","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:13:00.000Z","initiator":{"id":"cus1","type":"CUSTOMER"},"content":{"type":"SMS","from":"+14155550101","to":"+18005550000","content":"Thanks"}}
{"id":"i10","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:14:00.000Z","initiator":{"id":"agt1","type":"AGENT"},"content":{"type":"TOPIC_CHANGE","addedTopicIds":["top1","top2"],"removedTopicIds":["top3"]}}
{"id":"i11","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:15:00.000Z","initiator":{"id":"cus1","type":"CUSTOMER"},"content":{"type":"VOICEMAIL","startedAt":"2026-11-19T10:15:00Z","recordingStatus":"DELETED","recordingDuration":31,"recordingSummary":{"status":"REDACTED"}}}
{"id":"i12","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:16:00.000Z","initiator":{"id":"cus1","type":"CUSTOMER"},"content":{"type":"INSTAGRAM_DIRECT","content":"Hi on Instagram"}}
{"id":"i13","customerId":"cus1","conversationId":"con1","timestamp":"2026-11-19T10:17:00.000Z","initiator":{"id":"cus1","type":"CUSTOMER"},"content":{"type":"WHATSAPP","content":"Hi on WhatsApp"}}
"#;

#[test]
fn export_file_writes_every_field_of_spec_shaped_items_worked_out_by_hand() {
    // No host: a file input and no lookup wanted (no contact or phrases filter).
    let test = Test::new()
        .copy("jobs/export-file.yaml")
        .file("items.jsonl", SPEC_ITEMS);
    let out = test.run_args(&["apply", "jobs/export-file.yaml", "--input", "items.jsonl"]);
    out.expect(0, &[]);
    let text = test.read("jobs/exports/export-conversation_items.csv");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let header: Vec<&str> = records[0].iter().collect();
    assert_eq!(header.len(), 42, "{header:?}");
    assert!(
        records.iter().all(|r| r.len() == header.len()),
        "ragged CSV"
    );
    assert_eq!(records.len(), 14, "a header and 13 items");
    // Each item's non-blank cells, by column, worked out from the item above.
    let filled = |n: usize| -> Vec<(String, String)> {
        header
            .iter()
            .zip(records[n].iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(h, v)| ((*h).to_owned(), v.to_owned()))
            .collect()
    };
    let item = |id: &str, at: &str, who: &str, what: &str, rest: &[(&str, &str)]| {
        let mut cells = vec![
            ("id", id),
            ("customerId", "cus1"),
            ("conversationId", "con1"),
            ("timestamp", at),
            ("initiator.id", who),
            ("initiator.type", what),
        ];
        cells.extend_from_slice(rest);
        cells
            .into_iter()
            .map(|(h, v)| (h.to_owned(), v.to_owned()))
            .collect::<Vec<_>>()
    };
    let t = |m: u32| format!("2026-11-19T10:{m:02}:00.000Z");
    assert_eq!(
        filled(1),
        item(
            "i01",
            &t(0),
            "cus1",
            "CUSTOMER",
            &[
                ("content.type", "CHAT_MESSAGE"),
                ("content.messageType", "TEXT"),
                ("content.sessionId", "ses1"),
                ("content.content", "Where is my order?"),
                (
                    "content.attachments",
                    r#"[{"id":"att1","contentType":"image/png","filename":"order.png","fileSize":2048}]"#
                ),
            ]
        )
    );
    assert_eq!(
        filled(2),
        item(
            "i02",
            &t(1),
            "agt1",
            "AGENT",
            &[
                ("responder.id", "cus1"),
                ("responder.type", "CUSTOMER"),
                ("content.type", "CHAT_MESSAGE"),
                ("content.messageType", "QUICK_REPLY_REQUEST"),
                ("content.sessionId", "ses1"),
                ("content.content", "Pick one"),
                (
                    "content.messageData",
                    r#"{"options":[{"id":"o1","label":"Refund"}]}"#
                ),
            ]
        )
    );
    assert_eq!(
        filled(3),
        item(
            "i03",
            &t(2),
            "agt1",
            "AGENT",
            &[
                ("content.type", "CONVERSATION_STATUS_CHANGE"),
                ("content.status", "CLOSED"),
            ]
        )
    );
    assert_eq!(
        filled(4),
        item(
            "i04",
            &t(3),
            "app1",
            "API",
            &[
                ("content.type", "CUSTOMER_ACTIVITY"),
                ("content.title", "Order shipped"),
                ("content.body", "Parcel 42 left the warehouse"),
                ("content.activityType", "EMAIL"),
                ("content.sourceName", "Shop"),
                ("content.link.url", "https://shop.example/42"),
                ("content.link.text", "Track"),
                ("content.expandByDefault", "true"),
                ("content.occurredAt", "2026-11-19T09:59:00.000Z"),
                ("content.receivedAt", "2026-11-19T10:03:00.000Z"),
            ]
        )
    );
    assert_eq!(
        filled(5),
        item(
            "i05",
            &t(4),
            "cus1",
            "CUSTOMER",
            &[
                ("content.type", "EMAIL"),
                ("content.content", "Please refund order 42"),
                ("content.from", "ada@example.com"),
                ("content.to", "help@acme.example,billing@acme.example"),
                ("content.cc", "boss@example.com"),
                ("content.bcc", "audit@acme.example"),
                ("content.subject", "Refund"),
            ]
        )
    );
    assert_eq!(
        filled(6),
        item(
            "i06",
            &t(5),
            "cus1",
            "CUSTOMER",
            &[
                ("content.type", "FACEBOOK_MESSAGE"),
                ("content.content", "Hello from Messenger"),
                ("content.pageId", "page1"),
                ("content.userId", "user1"),
            ]
        )
    );
    assert_eq!(
        filled(7),
        item(
            "i07",
            &t(6),
            "agt1",
            "AGENT",
            &[
                ("content.type", "CONVERSATION_NOTE"),
                ("content.body", "Refund approved"),
            ]
        )
    );
    assert_eq!(
        filled(8),
        item(
            "i08",
            &t(7),
            "cus1",
            "CUSTOMER",
            &[
                ("responder.id", "agt1"),
                ("responder.type", "AGENT"),
                ("content.type", "PHONE_CALL"),
                ("content.from", "+14155550101"),
                ("content.to", "+18005550000"),
                ("content.startedAt", "2026-11-19T10:07:00Z"),
                ("content.answeredAt", "2026-11-19T10:07:30Z"),
                ("content.completedAt", "2026-11-19T10:12:00Z"),
                ("content.recordingStatus", "AVAILABLE"),
                ("content.recordingUrl", "https://rec.example/i08"),
                ("content.recordingDuration", "270"),
                ("content.recordingSummary.status", "READY"),
                ("content.recordingSummary.summary", "Asked for a refund"),
                ("content.recordingSummary.language", "en-us"),
            ]
        )
    );
    assert_eq!(
        filled(9),
        item(
            "i09",
            &t(13),
            "cus1",
            "CUSTOMER",
            &[
                ("content.type", "SMS"),
                ("content.content", "Thanks"),
                ("content.from", "+14155550101"),
                ("content.to", "+18005550000"),
            ]
        )
    );
    assert_eq!(
        filled(10),
        item(
            "i10",
            &t(14),
            "agt1",
            "AGENT",
            &[
                ("content.type", "TOPIC_CHANGE"),
                ("content.addedTopicIds", "top1,top2"),
                ("content.removedTopicIds", "top3"),
            ]
        )
    );
    assert_eq!(
        filled(11),
        item(
            "i11",
            &t(15),
            "cus1",
            "CUSTOMER",
            &[
                ("content.type", "VOICEMAIL"),
                ("content.startedAt", "2026-11-19T10:15:00Z"),
                ("content.recordingStatus", "DELETED"),
                ("content.recordingDuration", "31"),
                ("content.recordingSummary.status", "REDACTED"),
            ]
        )
    );
    for (n, id, kind, text) in [
        (12, "i12", "INSTAGRAM_DIRECT", "Hi on Instagram"),
        (13, "i13", "WHATSAPP", "Hi on WhatsApp"),
    ] {
        let minute = u32::try_from(4 + n).unwrap();
        assert_eq!(
            filled(n),
            item(
                id,
                &t(minute),
                "cus1",
                "CUSTOMER",
                &[("content.type", kind), ("content.content", text),]
            )
        );
    }
    assert_eq!(test.read("jobs/results/export-file.csv").lines().count(), 1);
}

/// The request bodies a report stand-in received, in order.
fn report_bodies(stub: &crate::stub::Stub) -> Vec<serde_json::Value> {
    stub.asked
        .lock()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect()
}

/// A stand-in for Gladly answering `POST /api/v1/reports` with report CSVs written by
/// hand from Gladly's report documentation (not by the sandbox); it records each request
/// body (as JSON text).
fn report_stub(reports: &[(&'static str, &'static str)]) -> crate::stub::Stub {
    let reports: std::collections::BTreeMap<&'static str, &'static str> =
        reports.iter().copied().collect();
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&asked);
    let app = axum::Router::new().route(
        "/api/v1/reports",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let csv = body["metricSet"]
                .as_str()
                .and_then(|m| reports.get(m))
                .copied();
            seen.lock().unwrap().push(body.to_string());
            async move {
                match csv {
                    Some(csv) => (
                        axum::http::StatusCode::OK,
                        [(axum::http::header::CONTENT_TYPE, "text/csv")],
                        csv,
                    ),
                    None => (
                        axum::http::StatusCode::BAD_REQUEST,
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        r#"{"errors":[{"attr":"metricSet","code":"invalid","detail":"unknown"}]}"#,
                    ),
                }
            }
        }),
    );
    crate::stub::Stub::serve(app, asked)
}

#[test]
fn report_daily_counts_counts_documented_columns_of_reports_written_by_hand() {
    // The Contact Export report's documented columns (Queued At … Final IVR Selection):
    // two EMAIL contacts and a PHONE_CALL.
    const CONTACTS: &str = "\
Queued At,Customer ID,Conversation ID,Contact ID,Link,Channel,Direction,Contact Initiator,Entry Point,Final IVR Selection
2026-11-19T16:00:00.000Z,cus1,con1,ct1,https://acme.gladly.com/customer/cus1/conversation/con1,EMAIL,INBOUND,Customer,help@acme.example,
2026-11-19T17:00:00.000Z,cus2,con2,ct2,https://acme.gladly.com/customer/cus2/conversation/con2,PHONE_CALL,INBOUND,Customer,+18005550000,__billing
2026-11-19T18:00:00.000Z,cus3,con3,ct3,https://acme.gladly.com/customer/cus3/conversation/con3,EMAIL,OUTBOUND,Agent,,
";
    // The Agent Timestamps report's documented columns: two logins, a logout, an
    // availability change.
    const AGENTS: &str = "\
Timestamp,Occurred At,Agent,Type,Available For,Away Reason,Active Reason,Agent ID
2026-11-19T16:00:00.000Z,2026-11-19T16:00:00.000Z,Alice Anders,AGENT_STATUS/LOGGED_IN,,,Working,agA
2026-11-19T16:01:00.000Z,2026-11-19T16:01:00.000Z,Alice Anders,AGENT_AVAILABILITY/UPDATED,\"[VOICE, MAIL]\",,,agA
2026-11-19T17:00:00.000Z,2026-11-19T17:00:00.000Z,Bob Baker,AGENT_STATUS/LOGGED_IN,,,Working,agB
2026-11-20T01:00:00.000Z,2026-11-20T01:00:00.000Z,Alice Anders,AGENT_STATUS/LOGGED_OUT,,,,agA
";
    let stub = report_stub(&[
        ("ContactExportReportV3", CONTACTS),
        ("AgentTimestampsReport", AGENTS),
    ]);
    let test = stub
        .env(Test::new())
        .copy("jobs/report-daily-counts.yaml")
        .file("days.csv", "day,timezone\n2026-11-19,America/Los_Angeles\n");
    let out = test.run_args(&[
        "apply",
        "jobs/report-daily-counts.yaml",
        "--input",
        "days.csv",
    ]);
    out.expect(0, &[]);
    assert_eq!(
        test.read("jobs/reports/daily-counts.csv"),
        "Day,Timezone,EMAIL Contacts Created,Agent Logins\n2026-11-19,America/Los_Angeles,2,2\n"
    );
    // What reached Gladly: the two documented metric sets, for the day in its zone.
    let asked = report_bodies(&stub);
    assert_eq!(asked.len(), 2, "{asked:?}");
    for (body, metric) in asked
        .iter()
        .zip(["ContactExportReportV3", "AgentTimestampsReport"])
    {
        assert_eq!(body["metricSet"], metric);
        assert_eq!(body["startAt"], "2026-11-19");
        assert_eq!(body["endAt"], "2026-11-19");
        assert_eq!(body["timezone"], "America/Los_Angeles");
    }
}

#[test]
fn export_events_writes_spec_shaped_events_as_worked_out_by_hand() {
    // The events-wfm stream, written from the reference's event schemas (the conformance
    // test validates it), served as Gladly serves events: JSON Lines.
    let events = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/wfm/events.jsonl"
    ))
    .unwrap();
    let stub = crate::stub::Stub::start(&[("/api/v1/events", "application/x-jsonlines", &events)]);
    let test = stub.env(Test::new()).copy("jobs/export-events.yaml");
    test.run_args(&[
        "apply",
        "jobs/export-events.yaml",
        "--set",
        "startAt=2026-11-20T16:00:00Z",
    ])
    .expect(0, &[]);
    // Each event's fields in the job's columns; lists joined with commas; a field the
    // event type does not have is blank.
    assert_eq!(
        test.read("jobs/exports/events.csv"),
        EVENTS_HEADER.to_owned()
            + &unindent(
                r#"
                e01,AGENT_STATUS/LOGGED_IN,2026-11-20T16:00:00.000Z,agentA,AGENT,agentA,,,,,,,,2026-11-20T16:00:00.000Z,,
                e02,AGENT_AVAILABILITY/UPDATED,2026-11-20T16:05:00.000Z,agentA,AGENT,agentA,,,,,,,"VOICE,MAIL",2026-11-20T16:05:00.000Z,,
                e03,CONTACT/STARTED,2026-11-20T16:10:00.000Z,agentA,AGENT,,cust2,conv1,c1,PHONE_CALL,,,,,inboxSupport,agentA
                e04,CONTACT/STARTED,2026-11-20T16:12:00.000Z,cust1,CUSTOMER,,cust1,conv9,c9,PHONE_CALL,,,,,inboxSupport,
                e05,CONTACT/HOLD_STARTED,2026-11-20T16:20:00.000Z,agentA,AGENT,,cust2,conv1,c1,PHONE_CALL,,MANUAL,,,inboxSupport,agentA
                e06,CONTACT/HOLD_ENDED,2026-11-20T16:40:00.000Z,agentA,AGENT,,cust2,conv1,c1,PHONE_CALL,,MANUAL,,,inboxSupport,agentA
                e07,AGENT_AVAILABILITY/UPDATED,2026-11-20T16:50:30.000Z,agentA,AGENT,agentA,,,,,,,MAIL,2026-11-20T16:50:30.000Z,,
                e08,AGENT_AVAILABILITY/UPDATED,2026-11-20T17:10:00.000Z,agentA,AGENT,agentA,,,,,,,VOICE,2026-11-20T17:10:00.000Z,,
                e09,AGENT_AVAILABILITY/UPDATED,2026-11-20T17:15:00.000Z,agentB,AGENT,agentB,,,,,,,VOICE,2026-11-20T17:15:00.000Z,,
                e10,AGENT_STATUS/LOGGED_OUT,2026-11-20T17:20:00.000Z,agentA,AGENT,agentA,,,,,,,,2026-11-20T17:20:00.000Z,,
                e11,CONTACT/STARTED,2026-11-20T17:40:00.000Z,agentB,AGENT,,cust3,conv2,c2,EMAIL,,,,,inboxSupport,agentB
                e12,CONTACT/STARTED,2026-11-20T17:45:00.000Z,agentB,AGENT,,cust4,conv3,c3,PHONE_CALL,,,,,inboxSupport,agentB
                e13,CONTACT/HOLD_STARTED,2026-11-20T17:50:00.000Z,agentB,AGENT,,cust4,conv3,c3,PHONE_CALL,,MANUAL,,,inboxSupport,agentB
                "#
            )
    );
    assert_eq!(*stub.asked.lock().unwrap(), ["/api/v1/events"]);
}

#[test]
fn export_contacts_copies_a_documented_report_written_by_hand_after_its_filters() {
    // The Contact Export report's documented columns, two contacts.
    const CONTACTS: &str = "\
Queued At,Customer ID,Conversation ID,Contact ID,Link,Channel,Direction,Contact Initiator,Entry Point,Final IVR Selection
2026-11-19T16:00:00.000Z,cus1,con1,ct1,https://acme.gladly.com/customer/cus1/conversation/con1,EMAIL,INBOUND,Customer,help@acme.example,
2026-11-19T17:00:00.000Z,cus2,con2,ct2,https://acme.gladly.com/customer/cus2/conversation/con2,PHONE_CALL,INBOUND,Customer,+18005550000,\"__billing, tier 2\"
";
    let stub = report_stub(&[("ContactExportReportV3", CONTACTS)]);
    let test = stub.env(Test::new()).copy("jobs/export-contacts.yaml");
    test.run_args(&[
        "apply",
        "jobs/export-contacts.yaml",
        "--set",
        "from=2026-11-19",
        "--set",
        "inboxes=in1, in2",
    ])
    .expect(0, &[]);
    // Every column of the report, in its order, after the two filter columns.
    assert_eq!(
        test.read("jobs/exports/ContactExportReportV3.csv"),
        "Timezone Filter,Inboxes Filter,Queued At,Customer ID,Conversation ID,Contact ID,Link,Channel,Direction,Contact Initiator,Entry Point,Final IVR Selection\n\
         America/Los_Angeles,\"in1,in2\",2026-11-19T16:00:00.000Z,cus1,con1,ct1,https://acme.gladly.com/customer/cus1/conversation/con1,EMAIL,INBOUND,Customer,help@acme.example,\n\
         America/Los_Angeles,\"in1,in2\",2026-11-19T17:00:00.000Z,cus2,con2,ct2,https://acme.gladly.com/customer/cus2/conversation/con2,PHONE_CALL,INBOUND,Customer,+18005550000,\"__billing, tier 2\"\n"
    );
    let asked = report_bodies(&stub);
    assert_eq!(
        asked,
        [
            serde_json::json!({"metricSet": "ContactExportReportV3", "timezone": "America/Los_Angeles",
                            "startAt": "2026-11-19", "endAt": "2026-11-19",
                            "filters": {"inboxes": ["in1", "in2"]}})
        ]
    );
}

#[test]
fn report_work_sessions_sums_a_work_session_report_written_from_the_spec() {
    // The columns the API reference lists for the work-session report, in its order: two
    // ended work sessions and one still running, whose handle and after-contact times are
    // not known yet (the reference: "only available for a contact after it ends").
    const SESSIONS: &str = "\
id,contact_session_id,contact_session_created_at,customer_id,conversation_id,inbox_id,channel,direction,agent_accepted_at,contact_session_routed_at,agent_id,sla_fulfilled_at,contact_session_ended_at,status,within_sla,work_session_handle_time_sec,work_session_after_contact_time_sec,work_session_unknown_time_sec,accepted_inbox_id
ws1,cs1,2026-11-19T16:00:00.000Z,cus1,con1,in1,PHONE,INBOUND,2026-11-19T16:00:20.000Z,2026-11-19T16:00:05.000Z,ag1,2026-11-19T16:00:20.000Z,2026-11-19T16:10:00.000Z,ENDED,true,600,15,0,in1
ws2,cs2,2026-11-19T17:00:00.000Z,cus2,con2,in1,EMAIL,INBOUND,2026-11-19T17:02:00.000Z,2026-11-19T17:00:01.000Z,ag2,2026-11-19T17:05:00.000Z,2026-11-19T17:06:05.000Z,ENDED,false,245,30,5,in1
ws3,cs3,2026-11-19T23:50:00.000Z,cus3,con3,in2,CHAT,INBOUND,2026-11-19T23:51:00.000Z,2026-11-19T23:50:10.000Z,ag1,,,ACTIVE,,,,,in2
";
    let stub =
        crate::stub::Stub::start(&[("/api/v1/reports/work-session-events", "text/csv", SESSIONS)]);
    let test = stub.env(Test::new()).copy("jobs/report-work-sessions.yaml");
    test.run_args(&[
        "apply",
        "jobs/report-work-sessions.yaml",
        "--set",
        "startAtTime=2026-11-19T00:00-08:00",
        "--set",
        "endAtTime=2026-11-20T00:00-08:00",
    ])
    .expect(0, &[]);
    // Three work sessions; the running one adds nothing to the sums: 600 + 245 s handle
    // time, 15 + 30 s after contact.
    assert_eq!(
        test.read("jobs/reports/work-sessions.csv"),
        format!("{SESSIONS_HEADER}2026-11-19T00:00-08:00,2026-11-20T00:00-08:00,3,845,45\n")
    );
    assert_eq!(
        *stub.asked.lock().unwrap(),
        ["/api/v1/reports/work-session-events"]
    );
}
