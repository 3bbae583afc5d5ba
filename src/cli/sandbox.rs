//! `runner sandbox`: serves the built-in Gladly simulator until Ctrl-C.
//!
//! Builds the tokio runtime, starts [`crate::sandbox`], prints the three lines a shell or
//! `.env` needs (`GLADLY_HOST`, `GLADLY_USERNAME`, `GLADLY_API_TOKEN`) and waits. The token
//! printed is the sandbox's own local fake credential, never a real one. `--clock` starts
//! the sandbox at a fixed instant (see [`SandboxOptions::clock`]).

use std::io::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::Exit;
use crate::sandbox::{self, FaultSpec, Latency, SandboxOptions};

/// Arguments of `runner sandbox`.
#[derive(Debug, clap::Args)]
pub(crate) struct SandboxArgs {
    /// Port to listen on (127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Keep the org in FILE: loaded on start if it exists, saved shortly after writes and on exit.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Org-wide requests per second (0 turns the limit off, reports included).
    #[arg(long, value_name = "R", default_value_t = 10)]
    rate_limit: u32,
    /// Added latency in milliseconds: fixed (100) or a uniform range (50-150).
    #[arg(long, value_name = "MS", value_parser = Latency::parse)]
    latency: Option<Latency>,
    /// Injected faults, e.g. `5xx=0.2:after,reset=0.05,slow=0.01:30s,burst429=20@3s,on=writes`.
    ///
    /// Comma-separated items: `5xx=P[:WHEN]` (500/502/503 evenly), `500=P[:WHEN]` (also
    /// 502, 503), `reset=P[:WHEN]` (connection dropped, no response), `slow=P:DURATION`,
    /// `burst429=N@START` (N 429s from request number START, or from the first request
    /// after a duration such as 3s), `on=all|reads|writes`. P is a share (0.05 or 5%).
    /// WHEN is `before` (nothing applied), `after` (applied, response lost) or `either`
    /// (the seed picks per request; the default). Same seed and request order, same faults.
    #[arg(long, value_name = "SPEC", value_parser = parse_faults)]
    faults: Option<Box<FaultSpec>>,
    /// Seed of the default org's ids and of fault decisions (an org loaded by --state keeps its ids).
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Basic-auth user the sandbox accepts.
    #[arg(long, value_name = "U", default_value = "api@example.com")]
    username: String,
    /// API token the sandbox accepts.
    #[arg(long, value_name = "T", default_value = "sandbox-token")]
    token: String,
    /// Send `Retry-After: 1` on rate-limit 429s (the real API sends none).
    #[arg(long)]
    retry_after: bool,
    /// Run the sandbox's clock from this instant instead of the machine's time.
    ///
    /// An RFC 3339 instant such as `2026-11-20T18:00:00Z` (offsets allowed). The sandbox's
    /// "now" is that instant plus the real time elapsed since start: the default org's
    /// events fall in the 24 hours before it, its export jobs in the 14 days before it, and
    /// every route (the events window, export jobs, due dates, created records) reads the
    /// same clock. Same seed and clock, same org, timestamps included.
    #[arg(long, value_name = "INSTANT", value_parser = parse_clock)]
    clock: Option<DateTime<Utc>>,
}

/// Parses `--faults` (boxed: the spec is large and the arguments live in the command enum).
fn parse_faults(text: &str) -> Result<Box<FaultSpec>, crate::sandbox::FaultSpecError> {
    FaultSpec::parse(text).map(Box::new)
}

/// Parses `--clock`: an RFC 3339 / ISO 8601 instant.
fn parse_clock(text: &str) -> Result<DateTime<Utc>, String> {
    crate::sandbox::state::parse_ts(text.trim()).ok_or_else(|| {
        format!("`{text}` is not an instant; use RFC 3339 such as 2026-11-20T18:00:00Z")
    })
}

impl SandboxArgs {
    fn options(&self) -> SandboxOptions {
        let limited = self.rate_limit > 0;
        SandboxOptions {
            port: self.port,
            rate_limit: limited.then_some(self.rate_limit),
            reports_per_minute: limited.then_some(10),
            latency: self.latency,
            faults: self.faults.as_deref().cloned().unwrap_or_default(),
            seed: self.seed,
            state_file: self.state.clone(),
            username: self.username.clone(),
            token: self.token.clone(),
            retry_after: self.retry_after,
            clock: self.clock,
        }
    }
}

/// Runs the sandbox in the foreground until Ctrl-C.
pub(crate) fn run(args: &SandboxArgs) -> Exit {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return Exit::Fatal;
        }
    };
    runtime.block_on(serve(args.options()))
}

async fn serve(options: SandboxOptions) -> Exit {
    let port = options.port;
    let clock = options.clock;
    let sandbox = match sandbox::start(options).await {
        Ok(sandbox) => sandbox,
        Err(err) => {
            eprintln!("error: cannot start the sandbox on 127.0.0.1:{port}: {err}");
            return Exit::Fatal;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let printed = writeln!(
        stdout,
        // `export` lines: pasted into a shell they reach the next command; a `.env` file
        // takes them as they are.
        "export GLADLY_HOST={}\nexport GLADLY_USERNAME={}\nexport GLADLY_API_TOKEN={}",
        sandbox.base_url(),
        sandbox.username(),
        sandbox.token()
    )
    .and_then(|()| stdout.flush());
    drop(stdout);
    if printed.is_err() {
        sandbox.shutdown().await;
        return Exit::Fatal;
    }
    if clock.is_some() {
        eprintln!(
            "sandbox: clock set to {}",
            crate::sandbox::state::format_ts(sandbox.now())
        );
    }
    eprintln!("sandbox: serving the default org; Ctrl-C stops it");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Exit::Ok
}
