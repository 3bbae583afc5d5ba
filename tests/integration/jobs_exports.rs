//! The shipped export jobs (`jobs/export-topics.yaml`, `jobs/export-inboxes.yaml`,
//! `jobs/export-audiences.yaml`, `jobs/export-answers.yaml`, `jobs/export-conversation.yaml`,
//! `jobs/export-customer-conversations.yaml`), each applied as shipped to a fresh in-process
//! sandbox whose clock is pinned, so every exported file is compared byte for byte with the
//! expected text. Ids are the default org's (seed 1).

use gladly_runner::sandbox::SandboxOptions;
use pretty_assertions::assert_eq;

use crate::apply::{Org, csv_maps};
use crate::harness::{Outcome, Test};
use crate::jobs::{Rows, column, dry_run_sends_no_write};

/// The instant the sandbox is pinned to: the fixtures' timestamps are relative to it.
const CLOCK: &str = "2026-11-20T18:00:00Z";

/// A fresh default org living at [`CLOCK`].
fn pinned_org() -> Org {
    Org::start(SandboxOptions {
        clock: Some(CLOCK.parse().unwrap()),
        ..SandboxOptions::unlimited()
    })
}

/// A test folder holding `jobs/NAME.yaml` (and `jobs/data/NAME.csv` when the job reads a
/// file), pointed at `org`.
fn export_job(org: &Org, name: &str, data: bool) -> Test {
    let test = org.env(Test::new()).copy(&format!("jobs/{name}.yaml"));
    if data {
        test.copy(&format!("jobs/data/{name}.csv"))
    } else {
        test
    }
}

/// Applies the job with `extra` arguments.
fn run(test: &Test, name: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["apply".to_owned(), format!("jobs/{name}.yaml")];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    test.run_args(&args)
}

/// The results CSV of a job, as written.
fn results(test: &Test, name: &str) -> String {
    test.read(&format!("jobs/results/{name}.csv"))
}

