//! `runner ui`: the jobs of a folder in a local web page, served by the binary itself.
//!
//! A thin client of the command line: every check, plan and run is this same binary's
//! `validate` or `apply`, started as a child process with `--output json --progress json`,
//! so the page gets the engine, the ledger, its lock and its stop-and-resume rules exactly
//! as the terminal does. The server owns what the terminal cannot: the connection (kept in
//! this process's memory only, handed to each child in its environment), uploads (stored
//! under names the server chooses), the runs in flight and the files a page may download.
//!
//! Safety: it listens on 127.0.0.1 only; every request needs the per-launch access token
//! (the page's URL carries it; API calls send it in a header, which a cross-site form
//! cannot); the `Host` header must name this server (no DNS rebinding) and an `Origin`,
//! when sent, must be this server's.

mod page;
mod runs;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::engine::Credentials;
use crate::manifest::Manifest;
use runs::Run;

/// The largest upload accepted, in bytes.
pub(crate) const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

/// What `runner ui` was asked for.
#[derive(Debug, Clone)]
pub(crate) struct UiOptions {
    /// The folder of manifests shown.
    pub jobs: PathBuf,
    /// Connect to an in-process sandbox at start.
    pub sandbox: bool,
    /// Port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// The runner binary the page's jobs run with.
    pub exe: PathBuf,
}

/// The server's state, shared by every request.
pub(crate) struct App {
    token: String,
    hosts: Vec<String>,
    jobs: PathBuf,
    uploads: PathBuf,
    exe: PathBuf,
    connection: Mutex<Option<Connection>>,
    sandbox: tokio::sync::Mutex<Option<crate::sandbox::Sandbox>>,
    runs: Mutex<HashMap<u64, Arc<Run>>>,
    next_id: AtomicU64,
}

/// Where the page's jobs run: held in memory only, never written, never sent back whole.
#[derive(Clone)]
struct Connection {
    host: String,
    username: String,
    token: String,
    sandbox: bool,
}

/// A running server: its address and the URL (with the access token) to open.
pub(crate) struct Served {
    /// `http://127.0.0.1:PORT/?t=TOKEN`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
    app: Arc<App>,
}

impl Served {
    /// Waits until the server stops (it runs until the process ends).
    pub(crate) async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }

    /// Stops the runs in flight as Ctrl-C would (they record their rows and end), waits
    /// for them, and removes the uploads.
    pub(crate) async fn shutdown(self) {
        self.task.abort();
        let runs: Vec<Arc<Run>> = self
            .app
            .runs
            .lock()
            .expect("runs")
            .values()
            .cloned()
            .collect();
        for run in &runs {
            run.terminate().await;
        }
        for run in &runs {
            run.finished_within(std::time::Duration::from_secs(60))
                .await;
        }
        let _ = std::fs::remove_dir_all(&self.app.uploads);
        if let Some(sandbox) = self.app.sandbox.lock().await.take() {
            sandbox.shutdown().await;
        }
    }
}

/// Starts the server; returns once it listens.
pub(crate) async fn start(options: UiOptions) -> std::io::Result<Served> {
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port))).await?;
    let addr = listener.local_addr()?;
    let token = hex_token();
    let uploads =
        std::env::temp_dir().join(format!("runner-ui-{}-{}", std::process::id(), &token[..8]));
    // Uploads hold customer data: only this user may read them.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(&uploads)?;
    let app = Arc::new(App {
        token: token.clone(),
        hosts: vec![
            format!("127.0.0.1:{}", addr.port()),
            format!("localhost:{}", addr.port()),
        ],
        jobs: std::path::absolute(&options.jobs)?,
        uploads,
        exe: options.exe,
        connection: Mutex::new(None),
        sandbox: tokio::sync::Mutex::new(None),
        runs: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
    });
    if options.sandbox {
        connect_sandbox(&app).await?;
    }
    let router = axum::Router::new()
        .route("/", get(page::index))
        .route("/api/state", get(state))
        .route("/api/connect", post(connect))
        .route("/api/jobs", get(jobs))
        .route("/api/upload", post(upload))
        .route("/api/check", post(check))
        .route("/api/plan", post(runs::plan))
        .route("/api/run", post(runs::run))
        .route("/api/runs", get(runs::history))
        .route("/api/runs/{id}", get(runs::status))
        .route("/api/runs/{id}/events", get(runs::events))
        .route("/api/runs/{id}/stop", post(runs::stop))
        .route("/api/runs/{id}/results", get(runs::results))
        .route("/api/runs/{id}/download/{what}", get(runs::download))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(middleware::from_fn_with_state(Arc::clone(&app), guard))
        .with_state(Arc::clone(&app));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(Served {
        url: format!("http://127.0.0.1:{}/?t={token}", addr.port()),
        task,
        app,
    })
}

