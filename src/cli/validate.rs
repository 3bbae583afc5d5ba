//! `runner validate`: checks manifests (and, when their input file exists, its header)
//! and prints every problem found.

use std::path::PathBuf;

use super::{Exit, report};
use crate::manifest::{InputFormat, Manifest};
use crate::source;

/// Arguments of `runner validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Manifest files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: &ValidateArgs) -> Exit {
    let mut exit = Exit::Ok;
    for file in &args.files {
        let loaded = match Manifest::load(file) {
            Ok(loaded) => loaded,
            Err(e) => {
                report::manifest_error(&e);
                exit = Exit::Invalid;
                continue;
            }
        };
        let name = file.display().to_string();
        report::diagnostics(&name, &loaded.text, &loaded.warnings);
        let problems = header_problems(&loaded.manifest);
        if problems.is_empty() {
            let m = &loaded.manifest;
            let count =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            let mut parts = vec![m.name().to_owned(), count(m.steps().len(), "step")];
            if !m.outputs().is_empty() {
                parts.push(count(m.outputs().len(), "output"));
            }
            if !m.aggregates().is_empty() {
                parts.push(count(m.aggregates().len(), "aggregate"));
            }
            println!("ok: {name} ({})", parts.join(", "));
        } else {
            report::diagnostics(&name, &loaded.text, &problems);
            eprintln!(
                "error: `{name}` does not fit its input: {} problem(s)",
                problems.len()
            );
            exit = Exit::Invalid;
        }
    }
    exit
}

/// Checks the input header when the input is a CSV file that exists; JSON inputs have no
/// header to check before reading rows.
fn header_problems(manifest: &Manifest) -> Vec<crate::diagnostic::Diagnostic> {
    let input = manifest.input();
    let InputFormat::Csv { delimiter } = input.format else {
        return Vec::new();
    };
    match source::open(&input.path, source::Format::Csv { delimiter }) {
        Ok(reader) => reader
            .columns()
            .map(|c| manifest.check_columns(&input.path, c))
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}
