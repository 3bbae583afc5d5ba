//! `runner apply`: loads a manifest, opens its input, connects (or starts the in-process
//! sandbox), and runs every row — or plans them with `--dry-run`.
//!
//! Without credentials a dry run stays offline (nothing is contacted); with them it also
//! sends the lookups and GET steps, never a write. Resume, confirmation of destructive jobs,
//! Ctrl-C and the exit code are decided here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::progress::{Mode as Display, Progress, print_summary};
use super::{Exit, report};
use crate::engine::{
    self, Client, Continued, Credentials, ExecError, Input, Job, Listener, PlanSummary, Report,
    RunSummary, Stop, StopHandle,
};
use crate::manifest::{InputFormat, Manifest};
use crate::policy::retry::RetryPolicy;
use crate::results::ResultKind;
use crate::results::ledger::{self, Continue, LedgerError, RunMeta, Start};
use crate::source::{self, Format};

/// Arguments of `runner apply`.
#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
pub(crate) struct ApplyArgs {
    /// The manifest to run.
    manifest: PathBuf,
    /// Plan only: render and check every request and write the plan (`NAME.plan.csv`, one
    /// line per row, and `NAME.plan.jsonl`, every request), never the results. With
    /// credentials, lookups and GET steps are sent; writes never are.
    #[arg(long)]
    dry_run: bool,
    /// Read rows from this file instead of the manifest's input (format from its extension);
    /// `-` reads standard input (saved beside the results as `NAME.stdin.csv` first).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Write the results CSV here instead of the manifest's `results` path.
    #[arg(long, value_name = "PATH")]
    results: Option<PathBuf>,
    /// Set a manifest param, e.g. `--set topicId=abc` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    sets: Vec<(String, String)>,
    /// Start the built-in sandbox in-process and run against it.
    #[arg(long)]
    sandbox: bool,
    /// Read GLADLY_* variables from this file (default: `.env` when it exists).
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// Continue the ledger RESULTS: run the rows it does not record as done, skipped,
    /// rejected or unknown (failed in transit, not attempted, never reached).
    #[arg(long, value_name = "RESULTS", conflicts_with = "only_failed")]
    resume: Option<PathBuf>,
    /// Run only the rows the ledger RESULTS records as rejected or failed, matched by key,
    /// so a corrected input runs with its new content; done rows never run again.
    #[arg(long, value_name = "RESULTS")]
    only_failed: Option<PathBuf>,
    /// With --resume or --only-failed, also send again the rows whose write is `unknown`
    /// (check in Gladly first that they were not applied).
    #[arg(long)]
    retry_unknown: bool,
    /// Continue even though the manifest or the input changed since RESULTS was written.
    #[arg(long)]
    force: bool,
    /// Start a new ledger where one exists, moving the old one aside (`NAME.1.csv`).
    #[arg(long, conflicts_with_all = ["resume", "only_failed"])]
    replace: bool,
    /// Run a destructive job without asking.
    #[arg(long)]
    yes: bool,
    /// Seconds to wait for each answer before treating it as lost.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    timeout: u64,
    /// How the summary is printed on stdout: `json` prints one object for scripts (and
    /// shows no progress bar).
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    output: super::OutputFormat,
    /// How progress is shown on stderr: `auto` (a bar on a terminal, a line every five
    /// seconds otherwise) or `json` (one JSON object per line, for programs).
    #[arg(long, value_enum, default_value = "auto", value_name = "FORMAT")]
    progress: ProgressFormat,
}

/// `--progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProgressFormat {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    /// JSON lines.
    Json,
}

fn parse_set(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected NAME=VALUE, found `{text}`")),
    }
}

/// Everything checked before a request is sent.
struct Prepared {
    manifest: Arc<Manifest>,
    manifest_name: String,
    /// Rows come from the API (`input.api` / `input.export`, no `--input`).
    api: bool,
    /// The input file (meaningless when `api`).
    input_path: PathBuf,
    /// Where the rows come from, for the engine.
    input: Input,
    params: std::collections::BTreeMap<String, String>,
    results_path: PathBuf,
}

impl Prepared {
    /// Whether a run of `kind` contacts Gladly: everything but an offline plan and an
    /// export that reads a file and wants no lookup.
    fn connects(&self, kind: Kind) -> bool {
        match kind {
            Kind::PlanOffline => false,
            Kind::Export => self.api || engine::lookups_wanted(&self.manifest, &self.params),
            Kind::PlanOnline | Kind::Apply => true,
        }
    }
}