/// 32 random bytes as hex: the per-launch access token.
fn hex_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Refuses a request whose `Host` is not this server, whose `Origin` is foreign, or that
/// lacks the access token (a header on API calls; the page and downloads may carry it in
/// the query, as links and the address bar can only do that).
async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !app.hosts.iter().any(|h| h == host) {
        return refuse(StatusCode::MISDIRECTED_REQUEST, "unknown Host");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(|o| app.hosts.iter().any(|h| h == o));
        if !ok {
            return refuse(StatusCode::FORBIDDEN, "foreign Origin");
        }
    }
    let from_header = headers
        .get("x-runner-token")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let from_query = request.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "t")
            .map(|(_, v)| v.into_owned())
    });
    let get = request.method() == axum::http::Method::GET;
    // Writes need the header: a link or form from another site cannot set it.
    let given = if get {
        from_header.or(from_query)
    } else {
        from_header
    };
    if !given.is_some_and(|t| constant_time_eq(t.as_bytes(), app.token.as_bytes())) {
        return refuse(StatusCode::UNAUTHORIZED, "missing or wrong access token");
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        "x-content-type-options",
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "referrer-policy",
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, Json(json!({ "error": why }))).into_response()
}

/// An error answer with a message for the page.
pub(crate) fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A refusal a helper returns, answered as [`problem`] does.
pub(crate) struct Refusal(StatusCode, String);

impl Refusal {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal(status, message.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        problem(self.0, self.1)
    }
}

async fn connect_sandbox(app: &App) -> std::io::Result<()> {
    let sandbox = crate::sandbox::start(crate::sandbox::SandboxOptions::default()).await?;
    *app.connection.lock().expect("connection") = Some(Connection {
        host: sandbox.base_url(),
        username: sandbox.username().to_owned(),
        token: sandbox.token().to_owned(),
        sandbox: true,
    });
    *app.sandbox.lock().await = Some(sandbox);
    Ok(())
}

/// What the page shows of the connection: the host and user, never the token.
async fn state(State(app): State<Arc<App>>) -> Json<Value> {
    let connection = app.connection.lock().expect("connection").clone();
    Json(json!({
        "connected": connection.as_ref().map(|c| json!({
            "host": c.host, "username": c.username, "sandbox": c.sandbox,
        })),
        "jobs_folder": app.jobs.display().to_string(),
        "max_upload_bytes": MAX_UPLOAD_BYTES,
    }))
}

#[derive(Deserialize)]
struct ConnectForm {
    /// `sandbox`, `env` (the environment or `.env` of the folder) or `token`.
    how: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    token: String,
}

async fn connect(State(app): State<Arc<App>>, Json(form): Json<ConnectForm>) -> Response {
    let credentials = match form.how.as_str() {
        "sandbox" => {
            let running = app.sandbox.lock().await.is_some();
            if !running && let Err(e) = connect_sandbox(&app).await {
                return problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot start the sandbox: {e}"),
                );
            }
            return state(State(app)).await.into_response();
        }
        "env" => {
            let from_file = dotenvy::from_path_iter(app.jobs.join(".env"))
                .ok()
                .map(|iter| iter.filter_map(Result::ok).collect::<HashMap<_, _>>())
                .unwrap_or_default();
            Credentials::from_vars(|name| {
                std::env::var(name)
                    .ok()
                    .or_else(|| from_file.get(name).cloned())
            })
        }
        "token" => Credentials::new(&form.host, &form.username, &form.token),
        other => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!("unknown way to connect `{other}`"),
            );
        }
    };
    match credentials {
        Ok(c) => {
            *app.connection.lock().expect("connection") = Some(Connection {
                host: c.host().to_owned(),
                username: c.username().to_owned(),
                token: c.token().to_owned(),
                sandbox: false,
            });
            state(State(app)).await.into_response()
        }
        Err(e) => problem(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

/// One job of the folder, as the sidebar and the form show it.
fn job_json(file: &Path, jobs: &Path) -> Value {
    let name = file
        .strip_prefix(jobs)
        .unwrap_or(file)
        .display()
        .to_string();
    match Manifest::load(file) {
        Ok(loaded) => {
            let m = &loaded.manifest;
            let description = loaded
                .text
                .lines()
                .find_map(|l| l.strip_prefix("description:"))
                .map(|d| d.trim().trim_matches('"').to_owned())
                .unwrap_or_default();
            let input = if m.input().api.is_some() {
                "api"
            } else {
                match m.input().format {
                    crate::manifest::InputFormat::Csv { .. } => "csv",
                    crate::manifest::InputFormat::Jsonl => "jsonl",
                    crate::manifest::InputFormat::Json => "json",
                }
            };
            json!({
                "file": name,
                "name": m.name(),
                "group": group(m),
                "description": description,
                "destructive": m.destructive(),
                "writes": !m.steps().is_empty() && !m.is_transform(),
                "input": input,
                "input_file": m.input().path.strip_prefix(jobs).unwrap_or(&m.input().path).display().to_string(),
                "params": m.params().iter().map(|p| json!({
                    "name": p.name, "default": p.default, "description": p.description,
                })).collect::<Vec<_>>(),
                "valid": true,
            })
        }
        Err(e) => json!({
            "file": name, "name": name, "group": "Invalid", "description": e.diagnostics.first().map(|d| d.message.clone()),
            "valid": false,
        }),
    }
}

/// The portal's sections: configuration exports, conversations, bulk changes, reports,
/// events.
fn group(m: &Manifest) -> &'static str {
    let name = m.name();
    if name.starts_with("report-") {
        "Reports"
    } else if name.starts_with("events-") || name == "export-events" {
        "Events"
    } else if [
        "export-topics",
        "export-inboxes",
        "export-audiences",
        "export-answers",
    ]
    .contains(&name)
    {
        "Configuration exports"
    } else if name.starts_with("export-") {
        "Conversations"
    } else {
        "Bulk changes"
    }
}

/// The manifests of the folder (`*.yaml`, sorted), each with its form's fields.
async fn jobs(State(app): State<Arc<App>>) -> Json<Value> {
    Json(Value::Array(
        job_files(&app.jobs)
            .iter()
            .map(|f| job_json(f, &app.jobs))
            .collect(),
    ))
}

fn job_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml") && p.is_file())
        .collect();
    files.sort();
    files
}

