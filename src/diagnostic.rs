//! Positions and user-facing error messages, and the one renderer that draws them.
//!
//! A [`Diagnostic`] is a message, an optional [`Span`] in a named file, a short label under
//! the caret and `help:` notes. [`Diagnostic::render`] is a pure function returning the
//! rustc-shaped text; it never prints (only `cli` writes to the terminal) and it knows
//! nothing about manifests or rows.

use std::fmt::Write as _;

/// A place in a text file: 1-based line and column (in characters) and a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Span {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// How many characters the caret line underlines (at least one is drawn).
    pub len: usize,
}

impl Span {
    /// A span starting at `line:column` covering `len` characters.
    pub(crate) fn new(line: usize, column: usize, len: usize) -> Self {
        Span { line, column, len }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// The input is rejected.
    Error,
    /// Worth a look, but the input is accepted.
    Warning,
}

/// One problem to show a user: what is wrong, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong: lowercase, no trailing period, user values in backticks.
    pub message: String,
    /// Where it is, when it has a position in the file.
    pub span: Option<Span>,
    /// Short text printed after the caret (often the fix).
    pub label: Option<String>,
    /// Extra `help:` lines printed after the snippet.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub(crate) fn error(message: impl Into<String>, span: Option<Span>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            notes: Vec::new(),
        }
    }

    /// A warning at `span`.
    pub(crate) fn warning(message: impl Into<String>, span: Option<Span>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message, span)
        }
    }

    /// Adds the text printed after the caret.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a `help:` line.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Renders the diagnostic against the text of `file`:
    ///
    /// ```text
    /// error: unknown key `reqest`
    ///   --> jobs/x.yaml:12:5
    ///    |
    /// 12 |     reqest: GET /api/v1/topics
    ///    |     ^^^^^^ did you mean `request`?
    /// ```
    pub(crate) fn render(&self, file: &str, source: &str) -> String {
        let mut out = String::new();
        let head = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{head}: {}", clip(&self.message, MAX_MESSAGE_CHARS));
        if let Some(span) = self.span {
            let label = self.label.as_deref().map(|l| clip(l, MAX_MESSAGE_CHARS));
            render_snippet(&mut out, file, source, span, label.as_deref());
        } else {
            let _ = writeln!(out, "  --> {file}");
            if let Some(label) = &self.label {
                let _ = writeln!(out, "   = {}", clip(label, MAX_MESSAGE_CHARS));
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "   = help: {}", clip(note, MAX_MESSAGE_CHARS));
        }
        out
    }
}

fn render_snippet(out: &mut String, file: &str, source: &str, span: Span, label: Option<&str>) {
    let number = span.line.to_string();
    let pad = " ".repeat(number.len());
    let _ = writeln!(out, "{pad}--> {file}:{}:{}", span.line, span.column);
    let Some(text) = source.lines().nth(span.line.saturating_sub(1)) else {
        return;
    };
    let text = text.trim_end_matches('\r');
    // A long line is shown as a window around the column, `…` marking what is cut.
    let chars: Vec<char> = text.chars().collect();
    let column = span.column.max(1);
    let (start, end) = if chars.len() <= SNIPPET_WIDTH {
        (0, chars.len())
    } else {
        // Clamped: a column past the line's end (a position from another notion of
        // lines) still shows the line's end.
        let start = column
            .saturating_sub(1 + SNIPPET_WIDTH / 3)
            .min(chars.len() - SNIPPET_WIDTH);
        (start, start + SNIPPET_WIDTH)
    };
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < chars.len() { "…" } else { "" };
    let shown: String = chars[start..end].iter().collect();
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{number} | {lead}{shown}{tail}");
    // Tabs before the caret keep their width so the caret lines up under the problem.
    let indent: String = lead
        .chars()
        .map(|_| ' ')
        .chain(
            chars[start..end]
                .iter()
                .take(column.saturating_sub(1 + start))
                .map(|c| if *c == '\t' { '\t' } else { ' ' }),
        )
        .collect();
    let room = (end - start)
        .saturating_sub(column.saturating_sub(1 + start))
        .max(1);
    let carets = "^".repeat(span.len.clamp(1, room));
    match label {
        Some(label) => {
            let _ = writeln!(out, "{pad} | {indent}{carets} {label}");
        }
        None => {
            let _ = writeln!(out, "{pad} | {indent}{carets}");
        }
    }
}