pub(crate) fn run(args: &ApplyArgs, quiet: bool) -> Exit {
    let prepared = match prepare(args) {
        Ok(p) => p,
        Err(exit) => return exit,
    };
    if let Err(why) = load_env_file(args.env_file.as_deref()) {
        report::error(&why);
        return Exit::Usage;
    }
    if args.retry_unknown && args.resume.is_none() && args.only_failed.is_none() {
        report::error("`--retry-unknown` continues a ledger: give it `--resume RESULTS`");
        return Exit::Usage;
    }
    if let Some(why) = resume_refusal(args, &prepared) {
        report::error(why);
        return Exit::Usage;
    }
    let Some(kind) = decide_mode(args, &prepared) else {
        return Exit::Ok;
    };
    let flavor = if prepared.connects(kind) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        // The work runs on its own threads; the runtime only hears signals.
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match start_runtime(flavor) {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    runtime.block_on(run_job(args, prepared, kind, quiet))
}

/// Which mode the flags and the job ask for (decided once; [`engine::Mode`] carries it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PlanOffline,
    PlanOnline,
    Apply,
    Export,
}

/// The mode of this run, or `None` when there is nothing to do (said on stdout).
fn decide_mode(args: &ApplyArgs, p: &Prepared) -> Option<Kind> {
    let transform = p.manifest.is_transform();
    let host = args.sandbox || std::env::var("GLADLY_HOST").is_ok_and(|h| !h.trim().is_empty());
    if args.dry_run && transform && p.api {
        println!(
            "dry run of {}: this job only reads (it has no steps), so a dry run would do \
             everything a real run does but write its files; nothing was sent. Run it \
             without --dry-run (against --sandbox to rehearse).",
            p.manifest.name()
        );
        return None;
    }
    if args.dry_run && p.api && !host {
        println!(
            "dry run of {}: its rows come from the API, so a dry run without a host has none \
             to show; run it with --sandbox, or with GLADLY_HOST set, to read them (reads only)",
            p.manifest.name()
        );
        return None;
    }
    Some(match (args.dry_run, transform) {
        (true, false) if host => Kind::PlanOnline,
        (true, _) => Kind::PlanOffline,
        (false, true) => Kind::Export,
        (false, false) => Kind::Apply,
    })
}

