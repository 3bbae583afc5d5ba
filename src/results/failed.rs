//! The failed rows of a ledger as rows to correct: the input rows a run recorded as
//! rejected or failed in transit, in the input's own columns, plus the error, written as a
//! file that can be fixed and fed back with `--only-failed`.
//!
//! Rows are matched to the ledger by content fingerprint, the identity the run recorded,
//! so the rows found are exactly the ones that failed even when an earlier
//! `--only-failed` run mixed rows of two inputs in one ledger.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ResultKind;
use super::ledger::{self, LedgerError};
use crate::source::{self, Format};

/// The column added to the input's own: what went wrong with the row.
pub(crate) const ERROR_COLUMN: &str = "error";

/// What [`write`] found and wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Written {
    /// Rows written (the failed rows found in the input).
    pub rows: u64,
    /// Failed rows the ledger records that this input does not hold (rows of an earlier
    /// input, or an input changed since).
    pub not_in_input: u64,
    /// Lines of the input that could not be read and failed for it: they are fixed in the
    /// input itself, so they are named, not copied.
    pub unreadable: Vec<u64>,
    /// Rows whose write is `unknown`, left out: they are checked in Gladly, not re-sent.
    pub unknown: u64,
}

/// Why the failed rows could not be written.
#[derive(Debug)]
pub(crate) enum FailedError {
    /// The ledger is busy, missing or not a ledger.
    Ledger(LedgerError),
    /// The input could not be opened or read.
    Input(String),
    /// The output could not be written.
    Output(PathBuf, io::Error),
}

impl std::fmt::Display for FailedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailedError::Ledger(e) => e.fmt(f),
            FailedError::Input(message) => f.write_str(message),
            FailedError::Output(path, e) => write!(f, "cannot write `{}`: {e}", path.display()),
        }
    }
}

/// The default place for the failed rows of `results`: `NAME.failed.csv` (or `.jsonl`).
pub(crate) fn default_path(results: &Path, format: Format) -> PathBuf {
    let stem = results
        .file_stem()
        .map_or_else(|| "results".into(), |s| s.to_string_lossy().into_owned());
    let ext = match format {
        Format::Csv { delimiter: b'\t' } => "tsv",
        Format::Csv { .. } => "csv",
        Format::Jsonl | Format::JsonArray => "jsonl",
    };
    results.with_file_name(format!("{stem}.failed.{ext}"))
}

