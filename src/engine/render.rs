//! Turning one row into concrete requests: the template context, `vars`, `when`, and the
//! rendered method, URL, query, headers and body of a step, checked against the catalog.
//!
//! Shared by the dry run and the real run so both render exactly the same requests.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::catalog::Method;
use crate::failure::RowFailure;
use crate::manifest::{Manifest, PathPart, Request, Step, StepKind};
use crate::template::{self, LOOKUPS_KEY, OFFLINE_KEY, Template, TemplateError};

/// Values every row sees: params, job, lookup tables.
#[derive(Debug, Clone)]
pub(super) struct BaseContext {
    entries: BTreeMap<String, Value>,
    /// `entries`, shared by every row's context.
    shared: std::sync::Arc<BTreeMap<String, Value>>,
    /// `params` and `job` as JSON, for templates evaluated natively.
    globals: std::sync::Arc<serde_json::Map<String, serde_json::Value>>,
}

impl BaseContext {
    /// Builds the shared context. `lookups` is `None` in an offline dry run: lookups then
    /// answer unknown values instead of failing every row.
    pub(super) fn new(
        manifest: &Manifest,
        params: &BTreeMap<String, String>,
        lookups: Option<Value>,
    ) -> Self {
        let mut entries = BTreeMap::new();
        entries.insert("params".to_owned(), Value::from(params.clone()));
        let job: BTreeMap<String, String> =
            [("name".to_owned(), manifest.name().to_owned())].into();
        let globals = serde_json::json!({ "params": params, "job": job });
        let serde_json::Value::Object(globals) = globals else {
            unreachable!("a JSON object literal")
        };
        entries.insert("job".to_owned(), Value::from(job));
        match lookups {
            Some(tables) => {
                entries.insert(LOOKUPS_KEY.to_owned(), tables);
            }
            None => {
                entries.insert(OFFLINE_KEY.to_owned(), Value::from(true));
            }
        }
        BaseContext {
            shared: std::sync::Arc::new(entries.clone()),
            entries,
            globals: std::sync::Arc::new(globals),
        }
    }
}

/// The context of a row in a job without steps: the shared entries plus `row`, without
/// copying the shared ones for every row.
#[derive(Debug)]
struct RowScope {
    base: std::sync::Arc<BTreeMap<String, Value>>,
    row: Value,
}

impl minijinja::value::Object for RowScope {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "row" => Some(self.row.clone()),
            name => self.base.get(name).cloned(),
        }
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        use minijinja::value::ObjectExt as _;
        self.mapped_enumerator(|this| {
            Box::new(
                std::iter::once(Value::from("row"))
                    .chain(this.base.keys().map(|k| Value::from(k.as_str()))),
            )
        })
    }
}

impl BaseContext {
    /// The template context of a row that runs no step: the shared entries and `row`.
    pub(super) fn row_scope(shared: &std::sync::Arc<BTreeMap<String, Value>>, row: Value) -> Value {
        Value::from_object(RowScope {
            base: std::sync::Arc::clone(shared),
            row,
        })
    }

    /// The shared entries, to be given to [`BaseContext::row_scope`] for every row.
    pub(super) fn shared(&self) -> std::sync::Arc<BTreeMap<String, Value>> {
        std::sync::Arc::new(self.entries.clone())
    }

    /// A copy of the shared entries, to add more (lookup keys use `item`).
    pub(super) fn clone_entries(&self) -> BTreeMap<String, Value> {
        self.entries.clone()
    }
}

/// The values a row's templates see: the run's shared entries, and the row's own (`row`,
/// `vars`, step captures, `response`), which win. A row adds to its own entries without
/// copying the shared ones, and without copying its own unless a template value of the
/// context is still held.
#[derive(Debug, Clone)]
struct Scope {
    base: std::sync::Arc<BTreeMap<String, Value>>,
    own: BTreeMap<String, Value>,
}

impl minijinja::value::Object for Scope {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        self.own.get(key).or_else(|| self.base.get(key)).cloned()
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        use minijinja::value::ObjectExt as _;
        self.mapped_enumerator(|this| {
            let keys: std::collections::BTreeSet<&String> =
                this.own.keys().chain(this.base.keys()).collect();
            Box::new(keys.into_iter().map(|k| Value::from(k.as_str())))
        })
    }
}