/// Locks the run's files, connects when the mode needs it, runs the engine once and
/// reports.
async fn run_job(args: &ApplyArgs, p: Prepared, kind: Kind, quiet: bool) -> Exit {
    let json = args.output == super::OutputFormat::Json;
    // One counting pass serves both the confirmation and the progress total.
    let total = match (&kind, &p.input) {
        (Kind::Apply | Kind::PlanOnline, Input::File { path, format, .. }) => {
            source::open(path, *format).ok().map(|r| r.count() as u64)
        }
        _ => None,
    };
    // Connected (and a destructive job confirmed) before any file is touched.
    let (client, sandbox) = if p.connects(kind) {
        match connect(args, &p, kind, total).await {
            Ok((client, sandbox)) => (Some(client), sandbox),
            Err(exit) => return exit,
        }
    } else {
        (None, None)
    };

    // The files this run writes are locked for its whole length; a real run's ledger is
    // opened by its rules (never overwritten; continued with what it recorded).
    let plan = engine::PlanFiles::beside(&p.results_path);
    let locked = match kind {
        Kind::PlanOffline | Kind::PlanOnline => ledger::Lock::acquire(&plan.rows)
            .map(|lock| (lock, None))
            .map_err(|e| ledger_exit(&e)),
        Kind::Export => lock_export(&p.results_path).map(|lock| (lock, None)),
        Kind::Apply => open_ledger(args, &p).map_err(|e| ledger_exit(&e)),
    };
    let (_lock, continued) = match locked {
        Ok(locked) => locked,
        Err(exit) => return exit,
    };
    let mode = match kind {
        Kind::PlanOffline => engine::Mode::PlanOffline { plan },
        Kind::PlanOnline => engine::Mode::PlanOnline { plan },
        Kind::Apply => engine::Mode::Apply { continued },
        Kind::Export => engine::Mode::Export,
    };
    let job = Job {
        manifest: Arc::clone(&p.manifest),
        params: p.params.clone(),
        input: p.input.clone(),
        results_path: p.results_path.clone(),
        total,
        retry: RetryPolicy::default(),
    };
    let stop = Arc::new(StopHandle::default());
    // An offline plan cannot be stopped part-way: a signal ends it as usual.
    let signals = if kind == Kind::PlanOffline {
        None
    } else {
        match interrupt_listener(Arc::clone(&stop)) {
            Ok(task) => Some(task),
            Err(e) => return cannot_listen(&e),
        }
    };
    let progress = Arc::new(Progress::new(
        if kind == Kind::PlanOffline {
            Display::Quiet
        } else if args.progress == ProgressFormat::Json {
            Display::Json
        } else {
            Display::detect(quiet || json)
        },
        p.manifest.name(),
    ));
    let listener: Arc<dyn Listener> = Arc::clone(&progress) as Arc<dyn Listener>;
    let outcome = engine::run(job, mode, client, listener, stop).await;
    if let Some(task) = signals {
        task.abort();
    }
    progress.finish();
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    match outcome {
        Ok(Report::Plan(summary)) => {
            let files = engine::PlanFiles::beside(&p.results_path);
            if json {
                print_json(&plan_summary_json(&p.manifest, &summary, &files));
            } else {
                print_plan_summary(&p.manifest, &summary, &files);
            }
            if summary.by_result.keys().any(|k| k.is_failure()) {
                Exit::RowsFailed
            } else {
                Exit::Ok
            }
        }
        Ok(Report::Run(mut summary)) => {
            summary.rerun = Some(rerun_command(args, &p));
            if kind == Kind::Apply {
                // One current line per row, every earlier run's included.
                match ledger::compact(&summary.results_path) {
                    Ok(totals) => summary.ledger = Some(totals),
                    Err(e) => report::error(&format!(
                        "{e}; every row is recorded in it and its journal, and the next \
                         `--resume` folds them together"
                    )),
                }
            }
            if json {
                let mode = match kind {
                    Kind::PlanOnline => "dry-run",
                    Kind::Export => "export",
                    _ => "apply",
                };
                let mut value = super::progress::summary_json(&summary, mode);
                value["job"] = p.manifest.name().into();
                print_json(&value);
            } else {
                for (row, line, what) in &summary.failures {
                    eprintln!("row {row} (line {line}): {what}");
                }
                print_summary(&summary, kind == Kind::PlanOnline);
            }
            exit_for(&summary)
        }
        Err(e) => {
            report::error(&e.to_string());
            // A file that cannot be read is bad input; an API that will not answer is not.
            match e {
                ExecError::Input(_) if !p.api => Exit::Invalid,
                _ => Exit::Fatal,
            }
        }
    }
}

fn ledger_exit(e: &LedgerError) -> Exit {
    report::error(&e.to_string());
    match e {
        // `--resume` naming a file that is not there is a mistake in the command.
        LedgerError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound => {
            Exit::Usage
        }
        LedgerError::Io { .. } => Exit::Fatal,
        _ => Exit::Usage,
    }
}

