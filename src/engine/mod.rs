//! The only row engine: apply, the dry runs and exports are modes of it. The command
//! decides the [`Mode`] once and calls [`run`]; rows come from a file or the API, each
//! row's steps are walked by one interpreter (`steps`), every request goes out through one
//! send path (`send`: limiter, retry loop, `Retry-After`), and finished rows are recorded
//! in input order. The engine never prints and never picks an exit code; `cli` does both.

mod claims;
pub(crate) mod client;
mod duplicates;
mod error;
pub(crate) mod event;
mod fetch;
mod limiter;
mod plan;
mod render;
mod run;
mod send;
mod steps;
mod transform;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub(crate) use client::{Client, Credentials};
pub(crate) use error::ExecError;
pub(crate) use event::{Event, Listener, RunSummary, Stop};
pub(crate) use plan::{PlanSummary, StepCount, resolve_params};
pub(crate) use run::{Continued, StopHandle};

use crate::manifest::Manifest;
use crate::policy::retry::RetryPolicy;
use crate::source::{self, Format, RowReader};
use limiter::Limiter;
use render::BaseContext;

/// What a run does, decided once where the command starts; nothing below re-derives it.
#[derive(Debug)]
pub(crate) enum Mode {
    /// Render and check every row and write the plan; nothing is contacted.
    PlanOffline {
        /// The plan's row table (`NAME.plan.csv`) and its requests (`NAME.plan.jsonl`).
        plan: PlanFiles,
    },
    /// Send the reads (lookups, the input request, GET steps) and plan every write.
    PlanOnline {
        /// The plan's files.
        plan: PlanFiles,
    },
    /// Send every request; the ledger (`Job::results_path`) records each row.
    Apply {
        /// What an earlier run recorded, when this one continues it.
        continued: Option<Continued>,
    },
    /// A job without steps: every row goes to the job's outputs; the results file lists
    /// the rows that could not be converted.
    Export,
}

impl Mode {
    /// True when the mode needs a connection to Gladly (for an export: when it reads the
    /// API or loads lookups).
    pub(crate) fn needs_connection(&self, job: &Job) -> bool {
        match self {
            Mode::PlanOffline { .. } => false,
            Mode::PlanOnline { .. } | Mode::Apply { .. } => true,
            Mode::Export => {
                matches!(job.input, Input::Api) || lookups_wanted(&job.manifest, &job.params)
            }
        }
    }
}

/// The two files of a dry run, beside the ledger they never touch.
#[derive(Debug, Clone)]
pub(crate) struct PlanFiles {
    /// One line per row (`planned`, `skipped`, `failed` with the reason).
    pub rows: PathBuf,
    /// Every request a real run would send (JSON Lines).
    pub requests: PathBuf,
}

impl PlanFiles {
    /// `results/x.csv` → `results/x.plan.csv` and `results/x.plan.jsonl`.
    pub(crate) fn beside(results: &std::path::Path) -> Self {
        let stem = results.file_stem().map_or_else(
            || "results".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        );
        PlanFiles {
            rows: results.with_file_name(format!("{stem}.plan.csv")),
            requests: results.with_file_name(format!("{stem}.plan.jsonl")),
        }
    }
}

/// Where a job's rows come from.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    /// A file, in a format.
    File {
        /// The file.
        path: PathBuf,
        /// How to read it.
        format: Format,
        /// Its header, when it has one (for outputs that copy every column).
        columns: Option<Vec<String>>,
    },
    /// The manifest's input request (`input.api`, `input.export`).
    Api,
}

/// A job ready to run: checked manifest, resolved params, its rows and its records.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The manifest.
    pub manifest: Arc<Manifest>,
    /// Resolved params (`--set` and defaults).
    pub params: BTreeMap<String, String>,
    /// Where the rows come from.
    pub input: Input,
    /// The ledger of a real run, or an export's list of rows that failed.
    pub results_path: PathBuf,
    /// Rows this run will take, when known (for progress).
    pub total: Option<u64>,
    /// Retry and backoff rules.
    pub retry: RetryPolicy,
}

/// What a run produced.
#[derive(Debug)]
pub(crate) enum Report {
    /// An offline dry run: the plan's counts and estimate.
    Plan(PlanSummary),
    /// Everything else.
    Run(Box<RunSummary>),
}

