//! `runner failed`: writes the rows a run rejected or failed, in the input's own columns
//! plus the error, ready to correct and feed back with `--only-failed`.

use std::path::PathBuf;

use super::{Exit, apply, report};
use crate::manifest::Manifest;
use crate::results::failed;
use crate::results::ledger::RunMeta;

/// Arguments of `runner failed`.
#[derive(Debug, clap::Args)]
pub(crate) struct FailedArgs {
    /// The manifest of the job that ran.
    manifest: PathBuf,
    /// The ledger to read (default: the manifest's `results` path).
    #[arg(long, value_name = "RESULTS")]
    results: Option<PathBuf>,
    /// The input the run read (default: the one the ledger records).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Where to write the failed rows (default: `RESULTS-NAME.failed.csv` beside the
    /// results).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: &FailedArgs) -> Exit {
    let loaded = match Manifest::load(&args.manifest) {
        Ok(loaded) => loaded,
        Err(e) => {
            report::manifest_error(&e);
            return Exit::Invalid;
        }
    };
    let manifest = loaded.manifest;
    let results = args
        .results
        .clone()
        .unwrap_or_else(|| manifest.results().path.clone());
    let meta = match RunMeta::load(&results) {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            report::error(&format!(
                "`{}` is not the ledger of a real run (no `{}` beside it): run the job first, \
                 or give the ledger with --results",
                results.display(),
                crate::results::ledger::meta_path(&results).display()
            ));
            return Exit::Usage;
        }
        Err(e) => {
            report::error(&format!("cannot read the ledger's record: {e}"));
            return Exit::Usage;
        }
    };
    let recorded = (!meta.input.is_empty()).then(|| PathBuf::from(&meta.input));
    let Some(input) = args.input.clone().or(recorded) else {
        report::error(
            "the run read its rows from the API: there is no input file to copy rows from",
        );
        return Exit::Usage;
    };
    let (input, format) = apply::input_of(&manifest, Some(&input));
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| failed::default_path(&results, format));
    for (what, path) in [("the results", &results), ("the manifest", &args.manifest)] {
        if crate::output::same_file(&out, path) {
            report::error(&format!(
                "`{}` is {what}: write the failed rows elsewhere",
                out.display()
            ));
            return Exit::Usage;
        }
    }
    match failed::write(&results, &input, format, &out) {
        Ok(written) => {
            println!(
                "wrote:   {} ({} with the input's columns and `{}`)",
                out.display(),
                plural(written.rows, "failed row"),
                failed::ERROR_COLUMN
            );
            if written.not_in_input > 0 {
                println!(
                    "note:    {} the ledger records as failed {} not in `{}` (rows of an \
                     earlier input, or rows changed since)",
                    plural(written.not_in_input, "row"),
                    if written.not_in_input == 1 {
                        "is"
                    } else {
                        "are"
                    },
                    input.display()
                );
            }
            if !written.unreadable.is_empty() {
                let lines: Vec<String> = written.unreadable.iter().map(u64::to_string).collect();
                println!(
                    "note:    lines {} of `{}` could not be read: fix them there",
                    lines.join(", "),
                    input.display()
                );
            }
            if written.unknown > 0 {
                println!(
                    "note:    {} `unknown` left out: check them in Gladly (see the results)",
                    plural(written.unknown, "row")
                );
            }
            let keyed = manifest.input().key.is_some() || !manifest.results().columns.is_empty();
            if written.rows > 0 && !keyed {
                // Without a key, --only-failed cannot tell which row a corrected one replaces.
                let fixes = results.with_file_name(format!(
                    "{}.fixes.csv",
                    results.file_stem().unwrap_or_default().to_string_lossy()
                ));
                println!(
                    "next:    correct them in that file, then run it on its own: `runner apply \
                     {} --input {} --results {}` (the job has no key, `results.columns` or \
                     `input.key`, to match corrected rows to the ledger's)",
                    args.manifest.display(),
                    out.display(),
                    fixes.display()
                );
            } else if written.rows > 0 {
                println!(
                    "next:    correct them in that file, then `runner apply {} --input {} \
                     --only-failed {}`",
                    args.manifest.display(),
                    out.display(),
                    results.display()
                );
            }
            Exit::Ok
        }
        Err(e) => {
            report::error(&e.to_string());
            Exit::Usage
        }
    }
}

fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
