//! Validation of a step's request against the catalog, its rules, and of every template's
//! names. Part of the validator (see `validate`), split out to keep files readable.

use super::model::{Action, PathPart, Rule, StatusMatch};
use super::raw::{AnyValue, Entries, RawRule, RawStep, Spanned};
use super::validate::{Scope, Validator};
use super::yaml::{Node, NodeKind};
use crate::catalog::{self, BodyProblem, BodyProblemKind, Method, Operation, UNKNOWN_PREFIX};
use crate::diagnostic::{Span, did_you_mean};
use crate::template::{BodyTemplate, Template};

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const RULE_ACTIONS: &[&str] = &["continue", "skip", "fail", "abort", "retry", "goto"];
const RESPONSE_KEYS: &[&str] = &["body", "status", "headers"];

/// A path with `{{ … }}` pieces replaced by a placeholder segment, for catalog matching.
fn placeholder_path(parts: &[PathPart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            PathPart::Literal(s) => s.as_str(),
            PathPart::Template(_) => "__value__",
        })
        .collect()
}

/// The fix for a body problem written literally, where the message alone does not say it.
fn body_problem_label(problem: &BodyProblem) -> Option<String> {
    match &problem.kind {
        BodyProblemKind::MissingRequired => {
            let field = problem.path.rsplit(['.', '[']).next().unwrap_or_default();
            Some(format!("this mapping has no `{field}`"))
        }
        BodyProblemKind::WrongType { expected, found } => match (*expected, *found) {
            ("string", "integer" | "number" | "boolean") => Some("quote it to send text".into()),
            ("boolean", "string") => Some("write `true` or `false`, without quotes".into()),
            ("integer" | "number", "string") => Some("write a number, without quotes".into()),
            _ => None,
        },
        _ => None,
    }
}

/// The required top-level body fields of `operation`, in backticks, as an empty body
/// lacks them.
fn required_fields(operation: &Operation) -> Vec<String> {
    operation
        .check_body(Some(&serde_json::json!({})))
        .into_iter()
        .filter(|p| p.kind == BodyProblemKind::MissingRequired)
        .map(|p| format!("`{}`", p.path))
        .collect()
}

/// A path for "did you mean" matching: without the common `/api/v1/` prefix, and with
/// every parameter or template written as `{}`.
fn comparable_path(path: &str) -> String {
    let path = path.strip_prefix("/api/v1/").unwrap_or(path);
    let mut out = String::new();
    let mut in_param = false;
    for c in path.replace("__value__", "{}").chars() {
        match c {
            '{' if !in_param => {
                in_param = true;
                out.push('{');
            }
            '}' if in_param => {
                in_param = false;
                out.push('}');
            }
            _ if in_param => {}
            c => out.push(c),
        }
    }
    out
}

/// `query: { a: "1", b: "2" }` for a query string `a=1&b=2`, as a fix to suggest.
fn query_hint(query: &str) -> Option<String> {
    let pairs: Option<Vec<String>> = query
        .split('&')
        .map(|pair| pair.split_once('=').map(|(k, v)| format!("{k}: \"{v}\"")))
        .collect();
    pairs.map(|p| format!("write `query: {{ {} }}`", p.join(", ")))
}

/// The position of `len` bytes at byte `offset` of a one-line scalar, counted in
/// characters; the whole scalar when it spans lines or holds escapes (its written length
/// then differs from its text).
fn part_span(line: &Spanned<String>, offset: usize, len: usize) -> Span {
    let chars = line.value.chars().count();
    let first = match line.span.len {
        n if n == chars => line.span.column,
        n if n == chars + 2 => line.span.column + 1,
        _ => return line.span,
    };
    let before = line.value[..offset].chars().count();
    let width = line.value[offset..offset + len].chars().count();
    Span::new(line.span.line, first + before, width)
}

