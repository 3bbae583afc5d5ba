//! The validated manifest: what `validate` builds and everything after it reads.
//!
//! Fields are private and the only constructor is `validate::validate`, so an unchecked
//! manifest cannot reach the engine. Accessors return what the engine needs.

use std::path::{Path, PathBuf};

use crate::catalog::{Method, Operation};
use crate::diagnostic::Span;
use crate::template::{BodyTemplate, Template};

/// A checked job, ready to run.
#[derive(Debug)]
pub(crate) struct Manifest {
    pub(super) path: PathBuf,
    pub(super) text_hash: String,
    pub(super) name: String,
    pub(super) destructive: bool,
    pub(super) input: Input,
    pub(super) params: Vec<Param>,
    pub(super) lookups: Vec<Lookup>,
    pub(super) vars: Vec<(String, Template)>,
    pub(super) per_second: f64,
    pub(super) concurrency: usize,
    pub(super) results: ResultsSpec,
    pub(super) steps: Vec<Step>,
    pub(super) outputs: Vec<Output>,
    pub(super) aggregates: Vec<Aggregate>,
    /// `row.NAME` references in templates, checked against the input header.
    pub(super) row_refs: Vec<(String, Span)>,
    /// Where each required column is written.
    pub(super) require_spans: Vec<(String, Span)>,
}

/// Where rows come from.
#[derive(Debug)]
pub(crate) struct Input {
    /// The input file (resolved against the manifest's folder).
    pub path: PathBuf,
    /// How to read it.
    pub format: InputFormat,
    /// Columns every row must have.
    pub require: Vec<String>,
    /// Rows with the same key run one after another.
    pub key: Option<Template>,
    /// The key of another row this row waits for.
    pub after: Option<Template>,
    /// Rows come from the API instead of a file (`path` is then empty).
    pub api: Option<ApiSource>,
}

/// Rows read from the API.
#[derive(Debug)]
pub(crate) enum ApiSource {
    /// The answer to one read: a list's elements, a report's CSV lines, JSON Lines.
    Request(Box<Step>),
    /// A file of a data export job.
    Export {
        /// The job id, or `latest` (the most recently updated COMPLETED job).
        job: Box<Template>,
        /// The file name.
        file: Box<Template>,
    },
}

/// A data file the job writes.
#[derive(Debug)]
pub(crate) struct Output {
    /// Written only when this (params only) is true.
    pub when: Option<Template>,
    /// Path template (params and `job.name`), relative to the manifest's folder.
    pub path: Template,
    /// The manifest's folder.
    pub dir: PathBuf,
    /// The declared format; `None`: from the rendered path's extension.
    pub format: Option<OutputFormat>,
    /// One record per element of this list (as `item`); else the row is the record.
    pub each: Option<Template>,
    /// Records for which this is false are left out.
    pub filter: Option<Template>,
    /// Columns in order; empty: JSON formats write the record whole.
    pub columns: Vec<Column>,
}

/// The formats an output file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    /// A CSV file with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// A JSON array.
    Json,
}

impl OutputFormat {
    /// The format a file name's extension names.
    pub(crate) fn from_path(path: &Path) -> Option<OutputFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(OutputFormat::Csv),
            "jsonl" | "ndjson" => Some(OutputFormat::Jsonl),
            "json" => Some(OutputFormat::Json),
            _ => None,
        }
    }
}

/// One output column.
#[derive(Debug)]
pub(crate) struct Column {
    /// The header (the key in JSON formats).
    pub header: String,
    /// Where the value comes from.
    pub value: ColumnValue,
}

/// Where a column's value comes from.
#[derive(Debug)]
pub(crate) enum ColumnValue {
    /// A dotted path into the record (`content.from`), read without templates.
    Path(Vec<String>),
    /// A template.
    Template(Template),
    /// Every column of the CSV input row, in header order (`"*"`).
    AllInput,
}