/// The template context of one row as its steps run.
#[derive(Debug)]
pub(super) struct RowContext {
    scope: std::sync::Arc<Scope>,
    globals: std::sync::Arc<serde_json::Map<String, serde_json::Value>>,
}

impl RowContext {
    /// Starts a row: the base context plus `row`.
    pub(super) fn new(
        base: &BaseContext,
        values: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        let own = BTreeMap::from([("row".to_owned(), template::from_json_map(values))]);
        RowContext {
            scope: std::sync::Arc::new(Scope {
                base: std::sync::Arc::clone(&base.shared),
                own,
            }),
            globals: std::sync::Arc::clone(&base.globals),
        }
    }

    /// What native evaluation of a template reads: the row and the globals.
    pub(super) fn env(&self) -> template::Env<'_> {
        template::Env {
            row: template::RowRef::Map(self.row_map()),
            globals: &self.globals,
        }
    }

    /// The row's values, as read.
    pub(super) fn row_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        static EMPTY: std::sync::OnceLock<serde_json::Map<String, serde_json::Value>> =
            std::sync::OnceLock::new();
        self.scope
            .own
            .get("row")
            .and_then(template::json_map_of)
            .unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new))
    }

    /// The row as templates see it (`row`).
    pub(super) fn row_value(&self) -> Value {
        self.scope.own.get("row").cloned().unwrap_or_default()
    }

    /// The context as a template value.
    pub(super) fn value(&self) -> Value {
        Value::from_dyn_object(std::sync::Arc::clone(&self.scope))
    }

    fn set(&mut self, key: &str, value: Value) {
        std::sync::Arc::make_mut(&mut self.scope)
            .own
            .insert(key.to_owned(), value);
    }

    /// Evaluates the manifest's `vars` in order; each sees the ones before it.
    pub(super) fn eval_vars(&mut self, manifest: &Manifest) -> Result<(), RowFailure> {
        let mut vars: BTreeMap<String, Value> = BTreeMap::new();
        for (name, template) in manifest.vars() {
            // `set`, not a bare insert: the cached context value must see the vars so far.
            self.set("vars", Value::from(vars.clone()));
            let value = template
                .eval(&self.value())
                .map_err(|e| RowFailure::template("vars", &e))?;
            vars.insert(name.clone(), value);
        }
        self.set("vars", Value::from(vars));
        Ok(())
    }

    /// Makes a step's captures visible to later steps (`NAME.capture`).
    pub(super) fn set_step(&mut self, step: &str, captures: Value) {
        self.set(step, captures);
    }

    /// The captured values of every step, in results-column order; values not captured
    /// (step skipped, or only known after a write) are empty.
    pub(super) fn capture_texts(&self, manifest: &Manifest) -> Vec<String> {
        let mut out = Vec::new();
        for step in manifest.steps() {
            let crate::manifest::StepKind::Request(request) = &step.kind else {
                continue;
            };
            let values = self.scope.own.get(&step.name);
            for (name, _) in request
                .capture
                .iter()
                .filter(|(c, _)| super::plan::is_recorded(c))
            {
                let value = values.and_then(|v| v.get_attr(name).ok());
                out.push(match value {
                    Some(v) if !v.is_undefined() && !template::is_unknown(&v) => capture_text(&v),
                    _ => String::new(),
                });
            }
        }
        out
    }

    /// Makes the last response visible to `capture` and rule templates.
    pub(super) fn set_response(&mut self, response: Value) {
        self.set("response", response);
    }
}

/// A request ready to send (or to write to the plan).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RenderedRequest {
    /// HTTP method.
    pub method: Method,
    /// Path and query string, e.g. `/api/v1/customer-profiles?email=a%40b.com`.
    pub path_and_query: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<serde_json::Value>,
}

/// True when the step's `when` holds (or it has none).
///
/// In a dry run a condition may read values only a real run would know; the plan then
/// follows the path where nothing goes wrong: a request step is planned (it may be sent)
/// and a step that would end the row (`action: skip|fail|abort`) does not.
pub(super) fn step_applies(step: &Step, ctx: &RowContext) -> Result<bool, RowFailure> {
    match &step.when {
        None => Ok(true),
        Some(t) => t
            .truth(&ctx.value())
            .map(|known| known.unwrap_or(matches!(step.kind, StepKind::Request(_))))
            .map_err(|e| RowFailure::template(&step.name, &e)),
    }
}

