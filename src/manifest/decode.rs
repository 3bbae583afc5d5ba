//! Reads the positioned YAML tree into the `raw` structs, collecting every shape problem
//! (unknown key, wrong type, duplicate key) instead of stopping at the first.
//!
//! Meaning is not checked here (names, templates, the catalog): that is `validate`'s job.

use super::raw::{
    AnyValue, Entries, RawAggregate, RawApiInput, RawColumn, RawExportInput, RawInput, RawInterval,
    RawLookup, RawManifest, RawMeasure, RawOutput, RawParam, RawRateLimit, RawResults, RawRule,
    RawSpan, RawStep, Spanned,
};
use super::yaml::{Node, NodeKind};
use crate::diagnostic::{Diagnostic, Span, did_you_mean};

/// Collects diagnostics while decoding.
#[derive(Default)]
pub(super) struct Decoder {
    pub(super) diagnostics: Vec<Diagnostic>,
    /// Keys already reported, by the position of their mapping: a misspelt key's likely
    /// meaning, a key whose value has the wrong type, or `*` for a mapping that is not one.
    /// Validation then does not also call those keys missing.
    pub(super) spoiled: Vec<(Span, String)>,
}

/// The entries of a mapping whose keys were checked against the known ones.
struct Fields<'n> {
    entries: &'n [(Node, Node)],
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }
}

impl Decoder {
    fn error(&mut self, message: impl Into<String>, span: Span) -> &mut Diagnostic {
        self.diagnostics
            .push(Diagnostic::error(message, Some(span)));
        self.diagnostics.last_mut().expect("just pushed")
    }