/// Runs `job` in `mode`. `client` is the connection (required when
/// [`Mode::needs_connection`]); `listener` hears progress; `stop` ends the run early.
///
/// # Errors
/// When the run cannot start or cannot go on: the input, a lookup, an output file, or a
/// connection the mode needs but was not given.
pub(crate) async fn run(
    job: Job,
    mode: Mode,
    client: Option<Client>,
    listener: Arc<dyn Listener>,
    stop: Arc<StopHandle>,
) -> Result<Report, ExecError> {
    let needs = mode.needs_connection(&job);
    let client = match client {
        Some(client) => Some(client),
        None if needs => {
            return Err(ExecError::Connection(
                "this run needs a connection to Gladly".to_owned(),
            ));
        }
        None => None,
    };
    match mode {
        Mode::PlanOffline { plan } => {
            let Input::File { path, format, .. } = &job.input else {
                return Err(ExecError::Input(
                    "a dry run without a host has no rows from the API to plan".to_owned(),
                ));
            };
            let reader = open_file(path, *format)?;
            let options = plan::PlanOptions {
                params: job.params.clone(),
                host: None,
                results_path: plan.rows,
                plan_path: plan.requests,
            };
            let manifest = Arc::clone(&job.manifest);
            tokio::task::spawn_blocking(move || plan::dry_run(&manifest, reader, &options))
                .await
                .map_err(|e| ExecError::Output(format!("the dry run stopped: {e}")))?
                .map(Report::Plan)
        }
        Mode::Export => export(&job, client.as_ref(), listener, stop)
            .await
            .map(|s| Report::Run(Box::new(s))),
        Mode::PlanOnline { plan } => {
            let client = client.expect("checked above");
            steps(&job, Some(plan), None, client, listener, stop)
                .await
                .map(|s| Report::Run(Box::new(s)))
        }
        Mode::Apply { continued } => {
            let client = client.expect("checked above");
            steps(&job, None, continued, client, listener, stop)
                .await
                .map(|s| Report::Run(Box::new(s)))
        }
    }
}

/// A job with steps against a host: apply, or a dry run that sends its reads.
async fn steps(
    job: &Job,
    plan: Option<PlanFiles>,
    continued: Option<Continued>,
    client: Client,
    listener: Arc<dyn Listener>,
    stop: Arc<StopHandle>,
) -> Result<RunSummary, ExecError> {
    let mut options = run::RunOptions::new(job.params.clone(), job.results_path.clone());
    options.retry = job.retry;
    // Rows streamed from the API: the lookups come first, so the download never idles
    // while they load.
    if matches!(job.input, Input::Api) && !job.manifest.lookups().is_empty() {
        let limiter = Limiter::new(job.manifest.per_second());
        options.lookups =
            Some(run::fetch_lookups(&job.manifest, &client, &limiter, &options, &stop).await?);
    }
    let reader = open_input(job, &client).await?;
    options.input_columns = reader
        .columns()
        .map(<[String]>::to_vec)
        .or_else(|| file_columns(job));
    if let Some(plan) = plan {
        options.results_path = plan.rows;
        options.plan_path = Some(plan.requests);
    }
    options.total = job.total.filter(|_| continued.is_none());
    options.continued = continued;
    run::run(
        Arc::clone(&job.manifest),
        reader,
        client,
        options,
        listener,
        stop,
    )
    .await
}

/// A job without steps: lookups first (so the input's download never waits on them),
/// then the conversion on worker threads while the rows stream in.
async fn export(
    job: &Job,
    client: Option<&Client>,
    listener: Arc<dyn Listener>,
    stop: Arc<StopHandle>,
) -> Result<RunSummary, ExecError> {
    let (tables, reader) = if let Some(client) = client {
        let mut options = run::RunOptions::new(job.params.clone(), job.results_path.clone());
        options.retry = job.retry;
        let limiter = Limiter::new(job.manifest.per_second());
        let tables = run::fetch_lookups(&job.manifest, client, &limiter, &options, &stop).await?;
        (tables, open_input(job, client).await?)
    } else {
        let Input::File { path, format, .. } = &job.input else {
            return Err(ExecError::Connection(
                "this job reads the API: it needs a connection to Gladly".to_owned(),
            ));
        };
        // No lookup is wanted (their `when` is false): each is an empty table.
        let empty: BTreeMap<String, minijinja::Value> = job
            .manifest
            .lookups()
            .iter()
            .map(|l| {
                let table = BTreeMap::<String, minijinja::Value>::new();
                (l.name.clone(), minijinja::Value::from(table))
            })
            .collect();
        (minijinja::Value::from(empty), open_file(path, *format)?)
    };
    let columns = reader
        .columns()
        .map(<[String]>::to_vec)
        .or_else(|| file_columns(job));
    let manifest = Arc::clone(&job.manifest);
    let params = job.params.clone();
    let results = job.results_path.clone();
    let requests = u64::from(client.is_some())
        * (u64::from(matches!(job.input, Input::Api))
            + u64::from(lookups_wanted(&job.manifest, &job.params))
                * job.manifest.lookups().len() as u64);
    let mut summary = tokio::task::spawn_blocking(move || {
        let base = BaseContext::new(&manifest, &params, Some(tables));
        transform::transform(
            &manifest,
            reader.packed(transform::BATCH_ROWS),
            &base,
            columns.as_deref(),
            &results,
            listener.as_ref(),
            &stop,
        )
    })
    .await
    .map_err(|e| ExecError::Output(format!("the conversion stopped: {e}")))??;
    summary.requests = requests;
    Ok(summary)
}

