//! Errors that stop a run or keep it from starting. A row's failure is data, not an
//! error: see [`crate::failure`].

use std::fmt;

/// A problem that stops the run (or keeps it from starting).
#[derive(Debug)]
pub(crate) enum ExecError {
    /// `--set` names a parameter the manifest does not declare, or a required one is missing.
    Params(String),
    /// The input cannot be read or its header does not fit the manifest.
    Input(String),
    /// The results or plan file cannot be written.
    Output(String),
    /// A lookup could not be fetched.
    Lookup(String),
    /// The connection cannot be used (host, credentials).
    Connection(String),
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::Params(m)
            | ExecError::Input(m)
            | ExecError::Output(m)
            | ExecError::Lookup(m)
            | ExecError::Connection(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ExecError {}
