//! gladly-runner: bulk changes and exports for a Gladly org, written as YAML manifests.
//!
//! The crate is one library with a thin binary (`runner`). A manifest is parsed and
//! validated by [`manifest`] against the Gladly operations in [`catalog`]; rows come from
//! [`source`]; requests are rendered by [`template`]; [`engine`] runs them under the
//! rules in [`policy`] and records one [`results`] line per row. [`sandbox`] is a local
//! Gladly used for rehearsals and tests. [`cli`] is the only part that touches the terminal.

pub mod catalog;
pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod failure;
pub mod manifest;
pub mod output;
pub mod policy;
pub mod results;
pub mod sandbox;
pub mod source;
pub mod template;
