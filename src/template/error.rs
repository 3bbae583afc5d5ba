//! Template errors: which template, where it is written, and what went wrong.

use std::fmt;

use crate::diagnostic::Span;

/// A template that failed to compile or render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    /// Where the template is written in the manifest.
    pub span: Span,
    /// The template text.
    pub source: String,
    /// What went wrong.
    pub kind: TemplateErrorKind,
}

/// The kinds of template failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplateErrorKind {
    /// The text is not a valid template.
    Syntax(String),
    /// Rendering failed (a function error, a failed lookup, a type error).
    Render(String),
    /// The expression's value is undefined (a missing column or capture).
    Undefined,
}

impl TemplateError {
    pub(crate) fn syntax(source: &str, span: Span, err: &minijinja::Error) -> Self {
        TemplateError {
            span,
            source: source.to_owned(),
            kind: TemplateErrorKind::Syntax(detail(err)),
        }
    }

    /// A template that parses but names something that cannot work (an unknown filter,
    /// a wrong number of arguments, a bad literal time format).
    pub(crate) fn invalid(source: &str, span: Span, detail: String) -> Self {
        TemplateError {
            span,
            source: source.to_owned(),
            kind: TemplateErrorKind::Syntax(detail),
        }
    }

    /// A rendering that failed for a reason of ours (a size limit).
    pub(crate) fn invalid_render(source: &str, span: Span, detail: String) -> Self {
        TemplateError {
            span,
            source: source.to_owned(),
            kind: TemplateErrorKind::Render(detail),
        }
    }

    pub(crate) fn render(source: &str, span: Span, err: &minijinja::Error) -> Self {
        let kind = if err.kind() == minijinja::ErrorKind::UndefinedError {
            TemplateErrorKind::Undefined
        } else {
            TemplateErrorKind::Render(detail(err))
        };
        TemplateError {
            span,
            source: source.to_owned(),
            kind,
        }
    }

    pub(crate) fn undefined(source: &str, span: Span) -> Self {
        TemplateError {
            span,
            source: source.to_owned(),
            kind: TemplateErrorKind::Undefined,
        }
    }

    /// The message without the template text (for results CSV details).
    pub(crate) fn reason(&self) -> String {
        match &self.kind {
            TemplateErrorKind::Syntax(d) => format!("invalid template: {d}"),
            TemplateErrorKind::Render(d) => d.clone(),
            TemplateErrorKind::Undefined => "a value it uses is undefined".to_owned(),
        }
    }
}

/// minijinja's own words without its location suffix (we print positions ourselves).
fn detail(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(d) => d.to_owned(),
        None => err.kind().to_string(),
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template `{}`: {}", self.source, self.reason())
    }
}

impl std::error::Error for TemplateError {}
