//! Checks a decoded manifest and builds the [`Manifest`]: names, templates, the catalog.
//!
//! This is the only constructor of `Manifest`. It gathers every problem it finds (sorted
//! by position) instead of stopping at the first, and suggests the closest valid word for
//! misspelt keys, step and capture names, params, lookups, operations and enum values.

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
}

pub(super) struct Validator<'a> {
    pub(super) raw: &'a RawManifest,
    dir: PathBuf,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) warnings: Vec<Diagnostic>,
    pub(super) row_refs: Vec<(String, Span)>,
    /// Steps validated so far: name and capture names.
    pub(super) seen_steps: Vec<(String, Vec<String>)>,
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
        }
    }

    pub(super) fn error(&mut self, message: impl Into<String>, span: Span) -> &mut Diagnostic {
        self.diagnostics
            .push(Diagnostic::error(message, Some(span)));
        self.diagnostics.last_mut().expect("just pushed")
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
                description: raw.description.as_ref().map(|d| d.value.clone()),
                destructive: raw.destructive.as_ref().is_some_and(|d| d.value),
                input,
                params,
                lookups,
                vars,
                per_second,
                concurrency,
                results,
                steps,
                row_refs: Vec::new(),
                require_spans: Vec::new(),
            }),
            _ => None,
        };
        (manifest, self)
    }

    fn check_version(&mut self) {
        match &self.raw.version {
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
            self.error("missing `name`", Span::new(1, 1, 1))
                .notes
                .push("add `name: my-job` (lowercase letters, digits and dashes)".into());
            return None;
        };
        let ok = !name.value.is_empty()
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            self.error(format!("invalid job name `{}`", name.value), name.span)
                .label = Some("use lowercase letters, digits, `-` and `_`".into());
            return None;
        }
        Some(name.value.clone())
    }

    fn check_input(&mut self) -> Option<Input> {
        let Some(raw) = &self.raw.input else {
            self.error("missing `input`", self.raw.span)
                .notes
                .push("add `input: { csv: data/rows.csv }`".into());
            return None;
        };
        let sources: Vec<(&Spanned<String>, InputFormat)> = [
            (&raw.csv, InputFormat::Csv { delimiter: b',' }),
            (&raw.jsonl, InputFormat::Jsonl),
            (&raw.json, InputFormat::Json),
        ]
        .into_iter()
        .filter_map(|(path, format)| path.as_ref().map(|p| (p, format)))
        .collect();
        let (file, mut format) = match sources.as_slice() {
            [one] => (one.0, one.1),
            [] => {
                self.error("`input` needs one of `csv`, `jsonl` or `json`", raw.span);
                return None;
            }
            [_, second, ..] => {
                self.error(
                    "`input` takes only one of `csv`, `jsonl` or `json`",
                    second.0.span,
                );
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
        if after.is_some() && key.is_none() {
            self.error(
                "`input.after` needs `input.key` to say which row is which",
                raw.span,
            );
        }
        Some(Input {
            path: self.dir.join(&file.value),
            format,
            require,
            key,
            after,
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
                    .label = Some("use letters, digits and `_`".into());
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
                self.error(format!("invalid lookup name `{}`", name.value), name.span);
            }
            if let Some(lookup) = self.check_lookup(name, raw) {
                out.push(lookup);
            }
        }
        out
    }

    fn check_lookup(&mut self, name: &Spanned<String>, raw: &RawLookup) -> Option<Lookup> {
        let key = if let Some(key) = &raw.key {
            self.template(
                key,
                Scope {
                    item: true,
                    ..Scope::default()
                },
            )
        } else {
            self.error(format!("lookup `{}` needs a `key`", name.value), raw.span)
                .notes
                .push("for example `key: \"{{ item.name }}\"`".into());
            None
        };
        let (operation, path) = match (&raw.request, &raw.operation) {
            (Some(request), None) => {
                let (method, parts, op) = self.request_line(request)?;
                if method != Method::Get {
                    self.error("a lookup must be a `GET` request", request.span);
                    return None;
                }
                let path = parts
                    .iter()
                    .map(|p| match p {
                        PathPart::Literal(s) => s.as_str(),
                        PathPart::Template(_) => "",
                    })
                    .collect::<String>();
                if parts.iter().any(|p| matches!(p, PathPart::Template(_))) {
                    self.error("a lookup path cannot use templates", request.span);
                }
                (op, path)
            }
            (None, Some(op)) => {
                let operation = self.operation(op)?;
                if operation.method != Method::Get || !operation.path_params.is_empty() {
                    self.error(
                        format!(
                            "lookup operation `{}` must be a GET without path parameters",
                            op.value
                        ),
                        op.span,
                    );
                    return None;
                }
                (operation, operation.path.clone())
            }
            _ => {
                self.error(
                    format!(
                        "lookup `{}` needs exactly one of `request` or `operation`",
                        name.value
                    ),
                    raw.span,
                );
                return None;
            }
        };
        Some(Lookup {
            name: name.value.clone(),
            operation,
            path,
            key: key?,
        })
    }

    fn check_vars(&mut self) -> Vec<(String, Template)> {
        let mut out = Vec::new();
        for (i, (name, tpl)) in self.raw.vars.0.iter().enumerate() {
            if !is_identifier(&name.value) {
                self.error(format!("invalid var name `{}`", name.value), name.span);
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
        if !(rate.value > 0.0 && rate.value <= 1000.0) {
            self.error(format!("rate `{}` is out of range", rate.value), rate.span)
                .label = Some("requests per second, more than 0 and at most 1000".into());
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
            Some(p) => {
                let rendered = p.value.replace("{{ job.name }}", name.unwrap_or("job"));
                if rendered.contains("{{") {
                    self.error("`results` may only use `{{ job.name }}`", p.span);
                }
                rendered
            }
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
            self.error("the job has no `steps`", raw.span);
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
                let request = self.check_request(index, raw, names);
                let captures = raw.capture.0.iter().map(|(k, _)| k.value.clone()).collect();
                self.seen_steps.push((name.clone(), captures));
                StepKind::Request(Box::new(request?))
            }
            (None, None, None) => {
                self.error(
                    format!("step `{name}` needs `request`, `operation` or `action`"),
                    raw.span,
                );
                return None;
            }
            _ => {
                self.error(
                    format!(
                        "step `{name}` has more than one of `request`, `operation` and `action`"
                    ),
                    raw.span,
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
            self.error(format!("step {} has no `name`", index + 1), raw.span);
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
        if self.raw.steps[..index]
            .iter()
            .any(|s| s.name.as_ref().is_some_and(|n| n.value == name.value))
        {
            self.error(format!("duplicate step name `{}`", name.value), name.span);
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

    fn check_request(&mut self, index: usize, raw: &RawStep, names: &[&str]) -> Option<Request> {
        let scope = Scope {
            step: Some(index),
            ..Scope::default()
        };
        let (method, path, operation) = match (&raw.request, &raw.operation) {
            (Some(line), _) => {
                if let Some((first, _)) = raw.params.0.first() {
                    self.error(
                        "`params` go with `operation`; write them into the request path",
                        first.span,
                    );
                }
                self.request_line(line)?
            }
            (_, Some(op)) => {
                let operation = self.operation(op)?;
                let parts = self.operation_path(operation, raw, op.span, scope)?;
                (operation.method, parts, operation)
            }
            _ => unreachable!("checked by the caller"),
        };
        let query = self.check_query(&raw.query, scope);
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
                self.error(format!("invalid capture name `{}`", name.value), name.span);
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

fn is_delete(step: &Step) -> bool {
    matches!(&step.kind, StepKind::Request(r) if r.method == Method::Delete)
}

fn hex_sha256(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(text.as_bytes()) {
        let _ = write!(out, "{b:02x}");
    }
    out
}
