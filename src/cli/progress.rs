//! Shows a run's progress on stderr and its summary on stdout.
//!
//! [`Progress`] is the cli's [`Listener`]: the engine reports events and this draws them,
//! as an indicatif bar when stderr is a terminal, as a plain line at most every five
//! seconds when it is not (CI logs), or not at all with `-q`. Counting is lock-free because
//! events arrive from many worker tasks at once. While a bar is shown, log lines are
//! written through it ([`LogWriter`]) so they do not tear it. This module never decides
//! what a run does or what exit code it gets; [`print_summary`] only reports a finished
//! [`RunSummary`].

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use crate::engine::{Event, Listener, RunSummary, Stop};
use crate::results::ResultKind;

/// How often plain progress lines may be written when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// How often a JSON progress line is written.
const JSON_EVERY: Duration = Duration::from_millis(500);

/// `total` when the engine has not said (or does not know) how many rows there are.
const UNKNOWN: u64 = u64::MAX;

/// The bar currently on screen, if any: [`LogWriter`] writes through it so a log line
/// does not tear it. Logging is set up before any bar exists, hence a global.
static ACTIVE_BAR: RwLock<Option<ProgressBar>> = RwLock::new(None);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// An indicatif bar (or spinner when the total is unknown) on stderr.
    Bar,
    /// A plain line on stderr at most every five seconds, and one at the end.
    Lines,
    /// Nothing (`-q`).
    Quiet,
    /// One JSON object per line on stderr, twice a second and at the end, for programs
    /// that show the run (`--progress json`; `runner ui` reads it).
    Json,
}

impl Mode {
    /// `Quiet` with `-q`, else `Bar` when stderr is a terminal, else `Lines`.
    pub(crate) fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// The progress display of one run; pass it to the engine as its [`Listener`] and call
/// [`Progress::finish`] before printing the summary.
#[derive(Debug)]
pub(crate) struct Progress {
    mode: Mode,
    bar: Option<ProgressBar>,
    /// Set on `Started`, so the rate does not count the time spent before the first row.
    started: OnceLock<Instant>,
    created: Instant,
    total: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    /// Milliseconds after `created` of the last plain line.
    last_line_ms: AtomicU64,
    /// Serialises the bar's message updates (rare: failures, retries, 429s) so an older
    /// count cannot overwrite a newer one.
    message: Mutex<()>,
    finished: AtomicBool,
}

impl Progress {
    /// A display in `mode`; `label` (the job's name) prefixes the bar.
    pub(crate) fn new(mode: Mode, label: &str) -> Progress {
        let bar = (mode == Mode::Bar).then(|| {
            let bar = ProgressBar::no_length()
                .with_style(spinner_style())
                .with_prefix(label.to_owned())
                .with_message(counters_text(&Counts::default()));
            bar.enable_steady_tick(Duration::from_millis(120));
            *ACTIVE_BAR.write().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
            bar
        });
        Progress {
            mode,
            bar,
            started: OnceLock::new(),
            created: Instant::now(),
            total: AtomicU64::new(UNKNOWN),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            last_line_ms: AtomicU64::new(0),
            message: Mutex::new(()),
            finished: AtomicBool::new(false),
        }
    }

    /// Clears the bar, or writes the last plain line; later calls do nothing.
    pub(crate) fn finish(&self) {
        if self.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(bar) = &self.bar {
            *ACTIVE_BAR.write().unwrap_or_else(PoisonError::into_inner) = None;
            bar.finish_and_clear();
        }
        match self.mode {
            Mode::Lines => eprintln!("{}", plain_line(&self.counts(), self.elapsed())),
            Mode::Json => eprintln!("{}", json_line(&self.counts(), self.elapsed(), true)),
            Mode::Bar | Mode::Quiet => {}
        }
    }

    fn counts(&self) -> Counts {
        let total = self.total.load(Ordering::Relaxed);
        Counts {
            done: self.done.load(Ordering::Relaxed),
            total: (total != UNKNOWN).then_some(total),
            failed: self.failed.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
        }
    }

    fn elapsed(&self) -> Duration {
        self.started.get().unwrap_or(&self.created).elapsed()
    }