/// Writes the rows of `input` that the ledger `results` records as rejected or failed to
/// `out`, each with its error. The ledger is locked while it is read (a running job holds
/// the lock), and `out` is replaced only once complete.
pub(crate) fn write(
    results: &Path,
    input: &Path,
    format: Format,
    out: &Path,
) -> Result<Written, FailedError> {
    let _lock = ledger::Lock::acquire(results).map_err(FailedError::Ledger)?;
    let mut failed = failed_by_fingerprint(results)?;
    let mut written = Written {
        unknown: failed.unknown,
        ..Written::default()
    };
    let reader = source::open(input, format).map_err(|e| FailedError::Input(e.to_string()))?;
    let tmp = {
        let mut name = out.as_os_str().to_owned();
        name.push(".tmp");
        PathBuf::from(name)
    };
    let file = File::create(&tmp).map_err(|e| FailedError::Output(tmp.clone(), e))?;
    let mut sink = Sink::new(file, format, reader.columns());
    let mut seen: HashMap<u64, u32> = HashMap::new();
    let result = (|| -> Result<(), FailedError> {
        for item in reader {
            let fingerprint = ledger::row_fingerprint(&item, &mut seen);
            let Some(error) = failed.by_fingerprint.remove(&fingerprint) else {
                continue;
            };
            match item {
                Ok(row) => {
                    sink.row(&row.values, &error)
                        .map_err(|e| FailedError::Output(tmp.clone(), e))?;
                    written.rows += 1;
                }
                Err(e) => written.unreadable.push(e.line),
            }
        }
        sink.finish()
            .map_err(|e| FailedError::Output(tmp.clone(), e))?;
        std::fs::rename(&tmp, out).map_err(|e| FailedError::Output(out.to_path_buf(), e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    written.not_in_input = failed.by_fingerprint.len() as u64;
    Ok(written)
}

/// The ledger's rejected and failed rows, by fingerprint, each with its error text.
struct Failed {
    by_fingerprint: HashMap<String, String>,
    unknown: u64,
}

fn failed_by_fingerprint(results: &Path) -> Result<Failed, FailedError> {
    let (header, lines) = ledger::current_lines(results).map_err(FailedError::Ledger)?;
    let at = |name: &str| header.iter().position(|h| h == name);
    let (Some(result), Some(outcome), Some(step), Some(status), Some(detail)) = (
        at("result"),
        at("outcome"),
        at("step"),
        at("http_status"),
        at("detail"),
    ) else {
        return Err(FailedError::Ledger(LedgerError::NotALedger {
            path: results.to_path_buf(),
            why: "lacks the result, outcome, step, http_status or detail column".to_owned(),
        }));
    };
    let mut failed = Failed {
        by_fingerprint: HashMap::new(),
        unknown: 0,
    };
    for cells in lines {
        match ResultKind::parse(cell(&cells, result)) {
            Some(ResultKind::Rejected | ResultKind::Failed) => {}
            Some(ResultKind::Unknown) => {
                failed.unknown += 1;
                continue;
            }
            _ => continue,
        }
        let mut error = cell(&cells, outcome).to_owned();
        if !cell(&cells, step).is_empty() {
            let _ = write!(error, " at step `{}`", cell(&cells, step));
        }
        if !cell(&cells, status).is_empty() {
            let _ = write!(error, " (HTTP {})", cell(&cells, status));
        }
        let detail = unescape(cell(&cells, detail));
        if !detail.is_empty() {
            error.push_str(": ");
            error.push_str(detail);
        }
        let fingerprint = cells.last().cloned().unwrap_or_default();
        failed.by_fingerprint.insert(fingerprint, error);
    }
    Ok(failed)
}

/// The cell at `i`, empty when the line is short.
fn cell(cells: &[String], i: usize) -> &str {
    cells.get(i).map_or("", String::as_str)
}

/// A cell as the ledger escaped it, without the leading `'` a formula-looking value got.
fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if super::escape_cell(rest).starts_with('\'') => rest,
        _ => cell,
    }
}

/// Where failed rows go: a CSV in the input's columns plus `error`, or JSON Lines with an
/// `error` key.
enum Sink {
    Csv {
        out: Box<csv::Writer<BufWriter<File>>>,
        columns: Vec<String>,
        wrote_header: bool,
    },
    Jsonl(BufWriter<File>),
}

impl Sink {
    fn new(file: File, format: Format, columns: Option<&[String]>) -> Sink {
        match (format, columns) {
            (Format::Csv { delimiter }, Some(columns)) => Sink::Csv {
                columns: Self::own_columns(columns),
                out: Box::new(
                    csv::WriterBuilder::new()
                        .delimiter(delimiter)
                        .from_writer(BufWriter::new(file)),
                ),
                wrote_header: false,
            },
            _ => Sink::Jsonl(BufWriter::new(file)),
        }
    }

    /// The name of the error column: `error`, or `error_2`… when the input has one. A
    /// failed-rows file fed back as input ends with its `error` column: that one is
    /// reused (see [`Sink::own_columns`]).
    fn error_column(columns: &[String]) -> String {
        let taken: HashSet<&str> = columns.iter().map(String::as_str).collect();
        // At most one more name than there are columns is ever needed.
        std::iter::once(ERROR_COLUMN.to_owned())
            .chain((2..=columns.len() + 1).map(|n| format!("{ERROR_COLUMN}_{n}")))
            .find(|name| !taken.contains(name.as_str()))
            .unwrap_or_default()
    }

    /// The input's columns, without the `error` column a failed-rows file fed back as
    /// input ends with (it is written afresh).
    fn own_columns(columns: &[String]) -> Vec<String> {
        match columns.split_last() {
            Some((last, rest)) if last == ERROR_COLUMN => rest.to_vec(),
            _ => columns.to_vec(),
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if let Sink::Csv {
            out,
            columns,
            wrote_header,
            ..
        } = self
            && !*wrote_header
        {
            let mut header = columns.clone();
            header.push(Self::error_column(columns));
            out.write_record(&header)?;
            *wrote_header = true;
        }
        Ok(())
    }

    fn row(&mut self, values: &serde_json::Map<String, Value>, error: &str) -> io::Result<()> {
        self.header()?;
        match self {
            Sink::Csv { out, columns, .. } => {
                let text = |v: Option<&Value>| match v {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let mut record: Vec<String> = columns.iter().map(|c| text(values.get(c))).collect();
                record.push(error.to_owned());
                out.write_record(&record)?;
            }
            Sink::Jsonl(out) => {
                let mut object = values.clone();
                let keys: Vec<String> = object.keys().cloned().collect();
                let key = match keys.last() {
                    Some(last) if last == ERROR_COLUMN => last.clone(),
                    _ => Self::error_column(&keys),
                };
                object.insert(key, Value::String(error.to_owned()));
                serde_json::to_writer(&mut *out, &object)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.header()?;
        let file = match self {
            Sink::Csv { out, .. } => (*out)
                .into_inner()
                .map_err(csv::IntoInnerError::into_error)?
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?,
            Sink::Jsonl(out) => out.into_inner().map_err(io::IntoInnerError::into_error)?,
        };
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_rows_file_fed_back_keeps_one_error_column() {
        let columns = ["a".to_owned(), "error".to_owned()];
        assert_eq!(Sink::own_columns(&columns), ["a"]);
        let inner = ["error".to_owned(), "b".to_owned()];
        assert_eq!(Sink::own_columns(&inner), inner);
        assert_eq!(Sink::error_column(&inner), "error_2");
    }

    #[test]
    fn the_error_column_never_takes_an_input_column() {
        assert_eq!(Sink::error_column(&["a".into()]), "error");
        assert_eq!(
            Sink::error_column(&["error".into(), "error_2".into()]),
            "error_3"
        );
    }

    #[test]
    fn failed_rows_go_beside_the_results_in_the_inputs_format() {
        let results = Path::new("results/create-customers.csv");
        assert_eq!(
            default_path(results, Format::Csv { delimiter: b',' }),
            Path::new("results/create-customers.failed.csv")
        );
        assert_eq!(
            default_path(results, Format::Jsonl),
            Path::new("results/create-customers.failed.jsonl")
        );
    }

    #[test]
    fn escaped_cells_read_back_as_written() {
        assert_eq!(unescape("'=1+1"), "=1+1");
        assert_eq!(unescape("'quoted"), "'quoted");
        assert_eq!(unescape("plain"), "plain");
    }
}