impl Validator<'_> {
    /// Parses `METHOD /path` and finds its catalog operation.
    pub(super) fn request_line(
        &mut self,
        line: &Spanned<String>,
    ) -> Option<(Method, Vec<PathPart>, &'static Operation)> {
        let text = line.value.trim();
        let start = line.value.len() - line.value.trim_start().len();
        if text.starts_with('/') {
            self.error(
                format!("request `{text}` needs a method before the path"),
                line.span,
            )
            .label = Some("start with `GET`, `POST`, `PUT`, `PATCH` or `DELETE`".into());
            return None;
        }
        let Some((method_text, rest)) = text.split_once(char::is_whitespace) else {
            self.error(
                format!("request `{text}` needs a method and a path"),
                line.span,
            )
            .label = Some("for example `GET /api/v1/topics`".into());
            return None;
        };
        let method_span = part_span(line, start, method_text.len());
        let Ok(method) = method_text.parse::<Method>() else {
            let hint = did_you_mean(&method_text.to_uppercase(), METHODS.iter().copied());
            let d = self.error(format!("unknown HTTP method `{method_text}`"), method_span);
            Self::hint(d, hint);
            return None;
        };
        let path = rest.trim();
        // `rest` ends where `text` does, which may be before trailing space in the value.
        let path_start = start + text.len() - rest.trim_start().len();
        let path_span = part_span(line, path_start, path.len());
        if !path.starts_with('/') {
            let label = match path
                .split_once("://")
                .and_then(|(_, r)| r.find('/').map(|i| &r[i..]))
            {
                Some(rest) => format!("the host comes from GLADLY_HOST: write `{rest}`"),
                None => "the host comes from GLADLY_HOST".into(),
            };
            self.error(
                format!("request path `{path}` must start with `/`"),
                path_span,
            )
            .label = Some(label);
            return None;
        }
        if let Some(at) = path.find('?') {
            let span = part_span(line, path_start + at, path.len() - at);
            let d = self.error("put query parameters under `query:`, not in the path", span);
            d.label = query_hint(&path[at + 1..]);
            return None;
        }
        let parts = self.path_parts(path, line.span)?;
        self.literal_braces(&parts, line, path_start, path);
        let concrete = placeholder_path(&parts);
        let Some(resolved) = catalog::gladly().resolve(method, &concrete) else {
            self.no_operation(method, &parts, path, method_span, path_span);
            return None;
        };
        Some((method, parts, resolved.operation))
    }

    /// Reports `{param}` written in a request path: it would be sent as is.
    fn literal_braces(
        &mut self,
        parts: &[PathPart],
        line: &Spanned<String>,
        start: usize,
        path: &str,
    ) {
        for part in parts {
            let PathPart::Literal(text) = part else {
                continue;
            };
            let Some(open) = text.find('{') else { continue };
            let close = text[open..].find('}').map_or(text.len(), |c| open + c + 1);
            let written = &text[open..close];
            let span = path
                .find(written)
                .map_or(line.span, |at| part_span(line, start + at, written.len()));
            let name = written.trim_matches(['{', '}']);
            self.error(format!("`{written}` in a request path is sent as is"), span)
                .label = Some(format!(
                "write `{{{{ row.{name} }}}}`, or use `operation:` with `params:`"
            ));
        }
    }

    /// Explains why no catalog operation matches: the path takes other methods, or it is
    /// close to a path that exists.
    fn no_operation(
        &mut self,
        method: Method,
        parts: &[PathPart],
        path: &str,
        method_span: Span,
        path_span: Span,
    ) {
        let catalog = catalog::gladly();
        let concrete = placeholder_path(parts);
        let others: Vec<String> = Method::ALL
            .into_iter()
            .filter(|m| catalog.resolve(*m, &concrete).is_some())
            .map(|m| format!("`{}`", m.as_str()))
            .collect();
        let message = format!("no Gladly operation matches `{} {path}`", method.as_str());
        if !others.is_empty() {
            self.error(message, method_span).label =
                Some(format!("this path takes {}", others.join(", ")));
            return;
        }
        let same_method: Vec<(String, &Operation)> = catalog
            .operations()
            .iter()
            .filter(|o| o.method == method)
            .map(|o| (comparable_path(&o.path), o))
            .collect();
        let written = comparable_path(&concrete);
        let hint = catalog::closest(&written, same_method.iter().map(|(p, _)| p.as_str()))
            .and_then(|h| same_method.iter().find(|(p, _)| p == h))
            .map(|(_, o)| format!("did you mean `{}` (`{}`)?", o.path, o.id));
        let d = self.error(message, path_span);
        d.label = hint;
        d.notes.push("`runner ops` lists every operation".into());
    }

    /// Splits a written path into literal text and `{{ … }}` templates.
    fn path_parts(&mut self, path: &str, span: Span) -> Option<Vec<PathPart>> {
        let mut parts = Vec::new();
        let mut rest = path;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(PathPart::Literal(rest[..start].to_owned()));
            }
            let Some(len) = rest[start..].find("}}") else {
                self.error("unclosed `{{` in request path", span);
                return None;
            };
            let source = &rest[start..start + len + 2];
            let spanned = Spanned {
                value: source.to_owned(),
                span,
            };
            let template = self.template(&spanned, Scope::default_for_path(self))?;
            parts.push(PathPart::Template(template));
            rest = &rest[start + len + 2..];
        }
        if !rest.is_empty() {
            parts.push(PathPart::Literal(rest.to_owned()));
        }
        Some(parts)
    }

    /// Finds a catalog operation by id, with a "did you mean".
    pub(super) fn operation(&mut self, op: &Spanned<String>) -> Option<&'static Operation> {
        let catalog = catalog::gladly();
        if let Some(found) = catalog.get(&op.value) {
            return Some(found);
        }
        let hint = catalog.suggest(&op.value);
        let d = self.error(format!("unknown operation `{}`", op.value), op.span);
        Self::hint(d, hint);
        d.notes.push("`runner ops` lists every operation".into());
        None
    }

    /// Builds an operation's path from its `params`.
    pub(super) fn operation_path(
        &mut self,
        operation: &Operation,
        raw: &RawStep,
        span: Span,
        scope: Scope,
    ) -> Option<Vec<PathPart>> {
        // A misspelt param is reported once, with its hint, not also as missing.
        let mut misspelt: Vec<&str> = Vec::new();
        for (name, _) in &raw.params.0 {
            if !operation.path_params.contains(&name.value) {
                let hint = did_you_mean(
                    &name.value,
                    operation.path_params.iter().map(String::as_str),
                );
                let d = self.error(
                    format!("`{}` has no path parameter `{}`", operation.id, name.value),
                    name.span,
                );
                Self::hint(d, hint);
                misspelt.extend(hint);
            }
        }
        let mut parts = Vec::new();
        let mut ok = true;
        for piece in split_operation_path(&operation.path) {
            match piece {
                Ok(text) => parts.push(PathPart::Literal(text.to_owned())),
                Err(param) => match raw.params.0.iter().find(|(k, _)| k.value == param) {
                    Some((_, tpl)) => match self.template(tpl, scope) {
                        Some(t) => parts.push(PathPart::Template(t)),
                        None => ok = false,
                    },
                    None if misspelt.contains(&param) => ok = false,
                    None => {
                        self.error(
                            format!(
                                "operation `{}` needs path parameter `{param}`",
                                operation.id
                            ),
                            span,
                        )
                        .label = Some(format!("add `params: {{ {param}: \"{{{{ … }}}}\" }}`"));
                        ok = false;
                    }
                },
            }
        }
        ok.then_some(parts)
    }

    /// Compiles the query values and checks their names against the operation's.
    pub(super) fn check_query(
        &mut self,
        operation: &Operation,
        query: &Entries<AnyValue>,
        step_span: Span,
        scope: Scope,
    ) -> Vec<(String, BodyTemplate)> {
        let known: Vec<&str> = operation.query.iter().map(|q| q.name.as_str()).collect();
        for (name, _) in &query.0 {
            if operation.query_param(&name.value).is_none() {
                let hint = did_you_mean(&name.value, known.iter().copied());
                let d = self.error(
                    format!("`{}` has no query parameter `{}`", operation.id, name.value),
                    name.span,
                );
                Self::hint(d, hint);
                if hint.is_none() {
                    d.notes.push(match known.as_slice() {
                        [] => format!("`{}` takes no query parameters", operation.id),
                        _ => format!("`{}` takes: {}", operation.id, known.join(", ")),
                    });
                }
            }
        }
        for param in operation.query.iter().filter(|q| q.required) {
            if !query.0.iter().any(|(k, _)| k.value == param.name) {
                self.error(
                    format!("`{}` needs query parameter `{}`", operation.id, param.name),
                    step_span,
                )
                .label = Some(format!("add `{}` under `query:`", param.name));
            }
        }
        query
            .0
            .iter()
            .filter_map(|(k, v)| Some((k.value.clone(), self.body_template(&v.0, scope)?)))
            .collect()
    }

    pub(super) fn check_headers(&mut self, raw: &RawStep, scope: Scope) -> Vec<(String, Template)> {
        let mut out = Vec::new();
        for (name, value) in &raw.headers.0 {
            if name.value.eq_ignore_ascii_case("authorization") {
                self.error(
                    "the `Authorization` header is set from GLADLY_API_TOKEN",
                    name.span,
                )
                .label = Some("remove it: credentials never go in a manifest".into());
                continue;
            }
            if let Some(t) = self.template(value, scope) {
                out.push((name.value.clone(), t));
            }
        }
        out
    }

    /// Compiles the body and checks what is written literally against the catalog.
    pub(super) fn check_body(
        &mut self,
        method: Method,
        operation: &Operation,
        body: Option<&AnyValue>,
        step_span: Span,
        scope: Scope,
    ) -> Option<(BodyTemplate, Span)> {
        let Some(AnyValue(node)) = body else {
            if operation.body.as_ref().is_some_and(|b| b.required) {
                let d = self.error(format!("`{}` needs a `body`", operation.id), step_span);
                let required = required_fields(operation);
                if !required.is_empty() {
                    d.notes
                        .push(format!("its body needs {}", required.join(", ")));
                }
            }
            return None;
        };
        if operation.body.is_none() {
            let d = self.error(
                format!("`{} {}` takes no body", method.as_str(), operation.path),
                node.span,
            );
            if method == Method::Get {
                d.label =
                    Some("remove `body`: a GET sends none; parameters go under `query:`".into());
            }
            return None;
        }
        // The literal parts are checked even when a template failed: every problem at once.
        let template = self.body_template(node, scope);
        let skeleton = skeleton(node);
        for problem in operation.check_body(Some(&skeleton)) {
            let span = span_at(node, &problem.path);
            let d = self.error(format!("body of `{}`: {problem}", operation.id), span);
            d.label = body_problem_label(&problem);
        }
        Some((template?, node.span))
    }

    /// Compiles every string of a YAML value into a body template.
    fn body_template(&mut self, node: &Node, scope: Scope) -> Option<BodyTemplate> {
        Some(match &node.kind {
            NodeKind::Scalar { text, plain: false } => {
                if text.contains("{{") || text.contains("{%") {
                    let spanned = Spanned {
                        value: text.clone(),
                        span: node.span,
                    };
                    BodyTemplate::Template(self.template(&spanned, scope)?)
                } else {
                    BodyTemplate::Static(serde_json::Value::String(text.clone()))
                }
            }
            NodeKind::Scalar { text, plain: true } if text.contains("{{") => {
                let spanned = Spanned {
                    value: text.clone(),
                    span: node.span,
                };
                BodyTemplate::Template(self.template(&spanned, scope)?)
            }
            NodeKind::Scalar { .. } => BodyTemplate::Static(node.to_json()),
            // Collect before checking, so a failing item does not hide the ones after it.
            NodeKind::Seq(items) => BodyTemplate::Array(
                items
                    .iter()
                    .map(|i| self.body_template(i, scope))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .collect::<Option<Vec<_>>>()?,
            ),
            NodeKind::Map(entries) => BodyTemplate::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = k.as_str().unwrap_or_default().to_owned();
                        self.body_template(v, scope).map(|t| (key, t))
                    })
                    .collect::<Vec<_>>()
                    .into_iter()
                    .collect::<Option<Vec<_>>>()?,
            ),
        })
    }

    pub(super) fn check_rule(
        &mut self,
        index: usize,
        key: &Spanned<String>,
        raw: &RawRule,
        names: &[&str],
        scope: Scope,
    ) -> Option<Rule> {
        let status = parse_status(&key.value);
        if status.is_none() {
            self.error(
                format!("`{}` is not a status or status class", key.value),
                key.span,
            )
            .label = Some("use a code like `404` or a class like `4xx`".into());
        }
        let action = self.rule_action(index, raw, names);
        let outcome = raw.outcome.as_ref().and_then(|o| {
            let ok = o
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if ok && !o.value.is_empty() {
                Some(o.value.clone())
            } else {
                self.error(format!("invalid outcome label `{}`", o.value), o.span);
                None
            }
        });
        let message = raw.message.as_ref().and_then(|m| self.template(m, scope));
        let when = raw.when.as_ref().and_then(|w| self.template(w, scope));
        Some(Rule {
            status: status?,
            when,
            action: action?,
            outcome,
            message,
        })
    }

    fn rule_action(&mut self, index: usize, raw: &RawRule, names: &[&str]) -> Option<Action> {
        let Some(action) = &raw.action else {
            if self.spoiled(raw.span, &["action"]) {
                return None;
            }
            self.error("a rule needs an `action`", raw.span)
                .notes
                .push(format!("one of: {}", RULE_ACTIONS.join(", ")));
            return None;
        };
        let parsed = match action.value.as_str() {
            "continue" => Action::Continue,
            "skip" => Action::Skip,
            "fail" => Action::Fail,
            "abort" => Action::Abort,
            "retry" => Action::Retry,
            "goto" => return self.goto_target(index, raw, names, action.span),
            other => {
                let hint = did_you_mean(other, RULE_ACTIONS.iter().copied());
                let d = self.error(format!("unknown rule action `{other}`"), action.span);
                Self::hint(d, hint);
                d.notes.push(format!("one of: {}", RULE_ACTIONS.join(", ")));
                return None;
            }
        };
        if let Some(step) = &raw.step {
            self.error("`step` goes only with `action: goto`", step.span);
        }
        Some(parsed)
    }

    fn goto_target(
        &mut self,
        index: usize,
        raw: &RawRule,
        names: &[&str],
        span: Span,
    ) -> Option<Action> {
        let Some(step) = &raw.step else {
            if self.spoiled(raw.span, &["step"]) {
                return None;
            }
            self.error("`goto` needs a `step` to continue at", span);
            return None;
        };
        let target = self
            .raw
            .steps
            .iter()
            .position(|s| s.name.as_ref().is_some_and(|n| n.value == step.value));
        match target {
            Some(t) if t > index => Some(Action::Goto(t)),
            Some(_) => {
                self.error(
                    format!("`goto` must jump forward; `{}` comes before", step.value),
                    step.span,
                )
                .label = Some("a rule can only jump to a later step".into());
                None
            }
            None => {
                let hint = did_you_mean(&step.value, names.iter().copied());
                let d = self.error(format!("unknown step `{}`", step.value), step.span);
                Self::hint(d, hint);
                None
            }
        }
    }

    /// Compiles a template and checks that every name it reads exists where it is used.
    pub(super) fn template(&mut self, source: &Spanned<String>, scope: Scope) -> Option<Template> {
        let template = match Template::compile(&source.value, source.span) {
            Ok(t) => t,
            Err(e) => {
                self.error(e.reason(), source.span);
                return None;
            }
        };
        let before = self.diagnostics.len();
        for name in template.variables() {
            self.check_variable(name, source.span, scope);
        }
        // With an unusable `lookups:` (already reported) every lookup would look unknown.
        let lookups_ok = !self.spoiled(self.raw.span, &["lookups"]);
        for lookup in template.lookups_used().into_iter().filter(|_| lookups_ok) {
            let known: Vec<&str> = self
                .raw
                .lookups
                .0
                .iter()
                .map(|(k, _)| k.value.as_str())
                .collect();
            if !known.contains(&lookup.as_str()) {
                let hint = did_you_mean(&lookup, known.iter().copied());
                let d = self.error(format!("unknown lookup `{lookup}`"), source.span);
                Self::hint(d, hint);
            }
        }
        (self.diagnostics.len() == before).then_some(template)
    }

    fn check_variable(&mut self, name: &str, span: Span, scope: Scope) {
        let mut parts = name.split('.');
        let root = parts.next().unwrap_or_default();
        let field = parts.next();
        if matches!(root, "params" | "vars") && self.spoiled(self.raw.span, &[root]) {
            return;
        }
        if scope.once && !matches!(root, "params" | "job") {
            let d = self.error(format!("`{root}` is not known here"), span);
            d.label = Some("this is computed once per run, before any row".into());
            d.notes
                .push("only `params` and `job` (and functions such as `now()`) can be used".into());
            return;
        }
        match root {
            "row" => {
                if let Some(column) = field {
                    self.row_refs.push((column.to_owned(), span));
                }
            }
            "params" => {
                let known: Vec<&str> = self
                    .raw
                    .params
                    .0
                    .iter()
                    .map(|(k, _)| k.value.as_str())
                    .collect();
                self.check_member("param", field, &known, span);
            }
            "vars" => {
                let count = scope.vars.unwrap_or(self.raw.vars.0.len());
                if let Some(later) =
                    field.filter(|f| self.raw.vars.0[count..].iter().any(|(k, _)| k.value == *f))
                {
                    self.error(format!("var `{later}` is defined after this one"), span)
                        .label = Some("a var can only read the vars above it".into());
                    return;
                }
                let known: Vec<&str> = self.raw.vars.0[..count]
                    .iter()
                    .map(|(k, _)| k.value.as_str())
                    .collect();
                self.check_member("var", field, &known, span);
            }
            "job" => self.check_member("job field", field, &["name"], span),
            "response" if scope.response => {
                self.check_member("response field", field, RESPONSE_KEYS, span);
            }
            "item" if scope.item => {}
            _ => self.check_step_ref(root, field, span, scope),
        }
    }

    fn check_member(&mut self, what: &str, field: Option<&str>, known: &[&str], span: Span) {
        let Some(field) = field else { return };
        if !known.contains(&field) {
            let hint = did_you_mean(field, known.iter().copied());
            let d = self.error(format!("unknown {what} `{field}`"), span);
            Self::hint(d, hint);
            if hint.is_none() && !known.is_empty() {
                d.notes.push(format!("known: {}", known.join(", ")));
            } else if hint.is_none() && what == "param" {
                d.notes.push(format!(
                    "declare it under `params:` and give it with `--set {field}=…`"
                ));
            }
        }
    }

    fn check_step_ref(&mut self, root: &str, field: Option<&str>, span: Span, scope: Scope) {
        let visible = scope.step.unwrap_or(0).min(self.seen_steps.len());
        if let Some((_, captures)) = self.seen_steps[..visible].iter().find(|(n, _)| n == root) {
            let Some(field) = field.filter(|f| !captures.iter().any(|c| c == f)) else {
                return;
            };
            // A misspelt `capture:` key was reported already.
            let step_span = self
                .raw
                .steps
                .iter()
                .find_map(|s| s.name.as_ref().filter(|n| n.value == root).map(|_| s.span));
            if step_span.is_some_and(|s| self.spoiled(s, &["capture"])) {
                return;
            }
            let hint = did_you_mean(field, captures.iter().map(String::as_str)).map(str::to_owned);
            let note = match captures.as_slice() {
                [] => format!("step `{root}` captures nothing: add `capture:` to it"),
                known => format!("step `{root}` captures: {}", known.join(", ")),
            };
            let d = self.error(format!("step `{root}` has no capture `{field}`"), span);
            Self::hint(d, hint.as_deref());
            if hint.is_none() {
                d.notes.push(note);
            }
            return;
        }
        let later = self
            .raw
            .steps
            .iter()
            .any(|s| s.name.as_ref().is_some_and(|n| n.value == root));
        if later {
            self.error(format!("step `{root}` has not run yet here"), span)
                .label = Some("a step can only read captures of the steps before it".into());
            return;
        }
        let mut roots = vec!["row", "params", "vars", "job"];
        if scope.response {
            roots.push("response");
        }
        if scope.item {
            roots.push("item");
        }
        roots.extend(self.seen_steps[..visible].iter().map(|(n, _)| n.as_str()));
        let hint = did_you_mean(root, roots.iter().copied()).map(str::to_owned);
        let message = if root == "response" {
            "`response` is only available in `capture` and `on` rules".to_owned()
        } else {
            format!("unknown name `{root}` in template")
        };
        let d = self.error(message, span);
        Self::hint(d, hint.as_deref());
        if root == "response" {
            d.label = Some("capture it in an earlier step, then read it as `STEP.NAME`".into());
        }
    }
}