    fn start(&self, total: Option<u64>) {
        self.total
            .store(total.unwrap_or(UNKNOWN), Ordering::Relaxed);
        let _ = self.started.set(Instant::now());
        if let Some(bar) = &self.bar {
            if let Some(total) = total {
                bar.set_length(total);
                bar.set_style(bar_style());
            }
            bar.reset();
        }
    }

    /// Shows the new failure, retry and 429 counts.
    fn show_counters(&self) {
        if let Some(bar) = &self.bar {
            let _guard = self.message.lock().unwrap_or_else(PoisonError::into_inner);
            bar.set_message(counters_text(&self.counts()));
        }
    }

    /// Writes a plain line if none was written in the last five seconds.
    fn maybe_line(&self) {
        let every = match self.mode {
            Mode::Lines => LINE_EVERY,
            Mode::Json => JSON_EVERY,
            Mode::Bar | Mode::Quiet => return,
        };
        if self.finished.load(Ordering::Relaxed) {
            return;
        }
        let now = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_line_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < u64::try_from(every.as_millis()).unwrap_or(5000) {
            return;
        }
        // Only the task that moves the mark prints, so two tasks never print the same line.
        if self
            .last_line_ms
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            match self.mode {
                Mode::Json => eprintln!("{}", json_line(&self.counts(), self.elapsed(), false)),
                _ => eprintln!("{}", plain_line(&self.counts(), self.elapsed())),
            }
        }
    }
}

impl Listener for Progress {
    fn event(&self, event: &Event) {
        match event {
            Event::Started { total } => self.start(*total),
            Event::RowFinished { result, .. } => {
                self.done.fetch_add(1, Ordering::Relaxed);
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                if result.is_failure() {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                    self.show_counters();
                }
            }
            Event::RowsConverted { rows } => {
                self.done.store(*rows, Ordering::Relaxed);
                if let Some(bar) = &self.bar {
                    bar.set_position(*rows);
                }
            }
            Event::Throttled { .. } => {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                self.show_counters();
            }
            Event::Retrying { .. } => {
                self.retries.fetch_add(1, Ordering::Relaxed);
                self.show_counters();
            }
        }
        self.maybe_line();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // A bar left registered would keep hiding and redrawing itself around log lines.
        if let Some(bar) = &self.bar
            && !self.finished.swap(true, Ordering::AcqRel)
        {
            *ACTIVE_BAR.write().unwrap_or_else(PoisonError::into_inner) = None;
            bar.finish_and_clear();
        }
    }
}

/// Writes log output to stderr, through the progress bar while one is shown so the line
/// does not tear it. Give `|| LogWriter` to tracing-subscriber's `with_writer`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bar = ACTIVE_BAR
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // tracing-subscriber formats a whole event and writes it in one call, so each log
        // line is written whole while the bar is hidden.
        match bar {
            Some(bar) => bar.suspend(|| io::stderr().lock().write_all(buf))?,
            None => io::stderr().lock().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// A snapshot of the counters, for formatting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    done: u64,
    total: Option<u64>,
    failed: u64,
    retries: u64,
    throttled: u64,
}

/// The job name: bold when colour is on (`--color`, `NO_COLOR`).
fn prefix() -> &'static str {
    if super::color::enabled() {
        "{prefix:.bold}"
    } else {
        "{prefix}"
    }
}

fn bar_style() -> ProgressStyle {
    // Two lines, so that the counters fit next to a job name on an 80-column terminal.
    ProgressStyle::with_template(&format!(
        "{} [{{wide_bar}}] {{pos}}/{{len}} rows ({{percent}}%)\n  {{rate}}, eta {{eta_text}}, {{msg}}",
        prefix()
    ))
    .expect("the bar template is valid")
    .progress_chars("=> ")
    .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{}", rate_text(state.per_sec()));
    })
    .with_key(
        "eta_text",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let secs = if state.pos() == 0 {
                f64::INFINITY
            } else {
                state.eta().as_secs_f64()
            };
            let _ = write!(w, "{}", eta_text(secs));
        },
    )
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template(&format!(
        "{} {{spinner}} {{pos}} rows, {{rate}}, {{msg}}",
        prefix()
    ))
    .expect("the spinner template is valid")
    .with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", rate_text(state.per_sec()));
        },
    )
}

