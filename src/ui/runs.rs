//! The page's plans and runs: each is `runner apply` in a child process, whose JSON
//! progress lines and summary the server keeps for the page, and whose files (results,
//! plan, failed rows, data files) are the only ones a page may download.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::{App, Connection, Refusal, job_path, problem, upload_path};
use crate::manifest::Manifest;

/// Most lines of a table sent to the page (the download has them all).
const TABLE_ROWS: usize = 2000;
/// Most stderr lines kept per run.
const MESSAGES: usize = 500;

/// One plan or run: the child's progress, messages, summary and exit code.
pub(crate) struct Run {
    job: String,
    manifest: PathBuf,
    kind: &'static str,
    pid: Option<u32>,
    progress: Mutex<Value>,
    messages: Mutex<Vec<String>>,
    summary: Mutex<Option<Value>>,
    exit: Mutex<Option<i32>>,
    finished: tokio::sync::watch::Sender<bool>,
}

impl Run {
    fn status(&self, id: u64) -> Value {
        json!({
            "id": id,
            "job": self.job,
            "kind": self.kind,
            "progress": *self.progress.lock().expect("progress"),
            "messages": *self.messages.lock().expect("messages"),
            "summary": *self.summary.lock().expect("summary"),
            "exit": *self.exit.lock().expect("exit"),
        })
    }

    fn is_finished(&self) -> bool {
        *self.finished.borrow()
    }

    /// Sends SIGTERM (what Ctrl-C does to a run: rows in flight finish and are recorded).
    pub(crate) async fn terminate(&self) -> bool {
        let Some(pid) = self.pid.filter(|_| !self.is_finished()) else {
            return false;
        };
        tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    /// Waits until the run has ended, at most `limit`.
    pub(crate) async fn finished_within(&self, limit: Duration) {
        let mut finished = self.finished.subscribe();
        let _ = tokio::time::timeout(limit, finished.wait_for(|f| *f)).await;
    }

    /// A file the run's summary names (results, plan, data files), resolved in the jobs
    /// folder.
    fn summary_path(&self, jobs: &Path, key: &str) -> Option<PathBuf> {
        let summary = self.summary.lock().expect("summary");
        let path = summary.as_ref()?.get(key)?.as_str()?;
        Some(jobs.join(path))
    }
}

#[derive(Deserialize)]
pub(crate) struct RunForm {
    /// The manifest's file name in the folder.
    job: String,
    /// An upload id (`upload-N.csv`) to read rows from instead of the manifest's input.
    #[serde(default)]
    upload: Option<String>,
    /// Param values.
    #[serde(default)]
    params: std::collections::BTreeMap<String, String>,
    /// `new` (default), `resume`, `only-failed` or `replace`.
    #[serde(default)]
    mode: Option<String>,
    /// For a destructive job: the host and row count the person confirmed.
    #[serde(default)]
    confirm: Option<Confirm>,
}

#[derive(Deserialize)]
struct Confirm {
    host: String,
    rows: u64,
}

/// The `apply` arguments for a form, and the manifest it names.
fn apply_args(app: &App, form: &RunForm, dry_run: bool) -> Result<(PathBuf, Vec<String>), Refusal> {
    let manifest = job_path(app, &form.job)?;
    let mut args = vec![
        "apply".to_owned(),
        manifest.display().to_string(),
        "--output".to_owned(),
        "json".to_owned(),
        "--progress".to_owned(),
        "json".to_owned(),
    ];
    if dry_run {
        args.push("--dry-run".to_owned());
    }
    if let Some(id) = &form.upload {
        args.push("--input".to_owned());
        args.push(upload_path(app, id)?.display().to_string());
    }
    for (name, value) in &form.params {
        if value.is_empty() {
            continue;
        }
        args.push("--set".to_owned());
        args.push(format!("{name}={value}"));
    }
    Ok((manifest, args))
}

/// Starts `runner ARGS` for the page; the connection goes in the child's environment.
fn spawn(
    app: &App,
    job: &str,
    manifest: PathBuf,
    kind: &'static str,
    args: &[String],
    connection: Option<&Connection>,
) -> Result<(u64, Arc<Run>), Refusal> {
    let mut command = tokio::process::Command::new(&app.exe);
    command
        .current_dir(&app.jobs)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("GLADLY_HOST")
        .env_remove("GLADLY_USERNAME")
        .env_remove("GLADLY_API_TOKEN")
        .env("NO_COLOR", "1");
    if let Some(c) = connection {
        command
            .env("GLADLY_HOST", &c.host)
            .env("GLADLY_USERNAME", &c.username)
            .env("GLADLY_API_TOKEN", &c.token);
    } else {
        // An offline plan: no `.env` of the folder may connect it.
        command.args(["--env-file", "/dev/null"]);
    }
    let mut child = command.spawn().map_err(|e| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot start runner: {e}"),
        )
    })?;
    let (finished, _) = tokio::sync::watch::channel(false);
    let (id, run) = app.add_run(Run {
        job: job.to_owned(),
        manifest,
        kind,
        pid: child.id(),
        progress: Mutex::new(Value::Null),
        messages: Mutex::new(Vec::new()),
        summary: Mutex::new(None),
        exit: Mutex::new(None),
        finished,
    });
    let stderr = child.stderr.take();
    let mut stdout = child.stdout.take();
    let watched = Arc::clone(&run);
    tokio::spawn(async move {
        let reader = async {
            if let Some(stderr) = stderr {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    match serde_json::from_str::<Value>(&line) {
                        Ok(v) if v.get("progress").is_some() => {
                            *watched.progress.lock().expect("progress") = v["progress"].clone();
                        }
                        _ => {
                            let mut messages = watched.messages.lock().expect("messages");
                            if messages.len() < MESSAGES {
                                messages.push(line);
                            }
                        }
                    }
                }
            }
        };
        let collect = async {
            let mut text = Vec::new();
            if let Some(out) = stdout.as_mut() {
                let _ = out.read_to_end(&mut text).await;
            }
            text
        };
        let ((), text) = tokio::join!(reader, collect);
        let status = child.wait().await.ok().and_then(|s| s.code());
        *watched.summary.lock().expect("summary") = serde_json::from_slice(&text).ok();
        *watched.exit.lock().expect("exit") = Some(status.unwrap_or(-1));
        watched.finished.send_replace(true);
    });
    Ok((id, run))
}