impl Scope {
    /// Path templates see the same names as the rest of their step; the validator fills the
    /// step index in the caller, so a path defaults to the step being validated.
    fn default_for_path(v: &Validator<'_>) -> Scope {
        Scope {
            step: Some(v.seen_steps.len()),
            once: v.in_input,
            ..Scope::default()
        }
    }
}

/// `Ok(literal)` and `Err(param)` pieces of `/api/v1/x/{id}/y`.
fn split_operation_path(path: &str) -> Vec<Result<&str, &str>> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        if start > 0 {
            out.push(Ok(&rest[..start]));
        }
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e);
        out.push(Err(&rest[start + 1..end]));
        rest = &rest[(end + 1).min(rest.len())..];
    }
    if !rest.is_empty() {
        out.push(Ok(rest));
    }
    out
}

fn parse_status(key: &str) -> Option<StatusMatch> {
    let lower = key.to_ascii_lowercase();
    if let Some(class) = lower.strip_suffix("xx") {
        return match class.parse::<u16>() {
            Ok(c @ 1..=5) => Some(StatusMatch::Class(c)),
            _ => None,
        };
    }
    match key.parse::<u16>() {
        Ok(c @ 100..=599) => Some(StatusMatch::Code(c)),
        _ => None,
    }
}

/// The body as JSON with every template replaced by the catalog's "unknown" placeholder,
/// so literal parts can be checked before any row is read.
fn skeleton(node: &Node) -> serde_json::Value {
    match &node.kind {
        NodeKind::Scalar { text, .. } if text.contains("{{") || text.contains("{%") => {
            serde_json::Value::String(format!("{UNKNOWN_PREFIX}>"))
        }
        NodeKind::Scalar { .. } => node.to_json(),
        NodeKind::Seq(items) => serde_json::Value::Array(items.iter().map(skeleton).collect()),
        NodeKind::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), skeleton(v)))
                .collect(),
        ),
    }
}