/// Loads the manifest, params and input header: every check that needs no network.
fn prepare(args: &ApplyArgs) -> Result<Prepared, Exit> {
    let loaded = Manifest::load(&args.manifest).map_err(|e| {
        report::manifest_error(&e);
        Exit::Invalid
    })?;
    let manifest_name = args.manifest.display().to_string();
    report::diagnostics(&manifest_name, &loaded.text, &loaded.warnings);
    let manifest = loaded.manifest;
    let params = engine::resolve_params(&manifest, &args.sets).map_err(|e| {
        report::error(&e.to_string());
        Exit::Usage
    })?;
    let api = manifest.input().api.is_some() && args.input.is_none();
    let results_path = args
        .results
        .clone()
        .or_else(|| args.resume.clone())
        .or_else(|| args.only_failed.clone())
        .unwrap_or_else(|| manifest.results().path.clone());
    // `-` is standard input, saved beside the results first: the rows are read twice
    // (header check, run) and a resume needs them again.
    let stdin_copy = match args.input.as_deref() {
        Some(dash) if dash == Path::new("-") => {
            if args.resume.is_some() || args.only_failed.is_some() {
                report::error(
                    "`--input -` cannot resume: give the saved copy of standard input \
                     (`--input RESULTS-NAME.stdin.csv`, printed by the first run)",
                );
                return Err(Exit::Usage);
            }
            Some(save_stdin(&manifest, &results_path)?)
        }
        _ => None,
    };
    let (input_path, format) = input_of(&manifest, stdin_copy.as_deref().or(args.input.as_deref()));
    let plan = engine::PlanFiles::beside(&results_path);
    let mut files = vec![
        ("the manifest", args.manifest.as_path()),
        ("the results CSV", results_path.as_path()),
        ("the plan", plan.rows.as_path()),
        ("the plan's requests", plan.requests.as_path()),
    ];
    if !api {
        files.push(("the input", input_path.as_path()));
    }
    if let Err(why) = engine::check_paths(&manifest, &params, &files) {
        report::error(&why);
        return Err(Exit::Usage);
    }
    let mut input_columns = None;
    if !api {
        let reader = source::open(&input_path, format).map_err(|e| {
            report::error(&e.to_string());
            Exit::Invalid
        })?;
        if let Some(header) = reader.columns() {
            // A results or plan file fed back as input would run none of the real rows.
            let own = ["row", "line", "result", "outcome"];
            if own.iter().all(|c| header.iter().any(|h| h == c)) {
                report::error(&format!(
                    "`{}` is a results or plan file written by runner, not rows to run: give \
                     the input the job was run on (to re-run the failed rows of a run, \
                     `--only-failed RESULTS`)",
                    input_path.display()
                ));
                return Err(Exit::Usage);
            }
            let problems = manifest.check_columns(&input_path, header);
            if !problems.is_empty() {
                report::diagnostics(&manifest_name, &loaded.text, &problems);
                report::error(&format!(
                    "`{}` does not fit `{manifest_name}`: nothing was sent",
                    input_path.display()
                ));
                return Err(Exit::Invalid);
            }
            input_columns = Some(header.to_vec());
        }
    }
    Ok(Prepared {
        manifest: Arc::new(manifest),
        manifest_name,
        api,
        input: if api {
            Input::Api
        } else {
            Input::File {
                path: input_path.clone(),
                format,
                columns: input_columns,
            }
        },
        input_path,
        params,
        results_path,
    })
}

/// `.env` (or `--env-file`) into the environment; variables already set win. A file that
/// cannot be read or parsed is refused, naming the file, line and key, never a value.
fn load_env_file(path: Option<&Path>) -> Result<(), String> {
    let (path, given) = match path {
        Some(p) => (p, true),
        None if Path::new(".env").exists() => (Path::new(".env"), false),
        None => return Ok(()),
    };
    let text = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let text = String::from_utf8(text).map_err(|_| {
        format!(
            "`{}` is not UTF-8 text: it is not an env file",
            path.display()
        )
    })?;
    if let Err(e) = dotenvy::from_read_iter(text.as_bytes()).collect::<Result<Vec<_>, _>>() {
        let at = match &e {
            dotenvy::Error::LineParse(line, _) => env_line_of(&text, line),
            _ => None,
        };
        return Err(match at {
            Some((n, key)) => format!(
                "`{}` line {n}{}: not a `NAME=value` line (the line is not shown: it may hold \
                 a secret)",
                path.display(),
                key.map(|k| format!(" (`{k}`)")).unwrap_or_default()
            ),
            None => format!("`{}` is not a valid env file", path.display()),
        });
    }
    // The text checked above is the text loaded (the file is read once).
    match dotenvy::from_read(text.as_bytes()) {
        Ok(()) => Ok(()),
        Err(_) if !given => Ok(()),
        Err(_) => Err(format!("`{}` is not a valid env file", path.display())),
    }
}

/// The line number of `bad` in an env file, and the variable name it starts with.
fn env_line_of<'a>(text: &'a str, bad: &str) -> Option<(usize, Option<&'a str>)> {
    let first = bad.lines().next().unwrap_or(bad).trim();
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| !first.is_empty() && l.trim() == first)
        .or_else(|| {
            text.lines()
                .enumerate()
                .find(|(_, l)| !first.is_empty() && l.contains(first))
        })?;
    let name = line
        .trim_start()
        .trim_start_matches("export ")
        .split(['=', ' ', ':'])
        .next()
        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    Some((n + 1, name))
}

