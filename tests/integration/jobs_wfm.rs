//! events-wfm: spans between paired events split across 30-minute intervals, checked on a
//! constructed event stream with hand-computed figures, and on the sandbox's day of events.

use chrono::{DateTime, Utc};
use gladly_runner::sandbox::SandboxOptions;
use pretty_assertions::assert_eq;
use std::fmt::Write as _;

use crate::apply::{Org, csv_maps};
use crate::harness::{Test, unindent};

/// The constructed stream (tests/fixtures/wfm/events.jsonl, written from the spec's event
/// schemas: every required field, nothing the spec lacks), window 16:00–18:00Z
/// (08:00–10:00 in Los Angeles):
/// - agentA: voice from 16:05 to 16:50:30 (25 min in 08:00, 20.5 in 08:30), again from
///   17:10 to the 17:20 logout (10 in 09:00); holds contact c1 16:20–16:40 (10 + 10);
///   one outbound call at 16:10. An inbound call started by a customer counts nothing.
/// - agentB: voice from 17:15 with no closing event, so until endAt 18:00 (15 in 09:00,
///   30 in 09:30); an outbound EMAIL (not counted) and an outbound call at 17:45; a hold
///   from 17:50 never ended (10 in 09:30).
#[test]
fn spans_split_across_intervals_and_open_ones_run_to_the_window_end() {
    let test = Test::new().copy("jobs/events-wfm.yaml").copy_as(
        std::path::Path::new("tests/fixtures/wfm/events.jsonl"),
        "events.jsonl",
    );
    let out = test.run_args(&[
        "apply",
        "jobs/events-wfm.yaml",
        "--input",
        "events.jsonl",
        "--set",
        "startAt=2026-11-20T16:00:00Z",
        "--set",
        "endAt=2026-11-20T18:00:00Z",
    ]);
    out.expect(0, &[]);
    let report = test.read("jobs/reports/events-wfm.csv");
    assert_eq!(
        report,
        unindent(
            "
            Agent ID,Interval Start At,Timezone,Interval Duration (minutes),Voice Available (minutes),Agent Initiated Hold (minutes),Outbound Phone Calls
            agentA,2026-11-20 08:00,America/Los_Angeles,30,25,10,1
            agentA,2026-11-20 08:30,America/Los_Angeles,30,20.5,10,0
            agentA,2026-11-20 09:00,America/Los_Angeles,30,10,0,0
            agentB,2026-11-20 09:00,America/Los_Angeles,30,15,0,0
            agentB,2026-11-20 09:30,America/Los_Angeles,30,30,10,1
            "
        )
    );
    // Nothing failed to convert: the results file holds only its header.
    let results = test.read("jobs/results/events-wfm.csv");
    assert_eq!(results.lines().count(), 1, "{results}");
}

#[test]
fn another_zone_moves_the_interval_starts() {
    let test = Test::new().copy("jobs/events-wfm.yaml").copy_as(
        std::path::Path::new("tests/fixtures/wfm/events.jsonl"),
        "events.jsonl",
    );
    let out = test.run_args(&[
        "apply",
        "jobs/events-wfm.yaml",
        "--input",
        "events.jsonl",
        "--set",
        "startAt=2026-11-20T16:00:00Z",
        "--set",
        "endAt=2026-11-20T18:00:00Z",
        "--set",
        "timezone=Asia/Kolkata",
    ]);
    out.expect(0, &[]);
    let report = test.read("jobs/reports/events-wfm.csv");
    // Kolkata is UTC+05:30: intervals still start on the half hour there (21:30, 22:00…),
    // which are the same instants as in Los Angeles, so the figures do not move.
    let lines: Vec<&str> = report.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "agentA,2026-11-20 21:30,Asia/Kolkata,30,25,10,1",
            "agentA,2026-11-20 22:00,Asia/Kolkata,30,20.5,10,0",
            "agentA,2026-11-20 22:30,Asia/Kolkata,30,10,0,0",
            "agentB,2026-11-20 22:30,Asia/Kolkata,30,15,0,0",
            "agentB,2026-11-20 23:00,Asia/Kolkata,30,30,10,1",
        ]
    );
}

