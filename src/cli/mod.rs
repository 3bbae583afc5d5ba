//! The command line: argument parsing, subcommand dispatch, and everything that writes to
//! the terminal. Nothing else in the crate prints, and nothing depends on this module.

mod apply;
mod color;
mod completions;
// Used by `apply` once it runs for real; remove the allows when it is wired.
mod confirm;
mod exit;
mod failed;
mod init;
mod logging;
mod ops;
mod progress;
mod report;
mod sandbox;
mod schema;
mod ui;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::Exit;
use logging::LogFormat;

/// Bulk changes and exports for a Gladly org, written as YAML manifests.
#[derive(Debug, Parser)]
#[command(
    name = "runner",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("RUNNER_COMMIT"), ")"),
    about,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log more: `-v` for what the run does, `-vv` for debugging, `-vvv` for everything.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Show no progress and log only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// How log lines are written on stderr.
    #[arg(long, value_enum, global = true, default_value = "text")]
    log_format: LogFormat,
    /// When to colour messages: `auto` colours a terminal unless `NO_COLOR` is set.
    #[arg(
        long,
        value_enum,
        global = true,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: color::ColorChoice,
}

impl Cli {
    /// -1 for `-q`, else the number of `-v`.
    fn verbosity(&self) -> i8 {
        if self.quiet {
            -1
        } else {
            i8::try_from(self.verbose).unwrap_or(i8::MAX)
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests without running them; reports every problem at once.
    Validate(validate::ValidateArgs),
    /// Run a manifest's steps for every input row (or plan them with --dry-run).
    Apply(Box<apply::ApplyArgs>),
    /// Write a new manifest: a step for one operation, or a copy of a shipped job.
    Init(init::InitArgs),
    /// Write the rows a run rejected or failed, with their errors, as a file to correct.
    Failed(failed::FailedArgs),
    /// List the Gladly API operations a step can name.
    Ops(ops::OpsArgs),
    /// Print the JSON Schema of the manifest format (for editors).
    Schema,
    /// Serve the built-in Gladly simulator.
    Sandbox(sandbox::SandboxArgs),
    /// Serve the jobs of a folder as a local web page (check, plan, run, results).
    Ui(ui::UiArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the man page (or write every page into a folder with --dir).
    Man(completions::ManArgs),
}

/// How a command reports what it did on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object, for scripts (diagnostics and errors still go to stderr).
    Json,
}

/// Parses the process arguments, runs the chosen subcommand and returns its exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let exit = if err.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            // clap renders its own usage text; printing it is this module's job.
            let _ = err.print();
            return exit.into();
        }
    };
    color::init(cli.color);
    logging::init(cli.verbosity(), cli.log_format);
    // A bug is one line, not a backtrace amid the run's output; a panic inside a row fails
    // that row (the summary says so) and the run goes on.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("error: internal error (a bug; please report it): {what}{at}");
    }));
    let exit = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Apply(args) => apply::run(&args, cli.quiet),
        Command::Init(args) => init::run(&args),
        Command::Failed(args) => failed::run(&args),
        Command::Ops(args) => ops::run(&args),
        Command::Schema => schema::run(),
        Command::Sandbox(args) => sandbox::run(&args),
        Command::Ui(args) => ui::run(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    };
    exit.into()
}