/// `not done 3, retries 2, 429s 0`: the bar's message and the end of a plain line.
fn counters_text(c: &Counts) -> String {
    format!(
        "not done {}, retries {}, 429s {}",
        c.failed, c.retries, c.throttled
    )
}

/// `9.8 rows/s`.
fn rate_text(per_sec: f64) -> String {
    format!("{per_sec:.1} rows/s")
}

/// Remaining time, coarse: `45s`, `4m 10s`, `1h 23m`.
fn eta_text(secs: f64) -> String {
    if !secs.is_finite() {
        return "unknown".to_owned();
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let secs = secs.max(0.0).round() as u64;
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        _ => format!("{}h {}m", secs / 3600, secs / 60 % 60),
    }
}

/// `{"progress":{"done":1200,"total":50000,"rate":9.8,"eta_secs":…,"failed":3,…}}`.
fn json_line(c: &Counts, elapsed: Duration, last: bool) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        c.done as f64 / secs
    } else {
        0.0
    };
    let eta = c
        .total
        .filter(|_| rate > 0.0)
        .map(|t| t.saturating_sub(c.done) as f64 / rate);
    serde_json::json!({ "progress": {
        "done": c.done, "total": c.total, "rate": (rate * 10.0).round() / 10.0,
        "eta_secs": eta.map(f64::round), "failed": c.failed, "retries": c.retries,
        "throttled": c.throttled, "finished": last,
    }})
    .to_string()
}

/// `progress: 1200/50000 rows (2.4%), 9.8 rows/s, eta 1h 23m, not done 3, retries 2, 429s 0`
/// (without the total, percentage and ETA when the total is unknown).
fn plain_line(c: &Counts, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        c.done as f64 / secs
    } else {
        0.0
    };
    let mut line = String::from("progress: ");
    match c.total {
        Some(total) => {
            let percent = if total == 0 {
                100.0
            } else {
                c.done as f64 * 100.0 / total as f64
            };
            let left = total.saturating_sub(c.done) as f64;
            let eta = if left == 0.0 {
                eta_text(0.0)
            } else if rate > 0.0 {
                eta_text(left / rate)
            } else {
                eta_text(f64::INFINITY)
            };
            let _ = write!(
                line,
                "{}/{total} rows ({percent:.1}%), {}, eta {eta}, ",
                c.done,
                rate_text(rate)
            );
        }
        None => {
            let _ = write!(line, "{} rows, {}, ", c.done, rate_text(rate));
        }
    }
    line.push_str(&counters_text(c));
    line
}