/// A report over all rows, written when the input is done.
#[derive(Debug)]
pub(crate) struct Aggregate {
    /// Path template, relative to `dir`.
    pub path: Template,
    /// The manifest's folder.
    pub dir: PathBuf,
    /// Rows for which this is false do not count.
    pub filter: Option<Template>,
    /// Each row's instant.
    pub time: Option<ColumnValue>,
    /// Time buckets.
    pub interval: Option<Interval>,
    /// Columns in order.
    pub columns: Vec<AggregateColumn>,
}

/// Time buckets of an aggregate.
#[derive(Debug)]
pub(crate) struct Interval {
    /// Bucket length.
    pub minutes: u32,
    /// IANA zone template (params only); `None` is UTC.
    pub zone: Option<Template>,
}

/// One aggregate column.
#[derive(Debug)]
pub(crate) struct AggregateColumn {
    /// The header.
    pub header: String,
    /// What it holds.
    pub measure: Measure,
}

/// What an aggregate column holds.
#[derive(Debug)]
pub(crate) enum Measure {
    /// A grouping value.
    Group(ColumnValue),
    /// The interval's start (`true`) or end, in its zone.
    Interval {
        /// Start rather than end.
        start: bool,
    },
    /// A value computed once per run.
    Value(Template),
    /// Rows counted (all rows when `None`).
    Count(Option<Template>),
    /// A number summed.
    Sum(ColumnValue),
    /// Time between paired rows.
    Span(Box<SpanSpec>),
}

/// How rows pair into spans.
#[derive(Debug)]
pub(crate) struct SpanSpec {
    /// What pairs rows.
    pub key: ColumnValue,
    /// Opens a span.
    pub start: Template,
    /// Closes the open span of the key.
    pub end: Template,
    /// When still-open spans close (params only); `None`: the last row's time.
    pub until: Option<Template>,
    /// Seconds per unit shown (60 for minutes).
    pub unit_seconds: f64,
}

/// The file formats an input can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputFormat {
    /// CSV with a header row and this delimiter.
    Csv {
        /// Field delimiter byte.
        delimiter: u8,
    },
    /// One JSON object per line.
    Jsonl,
    /// A JSON array of objects.
    Json,
}

/// A `--set` parameter.
#[derive(Debug)]
pub(crate) struct Param {
    /// Its name (`params.NAME` in templates).
    pub name: String,
    /// Used when `--set` gives none; `None` makes it required.
    pub default: Option<String>,
    /// What it means.
    pub description: Option<String>,
}

/// A reference list fetched once per run.
#[derive(Debug)]
pub(crate) struct Lookup {
    /// Its name, as used in `lookup('NAME', key)`.
    pub name: String,
    /// The concrete request path.
    pub path: String,
    /// Read from a data export job's file instead (job, file; params only).
    pub export: Option<(Box<Template>, Box<Template>)>,
    /// Fetched only when this (params only) is true; otherwise empty.
    pub when: Option<Template>,
    /// Computes each item's key from `item`.
    pub key: Template,
}

/// Where results go.
#[derive(Debug)]
pub(crate) struct ResultsSpec {
    /// The results CSV path.
    pub path: PathBuf,
    /// Input columns repeated on every line.
    pub columns: Vec<String>,
}

/// One step of a row.
#[derive(Debug)]
pub(crate) struct Step {
    /// Unique name; captures are `NAME.capture`.
    pub name: String,
    /// Where the step is written.
    pub span: Span,
    /// Runs only when this is true.
    pub when: Option<Template>,
    /// A request, or a decision without one.
    pub kind: StepKind,
    /// Outcome label when this step decides the row.
    pub outcome: Option<String>,
    /// Message recorded with that outcome.
    pub message: Option<Template>,
}

/// What a step does.
#[derive(Debug)]
pub(crate) enum StepKind {
    /// Send a request.
    Request(Box<Request>),
    /// End the row (skip, fail or abort) without a request.
    Decide(Action),
}