/// The connection: the in-process sandbox, or the credentials in the environment. A
/// destructive job is confirmed here, before anything is sent.
async fn connect(
    args: &ApplyArgs,
    p: &Prepared,
    kind: Kind,
    rows: Option<u64>,
) -> Result<(Client, Option<crate::sandbox::Sandbox>), Exit> {
    let fatal = |e: &dyn std::fmt::Display| {
        report::error(&e.to_string());
        Exit::Fatal
    };
    let (credentials, sandbox) = if args.sandbox {
        let sandbox = crate::sandbox::start(crate::sandbox::SandboxOptions::default())
            .await
            .map_err(|e| fatal(&format!("cannot start the sandbox: {e}")))?;
        eprintln!(
            "sandbox: started in-process at {} (a fresh simulated org; nothing real is touched)",
            sandbox.base_url()
        );
        let credentials =
            Credentials::new(&sandbox.base_url(), sandbox.username(), sandbox.token())
                .map_err(|e| fatal(&e))?;
        (credentials, Some(sandbox))
    } else {
        let credentials = Credentials::from_vars(|name| std::env::var(name).ok()).map_err(|e| {
            report::error(&e.to_string());
            Exit::Usage
        })?;
        if p.manifest.destructive()
            && kind == Kind::Apply
            && let Err(message) = super::confirm::confirm_destructive(
                credentials.host(),
                rows,
                p.manifest.name(),
                args.yes,
            )
        {
            report::error(&message);
            return Err(Exit::Usage);
        }
        (credentials, None)
    };
    let client = Client::new(credentials, Duration::from_secs(args.timeout.max(1)))
        .map_err(|e| fatal(&e))?;
    Ok((client, sandbox))
}

fn start_runtime(mut builder: tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, Exit> {
    builder.enable_all().build().map_err(|e| {
        report::error(&format!("cannot start the async runtime: {e}"));
        Exit::Fatal
    })
}

fn cannot_listen(e: &std::io::Error) -> Exit {
    report::error(&format!("cannot listen for signals: {e}"));
    Exit::Fatal
}

/// Listens for SIGINT (Ctrl-C), SIGTERM (what `timeout`, systemd, CI and Kubernetes send)
/// and SIGHUP (a closed terminal), and asks the run to stop: in-flight rows finish and are
/// recorded. The handlers are installed before this returns, so a signal sent once rows
/// are running is never lost (a lazily registered listener misses signals that arrive
/// before its first poll). SIGXFSZ (a file-size limit reached) is taken too, so a write
/// past the limit fails with an error the ledger handles instead of killing the process.
fn interrupt_listener(stop: Arc<StopHandle>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut xfsz = signal(SignalKind::from_raw(25))?;
        Ok(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                    // The failed write reports it; nothing to do here.
                    _ = xfsz.recv() => continue,
                }
                stop.stop(Stop::Interrupted);
            }
        }))
    }
    #[cfg(not(unix))]
    {
        Ok(tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.stop(Stop::Interrupted);
            }
        }))
    }
}

/// The exit code of a run: why it stopped, else whether any row (of this run, or of the
/// whole ledger when it continued one) is neither done nor skipped.
fn exit_for(summary: &RunSummary) -> Exit {
    let unsettled = |kinds: &std::collections::BTreeMap<ResultKind, u64>| {
        kinds.iter().any(|(k, n)| k.is_failure() && *n > 0)
    };
    match &summary.stop {
        // print_summary has already said why the run stopped.
        Some(Stop::Fatal(_)) => Exit::Fatal,
        Some(Stop::Aborted { .. } | Stop::Ledger(_) | Stop::Outage(_)) => Exit::Aborted,
        Some(Stop::Interrupted) => Exit::Interrupted,
        None if unsettled(&summary.by_result)
            || summary
                .ledger
                .as_ref()
                .is_some_and(|l| unsettled(&l.by_result))
            || !summary.not_in_ledger.is_empty() =>
        {
            Exit::RowsFailed
        }
        None => Exit::Ok,
    }
}

/// Locks an export's results file; refuses to overwrite a real run's ledger with it.
fn lock_export(results: &Path) -> Result<ledger::Lock, Exit> {
    let lock = ledger::Lock::acquire(results).map_err(|e| {
        report::error(&e.to_string());
        Exit::Usage
    })?;
    if ledger::meta_path(results).exists() {
        report::error(
            &LedgerError::Exists {
                path: results.to_path_buf(),
            }
            .to_string(),
        );
        return Err(Exit::Usage);
    }
    Ok(lock)
}

