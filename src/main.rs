//! The `runner` binary: a thin shell around [`gladly_runner::cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    gladly_runner::cli::run()
}
