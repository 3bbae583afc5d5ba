//! What the engine reports while it runs: row and throttling events for a listener
//! (the cli's progress display), and the summary of a finished run.
//!
//! The engine never prints; it calls a [`Listener`] and returns a [`RunSummary`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::results::ResultKind;

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// The run starts; `total` is the number of rows when known.
    Started {
        /// Rows to run (after resume filtering), when known.
        total: Option<u64>,
    },
    /// A row finished and was recorded.
    RowFinished {
        /// 1-based row number.
        row: u64,
        /// How it ended.
        result: ResultKind,
        /// Its outcome label.
        outcome: String,
    },
    /// An export job converted rows (the running total).
    RowsConverted {
        /// Rows converted so far.
        rows: u64,
    },
    /// The server answered 429 (or said no budget was left): every worker pauses.
    Throttled {
        /// How long the pause lasts.
        wait: Duration,
    },
    /// A request is sent again after a failure.
    Retrying {
        /// 1-based row number.
        row: u64,
        /// The step.
        step: String,
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        /// Why (`503`, `timeout`, `connection reset`).
        reason: String,
    },
}

/// Receives events as they happen; called from worker tasks, so it must be cheap.
pub(crate) trait Listener: Send + Sync {
    /// Called for every event.
    fn event(&self, event: &Event);
}

/// A listener that ignores everything (tests, `-q`).
#[derive(Debug, Default, Clone, Copy)]
#[cfg(test)]
pub(crate) struct Silent;

#[cfg(test)]
impl Listener for Silent {
    fn event(&self, _: &Event) {}
}

/// Why a run stopped before every row was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A rule with `action: abort` matched (row number and message).
    Aborted {
        /// The row whose rule aborted.
        row: u64,
        /// The rule's message.
        message: String,
    },
    /// SIGINT (Ctrl-C), SIGTERM or SIGHUP.
    Interrupted,
    /// The ledger could not be written (disk full, I/O error): nothing more is sent.
    Ledger(String),
    /// The API stopped answering: rows kept failing in transit after every retry.
    Outage(String),
    /// The credentials were refused (401/403) or the host cannot be used.
    Fatal(String),
}

/// What a finished (or stopped) run did.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunSummary {
    /// Rows recorded in this run.
    pub rows: u64,
    /// Rows per result kind.
    pub by_result: BTreeMap<ResultKind, u64>,
    /// Rows per outcome label.
    pub by_outcome: BTreeMap<String, u64>,
    /// Rows a continued run left out because its ledger records them so.
    pub resumed: u64,
    /// The same, per recorded class.
    pub left: BTreeMap<ResultKind, u64>,
    /// Rows of the input `--only-failed` did not run because the ledger does not know them.
    pub not_in_ledger: Vec<u64>,
    /// The whole ledger after the run (every run's rows), once compacted.
    pub ledger: Option<crate::results::ledger::Totals>,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Requests sent again after a 5xx, timeout or connection error.
    pub retries: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Where the results are.
    pub results_path: PathBuf,
    /// Where the plan is (dry run).
    pub plan_path: Option<PathBuf>,
    /// Why the run stopped early, if it did.
    pub stop: Option<Stop>,
    /// The command that runs the job again (without `--resume`), for the resume hint.
    pub rerun: Option<String>,
    /// The first failed rows, for display: row number, input line, step and detail.
    pub failures: Vec<(u64, u64, String)>,
    /// Output and aggregate files written, with their record counts.
    pub written: Vec<(PathBuf, u64)>,
    /// The run converted rows into files (a job without steps): it is run again, not
    /// resumed.
    pub export: bool,
    /// A dry run's requests per step, reads sent and writes planned alike.
    pub plan_requests: Vec<super::plan::StepCount>,
    /// Seconds a real run would take for them at the manifest's rate (dry run).
    pub estimate_secs: f64,
    /// The manifest's rate limit, requests per second.
    pub per_second: f64,
}

impl RunSummary {
    /// Rows with the given result.
    pub(crate) fn count(&self, kind: ResultKind) -> u64 {
        self.by_result.get(&kind).copied().unwrap_or(0)
    }
}