/// Opens the ledger of a real run: new (refusing to overwrite one), or continued
/// (`--resume`, `--only-failed`), with what it recorded.
fn open_ledger(
    args: &ApplyArgs,
    p: &Prepared,
) -> Result<(ledger::Lock, Option<Continued>), LedgerError> {
    let how = if args.only_failed.is_some() {
        Some(Continue::OnlyFailed)
    } else if args.resume.is_some() {
        Some(Continue::Resume)
    } else {
        None
    };
    let start = match how {
        Some(how) => Start::Continue {
            how,
            force: args.force,
        },
        None => Start::Fresh {
            replace: args.replace,
        },
    };
    let meta = RunMeta {
        job: p.manifest.name().to_owned(),
        manifest_sha256: p.manifest.text_hash().to_owned(),
        input_sha256: if p.api {
            String::new()
        } else {
            ledger::hash_file(&p.input_path).map_err(|error| LedgerError::Io {
                path: p.input_path.clone(),
                error,
            })?
        },
        input: if p.api {
            String::new()
        } else {
            p.input_path.display().to_string()
        },
    };
    let opened = ledger::open(&p.results_path, &meta, start)?;
    if let Some(moved) = &opened.moved_aside {
        eprintln!(
            "moved the earlier ledger aside to `{}`; starting a new one",
            moved.display()
        );
    }
    let continued = match (how, opened.recorded) {
        (Some(how), Some(recorded)) => Some(Continued {
            recorded: Arc::new(recorded),
            how,
            retry_unknown: args.retry_unknown,
        }),
        _ => None,
    };
    Ok((opened.lock, continued))
}

/// The command that runs this job again on the same input, for the resume hint.
fn rerun_command(args: &ApplyArgs, p: &Prepared) -> String {
    let mut words = vec![
        "runner".to_owned(),
        "apply".to_owned(),
        p.manifest_name.clone(),
    ];
    if let Some(input) = &args.input {
        words.push("--input".to_owned());
        // Standard input is gone; its saved copy is what a re-run reads.
        let path = if input.as_os_str() == "-" {
            &p.input_path
        } else {
            input
        };
        words.push(path.display().to_string());
    }
    for (name, value) in &args.sets {
        words.push("--set".to_owned());
        words.push(format!("{name}={value}"));
    }
    words.join(" ")
}

/// Why `--resume` / `--only-failed` cannot apply to this job, if they were given.
fn resume_refusal(args: &ApplyArgs, p: &Prepared) -> Option<&'static str> {
    if args.resume.is_none() && args.only_failed.is_none() {
        return None;
    }
    if p.manifest.is_transform() {
        Some("an export job (no steps) has nothing to resume: run it again, it rewrites its files")
    } else if !p.manifest.outputs().is_empty() || !p.manifest.aggregates().is_empty() {
        Some(
            "this job writes data files, which a resumed run would start again with only its \
             own rows: run it again from the start",
        )
    } else if p.api {
        Some(
            "this job reads its rows from the API, which may answer differently each time: \
             `--resume` and `--only-failed` need a file input (give one with --input)",
        )
    } else {
        None
    }
}

/// Copies standard input to `<results stem>.stdin.<csv|jsonl|json>` beside the results.
fn save_stdin(manifest: &Manifest, results: &Path) -> Result<PathBuf, Exit> {
    let extension = match manifest.input().format {
        InputFormat::Csv { delimiter: b'\t' } => "tsv",
        InputFormat::Csv { .. } => "csv",
        InputFormat::Jsonl => "jsonl",
        InputFormat::Json => "json",
    };
    let stem = results
        .file_stem()
        .map_or_else(|| "input".into(), |s| s.to_string_lossy().into_owned());
    let path = results.with_file_name(format!("{stem}.stdin.{extension}"));
    let copy = || -> std::io::Result<u64> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::File::create(&path)?;
        let copied = std::io::copy(&mut std::io::stdin().lock(), &mut file)?;
        file.sync_all()?;
        Ok(copied)
    };
    match copy() {
        Ok(bytes) => {
            eprintln!(
                "input:   standard input ({bytes} bytes) saved as {} (give that file to --resume or --only-failed runs)",
                path.display()
            );
            Ok(path)
        }
        Err(e) => {
            report::error(&format!(
                "cannot save standard input as `{}`: {e}",
                path.display()
            ));
            Err(Exit::Fatal)
        }
    }
}

