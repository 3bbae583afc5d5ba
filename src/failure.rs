//! Why a row failed, as data: a typed code that says which ledger class the row lands in
//! and a detail in words. Shared by the engine and the output writers (which make a
//! row's records), so neither depends on the other.

use std::fmt;

use crate::catalog::BodyProblem;
use crate::diagnostic::Span;
use crate::results::{ResultKind, RowResult};
use crate::source::RowError;
use crate::template::{TemplateError, TemplateErrorKind};

/// The kind of a row failure; its word goes in the results' `error_code` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FailureCode {
    /// A template failed to render for the row.
    Template,
    /// A lookup had no entry for the row's value.
    Lookup,
    /// A rendered body does not fit the operation.
    Payload,
    /// The row's data itself (malformed line, empty required value, a row it waits for).
    Input,
    /// A path parameter rendered empty.
    Path,
    /// An earlier row of the same input creates the same resource (the same `id`).
    Duplicate,
    /// A capture failed on the response.
    Capture,
    /// An output record or an aggregate fact could not be made.
    Output,
    /// A `retry` rule kept matching after every retry.
    Retry,
    /// The API answered an error a `retry` rule could not get past.
    Http,
    /// An answer that is not success: a redirect to a write.
    Redirect,
    /// No answer decided the request after every retry (5xx, timeout, connection).
    Network,
    /// A write not safe to repeat was sent and no answer came.
    Unknown,
    /// The run stopped before the row could finish.
    Stopped,
    /// A bug in the runner (a worker panicked).
    Internal,
}

impl FailureCode {
    /// The word written in the `error_code` column.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailureCode::Template => "template",
            FailureCode::Lookup => "lookup",
            FailureCode::Payload => "payload",
            FailureCode::Input => "input",
            FailureCode::Path => "path",
            FailureCode::Duplicate => "duplicate",
            FailureCode::Capture => "capture",
            FailureCode::Output => "output",
            FailureCode::Retry => "retry",
            FailureCode::Http => "http",
            FailureCode::Redirect => "redirect",
            FailureCode::Network => "network",
            FailureCode::Unknown => "unknown",
            FailureCode::Stopped => "stopped",
            FailureCode::Internal => "internal",
        }
    }

    /// The ledger class a row with this failure lands in: the row's own problems are
    /// rejected (fix the row), transport ones failed (resume sends again), an unanswered
    /// unsafe write unknown.
    pub(crate) fn class(self) -> ResultKind {
        match self {
            FailureCode::Network | FailureCode::Internal => ResultKind::Failed,
            FailureCode::Unknown => ResultKind::Unknown,
            FailureCode::Stopped => ResultKind::NotAttempted,
            _ => ResultKind::Rejected,
        }
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one row failed before or without a response deciding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowFailure {
    /// The step (or `vars`, `input`) where it failed.
    pub step: String,
    /// What kind of failure, written in the `error_code` column.
    pub code: FailureCode,
    /// What went wrong, in words.
    pub detail: String,
    /// The manifest position that produced the problem, when there is one.
    pub span: Option<Span>,
}

impl RowFailure {
    /// A template that failed to render for this row (`step` names where it is used).
    pub(crate) fn template(step: &str, e: &TemplateError) -> Self {
        let lookup = matches!(&e.kind, TemplateErrorKind::Render(d) if d.contains("lookup"));
        RowFailure {
            step: step.to_owned(),
            code: if lookup {
                FailureCode::Lookup
            } else {
                FailureCode::Template
            },
            detail: if lookup {
                e.reason()
            } else {
                format!("`{}`: {}", e.source, e.reason())
            },
            span: Some(e.span),
        }
    }

    pub(crate) fn empty_path(step: &str, source: &str, span: Span) -> Self {
        RowFailure {
            step: step.to_owned(),
            code: FailureCode::Path,
            detail: format!("path value `{source}` is empty"),
            span: Some(span),
        }
    }

    /// A path value that is not one plain segment (`.`, `..`, or holding `/`, `?`, `#`).
    pub(crate) fn bad_path_segment(step: &str, source: &str, value: &str, span: Span) -> Self {
        let shown: String = value.chars().take(80).collect();
        RowFailure {
            step: step.to_owned(),
            code: FailureCode::Path,
            detail: format!(
                "path value `{source}` is `{shown}`: a path value must be one segment, not \
                 `.` or `..` and without `/`, `?` or `#`"
            ),
            span: Some(span),
        }
    }

    pub(crate) fn payload(
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
            code: FailureCode::Payload,
            detail: format!("body of `{operation}`: {first}{more}"),
            span: Some(span),
        }
    }

    /// A problem with the row's data itself (malformed line, missing required value).
    pub(crate) fn input(detail: impl Into<String>) -> Self {
        RowFailure {
            step: String::new(),
            code: FailureCode::Input,
            detail: detail.into(),
            span: None,
        }
    }
}

impl fmt::Display for RowFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Printed clipped: a detail can quote a cell of any size (the results CSV keeps it).
        let detail = crate::diagnostic::clip(&self.detail, crate::diagnostic::MAX_MESSAGE_CHARS);
        if self.step.is_empty() {
            write!(f, "{detail}")
        } else {
            write!(f, "step `{}`: {detail}", self.step)
        }
    }
}

impl RowFailure {
    /// Marks `result` as ended by this failure: its class, outcome, step, code and detail.
    /// The one way a failed row is built, in every mode.
    pub(crate) fn apply_to(&self, result: &mut RowResult) {
        result.result = self.code.class();
        result.result.as_str().clone_into(&mut result.outcome);
        if !self.step.is_empty() {
            result.step.clone_from(&self.step);
        }
        self.code.as_str().clone_into(&mut result.error_code);
        // The step has its own column (and the printed summary names it): the detail is
        // the reason alone.
        result.detail.clone_from(&self.detail);
    }

    /// A row the source could not read (malformed line, bad encoding).
    pub(crate) fn unreadable(error: &RowError) -> Self {
        RowFailure::input(match &error.column {
            Some(column) => format!("column `{column}`: {}", error.kind),
            None => error.kind.to_string(),
        })
    }

    /// The results line of a row the source could not read.
    pub(crate) fn unreadable_row(error: &RowError) -> RowResult {
        let mut result = RowResult::new(error.number, error.line, ResultKind::Rejected);
        RowFailure::unreadable(error).apply_to(&mut result);
        result
    }
}

impl RowFailure {
    /// A worker panicked while running the row: a bug, recorded on the row.
    pub(crate) fn internal(panic: &(dyn std::any::Any + Send)) -> Self {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        RowFailure {
            step: String::new(),
            code: FailureCode::Internal,
            detail: format!("internal error (please report it): {what}"),
            span: None,
        }
    }
}
