//! `runner apply`: loads a manifest, opens its input, and runs it — in this version as a
//! dry run that renders and checks every request and writes the results and the plan.

use std::path::{Path, PathBuf};

use super::{Exit, report};
use crate::executor::{self, PlanOptions, PlanSummary};
use crate::manifest::{InputFormat, Manifest};
use crate::results::ResultKind;
use crate::source::{self, Format};

/// Arguments of `runner apply`.
#[derive(Debug, clap::Args)]
pub(crate) struct ApplyArgs {
    /// The manifest to run.
    manifest: PathBuf,
    /// Render and check every request, write the results and the plan, send no write.
    #[arg(long)]
    dry_run: bool,
    /// Read rows from this file instead of the manifest's input (format from its extension).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Write the results CSV here instead of the manifest's `results` path.
    #[arg(long, value_name = "PATH")]
    results: Option<PathBuf>,
    /// Set a manifest param, e.g. `--set topicId=abc` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    sets: Vec<(String, String)>,
}

fn parse_set(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected NAME=VALUE, found `{text}`")),
    }
}

pub(crate) fn run(args: &ApplyArgs) -> Exit {
    let loaded = match Manifest::load(&args.manifest) {
        Ok(l) => l,
        Err(e) => {
            report::manifest_error(&e);
            return Exit::Invalid;
        }
    };
    let manifest_name = args.manifest.display().to_string();
    report::diagnostics(&manifest_name, &loaded.text, &loaded.warnings);
    let manifest = &loaded.manifest;
    if !args.dry_run {
        report::error("only `--dry-run` is available in this version: nothing was sent");
        return Exit::Usage;
    }
    let params = match executor::resolve_params(manifest, &args.sets) {
        Ok(p) => p,
        Err(e) => {
            report::error(&e.to_string());
            return Exit::Usage;
        }
    };
    let (input_path, format) = input_of(manifest, args.input.as_deref());
    let reader = match source::open(&input_path, format) {
        Ok(r) => r,
        Err(e) => {
            report::error(&e.to_string());
            return Exit::Invalid;
        }
    };
    if let Some(header) = reader.columns() {
        let problems = manifest.check_columns(&input_path, header);
        if !problems.is_empty() {
            report::diagnostics(&manifest_name, &loaded.text, &problems);
            report::error(&format!(
                "`{}` does not fit `{manifest_name}`: nothing was sent",
                input_path.display()
            ));
            return Exit::Invalid;
        }
    }
    let results_path = args
        .results
        .clone()
        .unwrap_or_else(|| manifest.results().path.clone());
    let options = PlanOptions {
        params,
        host: std::env::var("GLADLY_HOST").ok().filter(|h| !h.is_empty()),
        plan_path: plan_path_for(&results_path),
        results_path,
    };
    match executor::dry_run(manifest, reader, &options) {
        Ok(summary) => {
            print_summary(manifest, &summary, &options);
            if summary.count(ResultKind::Failed) > 0 {
                Exit::RowsFailed
            } else {
                Exit::Ok
            }
        }
        Err(e) => {
            report::error(&e.to_string());
            Exit::Fatal
        }
    }
}

/// The input file and format: `--input` (format from its extension, else the manifest's)
/// or the manifest's own input.
fn input_of(manifest: &Manifest, over: Option<&Path>) -> (PathBuf, Format) {
    let declared = match manifest.input().format {
        InputFormat::Csv { delimiter } => Format::Csv { delimiter },
        InputFormat::Jsonl => Format::Jsonl,
        InputFormat::Json => Format::JsonArray,
    };
    let Some(path) = over else {
        return (manifest.input().path.clone(), declared);
    };
    let format = match (Format::from_path(path), declared) {
        // Keep the manifest's delimiter when both are CSV.
        (Some(Format::Csv { .. }), Format::Csv { delimiter }) => Format::Csv { delimiter },
        (Some(f), _) => f,
        (None, d) => d,
    };
    (path.to_path_buf(), format)
}

/// `results/x.csv` → `results/x.plan.jsonl`.
fn plan_path_for(results: &Path) -> PathBuf {
    let stem = results.file_stem().map_or_else(
        || "results".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    results.with_file_name(format!("{stem}.plan.jsonl"))
}

fn print_summary(manifest: &Manifest, summary: &PlanSummary, options: &PlanOptions) {
    let file = manifest.path().display();
    for (row, line, failure) in &summary.failures {
        match failure.span {
            Some(at) => eprintln!(
                "row {row} (line {line}): {failure}\n  --> {file}:{}:{}",
                at.line, at.column
            ),
            None => eprintln!("row {row} (line {line}): {failure}"),
        }
    }
    if summary.count(ResultKind::Failed) > summary.failures.len() as u64 {
        eprintln!(
            "… {} more failed rows in the results",
            summary.count(ResultKind::Failed) - summary.failures.len() as u64
        );
    }
    println!(
        "dry run of {}: {} rows — {} planned, {} skipped, {} failed",
        manifest.name(),
        summary.rows,
        summary.count(ResultKind::Planned),
        summary.count(ResultKind::Skipped),
        summary.count(ResultKind::Failed),
    );
    let width = summary
        .requests
        .iter()
        .map(|c| c.step.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("  {:<width$}  {:<6}  requests", "step", "method");
    for count in summary.requests.iter().filter(|c| c.count > 0) {
        println!(
            "  {:<width$}  {:<6}  {}",
            count.step,
            count.method.as_str(),
            count.count
        );
    }
    println!(
        "a real run would send {} requests: about {} at {} requests/second",
        summary.total_requests(),
        human_duration(summary.estimate_secs),
        manifest.per_second()
    );
    println!("results: {}", options.results_path.display());
    println!("plan:    {}", options.plan_path.display());
}

/// `75.0` → `1m 15s`; `0.4` → `0.4s`.
fn human_duration(secs: f64) -> String {
    if secs < 60.0 {
        return format!("{secs:.1}s");
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let total = secs.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else {
        format!("{m}m {s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0.4), "0.4s");
        assert_eq!(human_duration(75.0), "1m 15s");
        assert_eq!(human_duration(3725.0), "1h 2m 5s");
    }

    #[test]
    fn plan_sits_beside_results() {
        assert_eq!(
            plan_path_for(Path::new("out/x.csv")),
            PathBuf::from("out/x.plan.jsonl")
        );
    }

    #[test]
    fn set_needs_a_name() {
        assert_eq!(parse_set("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_set("=x").is_err());
        assert!(parse_set("novalue").is_err());
    }
}
