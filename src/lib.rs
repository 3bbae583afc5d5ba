//! gladly-runner: bulk changes and exports for a Gladly org, written as YAML manifests.
//!
//! The crate is one library with a thin binary (`runner`). A manifest is parsed and
//! validated by `manifest` against the Gladly operations in [`catalog`]; rows come from
//! `source`; requests are rendered by `template`; `engine` runs them under the
//! rules in `policy` and records one `results` line per row. [`sandbox`] is a local
//! Gladly used for rehearsals and tests. [`cli`] is the only part that touches the terminal.

pub mod catalog;
pub mod cli;
mod diagnostic;
mod engine;
mod failure;
#[cfg(test)]
mod fuzz;
mod manifest;
mod output;
mod policy;
mod results;
pub mod sandbox;
mod source;
mod template;
mod ui;