/// Prints the summary of a finished (or stopped) run on stdout.
pub(crate) fn print_summary(summary: &RunSummary, dry_run: bool) {
    let text = summary_text(summary, dry_run);
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The summary as one JSON object, for scripts (`--output json`): the same facts as the
/// text, with counts by result and outcome, the files written and the re-run command.
pub(crate) fn summary_json(summary: &RunSummary, mode: &str) -> serde_json::Value {
    use serde_json::{Value, json};
    let kinds = |map: &std::collections::BTreeMap<ResultKind, u64>| {
        map.iter()
            .map(|(k, n)| (k.as_str().to_owned(), json!(n)))
            .collect::<serde_json::Map<_, _>>()
    };
    let mut value = json!({
        "mode": mode,
        "rows": summary.rows,
        "results": kinds(&summary.by_result),
        "outcomes": summary.by_outcome,
        "requests": summary.requests,
        "retries": summary.retries,
        "throttled": summary.throttled,
        "elapsed_secs": summary.elapsed.as_secs_f64(),
        "results_path": summary.results_path,
        "plan_path": summary.plan_path,
        "written": summary.written.iter().map(|(path, records)| {
            json!({ "path": path, "records": records })
        }).collect::<Vec<_>>(),
        "failures": summary.failures.iter().map(|(row, line, detail)| {
            json!({ "row": row, "line": line, "detail": detail })
        }).collect::<Vec<_>>(),
        "stopped": summary.stop.as_ref().map(|stop| stop_text(stop, summary)),
        "rerun": summary.rerun,
    });
    if summary.resumed > 0 {
        value["resumed"] = json!({ "rows": summary.resumed, "by_result": kinds(&summary.left) });
    }
    if !summary.not_in_ledger.is_empty() {
        value["not_in_ledger"] = json!(summary.not_in_ledger);
    }
    if let Some(ledger) = &summary.ledger {
        value["ledger"] = json!({
            "rows": ledger.rows(),
            "results": kinds(&ledger.by_result),
            "unknown": ledger.unknown.iter().map(|(row, keys, step)| {
                json!({ "row": row, "keys": keys, "step": step })
            }).collect::<Vec<_>>(),
        });
    }
    if mode == "dry-run" {
        // Named as the offline dry run names them: a dry run writes a plan, no results.
        value["plan"] = plan_json(&summary.plan_requests, summary.estimate_secs);
        value["plan_path"] = json!(summary.results_path);
        value["plan_requests_path"] = json!(summary.plan_path);
        value["results_path"] = Value::Null;
    }
    value
}

/// A dry run's requests per step and the estimate, as JSON.
pub(crate) fn plan_json(
    requests: &[crate::engine::StepCount],
    estimate_secs: f64,
) -> serde_json::Value {
    serde_json::json!({
        "steps": requests.iter().map(|c| serde_json::json!({
            "step": c.step, "method": c.method.as_str(), "requests": c.count
        })).collect::<Vec<_>>(),
        "requests": requests.iter().map(|c| c.count).sum::<u64>(),
        "estimate_secs": estimate_secs,
    })
}

/// The text [`print_summary`] prints: what happened, how many requests it took, where the
/// results are, and why the run stopped early if it did.
pub(crate) fn summary_text(summary: &RunSummary, dry_run: bool) -> String {
    let mut out = String::new();
    let kinds = if dry_run {
        [
            ResultKind::Planned,
            ResultKind::Skipped,
            ResultKind::Rejected,
        ]
    } else {
        [ResultKind::Done, ResultKind::Skipped, ResultKind::Failed]
    };
    let mut counts: Vec<String> = kinds
        .iter()
        .map(|&k| format!("{} {k}", summary.count(k)))
        .collect();
    // A kind this kind of run does not normally produce is still shown if present.
    counts.extend(
        summary
            .by_result
            .iter()
            .filter(|(k, n)| !kinds.contains(k) && **n > 0)
            .map(|(k, n)| format!("{n} {k}")),
    );
    let _ = writeln!(
        out,
        "{} {} in {} — {}",
        if dry_run { "dry run of" } else { "ran" },
        plural(summary.rows, "row"),
        human_duration(summary.elapsed),
        counts.join(", ")
    );
    write_outcomes(&mut out, summary);
    if dry_run && !summary.plan_requests.is_empty() {
        out.push_str(&step_table(
            &summary.plan_requests,
            summary.estimate_secs,
            summary.per_second,
        ));
    }
    if summary.resumed > 0 {
        let by: Vec<String> = summary
            .left
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let _ = writeln!(
            out,
            "resumed: {} recorded by an earlier run {} not run again ({})",
            plural(summary.resumed, "row"),
            if summary.resumed == 1 { "was" } else { "were" },
            by.join(", ")
        );
    }
    if !summary.not_in_ledger.is_empty() {
        let shown: Vec<String> = summary
            .not_in_ledger
            .iter()
            .take(10)
            .map(u64::to_string)
            .collect();
        let _ = writeln!(
            out,
            "not run: {} the ledger does not know (rows {}{}): --only-failed runs only rows \
             an earlier run recorded as failed; run new rows with a new --results",
            plural(summary.not_in_ledger.len() as u64, "row"),
            shown.join(", "),
            if summary.not_in_ledger.len() > 10 {
                ", …"
            } else {
                ""
            }
        );
    }
    if let Some(ledger) = &summary.ledger {
        write_ledger(&mut out, ledger, summary);
    }
    let _ = writeln!(
        out,
        "requests: {} sent{}, {} retried, {} answered 429",
        summary.requests,
        if dry_run { " (reads only)" } else { "" },
        summary.retries,
        summary.throttled
    );
    for (path, records) in &summary.written {
        let _ = writeln!(
            out,
            "wrote:   {} ({})",
            path.display(),
            plural(*records, "record")
        );
    }
    match &summary.plan_path {
        Some(plan) => {
            let _ = writeln!(out, "plan:    {}", summary.results_path.display());
            let _ = writeln!(out, "         {}", plan.display());
        }
        None => {
            let _ = writeln!(out, "results: {}", summary.results_path.display());
        }
    }
    if let Some(stop) = &summary.stop {
        let _ = writeln!(out, "{}", stop_text(stop, summary));
    }
    out
}

/// A dry run's requests per step and what a real run would take: printed the same way
/// by the offline and the online dry run.
pub(crate) fn step_table(
    requests: &[crate::engine::StepCount],
    estimate_secs: f64,
    per_second: f64,
) -> String {
    let mut out = String::new();
    let width = requests
        .iter()
        .map(|c| c.step.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(out, "  {:<width$}  {:<6}  requests", "step", "method");
    for count in requests.iter().filter(|c| c.count > 0) {
        let _ = writeln!(
            out,
            "  {:<width$}  {:<6}  {}",
            count.step,
            count.method.as_str(),
            count.count
        );
    }
    let total: u64 = requests.iter().map(|c| c.count).sum();
    let _ = writeln!(
        out,
        "a real run would send {total} requests: about {} at {per_second} requests/second",
        human_duration(Duration::from_secs_f64(estimate_secs)),
    );
    out
}

/// The whole ledger after a run: every class, the unknown rows and what to do next.
fn write_ledger(out: &mut String, ledger: &crate::results::ledger::Totals, summary: &RunSummary) {
    let counts: Vec<String> = ResultKind::ALL
        .iter()
        .filter(|k| ledger.count(**k) > 0)
        .map(|k| format!("{} {k}", ledger.count(*k)))
        .collect();
    let _ = writeln!(
        out,
        "ledger:  {} in all — {}",
        plural(ledger.rows(), "row"),
        counts.join(", ")
    );
    let results = shell_word(&summary.results_path.display().to_string());
    let rerun = summary.rerun.as_deref().unwrap_or("runner apply …");
    let unknown = ledger.count(ResultKind::Unknown);
    if unknown > 0 {
        let _ = writeln!(
            out,
            "unknown: {} sent a write that is not safe to repeat and got no answer (it may \
             or may not have been applied), or failed at a later step after it was applied. \
             Check each in Gladly:",
            plural(unknown, "row")
        );
        for (row, keys, step) in &ledger.unknown {
            let _ = writeln!(out, "  row {row} ({keys}), step `{step}`");
        }
        let _ = writeln!(
            out,
            "  --resume and --only-failed never send them again; once checked, send the ones \
             that were not applied with `{rerun} --resume {results} --retry-unknown`"
        );
    }
    let transit = ledger.count(ResultKind::Failed) + ledger.count(ResultKind::NotAttempted);
    if transit > 0 && summary.stop.is_none() {
        let _ = writeln!(
            out,
            "resume:  {} failed in transit or not attempted: `{rerun} --resume {results}`",
            plural(transit, "row")
        );
    }
    let rejected = ledger.count(ResultKind::Rejected);
    if rejected > 0 {
        let _ = writeln!(
            out,
            "fix:     {} rejected: correct them in the input, then \
             `{rerun} --only-failed {results}`",
            plural(rejected, "row")
        );
        // `runner apply MANIFEST …` → `runner failed MANIFEST --results RESULTS`.
        let manifest = rerun
            .strip_prefix("runner apply ")
            .and_then(|rest| rest.split(" --").next())
            .unwrap_or("JOB.yaml");
        let _ = writeln!(
            out,
            "         or `runner failed {manifest} --results {results}` writes them with their \
             errors to a file to correct and feed back"
        );
    }
}

/// Outcome labels, most frequent first, counts aligned.
fn write_outcomes(out: &mut String, summary: &RunSummary) {
    let mut outcomes: Vec<(&String, u64)> = summary
        .by_outcome
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(label, n)| (label, *n))
        .collect();
    if outcomes.is_empty() {
        return;
    }
    outcomes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let label_width = outcomes.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let count_width = outcomes
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(out, "outcomes:");
    for (label, n) in outcomes {
        let _ = writeln!(out, "  {label:<label_width$}  {n:>count_width$}");
    }
}

/// One line saying why the run stopped before every row was taken.
fn stop_text(stop: &Stop, summary: &RunSummary) -> String {
    match stop {
        Stop::Aborted { row, message } => format!("aborted by row {row}'s rule: {message}"),
        Stop::Interrupted if summary.export => format!(
            "interrupted: the data files hold the rows converted so far (aggregates are \
             written only by a complete run); run `{}` again for all of them",
            summary.rerun.as_deref().unwrap_or("runner apply …"),
        ),
        Stop::Interrupted => format!(
            "interrupted: every finished row is recorded; resume with \
             `{} --resume {}`",
            summary.rerun.as_deref().unwrap_or("runner apply …"),
            shell_word(&summary.results_path.display().to_string())
        ),
        Stop::Fatal(message) => format!("stopped: {message}"),
        Stop::Ledger(message) => format!(
            "stopped: {message}. Nothing more was sent; every row that was sent is recorded \
             (in the results or its journal). Free space, then resume with `{} --resume {}`",
            summary.rerun.as_deref().unwrap_or("runner apply …"),
            shell_word(&summary.results_path.display().to_string())
        ),
        Stop::Outage(message) => format!(
            "stopped: the API seems down ({message}); the rows it failed are recorded as \
             failed. When it answers again, resume with `{} --resume {}`",
            summary.rerun.as_deref().unwrap_or("runner apply …"),
            shell_word(&summary.results_path.display().to_string())
        ),
    }
}

/// Quotes `text` for a POSIX shell when it holds anything but plain path characters.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `1 row`, `3 rows`.
fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Wall time for people: `0.4s`, `12.3s`, `1m 15s`, `1h 2m 5s`.
pub(crate) fn human_duration(elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs < 60.0 {
        return format!("{secs:.1}s");
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let total = secs.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else {
        format!("{m}m {s}s")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use pretty_assertions::assert_eq;

    use super::*;

    fn counts(done: u64, total: Option<u64>) -> Counts {
        Counts {
            done,
            total,
            failed: 3,
            retries: 2,
            throttled: 0,
        }
    }

    #[test]
    fn plain_line_has_percent_rate_and_eta() {
        // 1200 rows in 122.45 s is 9.8 rows/s; 48,800 left at that rate is 1h 23m.
        let line = plain_line(&counts(1200, Some(50_000)), Duration::from_secs_f64(122.45));
        assert_eq!(
            line,
            "progress: 1200/50000 rows (2.4%), 9.8 rows/s, eta 1h 23m, not done 3, retries 2, 429s 0"
        );
    }

    #[test]
    fn plain_line_without_total_has_no_eta() {
        let line = plain_line(&counts(50, None), Duration::from_secs(10));
        assert_eq!(
            line,
            "progress: 50 rows, 5.0 rows/s, not done 3, retries 2, 429s 0"
        );
    }

    #[test]
    fn plain_line_before_the_first_row_and_at_the_end() {
        assert_eq!(
            plain_line(&counts(0, Some(10)), Duration::ZERO),
            "progress: 0/10 rows (0.0%), 0.0 rows/s, eta unknown, not done 3, retries 2, 429s 0"
        );
        assert_eq!(
            plain_line(&counts(10, Some(10)), Duration::from_secs(4)),
            "progress: 10/10 rows (100.0%), 2.5 rows/s, eta 0s, not done 3, retries 2, 429s 0"
        );
        assert_eq!(
            plain_line(&counts(0, Some(0)), Duration::ZERO),
            "progress: 0/0 rows (100.0%), 0.0 rows/s, eta 0s, not done 3, retries 2, 429s 0"
        );
    }

    #[test]
    fn eta_is_coarse() {
        assert_eq!(eta_text(0.4), "0s");
        assert_eq!(eta_text(45.0), "45s");
        assert_eq!(eta_text(250.0), "4m 10s");
        assert_eq!(eta_text(4980.0), "1h 23m");
        assert_eq!(eta_text(f64::INFINITY), "unknown");
        assert_eq!(eta_text(-3.0), "0s");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_millis(400)), "0.4s");
        assert_eq!(human_duration(Duration::from_secs(75)), "1m 15s");
        assert_eq!(human_duration(Duration::from_secs(3725)), "1h 2m 5s");
    }

    #[test]
    fn counters_are_counted_from_events() {
        let progress = Progress::new(Mode::Quiet, "job");
        progress.event(&Event::Started { total: Some(3) });
        for (row, result) in [
            (1, ResultKind::Done),
            (2, ResultKind::Failed),
            (3, ResultKind::Skipped),
        ] {
            progress.event(&Event::RowFinished {
                row,
                result,
                outcome: result.to_string(),
            });
        }
        progress.event(&Event::Throttled {
            wait: Duration::from_secs(1),
        });
        progress.event(&Event::Retrying {
            row: 2,
            step: "create".into(),
            attempt: 2,
            reason: "503".into(),
        });
        assert_eq!(
            progress.counts(),
            Counts {
                done: 3,
                total: Some(3),
                failed: 1,
                retries: 1,
                throttled: 1,
            }
        );
        progress.finish();
        progress.finish();
    }

    fn summary() -> RunSummary {
        RunSummary {
            rows: 42,
            by_result: BTreeMap::from([
                (ResultKind::Done, 40),
                (ResultKind::Skipped, 1),
                (ResultKind::Failed, 1),
            ]),
            by_outcome: BTreeMap::from([
                ("created".to_owned(), 30),
                ("updated".to_owned(), 10),
                ("already-closed".to_owned(), 1),
                ("failed".to_owned(), 1),
            ]),
            resumed: 8,
            left: BTreeMap::from([(ResultKind::Done, 8)]),
            not_in_ledger: Vec::new(),
            ledger: None,
            requests: 55,
            throttled: 2,
            retries: 3,
            elapsed: Duration::from_secs(75),
            results_path: PathBuf::from("results/close.csv"),
            plan_path: None,
            stop: None,
            rerun: Some("runner apply jobs/close.yaml".to_owned()),
            failures: Vec::new(),
            written: Vec::new(),
            export: false,
            plan_requests: Vec::new(),
            estimate_secs: 0.0,
            per_second: 10.0,
        }
    }

    #[test]
    fn summary_of_a_finished_run() {
        assert_eq!(
            summary_text(&summary(), false),
            "\
ran 42 rows in 1m 15s — 40 done, 1 skipped, 1 failed
outcomes:
  created         30
  updated         10
  already-closed   1
  failed           1
resumed: 8 rows recorded by an earlier run were not run again (8 done)
requests: 55 sent, 3 retried, 2 answered 429
results: results/close.csv
"
        );
    }

    #[test]
    fn summary_of_a_dry_run() {
        let s = RunSummary {
            rows: 1,
            by_result: BTreeMap::from([(ResultKind::Planned, 1)]),
            by_outcome: BTreeMap::from([("planned".to_owned(), 1)]),
            requests: 2,
            elapsed: Duration::from_millis(400),
            results_path: PathBuf::from("out/x.csv"),
            plan_path: Some(PathBuf::from("out/x.plan.jsonl")),
            ..RunSummary::default()
        };
        assert_eq!(
            summary_text(&s, true),
            "\
dry run of 1 row in 0.4s — 1 planned, 0 skipped, 0 rejected
outcomes:
  planned  1
requests: 2 sent (reads only), 0 retried, 0 answered 429
plan:    out/x.csv
         out/x.plan.jsonl
"
        );
    }

    #[test]
    fn summary_says_why_a_run_stopped() {
        let last_line = |stop: Stop| {
            let s = RunSummary {
                stop: Some(stop),
                ..summary()
            };
            summary_text(&s, false).lines().last().unwrap().to_owned()
        };
        assert_eq!(
            last_line(Stop::Aborted {
                row: 17,
                message: "customer `c-17` is merged".into()
            }),
            "aborted by row 17's rule: customer `c-17` is merged"
        );
        assert_eq!(
            last_line(Stop::Interrupted),
            "interrupted: every finished row is recorded; resume with \
             `runner apply jobs/close.yaml --resume results/close.csv`"
        );
        assert_eq!(
            last_line(Stop::Fatal("credentials refused (401)".into())),
            "stopped: credentials refused (401)"
        );
    }

    #[test]
    fn resume_path_is_quoted_for_the_shell() {
        assert_eq!(shell_word("out/a-1.csv"), "out/a-1.csv");
        assert_eq!(shell_word("my results.csv"), "'my results.csv'");
        assert_eq!(shell_word("it's.csv"), r"'it'\''s.csv'");
    }
}