    /// Checks that `node` is a mapping with only `known` keys, each at most once.
    fn fields<'n>(&mut self, node: &'n Node, what: &str, known: &[&str]) -> Option<Fields<'n>> {
        let Some(entries) = node.as_map() else {
            if !node.is_null() {
                self.error(
                    format!("{what} must be a mapping, found {}", node.type_name()),
                    node.span,
                );
                self.spoiled.push((node.span, "*".into()));
            }
            return None;
        };
        for (i, (key, _)) in entries.iter().enumerate() {
            let Some(name) = key.as_str() else {
                self.error(format!("keys of {what} must be text"), key.span);
                continue;
            };
            if !known.contains(&name) {
                let hint = did_you_mean(name, known.iter().copied());
                let diagnostic = self.error(format!("unknown key `{name}` in {what}"), key.span);
                match hint {
                    Some(hint) => {
                        diagnostic.label = Some(format!("did you mean `{hint}`?"));
                        self.spoiled.push((node.span, hint.to_owned()));
                    }
                    None => diagnostic
                        .notes
                        .push(format!("{what} takes: {}", known.join(", "))),
                }
            } else if let Some((first, _)) =
                entries[..i].iter().find(|(k, _)| k.as_str() == Some(name))
            {
                let line = first.span.line;
                self.error(format!("duplicate key `{name}` in {what}"), key.span)
                    .label = Some(format!("`{name}` is already set on line {line}"));
            }
        }
        Some(Fields { entries })
    }

    /// A free-form value (a body): any shape, but a key written twice in one of its
    /// mappings is reported (YAML would keep one of the two without a word).
    fn any(&mut self, node: &Node, what: &str) -> AnyValue {
        let mut open = vec![(node, what.to_owned())];
        while let Some((node, path)) = open.pop() {
            match &node.kind {
                NodeKind::Map(entries) => {
                    let mut first_at: std::collections::HashMap<&str, usize> =
                        std::collections::HashMap::new();
                    for (key, value) in entries {
                        let name = key.as_str().unwrap_or_default();
                        if let Some(&line) = first_at.get(name) {
                            self.error(format!("duplicate key `{name}` in `{path}`"), key.span)
                                .label = Some(format!("`{name}` is already set on line {line}"));
                        } else {
                            first_at.insert(name, key.span.line);
                        }
                        open.push((value, format!("{path}.{name}")));
                    }
                }
                NodeKind::Seq(items) => open.extend(items.iter().map(|i| (i, path.clone()))),
                NodeKind::Scalar { .. } => {}
            }
        }
        AnyValue(node.clone())
    }

    fn string(&mut self, node: Option<&Node>, what: &str) -> Option<Spanned<String>> {
        let node = node?;
        match &node.kind {
            NodeKind::Scalar { text, .. } if !node.is_null() => Some(Spanned {
                value: text.clone(),
                span: node.span,
            }),
            _ => {
                self.error(
                    format!("`{what}` must be text, found {}", node.type_name()),
                    node.span,
                );
                None
            }
        }
    }

    fn scalar<T: std::str::FromStr>(
        &mut self,
        node: Option<&Node>,
        what: &str,
        expected: &str,
    ) -> Option<Spanned<T>> {
        let node = node?;
        let parsed = match &node.kind {
            NodeKind::Scalar { text, plain: true } => text.parse::<T>().ok(),
            _ => None,
        };
        if parsed.is_none() {
            let found = node
                .as_str()
                .map_or_else(|| node.type_name().to_owned(), |text| format!("`{text}`"));
            self.error(
                format!("`{what}` must be {expected}, found {found}"),
                node.span,
            );
        }
        parsed.map(|value| Spanned {
            value,
            span: node.span,
        })
    }

    fn strings(&mut self, node: Option<&Node>, what: &str) -> Vec<Spanned<String>> {
        let Some(node) = node else {
            return Vec::new();
        };
        match &node.kind {
            NodeKind::Seq(items) => items
                .iter()
                .filter_map(|item| self.string(Some(item), what))
                .collect(),
            _ if node.is_null() => Vec::new(),
            _ => {
                self.error(
                    format!("`{what}` must be a list, found {}", node.type_name()),
                    node.span,
                );
                Vec::new()
            }
        }
    }

    /// A mapping with author-chosen keys; `item` decodes each value.
    fn entries<T>(
        &mut self,
        node: Option<&Node>,
        what: &str,
        mut item: impl FnMut(&mut Self, &Node, &str) -> Option<T>,
    ) -> Entries<T> {
        let Some(node) = node else {
            return Entries::default();
        };
        let Some(entries) = node.as_map() else {
            if !node.is_null() {
                self.error(
                    format!("`{what}` must be a mapping, found {}", node.type_name()),
                    node.span,
                );
            }
            return Entries::default();
        };
        let mut out: Vec<(Spanned<String>, T)> = Vec::new();
        for (key, value) in entries {
            let Some(name) = self.string(Some(key), what) else {
                continue;
            };
            if let Some((first, _)) = out.iter().find(|(k, _)| k.value == name.value) {
                let line = first.span.line;
                self.error(
                    format!("duplicate key `{}` in `{what}`", name.value),
                    key.span,
                )
                .label = Some(format!("`{}` is already set on line {line}", name.value));
                continue;
            }
            let label = format!("{what}.{}", name.value);
            if let Some(v) = item(self, value, &label) {
                out.push((name, v));
            }
        }
        Entries(out)
    }

    fn templates(&mut self, node: Option<&Node>, what: &str) -> Entries<Spanned<String>> {
        self.entries(node, what, |d, value, label| d.string(Some(value), label))
    }

    /// Decodes a whole manifest document.
    pub(super) fn manifest(&mut self, root: &Node) -> RawManifest {
        const KEYS: &[&str] = &[
            "version",
            "name",
            "description",
            "destructive",
            "input",
            "params",
            "lookups",
            "vars",
            "rate_limit",
            "concurrency",
            "results",
            "steps",
            "outputs",
            "aggregates",
        ];
        let fields = self.fields(root, "the manifest", KEYS);
        let get = |key| fields.as_ref().and_then(|f| f.get(key));
        let steps = match get("steps") {
            Some(Node {
                kind: NodeKind::Seq(items),
                ..
            }) => items.iter().map(|s| self.step(s)).collect(),
            Some(other) if !other.is_null() => {
                self.error(
                    format!("`steps` must be a list, found {}", other.type_name()),
                    other.span,
                )
                .label = Some("start each step with `- name: …`".into());
                Vec::new()
            }
            _ => Vec::new(),
        };
        let raw = RawManifest {
            version: self.scalar(get("version"), "version", "a whole number"),
            name: self.string(get("name"), "name"),
            description: self.string(get("description"), "description"),
            destructive: self.scalar(get("destructive"), "destructive", "`true` or `false`"),
            input: get("input").and_then(|n| self.input(n)),
            params: self.entries(get("params"), "params", Self::param),
            lookups: self.entries(get("lookups"), "lookups", Self::lookup),
            vars: self.templates(get("vars"), "vars"),
            rate_limit: get("rate_limit").and_then(|n| self.rate_limit(n)),
            concurrency: self.scalar(get("concurrency"), "concurrency", "a whole number"),
            results: get("results").and_then(|n| self.results(n)),
            steps,
            outputs: self
                .list(get("outputs"), "outputs")
                .iter()
                .filter_map(|n| self.output(n))
                .collect(),
            aggregates: self
                .list(get("aggregates"), "aggregates")
                .iter()
                .filter_map(|n| self.aggregate(n))
                .collect(),
            span: root.span,
        };
        self.spoil_ill_typed(root);
        raw
    }

    /// Notes every key whose value was reported as having the wrong type.
    fn spoil_ill_typed(&mut self, node: &Node) {
        match &node.kind {
            NodeKind::Map(entries) => {
                for (key, value) in entries {
                    let reported = self.diagnostics.iter().any(|d| d.span == Some(value.span));
                    if let (true, Some(name)) = (reported, key.as_str()) {
                        self.spoiled.push((node.span, name.to_owned()));
                    }
                    self.spoil_ill_typed(value);
                }
            }
            NodeKind::Seq(items) => items.iter().for_each(|i| self.spoil_ill_typed(i)),
            NodeKind::Scalar { .. } => {}
        }
    }

    fn input(&mut self, node: &Node) -> Option<RawInput> {
        const KEYS: &[&str] = &[
            "csv",
            "jsonl",
            "json",
            "delimiter",
            "require",
            "key",
            "after",
            "api",
            "export",
        ];
        let f = self.fields(node, "`input`", KEYS)?;
        Some(RawInput {
            csv: self.string(f.get("csv"), "input.csv"),
            jsonl: self.string(f.get("jsonl"), "input.jsonl"),
            json: self.string(f.get("json"), "input.json"),
            api: f.get("api").and_then(|n| self.api_input(n)),
            export: f.get("export").and_then(|n| self.export_input(n)),
            delimiter: self.string(f.get("delimiter"), "input.delimiter"),
            require: self.strings(f.get("require"), "input.require"),
            key: self.string(f.get("key"), "input.key"),
            after: self.string(f.get("after"), "input.after"),
            span: node.span,
        })
    }

    fn api_input(&mut self, node: &Node) -> Option<RawApiInput> {
        if let NodeKind::Scalar { .. } = node.kind {
            return Some(RawApiInput {
                request: self.string(Some(node), "input.api"),
                operation: None,
                params: Entries::default(),
                query: Entries::default(),
                body: None,
                span: node.span,
            });
        }
        let keys = &["request", "operation", "params", "query", "body"];
        let f = self.fields(node, "`input.api`", keys)?;
        Some(RawApiInput {
            request: self.string(f.get("request"), "input.api.request"),
            operation: self.string(f.get("operation"), "input.api.operation"),
            params: self.templates(f.get("params"), "input.api.params"),
            query: self.entries(f.get("query"), "input.api.query", |_, v, _| {
                Some(AnyValue(v.clone()))
            }),
            body: f.get("body").map(|b| self.any(b, "input.api.body")),
            span: node.span,
        })
    }

    fn export_input(&mut self, node: &Node) -> Option<RawExportInput> {
        let f = self.fields(node, "`input.export`", &["job", "file"])?;
        Some(RawExportInput {
            job: self.string(f.get("job"), "input.export.job"),
            file: self.string(f.get("file"), "input.export.file"),
            span: node.span,
        })
    }

    /// The items of a list (nothing, reported, when it is something else).
    fn list<'n>(&mut self, node: Option<&'n Node>, what: &str) -> &'n [Node] {
        match node {
            Some(Node {
                kind: NodeKind::Seq(items),
                ..
            }) => items,
            Some(other) if !other.is_null() => {
                self.error(
                    format!("`{what}` must be a list, found {}", other.type_name()),
                    other.span,
                )
                .label = Some("start each entry with `- path: …`".into());
                &[]
            }
            _ => &[],
        }
    }

    fn output(&mut self, node: &Node) -> Option<RawOutput> {
        let keys = &["when", "path", "format", "each", "where", "columns"];
        let f = self.fields(node, "an output", keys)?;
        let columns = self
            .list(f.get("columns"), "columns")
            .iter()
            .filter_map(|c| self.column(c))
            .collect();
        Some(RawOutput {
            when: self.string(f.get("when"), "when"),
            path: self.string(f.get("path"), "path"),
            format: self.string(f.get("format"), "format"),
            each: self.string(f.get("each"), "each"),
            filter: self.string(f.get("where"), "where"),
            columns,
            span: node.span,
        })
    }

    /// `content.from` or `{ Header: value }`.
    fn column(&mut self, node: &Node) -> Option<RawColumn> {
        if let Some(path) = node.as_str().filter(|_| !node.is_null()) {
            let spanned = Spanned {
                value: path.to_owned(),
                span: node.span,
            };
            return Some(RawColumn {
                header: spanned.clone(),
                value: spanned,
            });
        }
        if let Some([(key, value)]) = node.as_map() {
            return Some(RawColumn {
                header: self.string(Some(key), "a column header")?,
                value: self.string(Some(value), "a column value")?,
            });
        }
        self.error(
            format!(
                "a column is a path or `{{ Header: value }}`, found {}",
                node.type_name()
            ),
            node.span,
        )
        .label = Some("write `- content.from` or `- From: content.from`".into());
        None
    }

    fn aggregate(&mut self, node: &Node) -> Option<RawAggregate> {
        let keys = &["path", "where", "time", "interval", "columns"];
        let f = self.fields(node, "an aggregate", keys)?;
        let columns = self
            .list(f.get("columns"), "columns")
            .iter()
            .map(|c| self.entries(Some(c), "columns", Self::measure))
            .collect();
        let interval = match f.get("interval") {
            Some(n) => {
                let g = self.fields(n, "`interval`", &["minutes", "zone"])?;
                Some(RawInterval {
                    minutes: self.scalar(g.get("minutes"), "interval.minutes", "a whole number"),
                    zone: self.string(g.get("zone"), "interval.zone"),
                })
            }
            None => None,
        };
        Some(RawAggregate {
            path: self.string(f.get("path"), "path"),
            filter: self.string(f.get("where"), "where"),
            time: self.string(f.get("time"), "time"),
            interval,
            columns,
            span: node.span,
        })
    }

    fn measure(&mut self, node: &Node, what: &str) -> Option<RawMeasure> {
        let keys = &["group", "interval", "value", "count", "sum", "span"];
        let f = self.fields(node, &format!("column `{what}`"), keys)?;
        let span = match f.get("span") {
            Some(n) => {
                let keys = &["key", "start", "end", "until", "unit"];
                let g = self.fields(n, "`span`", keys)?;
                Some(RawSpan {
                    key: self.string(g.get("key"), "span.key"),
                    start: self.string(g.get("start"), "span.start"),
                    end: self.string(g.get("end"), "span.end"),
                    until: self.string(g.get("until"), "span.until"),
                    unit: self.string(g.get("unit"), "span.unit"),
                })
            }
            None => None,
        };
        Some(RawMeasure {
            group: self.string(f.get("group"), "group"),
            interval: self.string(f.get("interval"), "interval"),
            value: self.string(f.get("value"), "value"),
            count: self.string(f.get("count"), "count"),
            sum: self.string(f.get("sum"), "sum"),
            span,
        })
    }

    fn param(&mut self, node: &Node, what: &str) -> Option<RawParam> {
        if node.is_null() {
            return Some(RawParam {
                default: None,
                description: None,
            });
        }
        let f = self.fields(node, &format!("`{what}`"), &["default", "description"])?;
        Some(RawParam {
            default: self.string_or_empty(f.get("default"), &format!("{what}.default")),
            description: self.string(f.get("description"), &format!("{what}.description")),
        })
    }

    /// Like `string`, but a written-out empty value (`default: ""`) stays an empty string.
    fn string_or_empty(&mut self, node: Option<&Node>, what: &str) -> Option<Spanned<String>> {
        match node {
            Some(
                n @ Node {
                    kind: NodeKind::Scalar { text, plain: false },
                    ..
                },
            ) => Some(Spanned {
                value: text.clone(),
                span: n.span,
            }),
            other => self.string(other, what),
        }
    }

    fn lookup(&mut self, node: &Node, what: &str) -> Option<RawLookup> {
        let keys = &["request", "operation", "export", "key", "when"];
        let f = self.fields(node, &format!("`{what}`"), keys)?;
        Some(RawLookup {
            request: self.string(f.get("request"), &format!("{what}.request")),
            operation: self.string(f.get("operation"), &format!("{what}.operation")),
            export: f.get("export").and_then(|n| self.export_input(n)),
            when: self.string(f.get("when"), &format!("{what}.when")),
            key: self.string(f.get("key"), &format!("{what}.key")),
            span: node.span,
        })
    }

    fn rate_limit(&mut self, node: &Node) -> Option<RawRateLimit> {
        let f = self.fields(node, "`rate_limit`", &["per_second"])?;
        Some(RawRateLimit {
            per_second: self.scalar(f.get("per_second"), "rate_limit.per_second", "a number"),
        })
    }

    fn results(&mut self, node: &Node) -> Option<RawResults> {
        if let NodeKind::Scalar { .. } = node.kind {
            return Some(RawResults {
                path: self.string(Some(node), "results"),
                columns: Vec::new(),
            });
        }
        let f = self.fields(node, "`results`", &["path", "columns"])?;
        Some(RawResults {
            path: self.string(f.get("path"), "results.path"),
            columns: self.strings(f.get("columns"), "results.columns"),
        })
    }

    fn step(&mut self, node: &Node) -> RawStep {
        const KEYS: &[&str] = &[
            "name",
            "when",
            "request",
            "operation",
            "params",
            "query",
            "headers",
            "body",
            "idempotent",
            "capture",
            "on",
            "action",
            "outcome",
            "message",
        ];
        let fields = self.fields(node, "a step", KEYS);
        let get = |key| fields.as_ref().and_then(|f| f.get(key));
        let request = self.string(get("request"), "request");
        if get("request").is_some_and(|r| r.as_map().is_some()) {
            let d = self.diagnostics.last_mut().expect("reported by `string`");
            d.label = Some(
                "write `request: METHOD /path`; `body`, `query` and `headers` are keys of the step"
                    .into(),
            );
        }
        RawStep {
            name: self.string(get("name"), "name"),
            when: self.string(get("when"), "when"),
            request,
            operation: self.string(get("operation"), "operation"),
            params: self.templates(get("params"), "params"),
            query: self.entries(get("query"), "query", |_, v, _| Some(AnyValue(v.clone()))),
            headers: self.templates(get("headers"), "headers"),
            body: get("body").map(|b| self.any(b, "body")),
            idempotent: self.scalar(get("idempotent"), "idempotent", "`true` or `false`"),
            capture: self.templates(get("capture"), "capture"),
            on: self.entries(get("on"), "on", Self::rules),
            action: self.string(get("action"), "action"),
            outcome: self.string(get("outcome"), "outcome"),
            message: self.string(get("message"), "message"),
            span: node.span,
        }
    }

    fn rules(&mut self, node: &Node, what: &str) -> Option<Vec<RawRule>> {
        match &node.kind {
            NodeKind::Seq(items) => Some(items.iter().filter_map(|i| self.rule(i, what)).collect()),
            _ => self.rule(node, what).map(|r| vec![r]),
        }
    }

    fn rule(&mut self, node: &Node, what: &str) -> Option<RawRule> {
        const KEYS: &[&str] = &["when", "action", "step", "outcome", "message"];
        if let Some(action) = node.as_str().filter(|_| !node.is_null()) {
            let status = what.strip_prefix("on.").unwrap_or(what);
            self.error(
                format!("rule `{what}` must be a mapping, found a scalar"),
                node.span,
            )
            .label = Some(format!("write `{status}: {{ action: {action} }}`"));
            return None;
        }
        let f = self.fields(node, &format!("rule `{what}`"), KEYS)?;
        Some(RawRule {
            when: self.string(f.get("when"), &format!("{what}.when")),
            action: self.string(f.get("action"), &format!("{what}.action")),
            step: self.string(f.get("step"), &format!("{what}.step")),
            outcome: self.string(f.get("outcome"), &format!("{what}.outcome")),
            message: self.string(f.get("message"), &format!("{what}.message")),
            span: node.span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml;

    fn decode(src: &str) -> (RawManifest, Vec<Diagnostic>) {
        let root = yaml::parse(src).unwrap().unwrap();
        let mut d = Decoder::default();
        let raw = d.manifest(&root);
        (raw, d.diagnostics)
    }

    #[test]
    fn decodes_a_full_step() {
        let (raw, diags) = decode(
            "version: 1\nname: x\nsteps:\n  - name: a\n    request: GET /api/v1/topics\n    \
             capture: {id: '{{ response.body.id }}'}\n    on:\n      404: {action: skip}\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let step = &raw.steps[0];
        assert_eq!(step.name.as_ref().unwrap().value, "a");
        assert_eq!(step.capture.0[0].0.value, "id");
        assert_eq!(step.on.0[0].0.value, "404");
        assert_eq!(
            step.on.0[0].1[0].action.as_ref().unwrap().value,
            "skip".to_owned()
        );
    }

    #[test]
    fn reports_every_unknown_key_with_a_hint() {
        let (_, diags) = decode("version: 1\nnmae: x\nsteps:\n  - reqest: GET /x\n    bdy: {}\n");
        let messages: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "unknown key `nmae` in the manifest",
                "unknown key `reqest` in a step",
                "unknown key `bdy` in a step"
            ]
        );
        assert_eq!(diags[0].label.as_deref(), Some("did you mean `name`?"));
        assert_eq!(diags[1].span, Some(Span::new(4, 5, 6)));
    }

    #[test]
    fn wrong_types_are_reported() {
        let (_, diags) = decode("version: one\nconcurrency: [1]\nsteps: {}\ndestructive: yes\n");
        let messages: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`steps` must be a list, found a mapping",
                "`version` must be a whole number, found `one`",
                "`destructive` must be `true` or `false`, found `yes`",
                "`concurrency` must be a whole number, found a list",
            ]
        );
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let (_, diags) = decode("name: a\nname: b\nparams:\n  x: {}\n  x: {}\n");
        assert_eq!(diags.len(), 2);
        assert!(diags[0].message.contains("duplicate key `name`"));
        assert_eq!(
            diags[0].label.as_deref(),
            Some("`name` is already set on line 1")
        );
        assert!(diags[1].message.contains("duplicate key `x`"));
    }

    #[test]
    fn duplicate_entries_and_request_mappings_say_the_fix() {
        let (_, diags) = decode(
            "steps:\n  - name: a\n    request: { method: GET }\n    capture: { a: x, a: y }\n",
        );
        assert_eq!(diags[0].message, "`request` must be text, found a mapping");
        assert!(
            diags[0]
                .label
                .as_deref()
                .unwrap()
                .starts_with("write `request: METHOD /path`")
        );
        assert_eq!(
            diags[1].label.as_deref(),
            Some("`a` is already set on line 4")
        );
    }

    #[test]
    fn a_rule_written_as_its_action_shows_the_mapping() {
        let (_, diags) = decode("steps:\n  - name: a\n    on: { 404: skip }\n");
        assert_eq!(
            diags[0].message,
            "rule `on.404` must be a mapping, found a scalar"
        );
        assert_eq!(
            diags[0].label.as_deref(),
            Some("write `404: { action: skip }`")
        );
    }

    #[test]
    fn remembers_keys_it_reported() {
        let root = yaml::parse("version: x\nnmae: a\nsteps:\n  - 1\n")
            .unwrap()
            .unwrap();
        let mut d = Decoder::default();
        d.manifest(&root);
        let keys: Vec<_> = d.spoiled.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(keys, ["name", "*", "version"]);
        assert!(
            d.spoiled
                .iter()
                .all(|(span, k)| k == "*" || *span == root.span)
        );
    }
}