/// The sandbox's day (clock 2026-11-20T18:00Z): alice, bob and carol are each available
/// for voice 239 minutes before lunch and 200 after it (their logout closes the span);
/// bob and alice each hold a call 4 minutes; alice places 2 outbound calls, carol 1.
#[test]
fn the_sandbox_day_adds_up_per_agent() {
    let clock: DateTime<Utc> = "2026-11-20T18:00:00Z".parse().unwrap();
    let org = Org::start(SandboxOptions {
        clock: Some(clock),
        ..SandboxOptions::unlimited()
    });
    let test = org.env(Test::new()).copy("jobs/events-wfm.yaml");
    let out = test.run_args(&[
        "apply",
        "jobs/events-wfm.yaml",
        "--set",
        "startAt=2026-11-19T18:00:00Z",
        "--set",
        "endAt=2026-11-20T18:00:00Z",
    ]);
    out.expect(0, &[]);
    let requests: Vec<String> = org.log().into_iter().map(|r| r.path).collect();
    assert_eq!(
        requests.len(),
        1,
        "one request for the whole stream: {requests:?}"
    );
    let rows = csv_maps(&test.read("jobs/reports/events-wfm.csv"));
    let id = |label: &str| gladly_runner::sandbox::state::gladly_id(1, label);
    let (alice, bob, carol) = (id("agent:alice"), id("agent:bob"), id("agent:carol"));
    // Sums shown to 3 decimals, so figures compare as text.
    let total = |agent: &str, column: &str| -> String {
        let sum: f64 = rows
            .iter()
            .filter(|r| r["Agent ID"] == agent)
            .map(|r| r[column].parse::<f64>().unwrap())
            .sum();
        format!("{sum:.3}")
    };
    for agent in [&alice, &bob, &carol] {
        assert_eq!(total(agent, "Voice Available (minutes)"), "439.000");
    }
    let expected = [
        (&alice, "Agent Initiated Hold (minutes)", "4.000"),
        (&bob, "Agent Initiated Hold (minutes)", "4.000"),
        (&carol, "Agent Initiated Hold (minutes)", "0.000"),
        (&alice, "Outbound Phone Calls", "2.000"),
        (&bob, "Outbound Phone Calls", "0.000"),
        (&carol, "Outbound Phone Calls", "1.000"),
    ];
    for (agent, column, figure) in expected {
        assert_eq!(total(agent, column), figure, "{agent} {column}");
    }
    let line = |agent: &str, at: &str| {
        rows.iter()
            .find(|r| r["Agent ID"] == agent && r["Interval Start At"] == at)
            .map(|r| {
                [
                    "Voice Available (minutes)",
                    "Agent Initiated Hold (minutes)",
                    "Outbound Phone Calls",
                ]
                .map(|c| r[c].clone())
            })
    };
    // Alice becomes available at 22:01Z = 14:01 in Los Angeles.
    assert_eq!(
        line(&alice, "2026-11-19 14:00"),
        Some(["29", "0", "0"].map(String::from))
    );
    // 15:30–16:00: available throughout, a 4-minute hold, the 23:30Z outbound call.
    assert_eq!(
        line(&alice, "2026-11-19 15:30"),
        Some(["30", "4", "1"].map(String::from))
    );
    // Lunch (18:00–18:40 local): nothing in 18:00, 20 minutes in 18:30.
    assert_eq!(line(&alice, "2026-11-19 18:00"), None);
    assert_eq!(
        line(&alice, "2026-11-19 18:30"),
        Some(["20", "0", "0"].map(String::from))
    );
    // Alice is active in 15 intervals: 14:00–17:30 and 18:30–21:30 local.
    assert_eq!(rows.iter().filter(|r| r["Agent ID"] == alice).count(), 15);

    // The whole file, by hand (Los Angeles times). bob (offset 5 min): available 14:06 to
    // lunch at 18:05, 18:45 to logout at 22:05, hold 14:33–14:37. alice: 14:01–18:00 and
    // 18:40–22:00, calls at 15:00 and 15:30, hold 15:33–15:37. carol (offset 10):
    // 14:11–18:10 and 18:50–22:10, a call at 16:00. Lines by interval, then agent id.
    let mut expected = String::from(
        "Agent ID,Interval Start At,Timezone,Interval Duration (minutes),\
         Voice Available (minutes),Agent Initiated Hold (minutes),Outbound Phone Calls\n",
    );
    let mut line = |agent: &str, at: &str, figures: &str| {
        let _ = writeln!(
            expected,
            "{agent},2026-11-19 {at},America/Los_Angeles,30,{figures}"
        );
    };
    line(&bob, "14:00", "24,0,0");
    line(&alice, "14:00", "29,0,0");
    line(&carol, "14:00", "19,0,0");
    line(&bob, "14:30", "30,4,0");
    line(&alice, "14:30", "30,0,0");
    line(&carol, "14:30", "30,0,0");
    line(&bob, "15:00", "30,0,0");
    line(&alice, "15:00", "30,0,1");
    line(&carol, "15:00", "30,0,0");
    line(&bob, "15:30", "30,0,0");
    line(&alice, "15:30", "30,4,1");
    line(&carol, "15:30", "30,0,0");
    line(&bob, "16:00", "30,0,0");
    line(&alice, "16:00", "30,0,0");
    line(&carol, "16:00", "30,0,1");
    for at in ["16:30", "17:00", "17:30"] {
        for agent in [&bob, &alice, &carol] {
            line(agent, at, "30,0,0");
        }
    }
    line(&bob, "18:00", "5,0,0");
    line(&carol, "18:00", "10,0,0");
    line(&bob, "18:30", "15,0,0");
    line(&alice, "18:30", "20,0,0");
    line(&carol, "18:30", "10,0,0");
    for at in ["19:00", "19:30", "20:00", "20:30", "21:00", "21:30"] {
        for agent in [&bob, &alice, &carol] {
            line(agent, at, "30,0,0");
        }
    }
    line(&bob, "22:00", "5,0,0");
    line(&carol, "22:00", "10,0,0");
    assert_eq!(test.read("jobs/reports/events-wfm.csv"), expected);
}