/// A results CSV without its `duration_ms` column (the only one that varies by run).
fn without_duration(text: &str) -> String {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let at = rows[0].iter().position(|h| h == "duration_ms").unwrap();
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &mut rows {
        row.remove(at);
        writer.write_record(&*row).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

/// What a step-less export writes to its results when every row converted: the header.
const NO_FAILED_ROWS: &str = "row,line,result,outcome,step,http_status,attempts,duration_ms,error_code,detail,row_key,row_fingerprint\n";

/// An expected text with `␟` standing for the unit separator (U+001F) that joins the key
/// columns in `row_key`.
fn unit_separated(text: &str) -> String {
    text.replace('␟', "\u{1f}")
}

#[track_caller]
fn ran_cleanly(out: &Outcome) {
    out.expect(0, &[]);
}

#[test]
fn every_export_job_validates() {
    let mut test = Test::new().copy("jobs/data/export-answers.csv");
    let jobs = [
        "export-topics",
        "export-inboxes",
        "export-audiences",
        "export-answers",
        "export-conversation",
        "export-customer-conversations",
    ];
    for job in jobs {
        test = test.copy(&format!("jobs/{job}.yaml"));
    }
    let paths: Vec<String> = jobs.iter().map(|j| format!("jobs/{j}.yaml")).collect();
    let out = test
        .args(["validate"])
        .args(paths.iter().map(String::as_str))
        .run();
    assert_eq!(out.code(), 0, "{}{}", out.stdout(), out.stderr());
    assert_eq!(out.stderr(), "");
    for path in &paths {
        assert!(
            out.stdout().contains(&format!("ok: {path} (")),
            "{}",
            out.stdout()
        );
    }
}

const TOPICS: &str = "\
Id,Disabled,Name
E2h6l_l0jAKHr3uYNuIBRQ,false,Contact Reason > Returns > Wrong Size
P60bRGpVkaD_J7EIAD_xWA,false,Contact Reason > Shipping > Late Delivery
RkmZzoOoe3b7VgFvhb3tlQ,false,Contact Reason > Returns
dUo8JV_itXdUV-VGO3o_Ig,false,Contact Reason > Billing Question
il-84BpCOYp_w7nEM7haNw,false,Contact Reason > Shipping
payi5Q-i_If4VCdMJw8zRw,false,Contact Reason
rmgC0B8MvPi4h6f9dc0u0g,true,Loyalty Program (ARCHIVED)
uAWr_tsAGOjsGPXQfQe_pw,false,VIP
";

#[test]
fn export_topics_names_each_topic_after_its_parents() {
    let org = pinned_org();
    let test = export_job(&org, "export-topics", false);
    let out = run(&test, "export-topics", &[]);
    ran_cleanly(&out);
    assert_eq!(test.read("jobs/exports/topics.csv"), TOPICS);
    assert_eq!(results(&test, "export-topics"), NO_FAILED_ROWS);
}

const INBOXES: &str = "\
id,name,disabled
3qbOy2HIHsROeHD3dk7N2g,Billing,false
Tw9stYZXlgKj29uKZknNaA,Returns,false
UByuxIOq9ga_caQJ4RvLyQ,Legacy,true
UvOaCZhAHwP_x8_uhyBvlA,VIP,false
w8nXqej9YUXh4aOq-RsA_g,Support,false
";

#[test]
fn export_inboxes_lists_every_inbox_and_whether_it_is_disabled() {
    let org = pinned_org();
    let test = export_job(&org, "export-inboxes", false);
    let out = run(&test, "export-inboxes", &[]);
    ran_cleanly(&out);
    assert_eq!(test.read("jobs/exports/inboxes.csv"), INBOXES);
    assert_eq!(results(&test, "export-inboxes"), NO_FAILED_ROWS);
}

const AUDIENCES: &str = "\
id,name
prX66bPSh9uKIUMeM8cyfQ,VIP Customers
r4RnsWUPJ6IEb8GpLUHEnA,Audience 2
z4naeVEoZwSa0GzipBhh6g,Audience 1
";

#[test]
fn export_audiences_lists_every_audience() {
    let org = pinned_org();
    let test = export_job(&org, "export-audiences", false);
    let out = run(&test, "export-audiences", &[]);
    ran_cleanly(&out);
    assert_eq!(test.read("jobs/exports/audiences.csv"), AUDIENCES);
    assert_eq!(results(&test, "export-audiences"), NO_FAILED_ROWS);
}

const ANSWERS_HEADER: &str = "Description,Id,Title,Response Content - Email,Response Content - Messaging,Response Content - Public,Response Title - Public,Info Content,Internal,Email Subject,Language,Audiences\n";

const ANSWERS: &str = "\
Greeting customers,kTajkIbsQpXv6RIfjCR9eg,How to: Say Hello,,,<p>Hello!</p>,Say hello,,,,en-us,Audience 1
Greeting customers,kTajkIbsQpXv6RIfjCR9eg,How to: Say Hello,,,<p>Bonjour!</p>,Dire bonjour,,,,fr-ca,Audience 1
30-day returns,k5Uju8BDjXB3ELUWQ7vVNg,Return Policy,<p>Return within 30 days.</p>,Return within 30 days.,<p>Return within 30 days.</p>,Returns,\"<p>After 30 days, a return needs a team lead's approval.</p>\",false,Our return policy,en-us,\"Audience 1,Audience 2\"
30-day returns,k5Uju8BDjXB3ELUWQ7vVNg,Return Policy,<p>Retour sous 30 jours.</p>,,<p>Retour sous 30 jours.</p>,Retours,,,Notre politique de retour,fr-ca,\"Audience 1,Audience 2\"
Used by an escalation rule,j5cMtK-t5qYWt4Orl2gCCA,Internal Escalation,,,,,<p>Escalate to Tier 2.</p>,true,,en-us,
";

/// The results of the sample answers; `␟` stands for the unit separator (see
/// [`unit_separated`]).
const ANSWERS_RESULTS: &str = r#"row,line,answerId,language,result,outcome,step,http_status,attempts,error_code,detail,answer.name,answer.description,answer.audienceIds,public.title,public.body,email.subject,email.body,messaging.body,reference.body,reference.internal,row_key,row_fingerprint
1,2,kTajkIbsQpXv6RIfjCR9eg,en-us,done,exported,reference,404,5,,,How to: Say Hello,Greeting customers,"[""z4naeVEoZwSa0GzipBhh6g""]",Say hello,<p>Hello!</p>,,,,,,kTajkIbsQpXv6RIfjCR9eg␟en-us,bbd2a42490062f67
2,3,kTajkIbsQpXv6RIfjCR9eg,fr-ca,done,exported,reference,404,5,,,How to: Say Hello,Greeting customers,"[""z4naeVEoZwSa0GzipBhh6g""]",Dire bonjour,<p>Bonjour!</p>,,,,,,kTajkIbsQpXv6RIfjCR9eg␟fr-ca,6a2b5e4220f181c1
3,4,k5Uju8BDjXB3ELUWQ7vVNg,en-us,done,exported,reference,200,5,,,Return Policy,30-day returns,"[""z4naeVEoZwSa0GzipBhh6g"",""r4RnsWUPJ6IEb8GpLUHEnA""]",Returns,<p>Return within 30 days.</p>,Our return policy,<p>Return within 30 days.</p>,Return within 30 days.,"<p>After 30 days, a return needs a team lead's approval.</p>",false,k5Uju8BDjXB3ELUWQ7vVNg␟en-us,abe826ab41c64d56
4,5,k5Uju8BDjXB3ELUWQ7vVNg,fr-ca,done,exported,reference,404,5,,,Return Policy,30-day returns,"[""z4naeVEoZwSa0GzipBhh6g"",""r4RnsWUPJ6IEb8GpLUHEnA""]",Retours,<p>Retour sous 30 jours.</p>,Notre politique de retour,<p>Retour sous 30 jours.</p>,,,,k5Uju8BDjXB3ELUWQ7vVNg␟fr-ca,58a40a53370dfb91
5,6,j5cMtK-t5qYWt4Orl2gCCA,en-us,done,exported,reference,200,5,,,Internal Escalation,Used by an escalation rule,[],,,,,,<p>Escalate to Tier 2.</p>,true,j5cMtK-t5qYWt4Orl2gCCA␟en-us,e284c8275f006cd0
"#;

#[test]
fn export_answers_gives_each_answer_and_language_its_content_of_every_type() {
    let org = pinned_org();
    let test = export_job(&org, "export-answers", true);
    let out = run(&test, "export-answers", &[]);
    ran_cleanly(&out);
    assert_eq!(
        test.read("jobs/exports/answers.csv"),
        format!("{ANSWERS_HEADER}{ANSWERS}")
    );
    assert_eq!(
        without_duration(&results(&test, "export-answers")),
        unit_separated(ANSWERS_RESULTS)
    );
    let reads: Vec<String> = org.log().into_iter().map(|r| r.method).collect();
    assert_eq!(reads.len(), 1 + 5 * 5, "the audiences, then 5 reads a row");
    assert!(reads.iter().all(|m| m == "GET"), "{reads:?}");
}

#[test]
fn export_answers_from_another_list_reports_unknown_answers_and_languages() {
    let org = pinned_org();
    let test = export_job(&org, "export-answers", false).file(
        "mine.csv",
        "answerId,language\n\
         k5Uju8BDjXB3ELUWQ7vVNg,FR-CA\n\
         j5cMtK-t5qYWt4Orl2gCCA,\n\
         nOtAnAnSwEr00000000000,en-us\n\
         kTajkIbsQpXv6RIfjCR9eg,de-de\n",
    );
    let out = run(&test, "export-answers", &["--input", "mine.csv"]);
    out.expect(3, &["row 3 (line 4): step `answer`: answer does not exist", "row 4 (line 5): step `public`: language: language [de-de] is not configured for the organization (en-us, fr-ca)"]);
    assert_eq!(
        test.read("jobs/exports/answers.csv"),
        format!(
            "{ANSWERS_HEADER}\
             30-day returns,k5Uju8BDjXB3ELUWQ7vVNg,Return Policy,<p>Retour sous 30 jours.</p>,,<p>Retour sous 30 jours.</p>,Retours,,,Notre politique de retour,fr-ca,\"Audience 1,Audience 2\"\n\
             Used by an escalation rule,j5cMtK-t5qYWt4Orl2gCCA,Internal Escalation,,,,,<p>Escalate to Tier 2.</p>,true,,en-us,\n"
        ),
        "the language is read in any case and defaults to en-us; failed rows are left out"
    );
    let rows: Rows = csv_maps(&results(&test, "export-answers"));
    assert_eq!(
        column(&rows, "result"),
        ["done", "done", "rejected", "rejected"]
    );
    assert_eq!(
        column(&rows, "outcome"),
        ["exported", "exported", "not_found", "rejected"]
    );
    assert_eq!(
        column(&rows, "step"),
        ["reference", "reference", "answer", "public"]
    );
    assert_eq!(
        column(&rows, "error_code"),
        ["", "", "not_exist", "invalid"]
    );
    assert_eq!(rows[2]["detail"], "answer does not exist");
    assert_eq!(
        rows[3]["detail"],
        "language: language [de-de] is not configured for the organization (en-us, fr-ca)"
    );
    assert_eq!(
        rows[3]["answer.name"], "How to: Say Hello",
        "what was read before the failure is kept"
    );
}

#[test]
fn export_answers_dry_run_only_reads() {
    let plan = dry_run_sends_no_write(
        "export-answers",
        &["planned", "planned", "planned", "planned", "planned"],
    );
    assert_eq!(plan.len(), 5 * 5, "{plan:#?}");
}

const ITEMS_HEADER: &str = "id,customerId,conversationId,sessionId,timestamp,initiator.id,initiator.type,responder.id,responder.type,content.type,content.messageType,content.sessionId,content.content,content.attachments,content.status,content.title,content.body,content.activityType,content.sourceName,content.link.url,content.link.text,content.expandByDefault,content.occurredAt,content.receivedAt,content.from,content.to,content.cc,content.bcc,content.subject,content.pageId,content.userId,content.startedAt,content.answeredAt,content.completedAt,content.recordingUrl,content.recordingDuration,content.recordingSummary.status,content.recordingSummary.summary,content.recordingSummary.language,content.addedTopicIds,content.removedTopicIds\n";

/// Ada's email thread: two emails (cc, bcc), two topic changes, the close.
const ADA_EMAIL_ITEMS: &str = "\
jB17VK5VbjM5owMBieP3dw,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,,2026-11-19T22:50:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,CUSTOMER,,,EMAIL,,,Could you send me a copy of invoice #3003? Please copy my work address.,,,,,,,,,,,,ada@example.com,billing@acme.example,ada.l@work.example,,Copy of invoice #3003,,,,,,,,,,,,
Q2EBhD_8GPLBs33RTKENkA,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,,2026-11-19T23:00:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,EMAIL,,,Here is the copy of invoice #3003.,,,,,,,,,,,,billing@acme.example,ada@example.com,ada.l@work.example,records@acme.example,Re: Copy of invoice #3003,,,,,,,,,,,,
PSjsAZ_oXG-mA9Amropzfw,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,,2026-11-19T23:02:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,TOPIC_CHANGE,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,il-84BpCOYp_w7nEM7haNw,
S2ua_TQ_Zn4M5YbLyB3A4w,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,,2026-11-19T23:04:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,TOPIC_CHANGE,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,dUo8JV_itXdUV-VGO3o_Ig,il-84BpCOYp_w7nEM7haNw
mvXP8_8bv0fH0kbW5NS7tA,GfkFIKfgRoQ85jUsrlJqIQ,tqbdfxQ1OaQ5Za89NoOCdw,,2026-11-19T23:20:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,CONVERSATION_STATUS_CHANGE,,,,,CLOSED,,,,,,,,,,,,,,,,,,,,,,,,,,
";

/// Alice's recorded outbound call to Ada, answered by Ada, then the close.
const ADA_CALL_ITEMS: &str = "\
H1TcZiZwlGdj9WIbkXAMJQ,GfkFIKfgRoQ85jUsrlJqIQ,Ua2HMJZk3nwP34Y_0IF5NA,,2026-11-19T23:30:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,GfkFIKfgRoQ85jUsrlJqIQ,CUSTOMER,PHONE_CALL,,,,,,,,,,,,,,,+18005550000,+14155550101,,,,,,2026-11-19T23:30:00.000Z,2026-11-19T23:30:12.000Z,2026-11-19T23:40:00.000Z,/api/v1/conversation-items/H1TcZiZwlGdj9WIbkXAMJQ/media/recording,588,READY,Agent confirmed invoice #3003 was resent.,en-us,,
pOKV0_iYUFJvPbH7jfb8rw,GfkFIKfgRoQ85jUsrlJqIQ,Ua2HMJZk3nwP34Y_0IF5NA,,2026-11-20T00:00:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,CONVERSATION_STATUS_CHANGE,,,,,CLOSED,,,,,,,,,,,,,,,,,,,,,,,,,,
";

/// Ada's open chat.
const ADA_CHAT_ITEMS: &str = "\
wCWadfchNKnJv2D_g7RpWg,GfkFIKfgRoQ85jUsrlJqIQ,V8TlCIVeq4s5AfdeWfQ8RQ,8Pj5i2GeLj2Rb-WFuH1iCw,2026-11-20T16:00:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,CUSTOMER,,,CHAT_MESSAGE,TEXT,8Pj5i2GeLj2Rb-WFuH1iCw,\"Hi, my invoice looks wrong\",,,,,,,,,,,,,,,,,,,,,,,,,,,,
BfrgAFSVDJeiZCU6vo-ZhA,GfkFIKfgRoQ85jUsrlJqIQ,V8TlCIVeq4s5AfdeWfQ8RQ,8Pj5i2GeLj2Rb-WFuH1iCw,2026-11-20T16:10:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,AGENT,,,CHAT_MESSAGE,TEXT,8Pj5i2GeLj2Rb-WFuH1iCw,Let me check that for you,,,,,,,,,,,,,,,,,,,,,,,,,,,,
b_uaaH7IL2ls2Vim1MxzWg,GfkFIKfgRoQ85jUsrlJqIQ,V8TlCIVeq4s5AfdeWfQ8RQ,8Pj5i2GeLj2Rb-WFuH1iCw,2026-11-20T17:00:00.000Z,GfkFIKfgRoQ85jUsrlJqIQ,CUSTOMER,,,CHAT_MESSAGE,TEXT,8Pj5i2GeLj2Rb-WFuH1iCw,Any news?,,,,,,,,,,,,,,,,,,,,,,,,,,,,
";

/// Alan's recorded inbound call, bob's note, the topic change and the close.
const ALAN_CALL_ITEMS: &str = "\
qLtrdkwSjP_W5OjOAUFQwQ,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,,2026-11-19T22:30:00.000Z,sOLfzwZmW1UJfUhFw7BYpA,CUSTOMER,,,PHONE_CALL,,,,,,,,,,,,,,,+14155550103,+18005550000,,,,,,2026-11-19T22:30:00.000Z,2026-11-19T22:32:00.000Z,2026-11-19T22:40:00.000Z,/api/v1/conversation-items/qLtrdkwSjP_W5OjOAUFQwQ/media/recording,245,READY,Customer asked where the parcel is.,en-us,,
AD5W0T8JGjH7ER0hRbrC-A,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,,2026-11-19T22:41:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,,,CONVERSATION_NOTE,,,,,,,Carrier confirmed a two-day delay.,,,,,,,,,,,,,,,,,,,,,,,,
_Jb9gnPaiR-41KUYuzOxAA,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,,2026-11-19T22:42:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,,,TOPIC_CHANGE,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,P60bRGpVkaD_J7EIAD_xWA,
nQx7KiAWDTq3IztEMJHU6Q,sOLfzwZmW1UJfUhFw7BYpA,mN3aZHr6KrzF9lYDg9YmXQ,,2026-11-19T23:00:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,AGENT,,,CONVERSATION_STATUS_CHANGE,,,,,CLOSED,,,,,,,,,,,,,,,,,,,,,,,,,,
";

#[test]
fn export_conversation_writes_every_item_with_the_portals_columns() {
    let org = pinned_org();
    let test = export_job(&org, "export-conversation", false);
    let out = run(&test, "export-conversation", &[]);
    ran_cleanly(&out);
    assert_eq!(
        test.read("jobs/exports/conversation-tqbdfxQ1OaQ5Za89NoOCdw.csv"),
        format!("{ITEMS_HEADER}{ADA_EMAIL_ITEMS}")
    );
    assert_eq!(results(&test, "export-conversation"), NO_FAILED_ROWS);

    // Another conversation: a phone call with its recording, a note, a topic change.
    let out = run(
        &test,
        "export-conversation",
        &["--set", "conversationId=mN3aZHr6KrzF9lYDg9YmXQ"],
    );
    ran_cleanly(&out);
    assert_eq!(
        test.read("jobs/exports/conversation-mN3aZHr6KrzF9lYDg9YmXQ.csv"),
        format!("{ITEMS_HEADER}{ALAN_CALL_ITEMS}")
    );
    assert_eq!(results(&test, "export-conversation"), NO_FAILED_ROWS);
}

#[test]
fn export_conversation_of_an_unknown_id_stops_before_writing() {
    let org = pinned_org();
    let test = export_job(&org, "export-conversation", false);
    let out = run(
        &test,
        "export-conversation",
        &["--set", "conversationId=nOtAcOnVeRsAtIoN000000"],
    );
    assert_eq!(out.code(), 5, "{}{}", out.stdout(), out.stderr());
    assert!(
        out.stderr().contains(
            "GET /api/v1/conversations/nOtAcOnVeRsAtIoN000000/items answered 404: \
             conversation [nOtAcOnVeRsAtIoN000000] does not exist"
        ),
        "{}",
        out.stderr()
    );
    assert!(
        !test
            .dir()
            .join("jobs/exports/conversation-nOtAcOnVeRsAtIoN000000.csv")
            .exists()
    );
}

const ADA_CONVERSATIONS: &str = r#"id,topicIds,customAttributes,customerId,createdAt,agentId,inboxId,status
tqbdfxQ1OaQ5Za89NoOCdw,dUo8JV_itXdUV-VGO3o_Ig,"[{""id"":""W4ccZ0bG6cMBaTL9jMggAQ"",""value"":""3003""}]",GfkFIKfgRoQ85jUsrlJqIQ,2026-11-19T22:50:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,3qbOy2HIHsROeHD3dk7N2g,CLOSED
Ua2HMJZk3nwP34Y_0IF5NA,dUo8JV_itXdUV-VGO3o_Ig,,GfkFIKfgRoQ85jUsrlJqIQ,2026-11-19T23:30:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,3qbOy2HIHsROeHD3dk7N2g,CLOSED
V8TlCIVeq4s5AfdeWfQ8RQ,,,GfkFIKfgRoQ85jUsrlJqIQ,2026-11-20T16:00:00.000Z,KM6NJzfhj5Mq1EcH0__P5Q,w8nXqej9YUXh4aOq-RsA_g,OPEN
"#;

const ALAN_CONVERSATIONS: &str = "\
id,topicIds,customAttributes,customerId,createdAt,agentId,inboxId,status
mN3aZHr6KrzF9lYDg9YmXQ,P60bRGpVkaD_J7EIAD_xWA,,sOLfzwZmW1UJfUhFw7BYpA,2026-11-19T22:30:00.000Z,FAYlGDBzA6WeEqyaqWGSdA,w8nXqej9YUXh4aOq-RsA_g,CLOSED
";

#[test]
fn export_customer_conversations_writes_the_conversations_and_all_their_items() {
    let org = pinned_org();
    let test = export_job(&org, "export-customer-conversations", false);
    let out = run(&test, "export-customer-conversations", &[]);
    ran_cleanly(&out);
    let dir = "jobs/exports/customer-GfkFIKfgRoQ85jUsrlJqIQ";
    assert_eq!(
        test.read(&format!("{dir}/conversations.csv")),
        ADA_CONVERSATIONS
    );
    assert_eq!(
        test.read(&format!("{dir}/conversation-items.csv")),
        format!("{ITEMS_HEADER}{ADA_EMAIL_ITEMS}{ADA_CALL_ITEMS}{ADA_CHAT_ITEMS}")
    );
    let rows = csv_maps(&results(&test, "export-customer-conversations"));
    assert_eq!(
        column(&rows, "id"),
        [
            "tqbdfxQ1OaQ5Za89NoOCdw",
            "Ua2HMJZk3nwP34Y_0IF5NA",
            "V8TlCIVeq4s5AfdeWfQ8RQ"
        ]
    );
    assert_eq!(column(&rows, "result"), ["done", "done", "done"]);
    assert_eq!(column(&rows, "step"), ["items", "items", "items"]);
    assert_eq!(column(&rows, "items.count"), ["5", "2", "3"]);
    // The captured list feeds the items file only: `_list` stays out of the results.
    assert!(!rows[1].contains_key("items._list"), "{:?}", rows[1]);

    // Another customer: Alan, with one phone call, in a ledger of its own (Ada's is never
    // overwritten).
    let ada = results(&test, "export-customer-conversations");
    let out = run(
        &test,
        "export-customer-conversations",
        &[
            "--set",
            "customerId=sOLfzwZmW1UJfUhFw7BYpA",
            "--results",
            "jobs/results/alan.csv",
        ],
    );
    ran_cleanly(&out);
    assert_eq!(results(&test, "export-customer-conversations"), ada);
    let dir = "jobs/exports/customer-sOLfzwZmW1UJfUhFw7BYpA";
    assert_eq!(
        test.read(&format!("{dir}/conversations.csv")),
        ALAN_CONVERSATIONS
    );
    assert_eq!(
        test.read(&format!("{dir}/conversation-items.csv")),
        format!("{ITEMS_HEADER}{ALAN_CALL_ITEMS}")
    );
    let rows = csv_maps(&test.read("jobs/results/alan.csv"));
    assert_eq!(column(&rows, "id"), ["mN3aZHr6KrzF9lYDg9YmXQ"]);
    assert_eq!(column(&rows, "items.count"), ["4"]);
}

// ------------------------------------------- on input written from the API reference

/// Topics as the reference's `GET /topics` schema gives them (`id`, `name`, `disabled`,
/// `parentId` only where there is a parent): a tree three deep, out of order.
const SPEC_TOPICS: &str = r#"[
  {"id": "t3", "name": "Damaged", "disabled": false, "parentId": "t2"},
  {"id": "t1", "name": "Orders", "disabled": false},
  {"id": "t2", "name": "Returns", "disabled": true, "parentId": "t1"},
  {"id": "t4", "name": "Billing", "disabled": false}
]"#;

#[test]
fn list_exports_write_spec_shaped_lists_as_worked_out_by_hand() {
    let stub = crate::stub::Stub::start(&[
        ("/api/v1/topics", "application/json", SPEC_TOPICS),
        (
            "/api/v1/inboxes",
            "application/json",
            r#"[{"id": "in1", "name": "Support", "disabled": false}, {"id": "in2", "name": "Legacy, old", "disabled": true}]"#,
        ),
        (
            "/api/v1/audiences",
            "application/json",
            r#"[{"id": "au1", "name": "VIP Customers"}]"#,
        ),
    ]);
    let test = stub
        .env(Test::new())
        .copy("jobs/export-topics.yaml")
        .copy("jobs/export-inboxes.yaml")
        .copy("jobs/export-audiences.yaml");
    for job in ["export-topics", "export-inboxes", "export-audiences"] {
        test.run_args(&["apply", &format!("jobs/{job}.yaml")])
            .expect(0, &[]);
    }
    // Each topic named after its parents, in the list's order.
    assert_eq!(
        test.read("jobs/exports/topics.csv"),
        "Id,Disabled,Name\nt3,false,Orders > Returns > Damaged\nt1,false,Orders\nt2,true,Orders > Returns\nt4,false,Billing\n"
    );
    assert_eq!(
        test.read("jobs/exports/inboxes.csv"),
        "id,name,disabled\nin1,Support,false\nin2,\"Legacy, old\",true\n"
    );
    assert_eq!(
        test.read("jobs/exports/audiences.csv"),
        "id,name\nau1,VIP Customers\n"
    );
    // The topics twice (the rows and the lookup), the inboxes and audiences once.
    let mut asked = stub.asked.lock().unwrap().clone();
    asked.sort();
    assert_eq!(
        asked,
        [
            "/api/v1/audiences",
            "/api/v1/inboxes",
            "/api/v1/topics",
            "/api/v1/topics"
        ]
    );
}

/// One conversation's items as the reference's `GET /conversations/{id}/items` schema
/// gives them: a chat message (with its session), an email, a call.
const SPEC_CONVERSATION_ITEMS: &str = r#"[
  {"id": "ci1", "customerId": "cus1", "conversationId": "con1", "timestamp": "2026-11-19T10:00:00.000Z",
   "initiator": {"id": "cus1", "type": "CUSTOMER"},
   "content": {"type": "CHAT_MESSAGE", "messageType": "TEXT", "sessionId": "ses1", "content": "Hi there"}},
  {"id": "ci2", "customerId": "cus1", "conversationId": "con1", "timestamp": "2026-11-19T10:05:00.000Z",
   "initiator": {"id": "agt1", "type": "AGENT"},
   "content": {"type": "EMAIL", "from": "help@acme.example", "to": ["ada@example.com"], "cc": ["boss@example.com", "team@example.com"],
               "subject": "Your order", "content": "It shipped"}},
  {"id": "ci3", "customerId": "cus1", "conversationId": "con1", "timestamp": "2026-11-19T10:10:00.000Z",
   "initiator": {"id": "cus1", "type": "CUSTOMER"}, "responder": {"id": "agt1", "type": "AGENT"},
   "content": {"type": "PHONE_CALL", "from": "+14155550101", "to": "+18005550000", "startedAt": "2026-11-19T10:10:00Z",
               "completedAt": "2026-11-19T10:12:00Z", "recordingStatus": "AVAILABLE", "recordingDuration": 120}}
]"#;

