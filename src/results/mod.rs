//! The per-row record of a run and the results CSV it is written to.
//!
//! One [`RowResult`] per input row, written in input order and flushed line by line by
//! [`ResultsWriter`], so a crash leaves every finished row recorded. The column order is
//! stable and documented in README: `row, line, <key columns>, result, outcome, step,
//! http_status, attempts, duration_ms, error_code, detail, <captures>, row_key,
//! row_fingerprint`; cells a spreadsheet would take for a formula are escaped. The rules
//! that make the file a run's durable state live in [`ledger`]. This module knows nothing
//! about manifests or HTTP.

pub(crate) mod failed;
pub(crate) mod ledger;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

/// How a row ended: the ledger's classes. Resume, only-failed and the exit code all read
/// them, so every way a row can end maps to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ResultKind {
    /// Every step that applied ran and succeeded.
    Done,
    /// A rule or step skipped the row (already done, nothing to do).
    Skipped,
    /// The row cannot succeed as it is: the API refused it, or its data or a template
    /// failed before anything was sent. Fix the row; `--only-failed` runs it again.
    Rejected,
    /// No answer decided the row after every retry (5xx, timeouts, connection errors), or
    /// the run stopped while a safe request was in flight. `--resume` runs it again.
    Failed,
    /// A write that is not safe to repeat was sent and no answer came: it may or may not
    /// have been applied. Never sent again but by `--retry-unknown`.
    Unknown,
    /// The run stopped before the row sent anything. `--resume` runs it.
    NotAttempted,
    /// Dry run: the row's requests were rendered and checked, nothing was sent.
    Planned,
}

impl ResultKind {
    /// Every kind, in summary order.
    pub(crate) const ALL: [ResultKind; 7] = [
        ResultKind::Done,
        ResultKind::Skipped,
        ResultKind::Rejected,
        ResultKind::Failed,
        ResultKind::Unknown,
        ResultKind::NotAttempted,
        ResultKind::Planned,
    ];

    /// The word written in the `result` column.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ResultKind::Done => "done",
            ResultKind::Skipped => "skipped",
            ResultKind::Rejected => "rejected",
            ResultKind::Failed => "failed",
            ResultKind::Unknown => "unknown",
            ResultKind::NotAttempted => "not-attempted",
            ResultKind::Planned => "planned",
        }
    }

    /// Parses the word written in the `result` column.
    pub(crate) fn parse(text: &str) -> Option<ResultKind> {
        ResultKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Any kind of failure (what the summary and the exit code count as not done).
    pub(crate) fn is_failure(self) -> bool {
        matches!(
            self,
            ResultKind::Rejected
                | ResultKind::Failed
                | ResultKind::Unknown
                | ResultKind::NotAttempted
        )
    }
}

impl fmt::Display for ResultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to one input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowResult {
    /// 1-based data row number.
    pub row: u64,
    /// Line of the input file where the row starts.
    pub line: u64,
    /// Values of the manifest's key columns, in the header's order.
    pub keys: Vec<String>,
    /// How the row ended.
    pub result: ResultKind,
    /// The outcome label (`created`, `updated`, `already-closed`…); defaults to `result`.
    pub outcome: String,
    /// The step that decided the row (the last one reached).
    pub step: String,
    /// HTTP status of the last response, if any was received.
    pub http_status: Option<u16>,
    /// Requests sent for the row, retries included.
    pub attempts: u32,
    /// Wall time spent on the row.
    pub duration_ms: u64,
    /// Gladly's error code (`taken`, `invalid_state`…) or ours (`template`, `payload`).
    pub error_code: String,
    /// Why it failed or was skipped, in words.
    pub detail: String,
    /// Captured values, in the writer's capture column order (empty when not captured).
    pub captures: Vec<String>,
    /// The row's identity in the ledger: the job's key (`input.key`, else the key
    /// columns) — empty for a plan.
    pub key: String,
    /// A fingerprint of the row's content (and its occurrence, for repeated rows).
    pub fingerprint: String,
}

impl RowResult {
    /// A blank result for `row` with the given kind; callers fill in the rest.
    pub(crate) fn new(row: u64, line: u64, result: ResultKind) -> Self {
        RowResult {
            row,
            line,
            keys: Vec::new(),
            result,
            outcome: result.as_str().to_owned(),
            step: String::new(),
            http_status: None,
            attempts: 0,
            duration_ms: 0,
            error_code: String::new(),
            detail: String::new(),
            captures: Vec::new(),
            key: String::new(),
            fingerprint: String::new(),
        }
    }
}

/// The fixed columns between the key columns and the captures.
pub(crate) const FIXED_COLUMNS: &[&str] = &[
    "result",
    "outcome",
    "step",
    "http_status",
    "attempts",
    "duration_ms",
    "error_code",
    "detail",
];

