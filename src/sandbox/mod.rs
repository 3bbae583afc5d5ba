//! The sandbox: a local Gladly that answers like the real one, over real HTTP.
//!
//! It owns the server (a hyper accept loop serving an axum router on `127.0.0.1`), the
//! gate every request passes (Basic auth, the org rate limit and its `Ratelimit-*`
//! headers, latency and fault injection, the request log) and the handle tests hold
//! ([`Sandbox`]: address, credentials, snapshot, request log, shutdown). The org's data
//! and rules live in [`state`], the default org in [`fixtures`], the Gladly resources in
//! `routes/`. It uses the catalog to name the operations it does not simulate (501) and to
//! find the reports rate class; it never touches manifests or the engine.
//!
//! Time: each sandbox has its own [`state::Clock`]. By default it is the machine's time;
//! with [`SandboxOptions::clock`] (`runner sandbox --clock 2026-11-20T18:00:00Z`) the sandbox
//! starts at that instant and advances with real time. The default org's timestamps are
//! relative to that start (events in the 24 hours before it, export jobs in the 14 days
//! before it) and every route reads "now" from the same clock, so sample inputs and tests
//! can name fixed dates. An org loaded from a state file keeps its timestamps and takes the
//! running sandbox's clock.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use gladly_runner::sandbox::{self, SandboxOptions};
//! let sandbox = sandbox::start(SandboxOptions::unlimited()).await?;
//! println!("{} {}:{}", sandbox.base_url(), sandbox.username(), sandbox.token());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

pub mod error;
pub mod faults;
pub mod fixtures;
pub mod rate;
pub mod state;

mod gate;
mod request_log;
mod routes;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use faults::{FaultSpec, FaultSpecError, Latency};

use faults::FaultPlan;
use rate::{ReportsLimit, Window};
use state::{Clock, Org};

/// The ids of the catalog operations the sandbox simulates; every other operation of the
/// catalog answers 501 `not_implemented` naming itself.
pub fn simulated_operations() -> &'static [&'static str] {
    &routes::SIMULATED
}

/// How to run a sandbox. `Default`: ephemeral port, 10 requests/second, reports 10/minute,
/// seed 1, no latency, no faults, no state file.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Org-wide requests per second; `None` turns the limit off.
    pub rate_limit: Option<u32>,
    /// Report requests per minute (2 may run at once); `None` turns the reports limit off.
    pub reports_per_minute: Option<u32>,
    /// Added latency on every API request.
    pub latency: Option<Latency>,
    /// Injected faults.
    pub faults: FaultSpec,
    /// Seed of the default org's ids and of the fault decisions.
    pub seed: u64,
    /// Load the org from this file on start (if it exists); save it within 250 ms of each
    /// write and on shutdown.
    pub state_file: Option<PathBuf>,
    /// The accepted Basic-auth user (the API user's email).
    pub username: String,
    /// The accepted API token.
    pub token: String,
    /// Send `Retry-After` on rate-limit 429s (the real API documents none).
    pub retry_after: bool,
    /// The sandbox's "now" at start: `None` (the default) is the machine's time; `Some(at)`
    /// makes the sandbox live at `at` plus the real time elapsed since it started, for the
    /// default org's timestamps and every route (events 24 h window, export 14 days, due
    /// dates, created records). Per sandbox; several may run with different clocks.
    pub clock: Option<DateTime<Utc>>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            rate_limit: Some(10),
            reports_per_minute: Some(10),
            latency: None,
            faults: FaultSpec::default(),
            seed: 1,
            state_file: None,
            username: "api@example.com".into(),
            token: "sandbox-token".into(),
            retry_after: false,
            clock: None,
        }
    }
}

impl SandboxOptions {
    /// Options for fast tests: no rate limits at all.
    #[must_use]
    pub fn unlimited() -> Self {
        SandboxOptions {
            rate_limit: None,
            reports_per_minute: None,
            ..SandboxOptions::default()
        }
    }
}

/// One request as the sandbox saw it, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query string, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Status answered; 0 when the connection was reset instead.
    pub status: u16,
    /// Arrival time in milliseconds since the sandbox started (for rate assertions).
    pub at_ms: u64,
    /// The injected fault, if any (`500:after`, `reset:before`, `burst429`, `slow`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// State shared by the gate and the routes.
#[derive(Debug)]
struct Shared {
    org: Mutex<Org>,
    log: request_log::RequestLog,
    dirty: AtomicBool,
    expected_auth: String,
    limiter: Option<Window>,
    reports: Option<ReportsLimit>,
    faults: FaultPlan,
    retry_after: bool,
    started: Instant,
    arrivals: AtomicU64,
    state_file: Option<PathBuf>,
    base_url: String,
}

type App = Arc<Shared>;

impl Shared {
    /// Writes the org to the state file, if one is configured (write to a temp file, then rename).
    fn save_state(&self) -> std::io::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let text = {
            let org = self.org.lock().expect("org lock");
            serde_json::to_string_pretty(&*org).map_err(std::io::Error::other)?
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }
}