#[test]
fn export_conversation_writes_spec_shaped_items_with_the_portals_columns_by_hand() {
    let stub = crate::stub::Stub::start(&[(
        "/api/v1/conversations/con1/items",
        "application/json",
        SPEC_CONVERSATION_ITEMS,
    )]);
    let test = stub.env(Test::new()).copy("jobs/export-conversation.yaml");
    test.run_args(&[
        "apply",
        "jobs/export-conversation.yaml",
        "--set",
        "conversationId=con1",
    ])
    .expect(0, &[]);
    let text = test.read("jobs/exports/conversation-con1.csv");
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows[0].len(), 41, "the portal's 41 columns");
    assert!(rows.iter().all(|r| r.len() == 41));
    let cell = |row: usize, column: &str| {
        let at = rows[0].iter().position(|c| c == column).unwrap();
        rows[row][at].clone()
    };
    assert_eq!(rows.len(), 4);
    // The portal's `sessionId` is the chat's session.
    assert_eq!(cell(1, "sessionId"), "ses1");
    assert_eq!(cell(1, "content.content"), "Hi there");
    assert_eq!(cell(2, "sessionId"), "");
    assert_eq!(cell(2, "content.cc"), "boss@example.com,team@example.com");
    assert_eq!(cell(2, "content.subject"), "Your order");
    assert_eq!(cell(3, "responder.id"), "agt1");
    assert_eq!(cell(3, "content.completedAt"), "2026-11-19T10:12:00Z");
    assert_eq!(cell(3, "content.recordingDuration"), "120");
    assert_eq!(
        *stub.asked.lock().unwrap(),
        ["/api/v1/conversations/con1/items"]
    );
}