/// The widest source line shown under a diagnostic, in characters.
pub(crate) const SNIPPET_WIDTH: usize = 120;

/// The longest message printed, in characters (messages can quote input values).
pub(crate) const MAX_MESSAGE_CHARS: usize = 400;

/// The most diagnostics printed for one file; the rest are counted.
pub(crate) const MAX_DIAGNOSTICS: usize = 20;

/// `text` cut to `max` characters, `…` marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((at, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..at])),
    }
}

/// The closest of `candidates` to `word`, when it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word = word.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    let mut one_edit: Option<&str> = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        let score = strsim::jaro_winkler(&word, &lower);
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
        // Jaro-Winkler misses swapped letters in short words (`cvs` for `csv`).
        if one_edit.is_none() && word.len() >= 3 && strsim::damerau_levenshtein(&word, &lower) == 1
        {
            one_edit = Some(candidate);
        }
    }
    best.map(|(_, c)| c).or(one_edit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const SOURCE: &str = "version: 1\nsteps:\n  - name: create\n    reqest: GET /x\n";

    #[test]
    fn renders_rustc_shaped_snippet() {
        let d = Diagnostic::error("unknown key `reqest`", Some(Span::new(4, 5, 6)))
            .with_label("did you mean `request`?")
            .with_note("keys of a step: name, request, body");
        assert_eq!(
            d.render("jobs/x.yaml", SOURCE),
            "error: unknown key `reqest`\n \
             --> jobs/x.yaml:4:5\n  |\n\
             4 |     reqest: GET /x\n  |     ^^^^^^ did you mean `request`?\n   \
             = help: keys of a step: name, request, body\n"
        );
    }

    #[test]
    fn caret_is_clamped_to_the_line_and_at_least_one_wide() {
        let d = Diagnostic::error("bad", Some(Span::new(1, 10, 0)));
        assert!(
            d.render("f", SOURCE)
                .contains("1 | version: 1\n  |          ^\n")
        );
        let d = Diagnostic::error("bad", Some(Span::new(1, 1, 500)));
        assert!(d.render("f", SOURCE).ends_with("  | ^^^^^^^^^^\n"));
    }

    #[test]
    fn without_span_names_the_file() {
        let d = Diagnostic::warning("empty manifest", None);
        assert_eq!(
            d.render("a.yaml", ""),
            "warning: empty manifest\n  --> a.yaml\n"
        );
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(
            did_you_mean("reqest", ["request", "name", "body"]),
            Some("request")
        );
        assert_eq!(did_you_mean("zzz", ["request", "name"]), None);
        assert_eq!(did_you_mean("cvs", ["jsonl", "csv"]), Some("csv"));
        assert_eq!(did_you_mean("ab", ["ba"]), None);
    }

    #[test]
    fn long_lines_labels_and_messages_are_cut() {
        let line = format!("key: {}", "x".repeat(5000));
        let d = Diagnostic::error("m".repeat(1000), Some(Span::new(1, 3000, 1)))
            .with_label("l".repeat(1000))
            .with_note("n".repeat(1000));
        let out = d.render("f.yaml", &line);
        let widest = SNIPPET_WIDTH + MAX_MESSAGE_CHARS + 20;
        assert!(out.lines().all(|l| l.chars().count() < widest), "{out}");
        assert!(out.contains('…'));
        // The caret still stands under the column, inside the window.
        let snippet = out.lines().find(|l| l.starts_with("1 |")).unwrap();
        let caret = out.lines().find(|l| l.contains('^')).unwrap();
        assert_eq!(
            snippet.chars().count() - "1 | ".len(),
            SNIPPET_WIDTH + 2,
            "{snippet}"
        );
        assert!(caret.find('^').unwrap() < snippet.len());
        // A column past the end of the line (another notion of lines) does not panic.
        let far = Diagnostic::error("x", Some(Span::new(1, 99_999, 1)));
        assert!(far.render("f.yaml", &line).contains("…"));
    }
}