/// An HTTP request with its response rules.
#[derive(Debug)]
pub(crate) struct Request {
    /// HTTP method.
    pub method: Method,
    /// The catalog operation the request matches.
    pub operation: &'static Operation,
    /// The path as literal text and templates; template output is percent-encoded.
    pub path: Vec<PathPart>,
    /// Query parameters.
    pub query: Vec<(String, BodyTemplate)>,
    /// Extra headers.
    pub headers: Vec<(String, Template)>,
    /// The JSON body.
    pub body: Option<BodyTemplate>,
    /// Where the body is written (for per-row payload errors).
    pub body_span: Option<Span>,
    /// Safe to repeat.
    pub idempotent: bool,
    /// Values kept from the response.
    pub capture: Vec<(String, Template)>,
    /// Rules per status, first match wins (exact codes are checked before classes).
    pub rules: Vec<Rule>,
}

/// A piece of a request path.
#[derive(Debug)]
pub(crate) enum PathPart {
    /// Written text, sent as is.
    Literal(String),
    /// A template whose value becomes one percent-encoded path segment.
    Template(Template),
}

/// What to do when a response status matches.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The statuses it applies to.
    pub status: StatusMatch,
    /// Applies only when this holds (may read `response`).
    pub when: Option<Template>,
    /// What to do.
    pub action: Action,
    /// Outcome label.
    pub outcome: Option<String>,
    /// Message (may use `response`).
    pub message: Option<Template>,
}

/// A status code or class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusMatch {
    /// One exact status, e.g. 409.
    Code(u16),
    /// A class: 2 for `2xx`, 4 for `4xx`…
    Class(u16),
}

impl StatusMatch {
    /// True when `status` falls under this match.
    pub(crate) fn matches(self, status: u16) -> bool {
        match self {
            StatusMatch::Code(c) => c == status,
            StatusMatch::Class(c) => status / 100 == c,
        }
    }
}

/// What happens to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Go on with the next step.
    Continue,
    /// Stop the row as skipped.
    Skip,
    /// Stop the row as failed.
    Fail,
    /// Fail the row and stop taking new rows.
    Abort,
    /// Send the same request again (with backoff, bounded).
    Retry,
    /// Continue at the step with this index.
    Goto(usize),
}

impl Manifest {
    /// The manifest file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
    /// SHA-256 of the manifest text (recorded for `--resume`).
    pub(crate) fn text_hash(&self) -> &str {
        &self.text_hash
    }
    /// The job name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
    /// Whether the job changes data irreversibly.
    pub(crate) fn destructive(&self) -> bool {
        self.destructive
    }
    /// Where rows come from.
    pub(crate) fn input(&self) -> &Input {
        &self.input
    }
    /// Declared parameters.
    pub(crate) fn params(&self) -> &[Param] {
        &self.params
    }
    /// Declared lookups.
    pub(crate) fn lookups(&self) -> &[Lookup] {
        &self.lookups
    }
    /// Per-row variables, in order.
    pub(crate) fn vars(&self) -> &[(String, Template)] {
        &self.vars
    }
    /// Requests per second.
    pub(crate) fn per_second(&self) -> f64 {
        self.per_second
    }
    /// Rows in flight at once.
    pub(crate) fn concurrency(&self) -> usize {
        self.concurrency
    }
    /// The results CSV.
    pub(crate) fn results(&self) -> &ResultsSpec {
        &self.results
    }
    /// The steps, in order.
    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }
    /// Declared data files.
    pub(crate) fn outputs(&self) -> &[Output] {
        &self.outputs
    }
    /// Declared reports over all rows.
    pub(crate) fn aggregates(&self) -> &[Aggregate] {
        &self.aggregates
    }
    /// A job without steps only reads its rows into outputs (an export).
    pub(crate) fn is_transform(&self) -> bool {
        self.steps.is_empty()
    }
}