#[test]
fn export_customer_conversations_writes_spec_shaped_conversations_and_items_by_hand() {
    // A customer's conversations as the reference's schema gives them (`closedAt` only
    // on the closed one), and each one's items.
    let conversations = r#"[
      {"id": "con1", "customerId": "cus1", "inboxId": "in1", "agentId": "agt1", "status": "CLOSED",
       "createdAt": "2026-11-18T09:00:00.000Z", "closedAt": "2026-11-18T10:00:00.000Z",
       "topicIds": ["top1", "top2"], "customAttributes": [{"id": "ca1", "value": "ORD-42"}]},
      {"id": "con2", "customerId": "cus1", "inboxId": "in2", "status": "OPEN",
       "createdAt": "2026-11-19T09:00:00.000Z", "topicIds": [], "customAttributes": []}
    ]"#;
    let stub = crate::stub::Stub::start(&[
        (
            "/api/v1/customers/cus1/conversations",
            "application/json",
            conversations,
        ),
        (
            "/api/v1/conversations/con1/items",
            "application/json",
            SPEC_CONVERSATION_ITEMS,
        ),
        ("/api/v1/conversations/con2/items", "application/json", "[]"),
    ]);
    let test = stub
        .env(Test::new())
        .copy("jobs/export-customer-conversations.yaml");
    test.run_args(&[
        "apply",
        "jobs/export-customer-conversations.yaml",
        "--set",
        "customerId=cus1",
    ])
    .expect(0, &[]);
    assert_eq!(
        test.read("jobs/exports/customer-cus1/conversations.csv"),
        "id,topicIds,customAttributes,customerId,createdAt,agentId,inboxId,status\n\
         con1,\"top1,top2\",\"[{\"\"id\"\":\"\"ca1\"\",\"\"value\"\":\"\"ORD-42\"\"}]\",cus1,2026-11-18T09:00:00.000Z,agt1,in1,CLOSED\n\
         con2,,,cus1,2026-11-19T09:00:00.000Z,,in2,OPEN\n"
    );
    // The items of both, in order: con1's three, con2 none.
    let items = test.read("jobs/exports/customer-cus1/conversation-items.csv");
    let ids: Vec<&str> = items
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["ci1", "ci2", "ci3"]);
    let mut asked = stub.asked.lock().unwrap().clone();
    asked.sort();
    assert_eq!(
        asked,
        [
            "/api/v1/conversations/con1/items",
            "/api/v1/conversations/con2/items",
            "/api/v1/customers/cus1/conversations"
        ]
    );
}