/// The position of `path` (`emails[0].type`) inside a body node; the closest existing
/// ancestor when the path points at something missing.
pub(super) fn span_at(node: &Node, path: &str) -> Span {
    // Walk the values; report a scalar where it is, a collection at its key.
    let mut current = node;
    let mut at = node.span;
    for segment in path.split(['.', '[']).filter(|s| !s.is_empty()) {
        let next = if let Some(index) = segment.strip_suffix(']') {
            match (&current.kind, index.parse::<usize>()) {
                (NodeKind::Seq(items), Ok(i)) => items.get(i).map(|item| (item, item.span)),
                _ => None,
            }
        } else {
            current.as_map().and_then(|entries| {
                entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(segment))
                    .map(|(k, v)| {
                        let span = if matches!(v.kind, NodeKind::Scalar { .. }) {
                            v.span
                        } else {
                            k.span
                        };
                        (v, span)
                    })
            })
        };
        match next {
            Some((n, span)) => (current, at) = (n, span),
            None => break,
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::super::validate::is_identifier;
    use super::*;

    /// Every problem in a manifest with these steps: (message, label, span).
    fn problems(steps: &str) -> Vec<(String, Option<String>, Span)> {
        let text = format!("version: 1\nname: t\ninput: {{ csv: rows.csv }}\nsteps:\n{steps}");
        let err = crate::manifest::Manifest::parse(std::path::Path::new("t.yaml"), &text)
            .expect_err("the manifest is invalid");
        err.diagnostics
            .into_iter()
            .map(|d| (d.message, d.label, d.span.unwrap()))
            .collect()
    }

    fn one(steps: &str) -> (String, Option<String>, Span) {
        let mut all = problems(steps);
        assert_eq!(all.len(), 1, "{all:#?}");
        all.remove(0)
    }

    #[test]
    fn request_line_problems_point_at_the_part_at_fault() {
        let (message, label, span) = one("  - name: a\n    request: PSOT /api/v1/topics\n");
        assert_eq!(message, "unknown HTTP method `PSOT`");
        assert_eq!(label.as_deref(), Some("did you mean `POST`?"));
        assert_eq!(span, Span::new(6, 14, 4));

        let (message, _, span) = one("  - name: a\n    request: \"GET /api/v1/topics?name=x\"\n");
        assert_eq!(
            message,
            "put query parameters under `query:`, not in the path"
        );
        assert_eq!(span, Span::new(6, 33, 7));

        let (message, label, _) = one("  - name: a\n    request: /api/v1/topics\n");
        assert_eq!(
            message,
            "request `/api/v1/topics` needs a method before the path"
        );
        assert!(label.unwrap().starts_with("start with `GET`"));

        let (_, label, span) =
            one("  - name: a\n    request: GET https://x.gladly.com/api/v1/topics\n");
        assert_eq!(
            label.as_deref(),
            Some("the host comes from GLADLY_HOST: write `/api/v1/topics`")
        );
        assert_eq!(span, Span::new(6, 18, 34));

        // Trailing (even non-ASCII) space after the path does not shift the caret.
        let (_, _, span) = one("  - name: a\n    request: GET /api/v1/topic\u{a0}\n");
        assert_eq!(span, Span::new(6, 18, 13));
    }

    #[test]
    fn unmatched_paths_name_the_methods_or_the_closest_path() {
        let (_, label, span) =
            one("  - name: a\n    request: DELETE /api/v1/topics/{{ row.id }}\n");
        assert_eq!(label.as_deref(), Some("this path takes `GET`, `PATCH`"));
        assert_eq!(span, Span::new(6, 14, 6));

        let (_, label, _) = one("  - name: a\n    request: GET /api/v1/topic/{{ row.id }}\n");
        assert_eq!(
            label.as_deref(),
            Some("did you mean `/api/v1/topics/{topicId}` (`getTopic`)?")
        );

        // Nothing close: no guess (it used to suggest `/api/v1/webhooks` for anything).
        let (_, label, _) = one("  - name: a\n    request: POST /api/v1/zebras\n");
        assert_eq!(label, None);
    }

    #[test]
    fn literal_path_params_are_reported() {
        let (message, label, span) =
            one("  - name: a\n    request: GET /api/v1/topics/{topicId}\n");
        assert_eq!(message, "`{topicId}` in a request path is sent as is");
        assert!(label.unwrap().starts_with("write `{{ row.topicId }}`"));
        assert_eq!(span, Span::new(6, 33, 9));
    }

    #[test]
    fn a_misspelt_path_param_is_not_also_missing() {
        let (message, label, _) = one(
            "  - name: a\n    operation: getTopic\n    params: { topicID: \"{{ row.id }}\" }\n",
        );
        assert_eq!(message, "`getTopic` has no path parameter `topicID`");
        assert_eq!(label.as_deref(), Some("did you mean `topicId`?"));
    }

    #[test]
    fn query_params_are_checked_against_the_catalog() {
        let (message, label, _) = one(
            "  - name: a\n    operation: findCustomers\n    query: { emial: \"{{ row.e }}\" }\n",
        );
        assert_eq!(message, "`findCustomers` has no query parameter `emial`");
        assert_eq!(label.as_deref(), Some("did you mean `email`?"));
        let all = problems("  - name: a\n    operation: getEvents\n");
        let messages: Vec<_> = all.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`getEvents` needs query parameter `startAt`",
                "`getEvents` needs query parameter `entities`"
            ]
        );
    }

    #[test]
    fn body_problems_point_inside_lists_and_survive_template_errors() {
        let all = problems(
            "  - name: a\n    operation: createCustomer\n    body:\n      name: \"{{ nope }}\"\n      \
             phones:\n        - original: x\n          type: MOBIL\n      address: \"{{ nope2 }}\"\n",
        );
        let found: Vec<_> = all.iter().map(|p| (p.0.as_str(), p.2)).collect();
        assert_eq!(
            found,
            [
                ("unknown name `nope` in template", Span::new(8, 13, 12)),
                (
                    "body of `createCustomer`: `phones[0].type` must be one of `HOME`, `MOBILE`, \
                     `OFFICE`, found `MOBIL` (did you mean `MOBILE`?)",
                    Span::new(11, 17, 5)
                ),
                ("unknown name `nope2` in template", Span::new(12, 16, 13)),
            ]
        );
    }

    #[test]
    fn body_problems_say_how_to_fix_them() {
        let label = |body: &str| {
            one(&format!(
                "  - name: a\n    operation: addTopic\n    body: {body}\n"
            ))
            .1
        };
        assert_eq!(
            label("{ name: 1 }").as_deref(),
            Some("quote it to send text")
        );
        assert_eq!(
            label("{ name: x, disabled: \"no\" }").as_deref(),
            Some("write `true` or `false`, without quotes")
        );
        assert_eq!(
            label("{ disabled: true }").as_deref(),
            Some("this mapping has no `name`")
        );
        let (message, label, _) =
            one("  - name: a\n    request: GET /api/v1/topics\n    body: {}\n");
        assert_eq!(message, "`GET /api/v1/topics` takes no body");
        assert!(label.unwrap().starts_with("remove `body`"));
    }

    #[test]
    fn template_names_are_explained() {
        let (message, _, _) =
            one("  - name: a\n    request: GET /api/v1/topics\n    when: \"{{ row.x }\"\n");
        assert!(
            message.starts_with("invalid template: unexpected"),
            "{message}"
        );
        assert!(!message.contains("invalid template: invalid template"));

        let steps = "  - name: a\n    request: GET /api/v1/topics\n    capture: { id: \"{{ response.body.id }}\" }\n  \
                     - name: b\n    request: GET /api/v1/topics/{{ a.idd }}\n";
        let (message, label, _) = one(steps);
        assert_eq!(message, "step `a` has no capture `idd`");
        assert_eq!(label.as_deref(), Some("did you mean `id`?"));

        let (message, _, _) = one("  - name: a\n    request: GET /api/v1/topics/{{ params.p }}\n");
        assert_eq!(message, "unknown param `p`");
    }

    #[test]
    fn a_misspelt_capture_key_does_not_also_empty_the_captures() {
        let steps = "  - name: a\n    request: GET /api/v1/topics\n    captrue: { id: \"{{ response.body.id }}\" }\n  \
                     - name: b\n    request: GET /api/v1/topics/{{ a.id }}\n";
        let (message, _, _) = one(steps);
        assert_eq!(message, "unknown key `captrue` in a step");
    }

    #[test]
    fn parts_of_one_line_scalars_have_their_own_span() {
        let plain = Spanned {
            value: "GET /x".to_owned(),
            span: Span::new(3, 10, 6),
        };
        assert_eq!(part_span(&plain, 4, 2), Span::new(3, 14, 2));
        let quoted = Spanned {
            span: Span::new(3, 10, 8),
            ..plain.clone()
        };
        assert_eq!(part_span(&quoted, 4, 2), Span::new(3, 15, 2));
        let folded = Spanned {
            span: Span::new(3, 10, 9),
            ..plain
        };
        assert_eq!(part_span(&folded, 4, 2), Span::new(3, 10, 9));
    }

    #[test]
    fn paths_compare_without_prefix_and_param_names() {
        assert_eq!(comparable_path("/api/v1/topics/{topicId}"), "topics/{}");
        assert_eq!(comparable_path("/api/v1/topics/__value__/x"), "topics/{}/x");
        assert_eq!(
            query_hint("email=a&name={{ row.n }}").as_deref(),
            Some("write `query: { email: \"a\", name: \"{{ row.n }}\" }`")
        );
        assert_eq!(query_hint("flag"), None);
    }

    #[test]
    fn statuses_and_classes() {
        assert_eq!(parse_status("409"), Some(StatusMatch::Code(409)));
        assert_eq!(parse_status("4xx"), Some(StatusMatch::Class(4)));
        assert_eq!(parse_status("5XX"), Some(StatusMatch::Class(5)));
        assert_eq!(parse_status("6xx"), None);
        assert_eq!(parse_status("99"), None);
        assert_eq!(parse_status("conflict"), None);
    }

    #[test]
    fn operation_paths_split_into_params() {
        assert_eq!(
            split_operation_path("/api/v1/answers/{answerId}/languages/{language}"),
            vec![
                Ok("/api/v1/answers/"),
                Err("answerId"),
                Ok("/languages/"),
                Err("language")
            ]
        );
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("fetch_1"));
        assert!(!is_identifier("already-closed"));
        assert!(!is_identifier("1x"));
    }
}
