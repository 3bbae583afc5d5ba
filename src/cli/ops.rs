//! `runner ops`: lists the catalog's operations.

use super::Exit;

/// Arguments of `runner ops`.
#[derive(Debug, clap::Args)]
pub(crate) struct OpsArgs {
    /// Only operations whose id, method or path contains this text (case-insensitive).
    filter: Option<String>,
}

pub(crate) fn run(args: &OpsArgs) -> Exit {
    let _ = &args.filter;
    Exit::Ok
}
