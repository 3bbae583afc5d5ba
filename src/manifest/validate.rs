//! Checks a decoded manifest and builds the [`Manifest`]: names, templates, the catalog.
//!
//! This is the only constructor of `Manifest`. It gathers every problem it finds (sorted
//! by position) instead of stopping at the first, and suggests the closest valid word for
//! misspelt keys, step and capture names, params, lookups, operations and enum values.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::model::{
    Action, Input, InputFormat, Lookup, Manifest, Param, PathPart, Request, ResultsSpec, Rule,
    StatusMatch, Step, StepKind,
};
use super::raw::{RawInput, RawLookup, RawManifest, RawStep, Spanned};
use crate::catalog::Method;
use crate::diagnostic::{Diagnostic, Span, did_you_mean};
use crate::template::Template;

/// The most steps a job may have: far above what one row needs, and low enough that
/// checking their references to one another stays instant.
pub(crate) const MAX_STEPS: usize = 200;

/// The longest job name: it becomes file names (`results/NAME.csv`).
pub(crate) const MAX_NAME_CHARS: usize = 100;

/// Names a step may not take because templates already use them.
const RESERVED: &[&str] = &[
    "row", "params", "vars", "job", "response", "item", "omit", "lookups", "loop",
];

/// What a template may refer to where it is written.
#[derive(Clone, Copy, Default)]
pub(super) struct Scope {
    /// Index of the step the template belongs to; captures of earlier steps are visible.
    pub(super) step: Option<usize>,
    /// `response` is visible (captures, rule messages).
    pub(super) response: bool,
    /// `item` is visible (lookup keys).
    pub(super) item: bool,
    /// Number of `vars` visible (earlier vars only, inside `vars`).
    pub(super) vars: Option<usize>,
    /// Evaluated once per run, before any row: only `params` and `job` are visible.
    pub(super) once: bool,
}

impl Scope {
    /// Templates evaluated once per run, before any row (paths, the input request).
    pub(super) fn once() -> Scope {
        Scope {
            once: true,
            ..Scope::default()
        }
    }
}

pub(super) struct Validator<'a> {
    pub(super) raw: &'a RawManifest,
    pub(super) dir: PathBuf,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) warnings: Vec<Diagnostic>,
    pub(super) row_refs: Vec<(String, Span)>,
    /// Steps validated so far: name and capture names.
    pub(super) seen_steps: Vec<(String, Vec<String>)>,
    /// Keys the decoder reported, by mapping position (see `Decoder::spoiled`).
    pub(super) spoiled: Vec<(Span, String)>,
    /// Validating `input.api`: its templates run once, before any row.
    pub(super) in_input: bool,
}

impl<'a> Validator<'a> {
    pub(super) fn new(raw: &'a RawManifest, manifest_path: &Path) -> Self {
        let dir = manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Validator {
            raw,
            dir,
            diagnostics: Vec::new(),
            warnings: Vec::new(),
            row_refs: Vec::new(),
            seen_steps: Vec::new(),
            spoiled: Vec::new(),
            in_input: false,
        }
    }

    pub(super) fn error(&mut self, message: impl Into<String>, span: Span) -> &mut Diagnostic {
        self.diagnostics
            .push(Diagnostic::error(message, Some(span)));
        self.diagnostics.last_mut().expect("just pushed")
    }

    /// True when the decoder already reported one of `keys` of the mapping at `map` as
    /// misspelt or unusable: saying it is missing too would only repeat that.
    pub(super) fn spoiled(&self, map: Span, keys: &[&str]) -> bool {
        self.spoiled
            .iter()
            .any(|(span, key)| *span == map && (key == "*" || keys.contains(&key.as_str())))
    }

    pub(super) fn hint(diagnostic: &mut Diagnostic, suggestion: Option<&str>) {
        if let Some(s) = suggestion {
            diagnostic.label = Some(format!("did you mean `{s}`?"));
        }
    }

