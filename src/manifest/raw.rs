//! The manifest as written: structs that mirror the YAML keys and keep every position.
//!
//! These types are filled by `decode` from the positioned YAML tree and checked by
//! `validate`, the only way to build a [`super::Manifest`]. Their doc comments are also the
//! descriptions in the JSON Schema that `runner schema` prints for editors, so they are
//! written for manifest authors.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::yaml::Node;
use crate::diagnostic::Span;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Its position in the manifest.
    pub span: Span,
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A mapping whose keys the author chooses (params, lookups, captures), in written order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entries<T>(pub Vec<(Spanned<String>, T)>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<T: JsonSchema> JsonSchema for Entries<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Entries_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let item = generator.subschema_for::<T>();
        json_schema!({ "type": "object", "additionalProperties": item })
    }
}

/// Any YAML value (a request body, a literal).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AnyValue(pub Node);

impl JsonSchema for AnyValue {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "AnyValue".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!(true)
    }
}

/// A string that may contain `{{ expression }}` templates.
pub(crate) type Template = Spanned<String>;

/// One job: where rows come from, what to send for each, and where results go.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields, title = "gladly-runner manifest")]
pub(crate) struct RawManifest {
    /// Manifest format version; only `1` exists.
    pub version: Option<Spanned<u64>>,
    /// Job name: lowercase letters, digits and dashes. Used in result file names.
    pub name: Option<Spanned<String>>,
    /// What the job does, for people reading it.
    pub description: Option<Spanned<String>>,
    /// The job changes or deletes data irreversibly: `apply` asks for confirmation on a real
    /// host unless `--yes` is given.
    pub destructive: Option<Spanned<bool>>,
    /// Where rows come from.
    pub input: Option<RawInput>,
    /// Values set on the command line with `--set name=value`.
    #[schemars(default)]
    pub params: Entries<RawParam>,
    /// Reference lists fetched once per run, looked up by key with `lookup('name', key)`.
    #[schemars(default)]
    pub lookups: Entries<RawLookup>,
    /// Values computed for each row before its first step (templates), used as `vars.NAME`.
    /// A failing lookup here fails the row before anything is written.
    #[schemars(default)]
    pub vars: Entries<Template>,
    /// Requests per second for the whole run (Gladly's org default is 10).
    pub rate_limit: Option<RawRateLimit>,
    /// How many rows run at the same time (default 4).
    pub concurrency: Option<Spanned<u64>>,
    /// The per-row results CSV: a path, or `{ path, columns }`.
    #[schemars(schema_with = "results_schema", default)]
    pub results: Option<RawResults>,
    /// What to do for each row, in order.
    #[schemars(default)]
    pub steps: Vec<RawStep>,
    /// Data files written from the rows (exports).
    #[schemars(default)]
    pub outputs: Vec<RawOutput>,
    /// Reports computed over all rows: counts, sums and spans by group and interval.
    #[schemars(default)]
    pub aggregates: Vec<RawAggregate>,
    /// Position of the whole document.
    #[schemars(skip)]
    pub span: Span,
}

/// The input file and how rows relate to each other.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawInput {
    /// A CSV file with a header row (path relative to the manifest).
    pub csv: Option<Spanned<String>>,
    /// A JSON Lines file: one object per line.
    pub jsonl: Option<Spanned<String>>,
    /// A JSON file holding an array of objects.
    pub json: Option<Spanned<String>>,
    /// Rows read from the API: a list (`GET /api/v1/topics`), a report
    /// (`POST /api/v1/reports` with a `body`) or the events stream (`GET /api/v1/events` with
    /// a `query`). Each element, CSV line or JSON line of the answer is a row, streamed.
    #[schemars(schema_with = "api_schema", default)]
    pub api: Option<RawApiInput>,
    /// Rows from a file of a data export job: `{ job: ID or latest, file: NAME }`.
    pub export: Option<RawExportInput>,
    /// CSV field delimiter, one character (default `,`).
    pub delimiter: Option<Spanned<String>>,
    /// Columns every row must have (checked before any request is sent).
    #[schemars(default)]
    pub require: Vec<Spanned<String>>,
    /// A template giving each row's key: rows with the same key run one after another.
    pub key: Option<Template>,
    /// A template naming the key of another row this row must wait for (for example a
    /// topic's parent); empty means no dependency.
    pub after: Option<Template>,
    #[schemars(skip)]
    /// Position of the `input` mapping.
    pub span: Span,
}

/// The request whose answer gives the rows; templates may use `params` only (it is sent
/// once, before any row).
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawApiInput {
    /// `METHOD /api/v1/path` (a read), e.g. `GET /api/v1/topics`.
    pub request: Option<Spanned<String>>,
    /// A catalog operation id instead of `request`, e.g. `getTopics`.
    pub operation: Option<Spanned<String>>,
    /// Path parameters of `operation`.
    #[schemars(default)]
    pub params: Entries<Template>,
    /// Query string parameters (a list repeats the parameter).
    #[schemars(default)]
    pub query: Entries<AnyValue>,
    /// JSON body (reports).
    pub body: Option<AnyValue>,
    #[schemars(skip)]
    /// Position of the mapping.
    pub span: Span,
}