#[test]
fn export_answers_writes_spec_shaped_answers_and_contents_by_hand() {
    // An answer and its en-us contents as the reference's schemas give them: public
    // (title, bodyHtml), email (subject, bodyHtml), reference (bodyHtml, internal); no
    // messaging content (Gladly answers 404: the cell stays empty).
    let stub = crate::stub::Stub::start(&[
        (
            "/api/v1/answers/ans1",
            "application/json",
            r#"{"id": "ans1", "name": "Returns policy", "description": "How returns work",
                "audienceIds": ["au1", "au2"], "createdAt": "2026-01-01T00:00:00.000Z"}"#,
        ),
        (
            "/api/v1/answers/ans1/languages/en-us/type/public",
            "application/json",
            r#"{"answerId": "ans1", "language": "en-us", "type": "public",
                "title": "Returning an item", "bodyHtml": "<p>Within 30 days.</p>"}"#,
        ),
        (
            "/api/v1/answers/ans1/languages/en-us/type/email",
            "application/json",
            r#"{"answerId": "ans1", "language": "en-us", "type": "email",
                "subject": "Your return", "bodyHtml": "<p>Here is your label.</p>"}"#,
        ),
        (
            "/api/v1/answers/ans1/languages/en-us/type/reference",
            "application/json",
            r#"{"answerId": "ans1", "language": "en-us", "type": "reference",
                "bodyHtml": "<p>Check the order first.</p>", "internal": true}"#,
        ),
        (
            "/api/v1/audiences",
            "application/json",
            r#"[{"id": "au1", "name": "VIP Customers"}, {"id": "au2", "name": "Wholesale"}, {"id": "au3", "name": "Staff"}]"#,
        ),
    ]);
    let test = stub
        .env(Test::new())
        .copy("jobs/export-answers.yaml")
        .file("answers.csv", "answerId,language\nans1,en-us\n");
    test.run_args(&[
        "apply",
        "jobs/export-answers.yaml",
        "--input",
        "answers.csv",
    ])
    .expect(0, &[]);
    assert_eq!(
        test.read("jobs/exports/answers.csv"),
        "Description,Id,Title,Response Content - Email,Response Content - Messaging,Response Content - Public,Response Title - Public,Info Content,Internal,Email Subject,Language,Audiences\n\
         How returns work,ans1,Returns policy,<p>Here is your label.</p>,,<p>Within 30 days.</p>,Returning an item,<p>Check the order first.</p>,true,Your return,en-us,\"VIP Customers,Wholesale\"\n"
    );
    let results = csv_maps(&test.read("jobs/results/export-answers.csv"));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["result"], "done");
}
