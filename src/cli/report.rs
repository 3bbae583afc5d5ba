//! Writes diagnostics and manifest errors to stderr: the only place they are printed.

use std::io::Write;

use crate::diagnostic::Diagnostic;
use crate::manifest::ManifestError;

/// Prints a manifest's problems, rustc-style, with a count line.
pub(crate) fn manifest_error(error: &ManifestError) {
    eprint!("{}", super::color::paint(&error.render()));
}

/// Prints diagnostics that point into `file` (whose text is `source`).
pub(crate) fn diagnostics(file: &str, source: &str, list: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for d in list.iter().take(crate::diagnostic::MAX_DIAGNOSTICS) {
        let _ = writeln!(err, "{}", super::color::paint(&d.render(file, source)));
    }
    if let Some(more) = list.len().checked_sub(crate::diagnostic::MAX_DIAGNOSTICS)
        && more > 0
    {
        let _ = writeln!(
            err,
            "… and {more} more problem{} in `{file}` (fix these first)\n",
            if more == 1 { "" } else { "s" }
        );
    }
}

/// Prints one `error: …` line.
pub(crate) fn error(message: &str) {
    eprint!("{}", super::color::paint(&format!("error: {message}\n")));
}