/// A file of a data export job.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawExportInput {
    /// The job id, or `latest` for the most recently updated COMPLETED job (template).
    pub job: Option<Template>,
    /// The file name, e.g. `conversation_items.jsonl` (template).
    pub file: Option<Template>,
    #[schemars(skip)]
    /// Position of the mapping.
    pub span: Span,
}

/// A file the job writes: records from rows (or from a list per row, `each`).
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawOutput {
    /// Template with `params`: the file is written only when this is true (for example one
    /// output per kind of export file).
    pub when: Option<Template>,
    /// Path relative to the manifest; may use `{{ job.name }}` and `{{ params.NAME }}`.
    pub path: Option<Template>,
    /// `csv`, `jsonl` or `json` (default: from the path's extension).
    pub format: Option<Spanned<String>>,
    /// Template giving a list: one record per element, read as `item` (default: one record
    /// per row, the row itself).
    pub each: Option<Template>,
    /// Template: keep only the records for which this is true.
    #[schemars(rename = "where")]
    pub filter: Option<Template>,
    /// The columns, in order: `content.from` (a dotted path into the record, also the
    /// header), `{ Header: path-or-template }`, or `"*"` for every column of a CSV input.
    /// Without columns, JSON formats write each record whole.
    #[schemars(default, schema_with = "columns_schema")]
    pub columns: Vec<RawColumn>,
    #[schemars(skip)]
    /// Position of the output.
    pub span: Span,
}

/// One output column: a header and where its value comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawColumn {
    /// The header.
    pub header: Spanned<String>,
    /// A dotted path (`content.from`) or a template.
    pub value: Spanned<String>,
}

/// An aggregate report: rows counted, summed or timed, by group and time interval.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawAggregate {
    /// Path relative to the manifest (CSV); may use `{{ job.name }}` and `{{ params.NAME }}`.
    pub path: Option<Template>,
    /// Template: only rows for which this is true count.
    #[schemars(rename = "where")]
    pub filter: Option<Template>,
    /// Each row's instant (a dotted path such as `timestamp`, or a template); needed by
    /// `interval` and `span`.
    pub time: Option<Template>,
    /// Time buckets: `{ minutes: 30, zone: America/Los_Angeles }`.
    pub interval: Option<RawInterval>,
    /// The columns, in order, each `{ Header: { group | interval | value | count | sum | span } }`.
    #[schemars(default)]
    pub columns: Vec<Entries<RawMeasure>>,
    #[schemars(skip)]
    /// Position of the aggregate.
    pub span: Span,
}

/// Time buckets of an aggregate.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawInterval {
    /// Bucket length in minutes (divides a day, e.g. 15, 30, 60, 1440).
    pub minutes: Option<Spanned<u64>>,
    /// IANA time zone the buckets start in (template; default UTC).
    pub zone: Option<Template>,
}

/// What one aggregate column holds.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawMeasure {
    /// Group rows by this value (a dotted path or a template).
    pub group: Option<Template>,
    /// `start` or `end` of the time interval, shown in its zone as `YYYY-MM-DD HH:MM`.
    pub interval: Option<Spanned<String>>,
    /// A value computed once for the run (template with `params`), e.g. the time zone.
    pub value: Option<Template>,
    /// Count the rows for which this template is true (`true` counts every row).
    #[schemars(schema_with = "count_schema", default)]
    pub count: Option<Template>,
    /// Sum this number (a dotted path or a template); blanks are left out.
    pub sum: Option<Template>,
    /// Time between paired rows, split across intervals.
    pub span: Option<RawSpan>,
}

/// A span between paired rows: opened by a `start` row, closed by the next `end` row with
/// the same `key`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawSpan {
    /// What pairs rows (dotted path or template), e.g. `content.agentId`.
    pub key: Option<Template>,
    /// Template: this row opens a span (unless one is open for its key).
    pub start: Option<Template>,
    /// Template: this row closes the open span of its key (checked before `start`).
    pub end: Option<Template>,
    /// Template with `params`: when spans still open at the end close (default: the last
    /// row's time).
    pub until: Option<Template>,
    /// `seconds`, `minutes` (default) or `hours`.
    pub unit: Option<Spanned<String>>,
}

/// A parameter given with `--set name=value`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawParam {
    /// Value used when `--set` does not give one. Without a default the parameter is required.
    pub default: Option<Spanned<String>>,
    /// What the parameter means.
    pub description: Option<Spanned<String>>,
}