    /// Runs every check and returns the manifest when none failed.
    pub(super) fn run(mut self, path: &Path, text: &str) -> (Option<Manifest>, Self) {
        let raw = self.raw;
        self.check_version();
        let name = self.check_name();
        let input = self.check_input();
        let params = self.check_params();
        let lookups = self.check_lookups();
        let vars = self.check_vars();
        let steps = self.check_steps();
        let outputs = self.check_outputs();
        let aggregates = self.check_aggregates();
        let per_second = self.check_rate();
        let concurrency = self.check_concurrency();
        let results = self.check_results(name.as_deref(), input.as_ref());
        if let Some(d) = &raw.destructive
            && !d.value
            && steps.iter().any(is_delete)
        {
            self.warnings.push(Diagnostic::warning(
                "this job deletes data but says `destructive: false`",
                Some(d.span),
            ));
        }
        let manifest = match (name, input) {
            (Some(name), Some(input)) if self.diagnostics.is_empty() => Some(Manifest {
                path: path.to_path_buf(),
                text_hash: hex_sha256(text),
                name,
                destructive: raw.destructive.as_ref().is_some_and(|d| d.value),
                input,
                params,
                lookups,
                vars,
                per_second,
                concurrency,
                results,
                steps,
                outputs,
                aggregates,
                row_refs: Vec::new(),
                require_spans: Vec::new(),
            }),
            _ => None,
        };
        (manifest, self)
    }

    fn check_version(&mut self) {
        match &self.raw.version {
            None if self.spoiled(self.raw.span, &["version"]) => {}
            None => {
                self.error("missing `version`", Span::new(1, 1, 1))
                    .notes
                    .push("add `version: 1` at the top".into());
            }
            Some(v) if v.value != 1 => {
                self.error(format!("unsupported version `{}`", v.value), v.span)
                    .label = Some("only version 1 exists".into());
            }
            Some(_) => {}
        }
    }

