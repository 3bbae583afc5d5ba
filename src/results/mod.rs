//! The per-row record of a run and the results CSV it is written to.
//!
//! One [`RowResult`] per input row, written in input order and flushed line by line by
//! [`ResultsWriter`], so a crash leaves every finished row recorded. The column order is
//! stable and documented in README: `row, line, <key columns>, result, outcome, step,
//! http_status, attempts, duration_ms, error_code, detail, <captures>`. This module knows
//! nothing about manifests or HTTP.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResultKind {
    /// Every step that applied ran and succeeded.
    Done,
    /// A rule or step skipped the row (already done, nothing to do).
    Skipped,
    /// The row failed; `detail` says why.
    Failed,
    /// Dry run: the row's requests were rendered and checked, nothing was sent.
    Planned,
}

impl ResultKind {
    /// The word written in the `result` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Done => "done",
            ResultKind::Skipped => "skipped",
            ResultKind::Failed => "failed",
            ResultKind::Planned => "planned",
        }
    }

    /// Parses the word written in the `result` column.
    pub fn parse(text: &str) -> Option<ResultKind> {
        match text {
            "done" => Some(ResultKind::Done),
            "skipped" => Some(ResultKind::Skipped),
            "failed" => Some(ResultKind::Failed),
            "planned" => Some(ResultKind::Planned),
            _ => None,
        }
    }
}

impl fmt::Display for ResultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to one input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
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
}

impl RowResult {
    /// A blank result for `row` with the given kind; callers fill in the rest.
    pub fn new(row: u64, line: u64, result: ResultKind) -> Self {
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
        }
    }
}

/// The fixed columns between the key columns and the captures.
pub const FIXED_COLUMNS: &[&str] = &[
    "result",
    "outcome",
    "step",
    "http_status",
    "attempts",
    "duration_ms",
    "error_code",
    "detail",
];

/// Writes the results CSV, one flushed line per row.
pub struct ResultsWriter {
    out: csv::Writer<BufWriter<File>>,
    width: usize,
    keys: usize,
}

impl ResultsWriter {
    /// Creates (or truncates) `path`, creating its folder, and writes the header.
    pub fn create(path: &Path, keys: &[String], captures: &[String]) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)?;
        Self::start(file, keys, captures, true)
    }

    /// Opens `path` to append more rows after a previous run's lines (resume).
    pub fn append(path: &Path, keys: &[String], captures: &[String]) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Self::start(file, keys, captures, false)
    }

    fn start(file: File, keys: &[String], captures: &[String], header: bool) -> io::Result<Self> {
        let mut out = csv::Writer::from_writer(BufWriter::new(file));
        let names: Vec<&str> = ["row", "line"]
            .into_iter()
            .chain(keys.iter().map(String::as_str))
            .chain(FIXED_COLUMNS.iter().copied())
            .chain(captures.iter().map(String::as_str))
            .collect();
        if header {
            out.write_record(&names)?;
            out.flush()?;
        }
        Ok(ResultsWriter {
            out,
            width: names.len(),
            keys: keys.len(),
        })
    }

    /// Writes one row and flushes it to the file.
    pub fn write(&mut self, r: &RowResult) -> io::Result<()> {
        self.write_buffered(r)?;
        self.out.flush()
    }

    /// Writes one row without flushing (callers flush at a batch boundary).
    pub fn write_buffered(&mut self, r: &RowResult) -> io::Result<()> {
        let status = r.http_status.map(|s| s.to_string()).unwrap_or_default();
        let mut record: Vec<String> = Vec::with_capacity(self.width);
        record.push(r.row.to_string());
        record.push(r.line.to_string());
        // A row that could not be read has no key values: keep the columns aligned.
        record.extend((0..self.keys).map(|i| r.keys.get(i).cloned().unwrap_or_default()));
        record.extend([
            r.result.as_str().to_owned(),
            r.outcome.clone(),
            r.step.clone(),
            status,
            r.attempts.to_string(),
            r.duration_ms.to_string(),
            r.error_code.clone(),
            r.detail.clone(),
        ]);
        record.extend(r.captures.iter().cloned());
        record.resize(self.width, String::new());
        self.out.write_record(&record)?;
        Ok(())
    }

    /// Flushes buffered lines to the file.
    pub fn flush(&mut self) -> io::Result<()> {
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
        let mut w = ResultsWriter::create(&path, &["email".into()], &["create.id".into()]).unwrap();
        let mut r = RowResult::new(1, 2, ResultKind::Failed);
        r.keys = vec!["a@x.com".into()];
        r.outcome = "taken".into();
        r.step = "create".into();
        r.http_status = Some(409);
        r.attempts = 1;
        r.detail = "email, \"taken\"".into();
        w.write(&r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "row,line,email,result,outcome,step,http_status,attempts,duration_ms,error_code,detail,create.id\n\
             1,2,a@x.com,failed,taken,create,409,1,0,,\"email, \"\"taken\"\"\",\n"
        );
    }

    #[test]
    fn result_words_round_trip() {
        for k in [
            ResultKind::Done,
            ResultKind::Skipped,
            ResultKind::Failed,
            ResultKind::Planned,
        ] {
            assert_eq!(ResultKind::parse(k.as_str()), Some(k));
        }
    }
}