/// The two identity columns that end every line (the ledger finds them by position).
pub(crate) const IDENTITY_COLUMNS: &[&str] = &["row_key", "row_fingerprint"];

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a
/// leading `'`, which spreadsheets show as text; everything else is kept as it is.
pub(crate) fn escape_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{value}").into(),
        _ => value.into(),
    }
}

/// The column layout of a results file.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    names: Vec<String>,
    keys: usize,
}

impl Columns {
    /// `row, line, <keys>, result … detail, <captures>, row_key, row_fingerprint`.
    pub(crate) fn new(keys: &[String], captures: &[String]) -> Self {
        let names = ["row", "line"]
            .into_iter()
            .map(str::to_owned)
            .chain(keys.iter().cloned())
            .chain(FIXED_COLUMNS.iter().map(|c| (*c).to_owned()))
            .chain(captures.iter().cloned())
            .chain(IDENTITY_COLUMNS.iter().map(|c| (*c).to_owned()))
            .collect();
        Columns {
            names,
            keys: keys.len(),
        }
    }

    /// The header's names.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// The cells of one line, formula-looking ones escaped.
    pub(crate) fn record(&self, r: &RowResult) -> Vec<String> {
        let text = |s: &str| escape_cell(s).into_owned();
        let mut record: Vec<String> = Vec::with_capacity(self.names.len());
        record.push(r.row.to_string());
        record.push(r.line.to_string());
        // A row that could not be read has no key values: keep the columns aligned.
        record.extend((0..self.keys).map(|i| r.keys.get(i).map(|k| text(k)).unwrap_or_default()));
        record.extend([
            r.result.as_str().to_owned(),
            text(&r.outcome),
            text(&r.step),
            r.http_status.map(|s| s.to_string()).unwrap_or_default(),
            r.attempts.to_string(),
            r.duration_ms.to_string(),
            text(&r.error_code),
            text(&r.detail),
        ]);
        record.extend(r.captures.iter().map(|c| text(c)));
        record.resize(self.names.len() - IDENTITY_COLUMNS.len(), String::new());
        record.push(text(&r.key));
        record.push(r.fingerprint.clone());
        record
    }
}

/// Writes a results CSV (or a plan's row table), one line per row.
pub(crate) struct ResultsWriter {
    out: csv::Writer<BufWriter<File>>,
    columns: Columns,
}

impl ResultsWriter {
    /// Creates (or truncates) `path`, creating its folder, and writes the header.
    pub(crate) fn create(path: &Path, columns: Columns) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)?;
        Self::start(file, columns, true)
    }

    /// Opens `path` to append more rows after a previous run's lines (resume).
    pub(crate) fn append(path: &Path, columns: Columns) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Self::start(file, columns, false)
    }

    fn start(file: File, columns: Columns, header: bool) -> io::Result<Self> {
        let mut out = csv::Writer::from_writer(BufWriter::new(file));
        if header {
            out.write_record(columns.names())?;
            out.flush()?;
        }
        Ok(ResultsWriter { out, columns })
    }

    /// The file's column layout.
    pub(crate) fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Writes one row and flushes it to the file.
    pub(crate) fn write(&mut self, r: &RowResult) -> io::Result<()> {
        self.write_buffered(r)?;
        self.out.flush()
    }

    /// Writes one row without flushing (callers flush at a batch boundary).
    pub(crate) fn write_buffered(&mut self, r: &RowResult) -> io::Result<()> {
        let record = self.columns.record(r);
        self.out.write_record(&record).map_err(io::Error::from)
    }

    /// Flushes buffered lines to the file.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_and_rows_in_column_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/results.csv");
        let columns = Columns::new(&["email".into()], &["create.id".into()]);
        let mut w = ResultsWriter::create(&path, columns).unwrap();
        let mut r = RowResult::new(1, 2, ResultKind::Rejected);
        r.keys = vec!["a@x.com".into()];
        r.outcome = "taken".into();
        r.step = "create".into();
        r.http_status = Some(409);
        r.attempts = 1;
        r.detail = "email, \"taken\"".into();
        r.captures = vec!["=HYPERLINK(\"x\")".into()];
        r.key = "-1".into();
        r.fingerprint = "00ff".into();
        w.write(&r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "row,line,email,result,outcome,step,http_status,attempts,duration_ms,error_code,detail,create.id,row_key,row_fingerprint\n\
             1,2,a@x.com,rejected,taken,create,409,1,0,,\"email, \"\"taken\"\"\",\"'=HYPERLINK(\"\"x\"\")\",'-1,00ff\n"
        );
    }

    #[test]
    fn formula_looking_cells_are_escaped_and_others_kept() {
        for (cell, shown) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-x", "'-x"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(escape_cell(cell), shown);
        }
    }

    #[test]
    fn result_words_round_trip() {
        for k in ResultKind::ALL {
            assert_eq!(ResultKind::parse(k.as_str()), Some(k));
        }
    }
}