/// A reference list fetched once per run.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawLookup {
    /// `METHOD /api/v1/path` of a list request, e.g. `GET /api/v1/inboxes`.
    pub request: Option<Spanned<String>>,
    /// A catalog operation id instead of `request`, e.g. `getInboxes`.
    pub operation: Option<Spanned<String>>,
    /// A file of a data export job instead: `{ job: ID or latest, file: customers.jsonl }`.
    pub export: Option<RawExportInput>,
    /// Template with `params`: fetch the list only when this is true (otherwise the lookup
    /// is empty and `lookup()` gives its default), e.g. only when a filter is given.
    pub when: Option<Template>,
    /// Template computing each listed item's key from `item`, e.g. `{{ item.name }}`.
    pub key: Option<Template>,
    #[schemars(skip)]
    /// Position of the lookup.
    pub span: Span,
}

/// The request rate for the run.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawRateLimit {
    /// Requests per second across all rows.
    pub per_second: Option<Spanned<f64>>,
}

/// Where the results CSV goes and which input columns it repeats.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawResults {
    /// Path of the results CSV (relative to the manifest); `{{ job.name }}` may be used.
    pub path: Option<Template>,
    /// Input columns copied into every results line (default: `input.require`).
    #[schemars(default)]
    pub columns: Vec<Spanned<String>>,
}

/// One step of a row: a request, or a decision (`action`) with no request.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawStep {
    /// Step name, unique in the job; captures are read as `NAME.capture`.
    pub name: Option<Spanned<String>>,
    /// Template: the step runs only when this is true.
    pub when: Option<Template>,
    /// `METHOD /api/v1/path`, where the path may contain templates.
    pub request: Option<Spanned<String>>,
    /// A catalog operation id (see `runner ops`) instead of `request`.
    pub operation: Option<Spanned<String>>,
    /// Path parameters of `operation`, e.g. `customerId`.
    #[schemars(default)]
    pub params: Entries<Template>,
    /// Query string parameters.
    #[schemars(default)]
    pub query: Entries<AnyValue>,
    /// Extra request headers.
    #[schemars(default)]
    pub headers: Entries<Template>,
    /// JSON body; strings may be templates, and a value that is exactly one `{{ … }}`
    /// keeps its type (list, number, null). `{{ omit }}` removes the key.
    pub body: Option<AnyValue>,
    /// The request may be repeated safely (a POST is otherwise retried only when it carries
    /// a client-supplied `id`).
    pub idempotent: Option<Spanned<bool>>,
    /// Values to keep from the response, e.g. `id: "{{ response.body.id }}"`.
    #[schemars(default)]
    pub capture: Entries<Template>,
    /// What to do on a response status or class (`404`, `409`, `4xx`, `5xx`, `2xx`): one
    /// rule, or a list of rules with `when` conditions tried in order.
    #[schemars(default, schema_with = "rules_schema")]
    pub on: Entries<Vec<RawRule>>,
    /// For a step without a request: `skip`, `fail` or `abort` the row when `when` holds.
    pub action: Option<Spanned<String>>,
    /// The row's outcome label when this step decides it (e.g. `created`, `skipped`).
    pub outcome: Option<Spanned<String>>,
    /// Message recorded with the outcome (template).
    pub message: Option<Template>,
    #[schemars(skip)]
    /// Position of the step.
    pub span: Span,
}

/// What to do when a response matches a status or class.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RawRule {
    /// Template (may read `response`): the rule applies only when this is true.
    pub when: Option<Template>,
    /// `continue`, `skip`, `fail`, `abort`, `retry` or `goto`.
    pub action: Option<Spanned<String>>,
    /// With `goto`: the later step to continue at.
    pub step: Option<Spanned<String>>,
    /// The row's outcome label (e.g. `updated`, `not-found`).
    pub outcome: Option<Spanned<String>>,
    /// Message recorded with the outcome (template; `response` is available).
    pub message: Option<Template>,
    #[schemars(skip)]
    /// Position of the rule.
    pub span: Span,
}

/// `on:` values are one rule or a list of rules.
fn rules_schema(generator: &mut SchemaGenerator) -> Schema {
    let rule = generator.subschema_for::<RawRule>();
    json_schema!({
        "type": "object",
        "additionalProperties": { "anyOf": [rule, { "type": "array", "items": rule }] }
    })
}

/// `results:` is a path or a mapping.
fn results_schema(generator: &mut SchemaGenerator) -> Schema {
    let full = generator.subschema_for::<RawResults>();
    json_schema!({ "anyOf": [{ "type": "string" }, full] })
}

/// `count` is `true` (every row) or a template (the rows for which it is true).
fn count_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "anyOf": [{ "type": "boolean" }, { "type": "string" }] })
}

/// `input.api` is a request line or a mapping.
fn api_schema(generator: &mut SchemaGenerator) -> Schema {
    let full = generator.subschema_for::<RawApiInput>();
    json_schema!({ "anyOf": [{ "type": "string" }, full] })
}

/// Output columns: a dotted path, or `{ Header: path-or-template }`.
fn columns_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "anyOf": [
            { "type": "string" },
            { "type": "object", "additionalProperties": { "type": "string" },
              "minProperties": 1, "maxProperties": 1 }
        ] }
    })
}