/// True when a lookup of the job will be fetched with these params: one without `when`,
/// or whose `when` (which reads params only) holds or cannot be decided.
pub(crate) fn lookups_wanted(manifest: &Manifest, params: &BTreeMap<String, String>) -> bool {
    let base = BaseContext::new(manifest, params, None);
    let ctx = render::RowContext::new(&base, serde_json::Map::new()).value();
    manifest.lookups().iter().any(|l| {
        l.when
            .as_ref()
            .is_none_or(|w| w.is_true(&ctx).unwrap_or(true))
    })
}

/// Checks that the files a job writes (its outputs, rendered with `params`) are not one
/// another's, nor any of `others` (the results, the input).
///
/// # Errors
/// Names the two uses of the same path.
pub(crate) fn check_paths(
    manifest: &Manifest,
    params: &BTreeMap<String, String>,
    others: &[(&str, &std::path::Path)],
) -> Result<(), String> {
    let base = BaseContext::new(manifest, params, None);
    let base = render::RowContext::new(&base, serde_json::Map::new()).value();
    crate::output::check_paths(manifest, &base, others)
}

fn file_columns(job: &Job) -> Option<Vec<String>> {
    match &job.input {
        Input::File { columns, .. } => columns.clone(),
        Input::Api => None,
    }
}

fn open_file(path: &std::path::Path, format: Format) -> Result<RowReader, ExecError> {
    source::open(path, format).map_err(|e| ExecError::Input(e.to_string()))
}

/// The rows: the input file, or the answer of the input request read as it arrives.
async fn open_input(job: &Job, client: &Client) -> Result<RowReader, ExecError> {
    let Input::File { path, format, .. } = &job.input else {
        let limiter = Limiter::new(job.manifest.per_second());
        let none = BTreeMap::<String, minijinja::Value>::new();
        let base = BaseContext::new(
            &job.manifest,
            &job.params,
            Some(minijinja::Value::from(none)),
        );
        let (request, class) =
            fetch::input_request(&job.manifest, &base, Some(client), &limiter, &job.retry)
                .await?
                .expect("an API input has a request");
        tracing::info!(method = request.method.as_str(), path = %request.path_and_query, "reading rows from the API");
        return fetch::open_stream(
            client,
            &limiter,
            &job.retry,
            &request,
            class,
            job.manifest.input().format,
        )
        .await;
    };
    open_file(path, *format)
}

/// A row's `input.key` and `input.after`, rendered (empty or failing renders are none):
/// the real run and the dry run both read them here.
fn key_and_after(
    manifest: &Manifest,
    base: &BaseContext,
    row: &source::Row,
) -> (Option<String>, Option<String>) {
    let input = manifest.input();
    if input.key.is_none() && input.after.is_none() {
        return (None, None);
    }
    let ctx = render::RowContext::new(base, row.values.clone()).value();
    let render = |t: Option<&crate::template::Template>| {
        t.and_then(|t| t.render(&ctx).ok())
            .filter(|k| !k.is_empty())
    };
    (render(input.key.as_ref()), render(input.after.as_ref()))
}

/// Who waits for whom under `input.after`: from each row's (number, key, after), the row
/// each row waits for (the first row whose key is its `after`), and the rows whose chain of
/// waits loops back to them (they can never run). The real run and the dry run both ask.
pub(super) fn waits(
    rows: &[(u64, Option<String>, Option<String>)],
) -> (
    std::collections::HashMap<u64, u64>,
    std::collections::HashSet<u64>,
) {
    let mut by_key: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for (number, key, _) in rows {
        if let Some(key) = key {
            by_key.entry(key.as_str()).or_insert(*number);
        }
    }
    let mut parents = std::collections::HashMap::new();
    for (number, _, after) in rows {
        if let Some(parent) = after.as_deref().and_then(|a| by_key.get(a).copied())
            && parent != *number
        {
            parents.insert(*number, parent);
        }
    }
    // Each row is walked once: a walk stops at a row already settled, and a walk that
    // meets itself marks the loop it found (rows leading into a loop wait, not loop).
    let mut settled: std::collections::HashSet<u64> = std::collections::HashSet::new();
    let mut cyclic = std::collections::HashSet::new();
    for &start in parents.keys() {
        let mut path: Vec<u64> = Vec::new();
        let mut on_path: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
        let mut at = start;
        loop {
            if settled.contains(&at) {
                break;
            }
            if let Some(&i) = on_path.get(&at) {
                cyclic.extend(path[i..].iter().copied());
                break;
            }
            on_path.insert(at, path.len());
            path.push(at);
            match parents.get(&at) {
                Some(&p) => at = p,
                None => break,
            }
        }
        settled.extend(path);
    }
    (parents, cyclic)
}

/// Why a row whose `input.after` chain loops can never run.
pub(super) const CYCLE: &str =
    "this row and the rows it waits for (`input.after`) wait for each other in a cycle";

/// Why a row waiting for a row that did not succeed is not run.
pub(super) fn parent_failed(parent: u64) -> String {
    format!("row {parent}, which this row waits for (`input.after`), did not succeed")
}
