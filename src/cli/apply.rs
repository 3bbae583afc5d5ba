//! `runner apply`: runs (or dry-runs) a manifest.

use std::path::PathBuf;

use super::Exit;

/// Arguments of `runner apply`.
#[derive(Debug, clap::Args)]
pub(crate) struct ApplyArgs {
    /// The manifest to run.
    manifest: PathBuf,
}

pub(crate) fn run(args: &ApplyArgs) -> Exit {
    let _ = &args.manifest;
    Exit::Ok
}