/// Saves the state file at most every 250 ms while writes happen, and once more on stop.
/// Saving after every write would cost O(org size) per request.
async fn save_while_running(app: App, mut stopped: watch::Receiver<bool>) {
    loop {
        let stopping = tokio::select! {
            _ = stopped.changed() => true,
            () = tokio::time::sleep(Duration::from_millis(250)) => false,
        };
        if app.dirty.swap(false, Ordering::AcqRel)
            && let Err(err) = app.save_state()
        {
            tracing::warn!(error = %err, "could not save sandbox state");
        }
        if stopping {
            return;
        }
    }
}

/// Loads the org from `path` if it exists; otherwise `None`.
fn load_state(path: &Path) -> std::io::Result<Option<Org>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A running sandbox. Dropping it stops the server; [`Sandbox::shutdown`] also saves state.
#[derive(Debug)]
pub struct Sandbox {
    app: App,
    addr: SocketAddr,
    username: String,
    token: String,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    saver: Option<JoinHandle<()>>,
}

/// Binds `127.0.0.1:port`, builds (or loads) the org, spawns the server on the current
/// tokio runtime and returns at once.
pub async fn start(opts: SandboxOptions) -> std::io::Result<Sandbox> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port)).await?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    let loaded = match &opts.state_file {
        Some(path) => load_state(path)?,
        None => None,
    };
    let clock = Clock::from_option(opts.clock);
    let mut org = loaded
        .unwrap_or_else(|| fixtures::default_org(opts.seed, &opts.username, &base_url, clock));
    org.clock = clock;
    let credentials = format!("{}:{}", opts.username, opts.token);
    let app: App = Arc::new(Shared {
        org: Mutex::new(org),
        log: request_log::RequestLog::default(),
        dirty: AtomicBool::new(false),
        expected_auth: format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, credentials)
        ),
        limiter: opts
            .rate_limit
            .map(|r| Window::new(r, Duration::from_secs(1))),
        reports: opts.reports_per_minute.map(|r| ReportsLimit::new(r, 2)),
        faults: FaultPlan::new(opts.faults.clone(), opts.latency, opts.seed),
        retry_after: opts.retry_after,
        started: Instant::now(),
        arrivals: AtomicU64::new(0),
        state_file: opts.state_file.clone(),
        base_url,
    });
    app.save_state()?;
    let router = routes::router(Arc::clone(&app));
    let (stop, stopped) = watch::channel(false);
    let saver = app
        .state_file
        .is_some()
        .then(|| tokio::spawn(save_while_running(Arc::clone(&app), stopped.clone())));
    let task = tokio::spawn(serve(listener, router, stopped));
    Ok(Sandbox {
        app,
        addr,
        username: opts.username,
        token: opts.token,
        stop,
        task: Some(task),
        saver,
    })
}

impl Sandbox {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the value for `GLADLY_HOST`.
    pub fn base_url(&self) -> String {
        self.app.base_url.clone()
    }

    /// The accepted Basic-auth user.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The accepted API token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The sandbox's current instant (its clock: real time, or `SandboxOptions::clock`
    /// plus the time elapsed since start).
    pub fn now(&self) -> DateTime<Utc> {
        self.app.org.lock().expect("org lock").clock.now()
    }

    /// The whole org state as JSON (customers, conversations, items, tasks, topics, ...).
    pub fn snapshot(&self) -> Value {
        let org = self.app.org.lock().expect("org lock");
        serde_json::to_value(&*org).expect("org serialises")
    }

    /// Every `/api/v1` request so far, in arrival order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.app.log.entries()
    }

    /// Stops accepting, lets in-flight requests finish (up to 2 s) and saves the state file.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(saver) = self.saver.take() {
            let _ = saver.await;
        }
        if let Err(err) = self.app.save_state() {
            tracing::warn!(error = %err, "could not save sandbox state");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Lets a request's handling drop its own connection (the `reset` fault).
#[derive(Debug, Clone)]
struct ConnKill(Arc<Notify>);

/// The accept loop: one hyper HTTP/1 connection task per client, each killable.
async fn serve(listener: TcpListener, router: axum::Router, mut stopped: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    serve_connection(stream, router.clone(), &graceful);
                }
            }
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(2)) => {}
    }
}

fn serve_connection(stream: TcpStream, router: axum::Router, graceful: &GracefulShutdown) {
    let _ = stream.set_nodelay(true);
    let kill = ConnKill(Arc::new(Notify::new()));
    let killed = Arc::clone(&kill.0);
    let service = TowerToHyperService::new(router);
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(kill.clone());
            hyper::service::Service::call(&service, req)
        });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        tokio::select! {
            _ = conn => {}
            // Dropping the connection closes the socket with no response written.
            () = killed.notified() => {}
        }
    });
}