/// A dry run: waits for it and answers its summary and the plan as a table.
pub(crate) async fn plan(State(app): State<Arc<App>>, Json(form): Json<RunForm>) -> Response {
    let (manifest, args) = match apply_args(&app, &form, true) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let connection = app.connection.lock().expect("connection").clone();
    let (id, run) = match spawn(
        &app,
        &form.job,
        manifest,
        "plan",
        &args,
        connection.as_ref(),
    ) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let mut finished = run.finished.subscribe();
    let _ = finished.wait_for(|f| *f).await;
    let mut status = run.status(id);
    if let Some(plan) = run.summary_path(&app.jobs, "plan_path") {
        let requests = run.summary_path(&app.jobs, "plan_requests_path");
        status["table"] = plan_table(&plan, requests.as_deref());
    }
    Json(status).into_response()
}

/// Starts a real run (a destructive job only once the host and row count were confirmed).
pub(crate) async fn run(State(app): State<Arc<App>>, Json(form): Json<RunForm>) -> Response {
    let connection = match app.connection() {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let (manifest, mut args) = match apply_args(&app, &form, false) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let loaded = match Manifest::load(&manifest) {
        Ok(l) => l,
        Err(e) => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                e.diagnostics
                    .first()
                    .map_or_else(String::new, |d| d.message.clone()),
            );
        }
    };
    let results = loaded.manifest.results().path.clone();
    match form.mode.as_deref().unwrap_or("new") {
        "new" => {}
        "resume" => args.extend(["--resume".to_owned(), results.display().to_string()]),
        "only-failed" => args.extend(["--only-failed".to_owned(), results.display().to_string()]),
        "replace" => args.push("--replace".to_owned()),
        other => return problem(StatusCode::BAD_REQUEST, format!("unknown mode `{other}`")),
    }
    if loaded.manifest.destructive() {
        // The rows the run would take, counted as the run will read them.
        let input = match &form.upload {
            Some(id) => match upload_path(&app, id) {
                Ok(p) => p,
                Err(r) => return r.into_response(),
            },
            None => loaded.manifest.input().path.clone(),
        };
        let format = crate::source::Format::from_path(&input)
            .unwrap_or(crate::source::Format::Csv { delimiter: b',' });
        let rows = crate::source::open(&input, format).map_or(0, |r| r.count() as u64);
        let confirmed = form
            .confirm
            .as_ref()
            .is_some_and(|c| c.host == connection.host && c.rows == rows);
        if !confirmed {
            return (
                StatusCode::PRECONDITION_REQUIRED,
                Json(json!({
                    "error": format!(
                        "`{}` is destructive: confirm the host and the row count to run it",
                        loaded.manifest.name()
                    ),
                    "confirm": { "host": connection.host, "rows": rows },
                })),
            )
                .into_response();
        }
        args.push("--yes".to_owned());
    }
    match spawn(&app, &form.job, manifest, "apply", &args, Some(&connection)) {
        Ok((id, run)) => Json(run.status(id)).into_response(),
        Err(r) => r.into_response(),
    }
}

