//! The error returned when a manifest cannot be used: the file, its text and every problem.

use std::fmt::{self, Write as _};
use std::path::Path;

use crate::diagnostic::Diagnostic;

/// A manifest that failed to load or validate.
#[derive(Debug)]
pub(crate) struct ManifestError {
    /// The manifest path as given.
    pub file: String,
    /// Its text (empty when it could not be read).
    pub source: String,
    /// Every problem found, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl ManifestError {
    pub(super) fn new(path: &Path, source: String, mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by_key(|d| d.span);
        ManifestError {
            file: path.display().to_string(),
            source,
            diagnostics,
        }
    }

    pub(super) fn single(path: &Path, source: String, message: impl Into<String>) -> Self {
        ManifestError::new(path, source, vec![Diagnostic::error(message, None)])
    }

    /// All diagnostics rendered against the manifest text, then a count line.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let shown = crate::diagnostic::MAX_DIAGNOSTICS;
        for d in self.diagnostics.iter().take(shown) {
            out.push_str(&d.render(&self.file, &self.source));
            out.push('\n');
        }
        let n = self.diagnostics.len();
        if n > shown {
            let _ = writeln!(
                out,
                "… and {} more not shown (fix these first)\n",
                n - shown
            );
        }
        let _ = writeln!(
            out,
            "error: `{}` is invalid: {n} problem{}",
            self.file,
            if n == 1 { "" } else { "s" }
        );
        out
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.render())
    }
}

impl std::error::Error for ManifestError {}
