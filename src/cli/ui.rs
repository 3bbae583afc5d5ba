//! `runner ui`: starts the page's server and prints where to open it.

use std::io::Write as _;
use std::path::PathBuf;

use super::{Exit, report};
use crate::ui::{UiOptions, start};

/// Arguments of `runner ui`.
#[derive(Debug, clap::Args)]
pub(crate) struct UiArgs {
    /// The folder of manifests the page shows.
    #[arg(long, value_name = "DIR", default_value = "jobs")]
    jobs: PathBuf,
    /// Connect to a fresh in-process sandbox at start (nothing real is touched).
    #[arg(long)]
    sandbox: bool,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8700)]
    port: u16,
}

pub(crate) fn run(args: &UiArgs) -> Exit {
    if !args.jobs.is_dir() {
        report::error(&format!(
            "`{}` is not a folder of manifests",
            args.jobs.display()
        ));
        return Exit::Usage;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            report::error(&format!("cannot find the runner binary: {e}"));
            return Exit::Fatal;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            report::error(&format!("cannot start the async runtime: {e}"));
            return Exit::Fatal;
        }
    };
    runtime.block_on(async {
        let options = UiOptions {
            jobs: args.jobs.clone(),
            sandbox: args.sandbox,
            port: args.port,
            exe,
        };
        let mut served = match start(options).await {
            Ok(s) => s,
            Err(e) => {
                report::error(&format!("cannot serve on 127.0.0.1:{}: {e}", args.port));
                return Exit::Fatal;
            }
        };
        // The URL carries the access token: it is this launch's only key to the page.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "runner ui: open {}", served.url);
        let _ = writeln!(
            out,
            "(jobs from {}; only this machine can connect; Ctrl-C stops it and its runs)",
            args.jobs.display()
        );
        let _ = out.flush();
        drop(out);
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = served.wait() => {}
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
        // Runs in flight stop as Ctrl-C stops them, and record their rows.
        served.shutdown().await;
        Exit::Ok
    })
}