/// Renders a step's request for a row and checks the body against the catalog.
pub(super) fn render_request(
    step: &Step,
    request: &Request,
    ctx: &RowContext,
) -> Result<RenderedRequest, RowFailure> {
    let value = ctx.value();
    let fail = |e: &TemplateError| RowFailure::template(&step.name, e);
    let mut path = String::new();
    for part in &request.path {
        match part {
            PathPart::Literal(text) => path.push_str(text),
            PathPart::Template(t) => {
                let segment = t.render(&value).map_err(|e| fail(&e))?;
                if segment.is_empty() {
                    return Err(RowFailure::empty_path(&step.name, t.source(), t.span()));
                }
                // A value is one segment: `..` would climb to another operation and `/`,
                // `?`, `#` would change the path or cut it short, even percent-encoded
                // (some servers decode before routing).
                if segment == "." || segment == ".." || segment.contains(['/', '?', '#']) {
                    return Err(RowFailure::bad_path_segment(
                        &step.name,
                        t.source(),
                        &segment,
                        t.span(),
                    ));
                }
                path.push_str(&crate::catalog::encode_segment(&segment));
            }
        }
    }
    let query = render_query(request, &value).map_err(|e| fail(&e))?;
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query);
    }
    let mut headers = Vec::with_capacity(request.headers.len());
    for (name, t) in &request.headers {
        headers.push((name.clone(), t.render(&value).map_err(|e| fail(&e))?));
    }
    let body = match &request.body {
        Some(b) => b
            .render_in(&value, Some(&ctx.env()))
            .map_err(|e| fail(&e))?,
        None => None,
    };
    let problems = request.operation.check_body(body.as_ref());
    if let Some(first) = problems.first() {
        return Err(RowFailure::payload(
            &step.name,
            &request.operation.id,
            first,
            problems.len(),
            request
                .body
                .as_ref()
                .and_then(|b| b.span_at(&first.path))
                .or(request.body_span)
                .unwrap_or(step.span),
        ));
    }
    Ok(RenderedRequest {
        method: request.method,
        path_and_query: path,
        headers,
        body,
    })
}

fn render_query(request: &Request, ctx: &Value) -> Result<String, TemplateError> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, t) in &request.query {
        let Some(value) = t.render(ctx)? else {
            continue;
        };
        match value {
            serde_json::Value::Array(items) => {
                for item in items {
                    query.append_pair(name, &json_text(&item));
                }
            }
            serde_json::Value::Null => {}
            other => {
                let text = json_text(&other);
                if !text.is_empty() {
                    query.append_pair(name, &text);
                }
            }
        }
    }
    Ok(query.finish())
}

/// A JSON value as query or CSV text: strings without quotes.
pub(super) fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Renders a message template, falling back to its source when it cannot render.
pub(super) fn render_message(template: &Template, ctx: &RowContext) -> String {
    template
        .render(&ctx.value())
        .unwrap_or_else(|_| template.source().to_owned())
}

/// Converts a captured template value to the text written in the results CSV.
pub(super) fn capture_text(value: &Value) -> String {
    json_text(&template::to_json(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;

    #[test]
    fn vars_see_earlier_vars_and_steps_see_vars() {
        let text = r#"
version: 1
name: t
input: { csv: rows.csv }
vars:
  a: "{{ row.x }}1"
  b: "{{ vars.a }}2"
steps:
  - name: s
    when: "{{ vars.b == 'v12' }}"
    action: skip
"#;
        let manifest = Manifest::parse(std::path::Path::new("job.yaml"), text)
            .unwrap()
            .manifest;
        let base = BaseContext::new(&manifest, &BTreeMap::new(), None);
        let row = serde_json::json!({"x": "v"}).as_object().unwrap().clone();
        let mut ctx = RowContext::new(&base, row);
        ctx.eval_vars(&manifest).unwrap();
        let read = Template::compile("{{ vars.a }}/{{ vars.b }}", Span::default()).unwrap();
        assert_eq!(read.render(&ctx.value()).unwrap(), "v1/v12");
        assert!(step_applies(&manifest.steps()[0], &ctx).unwrap());
    }
}
