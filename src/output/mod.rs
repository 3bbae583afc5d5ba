//! Export files: the records a row yields (`outputs:`), formatted as CSV, JSON Lines or a
//! JSON array, and the reports over all rows (`aggregates:`, see [`aggregate`]).
//!
//! [`Emitter`] turns one finished row into bytes and aggregate facts; it is shared by the
//! worker threads, so a row's formatting runs in parallel. [`Sinks`] owns the files, writes
//! what the emitter made in input order and, at the end, the aggregates. Dotted-path columns
//! are read straight from the row's JSON, without templates: that is what makes a
//! gigabyte export file fast to convert.

pub(crate) mod aggregate;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::Value;

use crate::failure::{FailureCode, RowFailure};
use crate::manifest::{Column, ColumnValue, Manifest, Measure, Output, OutputFormat};
use crate::template::{self, Template};

pub(crate) use aggregate::{Fact, Folder};

/// The value at a dotted path of a JSON object (`content.from`); a number segment indexes
/// a list.
pub(crate) fn value_at<'a>(
    root: &'a serde_json::Map<String, serde_json::Value>,
    path: &[String],
) -> Option<&'a serde_json::Value> {
    let (first, rest) = path.split_first()?;
    json_at(field(root, first)?, rest)
}

/// The value at `path` inside a JSON value (the rest of a path after a row's part).
pub(crate) fn json_at<'a>(
    value: &'a serde_json::Value,
    path: &[String],
) -> Option<&'a serde_json::Value> {
    let mut at = value;
    for segment in path {
        at = match at {
            serde_json::Value::Object(map) => field(map, segment)?,
            serde_json::Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// One key of an object. Small objects (most records) are scanned: comparing a few short
/// keys is cheaper than hashing the name, and this runs for every column of every row.
fn field<'a>(
    map: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<&'a serde_json::Value> {
    if map.len() <= 16 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// How a JSON value reads in a CSV cell: text as is, null empty, a list of plain values
/// joined with commas, anything else as JSON.
pub(crate) fn cell_text(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => out.push_str(s),
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => out.push_str(&n.to_string()),
        serde_json::Value::Array(items)
            if items.iter().all(|i| {
                !matches!(
                    i,
                    serde_json::Value::Array(_) | serde_json::Value::Object(_)
                )
            }) =>
        {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                cell_text(item, out);
            }
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Appends one CSV field (RFC 4180: quoted when it holds a comma, quote or line break).
pub(crate) fn push_csv_field(out: &mut Vec<u8>, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

/// Appends a CSV line of `fields`.
pub(crate) fn push_csv_line<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_csv_field(out, field);
    }
    out.push(b'\n');
}

/// One output, resolved for this run.
#[derive(Debug)]
struct Resolved {
    /// Its place in the manifest's `outputs`.
    index: usize,
    path: PathBuf,
    format: OutputFormat,
    /// Headers, with `*` expanded to the input's columns.
    headers: Vec<String>,
}

/// What one row (or a batch of rows) yields: bytes per output, with their record counts,
/// and aggregate facts.
#[derive(Debug, Default)]
pub(crate) struct Emitted {
    /// Per output: formatted records and how many.
    pub files: Vec<(Vec<u8>, u64)>,
    /// Per row, per aggregate in order: the row's fact, when it counts.
    pub facts: Vec<Option<Fact>>,
}

/// Makes the records of a row; shared by the workers.
#[derive(Debug)]
pub(crate) struct Emitter {
    manifest: Arc<Manifest>,
    resolved: Vec<Resolved>,
    /// The CSV input's columns (for `*`).
    input_columns: Vec<String>,
    folder_specs: Vec<aggregate::Spec>,
    /// `params` and `job` as JSON, for templates evaluated natively ([`template::Env`]).
    globals: serde_json::Map<String, serde_json::Value>,
}

/// Renders a path template (params, `job.name`) against the manifest's folder.
pub(crate) fn render_path(
    template: &Template,
    dir: &Path,
    base: &Value,
) -> Result<PathBuf, String> {
    let text = template
        .render(base)
        .map_err(|e| format!("path `{}`: {}", template.source(), e.reason()))?;
    if text.trim().is_empty() {
        return Err(format!("path `{}` is empty", template.source()));
    }
    Ok(dir.join(text))
}

/// Checks that no two files of a run are the same: every output and aggregate (rendered
/// with the run's `base` context), and `others` (the results CSV, a file input), each named
/// with what it is. Writing an output over the input would truncate the rows being read.
///
/// # Errors
/// Names the two uses of the same file, or a path template that fails.
pub(crate) fn check_paths(
    manifest: &Manifest,
    base: &Value,
    others: &[(&str, &Path)],
) -> Result<(), String> {
    let mut seen: Vec<(String, PathBuf)> = others
        .iter()
        .map(|(what, path)| ((*what).to_owned(), (*path).to_path_buf()))
        .collect();
    let outputs = manifest
        .outputs()
        .iter()
        .map(|o| (&o.path, &o.dir, "output"));
    let aggregates = manifest
        .aggregates()
        .iter()
        .map(|a| (&a.path, &a.dir, "aggregate"));
    for (template, dir, what) in outputs.chain(aggregates) {
        let path = render_path(template, dir, base)?;
        seen.push((format!("{what} `{}`", template.source()), path));
    }
    for (i, (what, path)) in seen.iter().enumerate() {
        if let Some((first, _)) = seen[..i]
            .iter()
            .find(|(_, earlier)| same_file(earlier, path))
        {
            return Err(format!(
                "{what} and {first} are the same file, `{}`: give them different paths",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Whether two paths name one file: the same absolute path, or (for files that exist) the
/// same file reached through a symlink or a hard link.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if absolute(a) == absolute(b) {
        return true;
    }
    // Compared by `stat` (never by opening: opening a FIFO would wait for a writer).
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

impl Emitter {
    /// Resolves the manifest's outputs and aggregates for a run: paths, formats, `*`.
    pub(crate) fn new(
        manifest: Arc<Manifest>,
        base: &Value,
        input_columns: Option<&[String]>,
    ) -> Result<Self, String> {
        let input_columns = input_columns.map(<[String]>::to_vec).unwrap_or_default();
        let mut resolved = Vec::new();
        for (index, output) in manifest.outputs().iter().enumerate() {
            if let Some(when) = &output.when {
                let on = when
                    .is_true(base)
                    .map_err(|e| format!("output `when`: {}", e.reason()))?;
                if !on {
                    continue;
                }
            }
            let path = render_path(&output.path, &output.dir, base)?;
            let Some(format) = output.format.or_else(|| OutputFormat::from_path(&path)) else {
                return Err(format!(
                    "cannot tell the format of output `{}`: end it in .csv, .jsonl or .json, \
                     or add `format:`",
                    path.display()
                ));
            };
            if format == OutputFormat::Csv && output.columns.is_empty() {
                return Err(format!(
                    "output `{}` is CSV and needs `columns`",
                    path.display()
                ));
            }
            let mut headers = Vec::new();
            for column in &output.columns {
                if matches!(column.value, ColumnValue::AllInput) {
                    if input_columns.is_empty() {
                        return Err(format!(
                            "output `{}`: `*` copies the columns of a CSV input, and this \
                             input has none",
                            path.display()
                        ));
                    }
                    headers.extend(input_columns.iter().cloned());
                } else {
                    headers.push(column.header.clone());
                }
            }
            resolved.push(Resolved {
                index,
                path,
                format,
                headers,
            });
        }
        let folder_specs = manifest
            .aggregates()
            .iter()
            .enumerate()
            .map(|(i, a)| aggregate::Spec::new(i, a, base))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Emitter {
            manifest,
            resolved,
            input_columns,
            folder_specs,
            globals: globals_of(base),
        })
    }

    /// The row paths every output and aggregate of this run reads, when all of them can
    /// be known before reading a row: columns that are paths, and templates that native
    /// evaluation answers in full once the run's params are in. `None` when one needs the
    /// whole row (`*`, a record written whole, `each`, a filter or function over the row).
    pub(crate) fn row_paths(&self) -> Option<Vec<Vec<String>>> {
        let mut paths = Vec::new();
        for resolved in &self.resolved {
            let output = &self.manifest.outputs()[resolved.index];
            if output.each.is_some() || output.columns.is_empty() {
                return None;
            }
            if let Some(filter) = &output.filter {
                self.template_paths(filter, &mut paths)?;
            }
            for column in &output.columns {
                self.value_paths(&column.value, &mut paths)?;
            }
        }
        for aggregate in self.manifest.aggregates() {
            if let Some(filter) = &aggregate.filter {
                self.template_paths(filter, &mut paths)?;
            }
            if let Some(time) = &aggregate.time {
                self.value_paths(time, &mut paths)?;
            }
            for column in &aggregate.columns {
                match &column.measure {
                    Measure::Group(v) | Measure::Sum(v) => self.value_paths(v, &mut paths)?,
                    Measure::Count(Some(t)) => self.template_paths(t, &mut paths)?,
                    Measure::Span(span) => {
                        self.value_paths(&span.key, &mut paths)?;
                        self.template_paths(&span.start, &mut paths)?;
                        self.template_paths(&span.end, &mut paths)?;
                    }
                    Measure::Count(None) | Measure::Interval { .. } | Measure::Value(_) => {}
                }
            }
        }
        Some(paths)
    }

    fn value_paths(&self, value: &ColumnValue, paths: &mut Vec<Vec<String>>) -> Option<()> {
        match value {
            ColumnValue::Path(path) => {
                paths.push(path.clone());
                Some(())
            }
            ColumnValue::Template(t) => self.template_paths(t, paths),
            ColumnValue::AllInput => None,
        }
    }

    fn template_paths(&self, t: &Template, paths: &mut Vec<Vec<String>>) -> Option<()> {
        if !t.reads("row") {
            return Some(());
        }
        let folded = t.native()?.fold(&self.globals);
        if !folded.is_closed() {
            return None;
        }
        folded.row_paths(paths)
    }

    /// True when some template reads the row's context (filters, lists, template columns,
    /// aggregates); otherwise records are made from the row's values alone.
    pub(crate) fn needs_context(&self) -> bool {
        !self.folder_specs.is_empty()
            || self.resolved.iter().any(|r| {
                let o = &self.manifest.outputs()[r.index];
                o.each.is_some()
                    || o.filter.is_some()
                    || o.columns
                        .iter()
                        .any(|c| matches!(c.value, ColumnValue::Template(_)))
            })
    }

    /// The records and facts of one row. `ctx` is the row's template context (after its
    /// steps); `row` its values.
    pub(crate) fn emit(
        &self,
        ctx: &Value,
        row: template::RowRef<'_>,
    ) -> Result<Emitted, RowFailure> {
        let mut emitted = Emitted::default();
        self.emit_into(ctx, row, &mut emitted)?;
        Ok(emitted)
    }

    /// Like [`Emitter::emit`], appending to `emitted` (a batch of rows shares one buffer
    /// per output). On a failure nothing of this row is kept.
    pub(crate) fn emit_into(
        &self,
        ctx: &Value,
        row: template::RowRef<'_>,
        emitted: &mut Emitted,
    ) -> Result<(), RowFailure> {
        if emitted.files.len() < self.resolved.len() {
            emitted
                .files
                .resize_with(self.resolved.len(), Default::default);
        }
        // Where this row starts, to take it all back if any part of it fails.
        let marks: Vec<(usize, u64)> = emitted.files.iter().map(|(b, n)| (b.len(), *n)).collect();
        let facts = emitted.facts.len();
        let result = self.append(ctx, row, emitted);
        if result.is_err() {
            for ((bytes, count), (len, n)) in emitted.files.iter_mut().zip(marks) {
                bytes.truncate(len);
                *count = n;
            }
            emitted.facts.truncate(facts);
        }
        result
    }

    fn append(
        &self,
        ctx: &Value,
        row: template::RowRef<'_>,
        emitted: &mut Emitted,
    ) -> Result<(), RowFailure> {
        let env = template::Env {
            row,
            globals: &self.globals,
        };
        for (slot, resolved) in self.resolved.iter().enumerate() {
            let output = &self.manifest.outputs()[resolved.index];
            let (buf, count) = &mut emitted.files[slot];
            match &output.each {
                None => {
                    if Self::keep(output, ctx, Some(&env))? {
                        self.record(output, resolved, ctx, Some(&env), row, buf)?;
                        *count += 1;
                    }
                }
                Some(each) => {
                    let list = each
                        .eval(ctx)
                        .map_err(|e| RowFailure::template("each", &e))?;
                    if list.is_undefined() || list.is_none() {
                        continue;
                    }
                    let items = list.try_iter().map_err(|_| RowFailure {
                        step: String::new(),
                        code: FailureCode::Template,
                        detail: format!("`each` gave {}, not a list", list.kind()),
                        span: Some(each.span()),
                    })?;
                    for item in items {
                        let scope = with_item(ctx, &item);
                        if !Self::keep(output, &scope, None)? {
                            continue;
                        }
                        let owned;
                        let map = if let Some(m) = template::json_map_of(&item) {
                            m
                        } else {
                            owned = match template::to_json(&item) {
                                serde_json::Value::Object(m) => m,
                                other => {
                                    let mut m = serde_json::Map::new();
                                    m.insert("value".into(), other);
                                    m
                                }
                            };
                            &owned
                        };
                        let map = template::RowRef::Map(map);
                        self.record(output, resolved, &scope, None, map, buf)?;
                        *count += 1;
                    }
                }
            }
        }
        for (spec, a) in self.folder_specs.iter().zip(self.manifest.aggregates()) {
            emitted.facts.push(spec.fact(a, ctx, &env)?);
        }
        Ok(())
    }

    /// Whether the output's `where` keeps the row; `env` is the row's, when the output
    /// reads the row itself (not a list item).
    fn keep(
        output: &Output,
        ctx: &Value,
        env: Option<&template::Env<'_>>,
    ) -> Result<bool, RowFailure> {
        let filtered = match (&output.filter, env) {
            (None, _) => Ok(true),
            (Some(t), Some(env)) => t.is_true_in(ctx, env),
            (Some(t), None) => t.is_true(ctx),
        };
        filtered.map_err(|e| RowFailure::template("where", &e))
    }

    /// Formats one record into `buf`.
    fn record(
        &self,
        output: &Output,
        resolved: &Resolved,
        ctx: &Value,
        env: Option<&template::Env<'_>>,
        record: template::RowRef<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<(), RowFailure> {
        match resolved.format {
            OutputFormat::Csv => {
                let mut cell = String::new();
                let mut first = true;
                for column in &output.columns {
                    if let ColumnValue::AllInput = column.value {
                        for name in &self.input_columns {
                            cell.clear();
                            if let Some(v) = record.value_at(std::slice::from_ref(name)) {
                                cell_text(v, &mut cell);
                            }
                            push_sep(buf, &mut first);
                            push_csv_field(buf, &cell);
                        }
                        continue;
                    }
                    cell.clear();
                    column_text(column, ctx, env, record, &mut cell)?;
                    push_sep(buf, &mut first);
                    push_csv_field(buf, &cell);
                }
                buf.push(b'\n');
            }
            OutputFormat::Jsonl | OutputFormat::Json => {
                if resolved.format == OutputFormat::Json {
                    buf.extend_from_slice(b",\n");
                }
                if output.columns.is_empty() {
                    match record {
                        template::RowRef::Map(map) => serde_json::to_writer(&mut *buf, map),
                        template::RowRef::Partial(row) => {
                            serde_json::to_writer(&mut *buf, &row.to_map())
                        }
                    }
                    .expect("JSON to memory");
                } else {
                    let mut object = serde_json::Map::new();
                    for column in &output.columns {
                        match &column.value {
                            ColumnValue::AllInput => {
                                for name in &self.input_columns {
                                    let v = record
                                        .value_at(std::slice::from_ref(name))
                                        .cloned()
                                        .unwrap_or_default();
                                    object.insert(name.clone(), v);
                                }
                            }
                            ColumnValue::Path(path) => {
                                let v = record.value_at(path).cloned().unwrap_or_default();
                                object.insert(column.header.clone(), v);
                            }
                            ColumnValue::Template(t) => {
                                let v = t.eval(ctx).map_err(|e| {
                                    RowFailure::template(&format!("column `{}`", column.header), &e)
                                })?;
                                object.insert(column.header.clone(), template::to_json(&v));
                            }
                        }
                    }
                    serde_json::to_writer(&mut *buf, &object).expect("JSON to memory");
                }
                if resolved.format == OutputFormat::Jsonl {
                    buf.push(b'\n');
                }
            }
        }
        Ok(())
    }
}

fn push_sep(buf: &mut Vec<u8>, first: &mut bool) {
    if !*first {
        buf.push(b',');
    }
    *first = false;
}

/// A column's text for a CSV cell.
fn column_text(
    column: &Column,
    ctx: &Value,
    env: Option<&template::Env<'_>>,
    record: template::RowRef<'_>,
    out: &mut String,
) -> Result<(), RowFailure> {
    match &column.value {
        ColumnValue::Path(path) => {
            if let Some(v) = record.value_at(path) {
                cell_text(v, out);
            }
        }
        ColumnValue::Template(t) => {
            if let Some(text) = env.and_then(|env| t.native_text(env)) {
                out.push_str(text);
                return Ok(());
            }
            let v = t
                .eval(ctx)
                .map_err(|e| RowFailure::template(&format!("column `{}`", column.header), &e))?;
            cell_text(&template::to_json(&v), out);
        }
        ColumnValue::AllInput => {}
    }
    Ok(())
}

/// `params` and `job` of a run's context, as JSON: what native evaluation reads besides
/// the row.
fn globals_of(base: &Value) -> serde_json::Map<String, serde_json::Value> {
    ["params", "job"]
        .into_iter()
        .filter_map(|name| {
            let v = base.get_attr(name).ok().filter(|v| !v.is_undefined())?;
            Some((name.to_owned(), template::to_json(&v)))
        })
        .collect()
}

/// The row's context with `item` added.
fn with_item(ctx: &Value, item: &Value) -> Value {
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    if let Ok(keys) = ctx.try_iter() {
        for key in keys {
            if let Some(name) = key.as_str() {
                map.insert(name.to_owned(), ctx.get_item(&key).unwrap_or_default());
            }
        }
    }
    map.insert("item".to_owned(), item.clone());
    Value::from(map)
}

/// The files of a run, written in input order.
pub(crate) struct Sinks {
    files: Vec<Sink>,
    folders: Vec<(Folder, PathBuf)>,
}

struct Sink {
    path: PathBuf,
    format: OutputFormat,
    out: BufWriter<File>,
    records: u64,
}

/// A written file and how many records it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    /// The file.
    pub path: PathBuf,
    /// Records (data lines) written.
    pub records: u64,
}

fn create(path: &Path) -> io::Result<BufWriter<File>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

impl Sinks {
    /// Creates every output file (and its header) for `emitter`'s outputs.
    pub(crate) fn create(emitter: &Emitter) -> Result<Sinks, String> {
        let mut files = Vec::new();
        for resolved in &emitter.resolved {
            let mut out = create(&resolved.path)
                .map_err(|e| format!("cannot write `{}`: {e}", resolved.path.display()))?;
            let head = match resolved.format {
                OutputFormat::Csv => {
                    let mut line = Vec::new();
                    push_csv_line(&mut line, resolved.headers.iter().map(String::as_str));
                    line
                }
                OutputFormat::Json => b"[".to_vec(),
                OutputFormat::Jsonl => Vec::new(),
            };
            out.write_all(&head)
                .map_err(|e| format!("cannot write `{}`: {e}", resolved.path.display()))?;
            files.push(Sink {
                path: resolved.path.clone(),
                format: resolved.format,
                out,
                records: 0,
            });
        }
        let folders = emitter
            .folder_specs
            .iter()
            .zip(emitter.manifest.aggregates())
            .map(|(spec, a)| (Folder::new(a), spec.path.clone()))
            .collect();
        Ok(Sinks { files, folders })
    }

    /// Writes one row's records and folds its facts, in input order.
    pub(crate) fn write(&mut self, emitted: &Emitted, emitter: &Emitter) -> Result<(), String> {
        for (sink, (bytes, count)) in self.files.iter_mut().zip(&emitted.files) {
            let bytes =
                if sink.format == OutputFormat::Json && sink.records == 0 && !bytes.is_empty() {
                    &bytes[1..]
                } else {
                    &bytes[..]
                };
            sink.out
                .write_all(bytes)
                .map_err(|e| format!("cannot write `{}`: {e}", sink.path.display()))?;
            sink.records += count;
        }
        let aggregates = emitter.manifest.aggregates();
        let width = self.folders.len();
        for (i, fact) in emitted.facts.iter().enumerate() {
            let (folder, _) = &mut self.folders[i % width];
            let spec = &emitter.folder_specs[i % width];
            if let Some(fact) = fact {
                folder.add(&aggregates[spec.index()], spec, fact);
            }
        }
        Ok(())
    }

    /// Flushes the outputs now (so a crash keeps what was written).
    pub(crate) fn flush(&mut self) -> Result<(), String> {
        for sink in &mut self.files {
            sink.out
                .flush()
                .map_err(|e| format!("cannot write `{}`: {e}", sink.path.display()))?;
        }
        Ok(())
    }

    /// Closes the outputs and, with `aggregates`, writes the aggregates.
    pub(crate) fn finish(
        self,
        emitter: &Emitter,
        aggregates: bool,
    ) -> Result<Vec<Written>, String> {
        let mut written = Vec::new();
        for mut sink in self.files {
            let tail: &[u8] = match sink.format {
                OutputFormat::Json if sink.records == 0 => b"]\n",
                OutputFormat::Json => b"\n]\n",
                _ => b"",
            };
            sink.out
                .write_all(tail)
                .and_then(|()| sink.out.flush())
                .map_err(|e| format!("cannot write `{}`: {e}", sink.path.display()))?;
            written.push(Written {
                path: sink.path,
                records: sink.records,
            });
        }
        let folders = if aggregates { self.folders } else { Vec::new() };
        for ((folder, path), spec) in folders.into_iter().zip(&emitter.folder_specs) {
            let lines = folder.finish(&emitter.manifest.aggregates()[spec.index()], spec);
            let mut out =
                create(&path).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
            let mut bytes = Vec::new();
            push_csv_line(&mut bytes, spec.headers().iter().map(String::as_str));
            for line in &lines {
                push_csv_line(&mut bytes, line.iter().map(String::as_str));
            }
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
            written.push(Written {
                path,
                records: lines.len() as u64,
            });
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The emitter of a shipped job, with `params` (defaults not applied: pass them all).
    fn shipped(job: &str, params: &[(&str, &str)]) -> Emitter {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("jobs")
            .join(job);
        let text = std::fs::read_to_string(&path).unwrap();
        let manifest = Manifest::parse(&path, &text).unwrap().manifest;
        let params: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let base = Value::from(BTreeMap::from([
            ("params".to_owned(), Value::from(params)),
            (
                "job".to_owned(),
                Value::from(BTreeMap::from([("name", manifest.name().to_owned())])),
            ),
        ]));
        Emitter::new(Arc::new(manifest), &base, None).unwrap()
    }

    fn dotted(paths: &[Vec<String>]) -> Vec<String> {
        let mut out: Vec<String> = paths.iter().map(|p| p.join(".")).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The shipped report and export read rows in part: what their templates and columns
    /// name, once the params have decided the rest.
    #[test]
    fn shipped_jobs_name_the_paths_they_read() {
        let wfm = shipped(
            "events-wfm.yaml",
            &[
                ("startAt", ""),
                ("endAt", "2026-11-21T00:00:00Z"),
                ("timezone", "UTC"),
            ],
        );
        assert_eq!(
            dotted(&wfm.row_paths().unwrap()),
            [
                "content.agentId",
                "content.availableFor",
                "content.channel",
                "content.contactId",
                "initiator.id",
                "initiator.type",
                "timestamp",
                "type"
            ]
        );
        let plain = [
            ("job", "latest"),
            ("file", "conversation_items"),
            ("format", "csv"),
            ("contact", ""),
            ("phrases", ""),
        ];
        let export = shipped("export-file.yaml", &plain);
        let paths = dotted(&export.row_paths().unwrap());
        assert_eq!(paths.len(), 42, "{paths:?}");
        assert!(paths.contains(&"content.recordingSummary.summary".to_owned()));
        // A contact filter reads the row through a function: the whole row is read.
        let mut filtered = plain;
        filtered[3] = ("contact", "@example.com");
        assert_eq!(shipped("export-file.yaml", &filtered).row_paths(), None);
        // JSON output writes records whole.
        let mut json = plain;
        json[2] = ("format", "json");
        assert_eq!(shipped("export-file.yaml", &json).row_paths(), None);
    }

    #[test]
    fn dotted_paths_reach_into_objects_and_lists() {
        let row = json!({"content": {"from": "a@x.com", "to": ["b@x.com", "c@x.com"]}, "n": 1});
        let map = row.as_object().unwrap();
        let path = |p: &str| p.split('.').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            value_at(map, &path("content.from")),
            Some(&json!("a@x.com"))
        );
        assert_eq!(
            value_at(map, &path("content.to.1")),
            Some(&json!("c@x.com"))
        );
        assert_eq!(value_at(map, &path("content.cc")), None);
        assert_eq!(value_at(map, &path("n.x")), None);
    }

    #[test]
    fn cells_read_like_a_spreadsheet_expects() {
        let text = |v: serde_json::Value| {
            let mut s = String::new();
            cell_text(&v, &mut s);
            s
        };
        assert_eq!(text(json!(null)), "");
        assert_eq!(text(json!(true)), "true");
        assert_eq!(text(json!(12.5)), "12.5");
        assert_eq!(text(json!(["a", "b"])), "a,b");
        assert_eq!(text(json!([{"a": 1}])), "[{\"a\":1}]");
        assert_eq!(text(json!({"a": 1})), "{\"a\":1}");
    }

    #[test]
    fn csv_fields_round_trip_through_a_csv_reader() {
        let fields = ["plain", "a,b", "say \"hi\"", "two\nlines", "", "tab\there"];
        let mut out = Vec::new();
        push_csv_line(&mut out, fields);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(record.iter().collect::<Vec<_>>(), fields);
    }
}
