//! Errors of a run: a row's failure (data, recorded and the run goes on) and a setup
//! failure (the run cannot start or go on).

use std::fmt;

use crate::catalog::BodyProblem;
use crate::diagnostic::Span;
use crate::template::{TemplateError, TemplateErrorKind};

/// Why one row failed before or without a response deciding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFailure {
    /// The step (or `vars`, `input`) where it failed.
    pub step: String,
    /// Short machine code: `template`, `lookup`, `payload`, `input`, `path`.
    pub code: &'static str,
    /// What went wrong, in words.
    pub detail: String,
    /// The manifest position that produced the problem, when there is one.
    pub span: Option<Span>,
}

impl RowFailure {
    /// A template that failed to render for this row (`step` names where it is used).
    pub fn template(step: &str, e: &TemplateError) -> Self {
        let lookup = matches!(&e.kind, TemplateErrorKind::Render(d) if d.contains("lookup"));
        RowFailure {
            step: step.to_owned(),
            code: if lookup { "lookup" } else { "template" },
            detail: if lookup {
                e.reason()
            } else {
                format!("`{}`: {}", e.source, e.reason())
            },
            span: Some(e.span),
        }
    }

    pub(super) fn empty_path(step: &str, source: &str, span: Span) -> Self {
        RowFailure {
            step: step.to_owned(),
            code: "path",
            detail: format!("path value `{source}` is empty"),
            span: Some(span),
        }
    }

    pub(super) fn payload(
        step: &str,
        operation: &str,
        first: &BodyProblem,
        count: usize,
        span: Span,
    ) -> Self {
        let more = if count > 1 {
            format!(" (and {} more)", count - 1)
        } else {
            String::new()
        };
        RowFailure {
            step: step.to_owned(),
            code: "payload",
            detail: format!("body of `{operation}`: {first}{more}"),
            span: Some(span),
        }
    }

    /// A problem with the row's data itself (malformed line, missing required value).
    pub fn input(detail: impl Into<String>) -> Self {
        RowFailure {
            step: String::new(),
            code: "input",
            detail: detail.into(),
            span: None,
        }
    }
}

impl fmt::Display for RowFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.step.is_empty() {
            write!(f, "{}", self.detail)
        } else {
            write!(f, "step `{}`: {}", self.step, self.detail)
        }
    }
}

/// A problem that stops the run (or keeps it from starting).
#[derive(Debug)]
pub enum ExecError {
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