/// The input file and format: `--input` (format from its extension, else the manifest's)
/// or the manifest's own input.
pub(super) fn input_of(manifest: &Manifest, over: Option<&Path>) -> (PathBuf, Format) {
    let declared = match manifest.input().format {
        InputFormat::Csv { delimiter } => Format::Csv { delimiter },
        InputFormat::Jsonl => Format::Jsonl,
        InputFormat::Json => Format::JsonArray,
    };
    let Some(path) = over else {
        return (manifest.input().path.clone(), declared);
    };
    let format = match (Format::from_path(path), declared) {
        // Keep the manifest's delimiter when both are CSV.
        (Some(Format::Csv { .. }), Format::Csv { delimiter }) => Format::Csv { delimiter },
        (Some(f), _) => f,
        (None, d) if std::fs::metadata(path).is_ok_and(|m| m.is_file()) => {
            let kind = match d {
                Format::Csv { .. } => "CSV",
                Format::Jsonl => "JSON Lines",
                Format::JsonArray => "a JSON array",
            };
            eprintln!(
                "warning: `{}` has no extension runner knows (.csv, .tsv, .jsonl, .json): it is \
                 read as {kind}, as the manifest's input is",
                path.display()
            );
            d
        }
        (None, d) => d,
    };
    (path.to_path_buf(), format)
}

/// Prints one JSON value on stdout.
fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

/// An offline dry run's summary as JSON (`--output json`).
fn plan_summary_json(
    manifest: &Manifest,
    summary: &PlanSummary,
    plan: &engine::PlanFiles,
) -> serde_json::Value {
    serde_json::json!({
        "job": manifest.name(),
        "mode": "dry-run",
        "rows": summary.rows,
        "results": summary.by_result.iter()
            .map(|(k, n)| (k.as_str().to_owned(), serde_json::json!(n)))
            .collect::<serde_json::Map<_, _>>(),
        "plan": super::progress::plan_json(&summary.requests, summary.estimate_secs),
        "failures": summary.failures.iter().map(|(row, line, failure)| serde_json::json!({
            "row": row, "line": line, "detail": failure.to_string()
        })).collect::<Vec<_>>(),
        "plan_path": plan.rows,
        "plan_requests_path": plan.requests,
    })
}

fn print_plan_summary(manifest: &Manifest, summary: &PlanSummary, plan: &engine::PlanFiles) {
    let file = manifest.path().display();
    for (row, line, failure) in &summary.failures {
        match failure.span {
            Some(at) => eprintln!(
                "row {row} (line {line}): {failure}\n  --> {file}:{}:{}",
                at.line, at.column
            ),
            None => eprintln!("row {row} (line {line}): {failure}"),
        }
    }
    let failed: u64 = summary
        .by_result
        .iter()
        .filter(|(k, _)| k.is_failure())
        .map(|(_, n)| n)
        .sum();
    if failed > summary.failures.len() as u64 {
        eprintln!(
            "… {} more failed rows in the plan",
            failed - summary.failures.len() as u64
        );
    }
    println!(
        "dry run of {}: {} rows — {} planned, {} skipped, {} rejected",
        manifest.name(),
        summary.rows,
        summary.count(ResultKind::Planned),
        summary.count(ResultKind::Skipped),
        failed,
    );
    print!(
        "{}",
        super::progress::step_table(
            &summary.requests,
            summary.estimate_secs,
            manifest.per_second()
        )
    );
    println!("plan:    {}", plan.rows.display());
    println!("         {}", plan.requests.display());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_sits_beside_results() {
        let plan = engine::PlanFiles::beside(Path::new("out/x.csv"));
        assert_eq!(plan.rows, PathBuf::from("out/x.plan.csv"));
        assert_eq!(plan.requests, PathBuf::from("out/x.plan.jsonl"));
    }

    #[test]
    fn set_needs_a_name() {
        assert_eq!(parse_set("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_set("=x").is_err());
        assert!(parse_set("novalue").is_err());
    }
}