/// The manifest a request names: one of the folder's own files, by its name (never a path
/// the client makes up).
fn job_path(app: &App, file: &str) -> Result<PathBuf, Refusal> {
    job_files(&app.jobs)
        .into_iter()
        .find(|f| f.file_name().is_some_and(|n| n.to_string_lossy() == file))
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::NOT_FOUND,
                format!("no job `{file}` in the folder"),
            )
        })
}

#[derive(Deserialize)]
struct UploadQuery {
    /// `csv`, `tsv`, `jsonl` or `json`: the format the rows are read as.
    format: String,
}

/// Stores an uploaded input under a name the server makes; answers its id.
async fn upload(
    State(app): State<Arc<App>>,
    Query(query): Query<UploadQuery>,
    body: axum::body::Bytes,
) -> Response {
    let ext = match query.format.as_str() {
        f @ ("csv" | "tsv" | "jsonl" | "json") => f,
        other => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!("unknown input format `{other}`"),
            );
        }
    };
    let id = app.next_id.fetch_add(1, Ordering::Relaxed);
    let path = app.uploads.join(format!("upload-{id}.{ext}"));
    if let Err(e) = std::fs::write(&path, &body) {
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot store the upload: {e}"),
        );
    }
    Json(json!({ "upload": format!("upload-{id}.{ext}"), "bytes": body.len() })).into_response()
}

/// An upload by the id the server gave it.
fn upload_path(app: &App, id: &str) -> Result<PathBuf, Refusal> {
    let ok = id.starts_with("upload-")
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !id.contains("..");
    let path = app.uploads.join(id);
    if ok && path.is_file() {
        Ok(path)
    } else {
        Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no upload `{id}`"),
        ))
    }
}

#[derive(Deserialize)]
struct CheckForm {
    job: String,
}

/// `runner validate JOB --output json`: the diagnostics with their positions.
async fn check(State(app): State<Arc<App>>, Json(form): Json<CheckForm>) -> Response {
    let path = match job_path(&app, &form.job) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let output = tokio::process::Command::new(&app.exe)
        .current_dir(&app.jobs)
        .args(["validate", "--output", "json"])
        .arg(&path)
        .env_remove("GLADLY_API_TOKEN")
        .output()
        .await;
    match output {
        Ok(out) => match serde_json::from_slice::<Value>(&out.stdout) {
            Ok(report) => Json(report["files"][0].clone()).into_response(),
            Err(_) => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ),
        },
        Err(e) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot run the check: {e}"),
        ),
    }
}

impl App {
    /// The connection, or an answer saying to connect first.
    fn connection(&self) -> Result<Connection, Refusal> {
        self.connection
            .lock()
            .expect("connection")
            .clone()
            .ok_or_else(|| Refusal::new(StatusCode::CONFLICT, "connect first"))
    }

    fn run(&self, id: u64) -> Result<Arc<Run>, Refusal> {
        self.runs
            .lock()
            .expect("runs")
            .get(&id)
            .cloned()
            .ok_or_else(|| Refusal::new(StatusCode::NOT_FOUND, format!("no run {id}")))
    }

    fn add_run(&self, run: Run) -> (u64, Arc<Run>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let run = Arc::new(run);
        self.runs.lock().expect("runs").insert(id, Arc::clone(&run));
        (id, run)
    }
}
