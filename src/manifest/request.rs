//! Validation of a step's request against the catalog, its rules, and of every template's
//! names. Part of the validator (see `validate`), split out to keep files readable.

use super::model::{Action, PathPart, Rule, StatusMatch};
use super::raw::{AnyValue, Entries, RawRule, RawStep, Spanned};
use super::validate::{Scope, Validator};
use super::yaml::{Node, NodeKind};
use crate::catalog::{self, Method, Operation, UNKNOWN_PREFIX};
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

impl Validator<'_> {
    /// Parses `METHOD /path` and finds its catalog operation.
    pub(super) fn request_line(
        &mut self,
        line: &Spanned<String>,
    ) -> Option<(Method, Vec<PathPart>, &'static Operation)> {
        let text = line.value.trim();
        let Some((method_text, path)) = text.split_once(char::is_whitespace) else {
            self.error(
                format!("request `{text}` needs a method and a path"),
                line.span,
            )
            .label = Some("for example `GET /api/v1/topics`".into());
            return None;
        };
        let Ok(method) = method_text.parse::<Method>() else {
            let hint = did_you_mean(&method_text.to_uppercase(), METHODS.iter().copied());
            let d = self.error(format!("unknown HTTP method `{method_text}`"), line.span);
            Self::hint(d, hint);
            return None;
        };
        let path = path.trim();
        if !path.starts_with('/') {
            self.error(
                format!("request path `{path}` must start with `/`"),
                line.span,
            )
            .label = Some("the host comes from GLADLY_HOST".into());
            return None;
        }
        if path.contains('?') {
            self.error(
                "put query parameters under `query:`, not in the path",
                line.span,
            );
            return None;
        }
        let parts = self.path_parts(path, line.span)?;
        let concrete = placeholder_path(&parts);
        let Some(resolved) = catalog::gladly().resolve(method, &concrete) else {
            let paths: Vec<&str> = catalog::gladly()
                .operations()
                .iter()
                .filter(|o| o.method == method)
                .map(|o| o.path.as_str())
                .collect();
            let hint = did_you_mean(path, paths.iter().copied());
            let d = self.error(
                format!("no Gladly operation matches `{} {path}`", method.as_str()),
                line.span,
            );
            Self::hint(d, hint);
            d.notes.push("`runner ops` lists every operation".into());
            return None;
        };
        Some((method, parts, resolved.operation))
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
            }
        }
        let mut parts = Vec::new();
        let mut ok = true;
        for piece in split_operation_path(&operation.path) {
            match piece {
                Ok(text) => parts.push(PathPart::Literal(text.to_owned())),
                Err(param) => {
                    if let Some((_, tpl)) = raw.params.0.iter().find(|(k, _)| k.value == param) {
                        match self.template(tpl, scope) {
                            Some(t) => parts.push(PathPart::Template(t)),
                            None => ok = false,
                        }
                    } else {
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
                }
            }
        }
        ok.then_some(parts)
    }

    pub(super) fn check_query(
        &mut self,
        query: &Entries<AnyValue>,
        scope: Scope,
    ) -> Vec<(String, BodyTemplate)> {
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
                self.error(format!("`{}` needs a `body`", operation.id), step_span);
            }
            return None;
        };
        if operation.body.is_none() {
            self.error(
                format!("`{} {}` takes no body", method.as_str(), operation.path),
                node.span,
            );
            return None;
        }
        let template = self.body_template(node, scope)?;
        let skeleton = skeleton(node);
        for problem in operation.check_body(Some(&skeleton)) {
            let span = span_at(node, &problem.path);
            self.error(format!("body of `{}`: {problem}", operation.id), span);
        }
        Some((template, node.span))
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
            NodeKind::Seq(items) => BodyTemplate::Array(
                items
                    .iter()
                    .map(|i| self.body_template(i, scope))
                    .collect::<Option<Vec<_>>>()?,
            ),
            NodeKind::Map(entries) => BodyTemplate::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = k.as_str().unwrap_or_default().to_owned();
                        Some((key, self.body_template(v, scope)?))
                    })
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
            span: raw.span,
        })
    }

    fn rule_action(&mut self, index: usize, raw: &RawRule, names: &[&str]) -> Option<Action> {
        let Some(action) = &raw.action else {
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
                );
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
                self.error(format!("invalid template: {}", e.reason()), source.span);
                return None;
            }
        };
        let before = self.diagnostics.len();
        for name in template.variables() {
            self.check_variable(name, source.span, scope);
        }
        for lookup in template.lookups_used() {
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
            }
        }
    }

    fn check_step_ref(&mut self, root: &str, field: Option<&str>, span: Span, scope: Scope) {
        let visible = scope.step.unwrap_or(0).min(self.seen_steps.len());
        if let Some((_, captures)) = self.seen_steps[..visible].iter().find(|(n, _)| n == root) {
            let captures = captures.clone();
            let known: Vec<&str> = captures.iter().map(String::as_str).collect();
            self.check_member(&format!("capture of step `{root}`:"), field, &known, span);
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
    }
}

impl Scope {
    /// Path templates see the same names as the rest of their step; the validator fills the
    /// step index in the caller, so a path defaults to the step being validated.
    fn default_for_path(v: &Validator<'_>) -> Scope {
        Scope {
            step: Some(v.seen_steps.len()),
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
    let mut current = node;
    for segment in path.split(['.', '[']).filter(|s| !s.is_empty()) {
        let next = if let Some(index) = segment.strip_suffix(']') {
            match (&current.kind, index.parse::<usize>()) {
                (NodeKind::Seq(items), Ok(i)) => items.get(i),
                _ => None,
            }
        } else {
            current.as_map().and_then(|entries| {
                entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(segment))
                    .map(|(k, v)| {
                        if matches!(v.kind, NodeKind::Scalar { .. }) {
                            v
                        } else {
                            k
                        }
                    })
            })
        };
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    current.span
}

#[cfg(test)]
mod tests {
    use super::super::validate::is_identifier;
    use super::*;

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