pub(crate) async fn status(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>) -> Response {
    match app.run(id) {
        Ok(run) => Json(run.status(id)).into_response(),
        Err(r) => r.into_response(),
    }
}

/// The run's status pushed to the page (server-sent events) twice a second until it ends.
pub(crate) async fn events(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>) -> Response {
    let run = match app.run(id) {
        Ok(run) => run,
        Err(r) => return r.into_response(),
    };
    let stream = futures_util::stream::unfold((run, false), move |(run, done)| async move {
        if done {
            return None;
        }
        let finished = run.is_finished();
        if !finished {
            let mut changed = run.finished.subscribe();
            let _ = tokio::time::timeout(Duration::from_millis(500), changed.changed()).await;
        }
        let finished = run.is_finished();
        let event = Event::default()
            .event(if finished { "finished" } else { "progress" })
            .json_data(run.status(id))
            .unwrap_or_default();
        Some((Ok::<_, std::convert::Infallible>(event), (run, finished)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Asks the run to stop as Ctrl-C would (SIGTERM): rows in flight finish and are recorded.
pub(crate) async fn stop(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>) -> Response {
    let run = match app.run(id) {
        Ok(run) => run,
        Err(r) => return r.into_response(),
    };
    if run.is_finished() {
        return Json(run.status(id)).into_response();
    }
    if run.terminate().await {
        Json(run.status(id)).into_response()
    } else {
        problem(StatusCode::INTERNAL_SERVER_ERROR, "cannot signal the run")
    }
}

#[derive(Deserialize)]
pub(crate) struct ResultsQuery {
    /// Only lines with this `result` (done, skipped, rejected, …).
    #[serde(default)]
    result: Option<String>,
}

/// The run's results (or plan) as a table, filtered by result.
pub(crate) async fn results(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<u64>,
    Query(query): Query<ResultsQuery>,
) -> Response {
    let run = match app.run(id) {
        Ok(run) => run,
        Err(r) => return r.into_response(),
    };
    let key = if run.kind == "plan" {
        "plan_path"
    } else {
        "results_path"
    };
    match run.summary_path(&app.jobs, key) {
        Some(path) => Json(table(&path, query.result.as_deref())).into_response(),
        None => problem(StatusCode::NOT_FOUND, "the run wrote no results"),
    }
}

/// The plan as the page shows it: per row, its steps with method and path (from the plan's
/// requests), its result, outcome and reason.
fn plan_table(plan: &Path, requests: Option<&Path>) -> Value {
    let mut by_row: std::collections::HashMap<String, Vec<(String, String, String)>> =
        std::collections::HashMap::new();
    let lines = table(plan, None);
    // The rows the table shows; the plan's requests are in row order, so reading stops
    // past the last of them (a million-row plan's requests are hundreds of megabytes).
    let last_shown: u64 = lines["rows"]
        .as_array()
        .and_then(|r| r.last())
        .and_then(|r| r[0].as_str())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if let Some(file) = requests.and_then(|p| std::fs::File::open(p).ok()) {
        for line in std::io::BufRead::lines(std::io::BufReader::new(file)).map_while(Result::ok) {
            let Ok(r) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if r["row"].as_u64().is_some_and(|n| n > last_shown) {
                break;
            }
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            by_row.entry(r["row"].to_string()).or_default().push((
                text("step"),
                text("method"),
                text("url"),
            ));
        }
    }
    let at = |name: &str| {
        lines["columns"]
            .as_array()
            .and_then(|c| c.iter().position(|c| c == name))
    };
    let (row, result, outcome, detail) = (at("row"), at("result"), at("outcome"), at("detail"));
    let cell =
        |r: &Value, i: Option<usize>| i.and_then(|i| r[i].as_str()).unwrap_or_default().to_owned();
    let rows: Vec<Value> = lines["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let sent = by_row.get(&cell(r, row)).cloned().unwrap_or_default();
            let join = |f: fn(&(String, String, String)) -> &str| {
                sent.iter().map(f).collect::<Vec<_>>().join("\n")
            };
            json!([
                cell(r, row),
                join(|s| &s.0),
                join(|s| &s.1),
                join(|s| &s.2),
                cell(r, result),
                cell(r, outcome),
                cell(r, detail),
            ])
        })
        .collect();
    json!({
        "columns": ["row", "steps", "method", "path", "result", "outcome", "reason"],
        "rows": rows,
        "total": lines["total"],
    })
}

/// Lines of a ledger and their count per `result`, every line read (the table the page
/// shows stops at [`TABLE_ROWS`]; counts must not).
fn result_counts(path: &Path) -> (u64, std::collections::BTreeMap<String, u64>) {
    let mut counts = std::collections::BTreeMap::new();
    let mut total = 0;
    let Ok(mut reader) = csv::ReaderBuilder::new().flexible(true).from_path(path) else {
        return (0, counts);
    };
    let at = reader
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c == "result"));
    for record in reader.records().flatten() {
        total += 1;
        if let Some(r) = at.and_then(|at| record.get(at)) {
            *counts.entry(r.to_owned()).or_default() += 1;
        }
    }
    (total, counts)
}

/// A CSV as `{ columns, rows, total }`, at most [`TABLE_ROWS`] rows, optionally only those
/// whose `result` cell is `only`.
fn table(path: &Path, only: Option<&str>) -> Value {
    let Ok(mut reader) = csv::ReaderBuilder::new().flexible(true).from_path(path) else {
        return json!({ "columns": [], "rows": [], "total": 0 });
    };
    let columns: Vec<String> = reader
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let result_at = columns.iter().position(|c| c == "result");
    let mut rows = Vec::new();
    let mut total = 0u64;
    for record in reader.records().flatten() {
        if let (Some(only), Some(at)) = (only, result_at)
            && record.get(at) != Some(only)
        {
            continue;
        }
        total += 1;
        if rows.len() < TABLE_ROWS {
            rows.push(record.iter().map(str::to_owned).collect::<Vec<_>>());
        }
    }
    json!({ "columns": columns, "rows": rows, "total": total })
}

/// A file of the run: `results`, `plan`, `requests` (the plan's JSON lines), `failed` (the
/// failed rows to correct, made by `runner failed`) or `data-N` (the N-th data file the run
/// wrote). Only files the run's own summary names are served.
pub(crate) async fn download(
    State(app): State<Arc<App>>,
    UrlPath((id, what)): UrlPath<(u64, String)>,
) -> Response {
    let run = match app.run(id) {
        Ok(run) => run,
        Err(r) => return r.into_response(),
    };
    if !run.is_finished() {
        return problem(StatusCode::CONFLICT, "the run has not finished");
    }
    let path = match what.as_str() {
        "results" => run.summary_path(&app.jobs, "results_path"),
        "plan" => run.summary_path(&app.jobs, "plan_path"),
        "requests" => run.summary_path(&app.jobs, "plan_requests_path"),
        "failed" => {
            let Some(results) = run.summary_path(&app.jobs, "results_path") else {
                return problem(StatusCode::NOT_FOUND, "the run wrote no results");
            };
            let out = app.uploads.join(format!("failed-{id}.csv"));
            let made = tokio::process::Command::new(&app.exe)
                .current_dir(&app.jobs)
                .arg("failed")
                .arg(&run.manifest)
                .arg("--results")
                .arg(&results)
                .arg("-o")
                .arg(&out)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .await;
            match made {
                Ok(o) if o.status.success() => Some(out),
                Ok(o) => {
                    return problem(
                        StatusCode::CONFLICT,
                        String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                    );
                }
                Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        data if data.starts_with("data-") => {
            let n: usize = data[5..].parse().unwrap_or(usize::MAX);
            let summary = run.summary.lock().expect("summary").clone();
            summary
                .as_ref()
                .and_then(|s| s["written"].get(n))
                .and_then(|w| w["path"].as_str())
                .map(|p| app.jobs.join(p))
        }
        _ => None,
    };
    let Some(path) = path else {
        return problem(
            StatusCode::NOT_FOUND,
            format!("no `{what}` file for run {id}"),
        );
    };
    // Only files inside the jobs folder or the server's own uploads folder.
    let inside = |root: &Path| {
        std::fs::canonicalize(&path)
            .ok()
            .zip(std::fs::canonicalize(root).ok())
            .is_some_and(|(p, r)| p.starts_with(r))
    };
    if !inside(&app.jobs) && !inside(&app.uploads) {
        return problem(
            StatusCode::FORBIDDEN,
            "that file is outside the jobs folder",
        );
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().replace(['"', '\\'], "_"))
                .unwrap_or_default();
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => problem(
            StatusCode::NOT_FOUND,
            format!("cannot read {}: {e}", path.display()),
        ),
    }
}

/// Past runs of the folder: every ledger (`*.csv` with its `.meta.json`) under it, with its
/// counts by result.
pub(crate) async fn history(State(app): State<Arc<App>>) -> Json<Value> {
    let mut found = Vec::new();
    let mut dirs = vec![(app.jobs.clone(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && depth < 3 {
                dirs.push((path, depth + 1));
            } else if path.to_string_lossy().ends_with(".csv.meta.json") {
                let results = PathBuf::from(path.to_string_lossy().trim_end_matches(".meta.json"));
                let meta: Value = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
                let (rows, counts) = result_counts(&results);
                let modified = std::fs::metadata(&results)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
                found.push(json!({
                    "job": meta["job"],
                    "results": results.strip_prefix(&app.jobs).unwrap_or(&results).display().to_string(),
                    "rows": rows,
                    "counts": counts,
                    "modified": modified,
                }));
            }
        }
    }
    found.sort_by(|a, b| b["modified"].as_str().cmp(&a["modified"].as_str()));
    Json(Value::Array(found))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    /// Past runs count every line, not only the ones the page's table shows.
    #[test]
    fn counts_read_the_whole_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let mut text = String::from("row,result\n");
        for i in 0..TABLE_ROWS + 500 {
            let result = if i % 2 == 0 { "done" } else { "rejected" };
            let _ = writeln!(text, "{i},{result}");
        }
        std::fs::write(&path, text).unwrap();
        let (total, counts) = result_counts(&path);
        assert_eq!(total, (TABLE_ROWS + 500) as u64);
        assert_eq!(counts["done"] + counts["rejected"], total);
        assert_eq!(
            table(&path, None)["rows"].as_array().unwrap().len(),
            TABLE_ROWS
        );
    }
}