    fn check_name(&mut self) -> Option<String> {
        let Some(name) = &self.raw.name else {
            if self.spoiled(self.raw.span, &["name"]) {
                return None;
            }
            self.error("missing `name`", Span::new(1, 1, 1))
                .notes
                .push("add `name: my-job` (lowercase letters, digits and dashes)".into());
            return None;
        };
        if name.value.chars().count() > MAX_NAME_CHARS {
            self.error(
                format!("`name` is {} characters long", name.value.chars().count()),
                name.span,
            )
            .label = Some(format!(
                "at most {MAX_NAME_CHARS}: it names the results files"
            ));
            return None;
        }
        let ok = !name.value.is_empty()
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            let fixed: String = name
                .value
                .trim()
                .chars()
                .filter_map(|c| match c {
                    ' ' | '-' => Some('-'),
                    c if c.is_ascii_alphanumeric() || c == '_' => Some(c.to_ascii_lowercase()),
                    _ => None,
                })
                .collect();
            let label = if fixed.is_empty() {
                "use lowercase letters, digits, `-` and `_`".to_owned()
            } else {
                format!("use lowercase letters, digits, `-` and `_`, e.g. `{fixed}`")
            };
            self.error(format!("invalid job name `{}`", name.value), name.span)
                .label = Some(label);
            return None;
        }
        Some(name.value.clone())
    }

    fn check_input(&mut self) -> Option<Input> {
        let Some(raw) = &self.raw.input else {
            if self.spoiled(self.raw.span, &["input"]) {
                return None;
            }
            self.error("missing `input`", self.raw.span)
                .notes
                .push("add `input: { csv: data/rows.csv }`".into());
            return None;
        };
        let api = self.check_api_input(raw);
        let sources: Vec<(&Spanned<String>, InputFormat, &str)> = [
            (&raw.csv, InputFormat::Csv { delimiter: b',' }, "csv"),
            (&raw.jsonl, InputFormat::Jsonl, "jsonl"),
            (&raw.json, InputFormat::Json, "json"),
        ]
        .into_iter()
        .filter_map(|(path, format, key)| path.as_ref().map(|p| (p, format, key)))
        .collect();
        let api_given = [
            raw.api.as_ref().map(|a| (a.span, "api")),
            raw.export.as_ref().map(|e| (e.span, "export")),
        ];
        let mut given: Vec<(Span, &str)> = sources.iter().map(|s| (s.0.span, s.2)).collect();
        given.extend(api_given.into_iter().flatten());
        given.sort_by_key(|g| g.0);
        let (path, mut format) = match (given.as_slice(), sources.as_slice()) {
            ([_], [one]) => (self.dir.join(&one.0.value), one.1),
            ([_], _) => {
                let (_, format) = api.as_ref()?;
                (PathBuf::new(), *format)
            }
            ([], _) => {
                if !self.spoiled(raw.span, &["csv", "jsonl", "json", "api", "export"]) {
                    let d = self.error(
                        "`input` needs one of `csv`, `jsonl`, `json`, `api` or `export`",
                        raw.span,
                    );
                    d.label = Some("this `input` names no source".into());
                }
                return None;
            }
            ([first, second, ..], _) => {
                self.error(
                    "`input` takes only one of `csv`, `jsonl`, `json`, `api` or `export`",
                    second.0,
                )
                .label = Some(format!("`{}` already names the input", first.1));
                return None;
            }
        };
        if let Some(d) = &raw.delimiter {
            match (&mut format, d.value.as_bytes()) {
                (InputFormat::Csv { delimiter }, [b]) => *delimiter = *b,
                (InputFormat::Csv { .. }, _) => {
                    self.error(
                        format!("delimiter `{}` must be one character", d.value),
                        d.span,
                    );
                }
                _ => {
                    self.error("`delimiter` applies only to `csv` input", d.span);
                }
            }
        }
        let require = self.check_require(raw);
        let scope = Scope::default();
        let key = raw.key.as_ref().and_then(|k| self.template(k, scope));
        let after = raw.after.as_ref().and_then(|a| self.template(a, scope));
        if let (Some(after), None) = (&raw.after, &raw.key) {
            self.error(
                "`input.after` needs `input.key` to say which row is which",
                after.span,
            )
            .label = Some("add a `key`, e.g. `key: \"{{ row.id }}\"`".into());
        }
        Some(Input {
            path,
            format,
            require,
            key,
            after,
            api: api.map(|(source, _)| source),
        })
    }

    fn check_require(&mut self, raw: &RawInput) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for column in &raw.require {
            if out.contains(&column.value) {
                self.error(
                    format!("column `{}` is required twice", column.value),
                    column.span,
                );
            } else {
                out.push(column.value.clone());
            }
        }
        out
    }

    fn check_params(&mut self) -> Vec<Param> {
        let mut out = Vec::new();
        for (name, param) in &self.raw.params.0 {
            if !is_identifier(&name.value) {
                self.error(format!("invalid param name `{}`", name.value), name.span)
                    .label = Some(identifier_fix(&name.value));
            }
            out.push(Param {
                name: name.value.clone(),
                default: param.default.as_ref().map(|d| d.value.clone()),
                description: param.description.as_ref().map(|d| d.value.clone()),
            });
        }
        out
    }

    fn check_lookups(&mut self) -> Vec<Lookup> {
        let mut out = Vec::new();
        for (name, raw) in &self.raw.lookups.0 {
            if !is_identifier(&name.value) {
                self.error(format!("invalid lookup name `{}`", name.value), name.span)
                    .label = Some(identifier_fix(&name.value));
            }
            if let Some(lookup) = self.check_lookup(name, raw) {
                out.push(lookup);
            }
        }
        out
    }

    fn check_lookup(&mut self, name: &Spanned<String>, raw: &RawLookup) -> Option<Lookup> {
        let when = raw
            .when
            .as_ref()
            .and_then(|w| self.template(w, Scope::once()));
        let key = match &raw.key {
            Some(key) => self.template(
                key,
                Scope {
                    item: true,
                    ..Scope::default()
                },
            ),
            None if self.spoiled(raw.span, &["key"]) => None,
            None => {
                self.error(format!("lookup `{}` needs a `key`", name.value), name.span)
                    .notes
                    .push("for example `key: \"{{ item.name }}\"`".into());
                None
            }
        };
        if let Some(export) = &raw.export {
            let once = Scope::once();
            let part = |v: &mut Self, t: Option<&Spanned<String>>, what: &str| {
                if let Some(t) = t {
                    return v.template(t, once);
                }
                v.error(
                    format!("`{}.export` needs `{what}`", name.value),
                    export.span,
                );
                None
            };
            let job = part(self, export.job.as_ref(), "job");
            let file = part(self, export.file.as_ref(), "file");
            if raw.request.is_some() || raw.operation.is_some() {
                self.error(
                    format!("lookup `{}` has both `export` and a request", name.value),
                    export.span,
                );
            }
            return Some(Lookup {
                name: name.value.clone(),
                path: String::new(),
                export: Some((Box::new(job?), Box::new(file?))),
                when,
                key: key?,
            });
        }
        let (_, path) = match (&raw.request, &raw.operation) {
            (Some(request), None) => {
                let (method, parts, op) = self.request_line(request)?;
                let path = parts
                    .iter()
                    .map(|p| match p {
                        PathPart::Literal(s) => s.as_str(),
                        PathPart::Template(_) => "",
                    })
                    .collect::<String>();
                if method != Method::Get {
                    let d = self.error("a lookup must be a `GET` request", request.span);
                    if crate::catalog::gladly()
                        .resolve(Method::Get, &path)
                        .is_some()
                    {
                        d.label = Some(format!("lookups only read: write `GET {path}`"));
                    }
                    return None;
                }
                if parts.iter().any(|p| matches!(p, PathPart::Template(_))) {
                    self.error("a lookup path cannot use templates", request.span)
                        .label = Some("a lookup is fetched once per run, before any row".into());
                }
                (op, path)
            }
            (None, Some(op)) => {
                let operation = self.operation(op)?;
                if operation.method != Method::Get || !operation.path_params.is_empty() {
                    let d = self.error(
                        format!(
                            "lookup operation `{}` must be a GET without path parameters",
                            op.value
                        ),
                        op.span,
                    );
                    Self::hint(d, list_operation(&operation.path));
                    return None;
                }
                (operation, operation.path.clone())
            }
            (None, None) if self.spoiled(raw.span, &["request", "operation"]) => return None,
            _ => {
                self.error(
                    format!(
                        "lookup `{}` needs exactly one of `request` or `operation`",
                        name.value
                    ),
                    name.span,
                );
                return None;
            }
        };
        Some(Lookup {
            name: name.value.clone(),
            path,
            export: None,
            when,
            key: key?,
        })
    }

    fn check_vars(&mut self) -> Vec<(String, Template)> {
        let mut out = Vec::new();
        for (i, (name, tpl)) in self.raw.vars.0.iter().enumerate() {
            if !is_identifier(&name.value) {
                self.error(format!("invalid var name `{}`", name.value), name.span)
                    .label = Some(identifier_fix(&name.value));
            }
            let scope = Scope {
                vars: Some(i),
                ..Scope::default()
            };
            if let Some(t) = self.template(tpl, scope) {
                out.push((name.value.clone(), t));
            }
        }
        out
    }

    fn check_rate(&mut self) -> f64 {
        let Some(rate) = self
            .raw
            .rate_limit
            .as_ref()
            .and_then(|r| r.per_second.as_ref())
        else {
            return 10.0;
        };
        // Below one request a minute a job of a few rows would take days: a typo.
        if !(rate.value >= 1.0 / 60.0 && rate.value <= 1000.0) {
            self.error(format!("rate `{}` is out of range", rate.value), rate.span)
                .label = Some("requests per second, from 1/60 (one a minute) to 1000".into());
        }
        rate.value
    }

    fn check_concurrency(&mut self) -> usize {
        let Some(c) = &self.raw.concurrency else {
            return 4;
        };
        if !(1..=256).contains(&c.value) {
            self.error(format!("concurrency `{}` is out of range", c.value), c.span)
                .label = Some("from 1 to 256".into());
        }
        usize::try_from(c.value).unwrap_or(1)
    }

    fn check_results(&mut self, name: Option<&str>, input: Option<&Input>) -> ResultsSpec {
        let raw = self.raw.results.as_ref();
        let path = match raw.and_then(|r| r.path.as_ref()) {
            Some(p) => with_job_name(&p.value, name.unwrap_or("job")).unwrap_or_else(|| {
                self.error("`results` may only use `{{ job.name }}`", p.span);
                p.value.clone()
            }),
            None => format!("results/{}.csv", name.unwrap_or("job")),
        };
        let columns = match raw.map(|r| &r.columns) {
            Some(columns) if !columns.is_empty() => {
                columns.iter().map(|c| c.value.clone()).collect()
            }
            _ => input.map(|i| i.require.clone()).unwrap_or_default(),
        };
        ResultsSpec {
            path: self.dir.join(path),
            columns,
        }
    }

    fn check_steps(&mut self) -> Vec<Step> {
        let raw = self.raw;
        if raw.steps.is_empty() {
            let exports = !raw.outputs.is_empty() || !raw.aggregates.is_empty();
            if !exports && !self.spoiled(raw.span, &["steps", "outputs", "aggregates"]) {
                let d = self.error(
                    "the job has no `steps`, `outputs` or `aggregates`",
                    raw.span,
                );
                d.notes.push(
                    "add `steps:`, a list of requests to send for each row, or `outputs:`, \
                     files to write the rows to"
                        .into(),
                );
            }
            return Vec::new();
        }
        if raw.steps.len() > MAX_STEPS {
            let d = self.error(
                format!(
                    "the job has {} steps, over the limit of {MAX_STEPS}",
                    raw.steps.len()
                ),
                raw.steps[MAX_STEPS].span,
            );
            d.notes.push(
                "a job's steps are what one row does; split the work into several jobs".into(),
            );
            return Vec::new();
        }
        let names: Vec<&str> = raw
            .steps
            .iter()
            .filter_map(|s| s.name.as_ref().map(|n| n.value.as_str()))
            .collect();
        let mut steps = Vec::new();
        for (index, step) in raw.steps.iter().enumerate() {
            if let Some(s) = self.check_step(index, step, &names) {
                steps.push(s);
            }
        }
        steps
    }

    fn check_step(&mut self, index: usize, raw: &RawStep, names: &[&str]) -> Option<Step> {
        let name = self.step_name(index, raw)?;
        let scope = Scope {
            step: Some(index),
            ..Scope::default()
        };
        let when = raw.when.as_ref().and_then(|w| self.template(w, scope));
        let kind = match (&raw.request, &raw.operation, &raw.action) {
            (None, None, Some(action)) => {
                self.no_request_keys(raw);
                let action = self.decide_action(action)?;
                self.seen_steps.push((name.clone(), Vec::new()));
                StepKind::Decide(action)
            }
            (Some(_), None, None) | (None, Some(_), None) => {
                let request = self.check_request(index, raw, names, false);
                let captures = raw.capture.0.iter().map(|(k, _)| k.value.clone()).collect();
                self.seen_steps.push((name.clone(), captures));
                StepKind::Request(Box::new(request?))
            }
            (None, None, None) => {
                if !self.spoiled(raw.span, &["request", "operation", "action"]) {
                    self.error(
                        format!("step `{name}` needs `request`, `operation` or `action`"),
                        raw.span,
                    );
                }
                return None;
            }
            _ => {
                let d = self.error(
                    format!(
                        "step `{name}` has more than one of `request`, `operation` and `action`"
                    ),
                    raw.span,
                );
                d.notes.push(
                    "keep one: `request: METHOD /path`, `operation: ID`, \
                     or `action:` to decide without a request"
                        .into(),
                );
                return None;
            }
        };
        let message_scope = Scope {
            response: matches!(kind, StepKind::Request(_)),
            step: Some(index + 1),
            ..Scope::default()
        };
        let outcome = raw.outcome.as_ref().and_then(|o| self.outcome_label(o));
        let message = raw
            .message
            .as_ref()
            .and_then(|m| self.template(m, message_scope));
        Some(Step {
            name,
            span: raw.span,
            when,
            kind,
            outcome,
            message,
        })
    }

    fn step_name(&mut self, index: usize, raw: &RawStep) -> Option<String> {
        let Some(name) = &raw.name else {
            if !self.spoiled(raw.span, &["name"]) {
                self.error(format!("step {} has no `name`", index + 1), raw.span);
            }
            return None;
        };
        if !is_identifier(&name.value) {
            let fixed = name.value.replace(['-', ' '], "_");
            self.error(format!("invalid step name `{}`", name.value), name.span)
                .label = Some(format!(
                "templates read captures as `NAME.capture`: use letters, digits and `_`, e.g. `{fixed}`"
            ));
            return None;
        }
        if RESERVED.contains(&name.value.as_str()) {
            self.error(format!("step name `{}` is reserved", name.value), name.span);
            return None;
        }
        if let Some(first) = self.raw.steps[..index]
            .iter()
            .filter_map(|s| s.name.as_ref())
            .find(|n| n.value == name.value)
        {
            let line = first.span.line;
            self.error(format!("duplicate step name `{}`", name.value), name.span)
                .label = Some(format!("the step on line {line} already has this name"));
            return None;
        }
        Some(name.value.clone())
    }

    fn no_request_keys(&mut self, raw: &RawStep) {
        let has = [
            ("body", raw.body.as_ref().map(|b| b.0.span)),
            ("capture", raw.capture.0.first().map(|c| c.0.span)),
            ("on", raw.on.0.first().map(|c| c.0.span)),
            ("query", raw.query.0.first().map(|c| c.0.span)),
            ("params", raw.params.0.first().map(|c| c.0.span)),
            ("headers", raw.headers.0.first().map(|c| c.0.span)),
        ];
        for (key, span) in has {
            if let Some(span) = span {
                self.error(format!("`{key}` needs a request"), span).label =
                    Some("this step has an `action` and sends nothing".into());
            }
        }
    }

    fn decide_action(&mut self, action: &Spanned<String>) -> Option<Action> {
        const ACTIONS: &[&str] = &["skip", "fail", "abort"];
        match action.value.as_str() {
            "skip" => Some(Action::Skip),
            "fail" => Some(Action::Fail),
            "abort" => Some(Action::Abort),
            other => {
                let hint = did_you_mean(other, ACTIONS.iter().copied());
                let d = self.error(format!("unknown step action `{other}`"), action.span);
                Self::hint(d, hint);
                d.notes
                    .push("a step without a request can `skip`, `fail` or `abort`".into());
                None
            }
        }
    }

    fn outcome_label(&mut self, label: &Spanned<String>) -> Option<String> {
        let ok = !label.value.is_empty()
            && label
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            self.error(
                format!("invalid outcome label `{}`", label.value),
                label.span,
            )
            .label = Some("use letters, digits, `-` and `_`".into());
            return None;
        }
        Some(label.value.clone())
    }

    pub(super) fn check_request(
        &mut self,
        index: usize,
        raw: &RawStep,
        names: &[&str],
        once: bool,
    ) -> Option<Request> {
        let scope = Scope {
            step: Some(index),
            once,
            ..Scope::default()
        };
        let (method, path, operation) = match (&raw.request, &raw.operation) {
            (Some(line), _) => {
                let resolved = self.request_line(line);
                if let Some((first, _)) = raw.params.0.first() {
                    let d = self.error(
                        "`params` go with `operation`; write them into the request path",
                        first.span,
                    );
                    if let Some((_, _, op)) = &resolved {
                        d.label = Some(format!(
                            "or write `operation: {}` instead of `request`",
                            op.id
                        ));
                    }
                }
                resolved?
            }
            (_, Some(op)) => {
                let operation = self.operation(op)?;
                let parts = self.operation_path(operation, raw, op.span, scope)?;
                (operation.method, parts, operation)
            }
            _ => unreachable!("checked by the caller"),
        };
        let query = self.check_query(operation, &raw.query, raw.span, scope);
        let headers = self.check_headers(raw, scope);
        let (body, body_span) =
            match self.check_body(method, operation, raw.body.as_ref(), raw.span, scope) {
                Some((body, span)) => (Some(body), Some(span)),
                None => (None, None),
            };
        let capture_scope = Scope {
            response: true,
            ..scope
        };
        let mut capture = Vec::new();
        for (name, tpl) in &raw.capture.0 {
            if !is_identifier(&name.value) {
                self.error(format!("invalid capture name `{}`", name.value), name.span)
                    .label = Some(identifier_fix(&name.value));
            }
            if let Some(t) = self.template(tpl, capture_scope) {
                capture.push((name.value.clone(), t));
            }
        }
        let mut rules: Vec<Rule> = Vec::new();
        for (key, list) in &raw.on.0 {
            for rule in list {
                if let Some(r) = self.check_rule(index, key, rule, names, capture_scope) {
                    rules.push(r);
                }
            }
        }
        // Exact codes win over classes whatever the written order (stable: lists keep theirs).
        rules.sort_by_key(|r| matches!(r.status, StatusMatch::Class(_)));
        Some(Request {
            method,
            operation,
            path,
            query,
            headers,
            body,
            body_span,
            idempotent: raw.idempotent.as_ref().is_some_and(|i| i.value),
            capture,
            rules,
        })
    }
}

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `path` with every `{{ job.name }}` (however spaced) replaced by `name`; `None` when it
/// holds any other template.
fn with_job_name(path: &str, name: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find("{{") {
        let end = start + rest[start..].find("}}")?;
        if rest[start + 2..end].trim() != "job.name" {
            return None;
        }
        out.push_str(&rest[..start]);
        out.push_str(name);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

/// How to fix a name that is not an identifier: templates read it as `x.NAME`.
fn identifier_fix(name: &str) -> String {
    let fixed = name.replace(['-', ' ', '.'], "_");
    if is_identifier(&fixed) {
        format!("use letters, digits and `_`, e.g. `{fixed}`")
    } else {
        "use letters, digits and `_`, not starting with a digit".to_owned()
    }
}

/// The list operation (`getInboxes`) for an item operation's path (`/api/v1/inboxes/{id}`).
fn list_operation(path: &str) -> Option<&'static str> {
    let (list, _) = path.rsplit_once("/{")?;
    crate::catalog::gladly()
        .operations()
        .iter()
        .find(|o| o.method == Method::Get && o.path == list)
        .map(|o| o.id.as_str())
}

fn is_delete(step: &Step) -> bool {
    matches!(&step.kind, StepKind::Request(r) if r.method == Method::Delete)
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every problem in `text`: (message, label, span).
    fn problems(text: &str) -> Vec<(String, Option<String>, Option<Span>)> {
        let err = Manifest::parse(Path::new("t.yaml"), text).expect_err("the manifest is invalid");
        err.diagnostics
            .into_iter()
            .map(|d| (d.message, d.label, d.span))
            .collect()
    }

    fn messages(text: &str) -> Vec<String> {
        problems(text).into_iter().map(|p| p.0).collect()
    }

    const STEP: &str = "steps:\n  - name: a\n    request: GET /api/v1/topics\n";

    #[test]
    fn keys_the_decoder_reported_are_not_also_missing() {
        let input = "input: { csv: x.csv }\n";
        assert_eq!(
            messages(&format!("version: 1\nname: t\n{input}stpes: []\n")),
            ["unknown key `stpes` in the manifest"]
        );
        assert_eq!(
            messages(&format!("version: one\nname: t\n{input}{STEP}")),
            ["`version` must be a whole number, found `one`"]
        );
        assert_eq!(
            messages(&format!(
                "version: 1\nname: t\n{input}steps:\n  - name: a\n    reqest: x\n"
            )),
            ["unknown key `reqest` in a step"]
        );
        assert_eq!(
            messages(&format!(
                "version: 1\nname: t\ninput: {{ cvs: x.csv }}\n{STEP}"
            )),
            ["unknown key `cvs` in `input`"]
        );
        assert_eq!(
            messages(&format!("version: 1\nname: t\n{input}steps: [create]\n")),
            ["a step must be a mapping, found a scalar"]
        );
        // A section that is not a mapping does not make every name in it unknown.
        let text = format!(
            "version: 1\nname: t\n{input}params: [p]\nlookups: [l]\n\
             steps:\n  - name: a\n    request: GET /api/v1/topics/{{{{ params.p ~ lookup('l', 1) }}}}\n"
        );
        assert_eq!(
            messages(&text),
            [
                "`params` must be a mapping, found a list",
                "`lookups` must be a mapping, found a list"
            ]
        );
        // Without a close key, the missing one is still reported.
        assert_eq!(
            messages(&format!("version: 1\nname: t\n{input}zzz: []\n")),
            [
                "the job has no `steps`, `outputs` or `aggregates`",
                "unknown key `zzz` in the manifest"
            ]
        );
    }

    #[test]
    fn names_and_inputs_suggest_a_fix() {
        let all = problems(&format!(
            "version: 1\nname: Close Them\ninput: {{ csv: a, json: b }}\n{STEP}"
        ));
        assert_eq!(
            all[0].1.as_deref(),
            Some("use lowercase letters, digits, `-` and `_`, e.g. `close-them`")
        );
        assert_eq!(all[1].1.as_deref(), Some("`csv` already names the input"));
        let all = problems(&format!(
            "version: 1\nname: t\ninput:\n  csv: a\n  after: \"{{{{ row.p }}}}\"\n{STEP}"
        ));
        assert_eq!(all[0].2, Some(Span::new(5, 10, 13)));
    }

    #[test]
    fn lookup_problems_point_at_the_lookup_and_suggest_a_list() {
        let head = "version: 1\nname: t\ninput: { csv: a }\nlookups:\n  inboxes:\n";
        let all = problems(&format!("{head}    operation: getInboxes\n{STEP}"));
        assert_eq!(all[0].0, "lookup `inboxes` needs a `key`");
        assert_eq!(all[0].2, Some(Span::new(5, 3, 7)));
        let all = problems(&format!(
            "{head}    operation: getInbox\n    key: x\n{STEP}"
        ));
        assert_eq!(all[0].1.as_deref(), Some("did you mean `getInboxes`?"));
        let all = problems(&format!(
            "{head}    request: POST /api/v1/topics\n    key: x\n{STEP}"
        ));
        assert_eq!(
            all[0].1.as_deref(),
            Some("lookups only read: write `GET /api/v1/topics`")
        );
        assert_eq!(
            list_operation("/api/v1/topics/{topicId}"),
            Some("getTopics")
        );
        assert_eq!(list_operation("/api/v1/organization"), None);
        assert_eq!(
            identifier_fix("due-at"),
            "use letters, digits and `_`, e.g. `due_at`"
        );
        assert!(identifier_fix("1st").ends_with("not starting with a digit"));
    }

    #[test]
    fn results_paths_take_job_name_however_spaced() {
        assert_eq!(
            with_job_name("r/{{job.name}}-{{ job.name }}.csv", "j").as_deref(),
            Some("r/j-j.csv")
        );
        assert_eq!(with_job_name("r/{{ now() }}.csv", "j"), None);
        assert_eq!(with_job_name("r/{{ job.name", "j"), None);
    }

    #[test]
    fn steps_explain_their_conflicts() {
        let text = "version: 1\nname: t\ninput: { csv: a }\nsteps:\n  - name: a\n    action: skip\n  \
                    - name: a\n    action: fail\n";
        let all = problems(text);
        assert_eq!(all[0].0, "duplicate step name `a`");
        assert_eq!(
            all[0].1.as_deref(),
            Some("the step on line 5 already has this name")
        );
        let text = "version: 1\nname: t\ninput: { csv: a }\nvars:\n  a: \"{{ vars.b }}\"\n  b: x\n";
        let all = problems(&format!("{text}{STEP}"));
        assert_eq!(all[0].0, "var `b` is defined after this one");
    }
}
