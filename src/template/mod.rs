//! Manifest templates: compiled once, rendered per row with minijinja.
//!
//! A string that is exactly one `{{ expression }}` is evaluated as an expression and keeps
//! its native type (list, number, null, object); any other string containing `{{`/`{%`
//! renders to text; a string without either is a literal. `omit` removes a body key.
//! Only manifest text is ever compiled: row values are passed as data, so a CSV cell
//! holding `{{ 7*7 }}` stays that text. The functions the seed jobs need live in
//! `functions`. This module does not know about manifests, rows or HTTP.

mod body;
mod error;
mod functions;
mod json;
mod names;
mod native;

use std::sync::LazyLock;

use minijinja::{Environment, Expression, UndefinedBehavior, Value};

use crate::diagnostic::Span;

pub(crate) use body::BodyTemplate;
pub(crate) use error::{TemplateError, TemplateErrorKind};
pub(crate) use functions::{LOOKUPS_KEY, OFFLINE_KEY, is_omit, is_unknown, unknown};
pub(crate) use json::{from_json, from_json_map, json_map_of, to_json};
pub(crate) use native::{Env, Expr, Partial, Reach, RowRef, Val};

/// The one environment all templates compile against; it lives for the whole process so
/// compiled templates can be shared by every row and worker without lifetimes.
static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    // A template that loops without end stops with an error instead of hanging the row.
    env.set_fuel(Some(MAX_FUEL));
    functions::register(&mut env);
    env
});

/// The most instructions one rendering may run (a loop over 100,000 items fits).
pub(crate) const MAX_FUEL: u64 = 10_000_000;

/// The largest text one template may render to (a body value, a path, a header).
pub(crate) const MAX_RENDERED_BYTES: usize = 1024 * 1024;

/// Collects rendered text and refuses to grow past [`MAX_RENDERED_BYTES`].
struct Bounded {
    buf: Vec<u8>,
    over: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > MAX_RENDERED_BYTES {
            self.over = true;
            return Err(std::io::Error::other("rendered text over the limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A compiled manifest string.
#[derive(Debug)]
pub(crate) struct Template {
    source: String,
    span: Span,
    kind: Kind,
    /// The variables it reads (`row.email`), found once at compile time.
    names: Vec<String>,
    /// A single expression parsed for [`native`] evaluation, when any part of it can be.
    native: Option<Box<Expr>>,
}

#[derive(Debug)]
enum Kind {
    Literal,
    Native(Expression<'static, 'static>),
    Text(minijinja::Template<'static, 'static>),
}

impl Template {
    /// Compiles `source` written at `span`; syntax errors carry that position.
    pub(crate) fn compile(source: &str, span: Span) -> Result<Template, TemplateError> {
        let kind = if let Some(expr) = single_expression(source) {
            let expr = ENV
                .compile_expression_owned(expr.to_owned())
                .map_err(|e| TemplateError::syntax(source, span, &e))?;
            Kind::Native(expr)
        } else if source.contains("{{") || source.contains("{%") {
            // Compiled templates borrow their source; manifests are small and compiled once
            // per process, so the text is kept for the life of the process.
            let leaked: &'static str = Box::leak(source.to_owned().into_boxed_str());
            let template = ENV
                .template_from_str(leaked)
                .map_err(|e| TemplateError::syntax(source, span, &e))?;
            Kind::Text(template)
        } else {
            Kind::Literal
        };
        // Names minijinja resolves only when the template runs, checked now.
        match &kind {
            Kind::Literal => Ok(()),
            Kind::Native(_) => names::check(single_expression(source).unwrap_or(source), true),
            Kind::Text(_) => names::check(source, false),
        }
        .map_err(|e| TemplateError::invalid(source, span, e))?;
        let mut names: Vec<String> = match &kind {
            Kind::Literal => Vec::new(),
            Kind::Native(e) => e.undeclared_variables(true).into_iter().collect(),
            Kind::Text(t) => t.undeclared_variables(true).into_iter().collect(),
        };
        // `row['email:9']` reads a column as surely as `row.email` does.
        match &kind {
            Kind::Literal => {}
            Kind::Native(_) => names.extend(names::subscripts(
                single_expression(source).unwrap_or(source),
                true,
            )),
            Kind::Text(_) => names.extend(names::subscripts(source, false)),
        }
        names.retain(|n| !names::is_global(n.split('.').next().unwrap_or_default()));
        names.sort();
        names.dedup();
        let native = match &kind {
            Kind::Native(_) => single_expression(source)
                .and_then(native::parse)
                .filter(|e| *e != Expr::Opaque)
                .map(Box::new),
            _ => None,
        };
        Ok(Template {
            source: source.to_owned(),
            span,
            kind,
            names,
            native,
        })
    }

    /// The text as written in the manifest.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Where the template is written.
    pub(crate) fn span(&self) -> Span {
        self.span
    }

    /// True when the string contains no template at all.
    #[cfg(test)]
    pub(crate) fn is_literal(&self) -> bool {
        matches!(self.kind, Kind::Literal)
    }

    /// The variables the template reads, as dotted paths (`row.email`, `fetch.inboxId`),
    /// without the globals every template has.
    pub(crate) fn variables(&self) -> &[String] {
        &self.names
    }

    /// True when the template reads `root` (e.g. `response`) or one of its fields.
    pub(crate) fn reads(&self, root: &str) -> bool {
        self.names
            .iter()
            .any(|n| n == root || n.strip_prefix(root).is_some_and(|r| r.starts_with('.')))
    }

    /// The lookup names used as `lookup('name', …)` with a literal first argument.
    pub(crate) fn lookups_used(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = self.source.as_str();
        while let Some(at) = rest.find("lookup") {
            rest = &rest[at + "lookup".len()..];
            rest = rest.strip_prefix("_chain").unwrap_or(rest);
            let Some(args) = rest.strip_prefix('(') else {
                continue;
            };
            rest = args;
            let trimmed = rest.trim_start();
            if let Some(quote @ ('\'' | '"')) = trimmed.chars().next()
                && let Some(end) = trimmed[1..].find(quote)
            {
                out.push(trimmed[1..=end].to_owned());
            }
        }
        out
    }

    /// Renders to a native value (for bodies and captures). `omit` comes back as
    /// [`is_omit`]-true value; an undefined result is an error.
    pub(crate) fn eval(&self, ctx: &Value) -> Result<Value, TemplateError> {
        match &self.kind {
            Kind::Literal => Ok(Value::from(self.source.as_str())),
            Kind::Native(expr) => {
                let value = expr.eval(ctx).map_err(|e| self.render_error(&e))?;
                if value.is_undefined() {
                    return Err(TemplateError::undefined(&self.source, self.span));
                }
                if value.as_str().is_some_and(|s| s.len() > MAX_RENDERED_BYTES) {
                    return Err(self.too_large());
                }
                Ok(value)
            }
            Kind::Text(t) => {
                let mut out = Bounded {
                    buf: Vec::new(),
                    over: false,
                };
                let rendered = t.render_captured_to(ctx, &mut out);
                if out.over {
                    return Err(self.too_large());
                }
                rendered.map_err(|e| self.render_error(&e))?;
                Ok(Value::from(String::from_utf8_lossy(&out.buf).into_owned()))
            }
        }
    }

    /// Renders to text (paths, headers, messages): native values are stringified.
    pub(crate) fn render(&self, ctx: &Value) -> Result<String, TemplateError> {
        if let Kind::Literal = self.kind {
            return Ok(self.source.clone());
        }
        let value = self.eval(ctx)?;
        Ok(if value.is_none() || is_omit(&value) {
            String::new()
        } else if let Some(s) = value.as_str() {
            s.to_owned()
        } else {
            value.to_string()
        })
    }

    /// Evaluates a condition: true when the value is truthy (`omit` is false).
    pub(crate) fn is_true(&self, ctx: &Value) -> Result<bool, TemplateError> {
        let value = self.eval(ctx)?;
        Ok(!is_omit(&value) && value.is_true())
    }

    /// The expression, parsed for native evaluation, when part of it can be.
    pub(crate) fn native(&self) -> Option<&Expr> {
        self.native.as_deref()
    }

    /// The native value over `env`, when native evaluation gives the engine's answer
    /// without it: a defined value, not too large.
    fn native_val<'a>(&'a self, env: &Env<'a>) -> Option<Val<'a>> {
        match self.native.as_ref()?.eval(env) {
            Ok(Val::Undef) | Err(native::Fallback) => None,
            Ok(Val::Json(serde_json::Value::String(s))) if s.len() > MAX_RENDERED_BYTES => None,
            Ok(Val::Owned(serde_json::Value::String(s))) if s.len() > MAX_RENDERED_BYTES => None,
            Ok(v) => Some(v),
        }
    }

    /// [`Template::is_true`], evaluated natively over `env` when it can be (`ctx` is the
    /// same row's template context, used otherwise).
    pub(crate) fn is_true_in(&self, ctx: &Value, env: &Env<'_>) -> Result<bool, TemplateError> {
        match self.native_val(env) {
            Some(Val::Omit) | None => self.is_true(ctx),
            Some(v) => Ok(v.truthy()),
        }
    }

    /// [`Template::eval`], evaluated natively over `env` when the value is text, a
    /// boolean or none (`ctx` is the same row's template context, used otherwise).
    pub(crate) fn eval_in(&self, ctx: &Value, env: &Env<'_>) -> Result<Value, TemplateError> {
        match self.native_val(env) {
            Some(Val::Json(serde_json::Value::String(s))) => Ok(Value::from(s.as_str())),
            Some(Val::Owned(serde_json::Value::String(s))) => Ok(Value::from(s)),
            Some(Val::Json(serde_json::Value::Bool(b))) => Ok(Value::from(*b)),
            Some(Val::Bool(b)) => Ok(Value::from(b)),
            Some(Val::Json(serde_json::Value::Null)) => Ok(Value::from(())),
            _ => self.eval(ctx),
        }
    }

    /// The JSON a request body holds for this template over `env`, when native evaluation
    /// knows it (`Ok(None)`: omitted).
    ///
    /// # Errors
    /// [`native::Fallback`] when the engine must evaluate it.
    pub(crate) fn native_body(
        &self,
        env: &Env<'_>,
    ) -> Result<Option<serde_json::Value>, native::Fallback> {
        self.native_val(env).ok_or(native::Fallback)?.into_body()
    }

    /// The text a cell shows for this template's value over `env`, when native evaluation
    /// knows it: a string as it is, none as empty.
    pub(crate) fn native_text<'a>(&'a self, env: &Env<'a>) -> Option<&'a str> {
        match self.native_val(env)? {
            Val::Json(serde_json::Value::String(s)) => Some(s),
            Val::Json(serde_json::Value::Null) => Some(""),
            _ => None,
        }
    }

    /// Evaluates a condition that may read values only a real run would know (a dry run's
    /// captures of writes, lookups without a host): `None` when it reads such a value or
    /// comes out as one, since `<unknown> > 1` or `<unknown> == 'x'` would decide by
    /// accident.
    pub(crate) fn truth(&self, ctx: &Value) -> Result<Option<bool>, TemplateError> {
        if self.reads_unknown(ctx) {
            return Ok(None);
        }
        let value = self.eval(ctx)?;
        if is_unknown(&value) {
            return Ok(None);
        }
        Ok(Some(!is_omit(&value) && value.is_true()))
    }

    /// True when one of the variables the template reads (or a value on its path) is
    /// unknown.
    fn reads_unknown(&self, ctx: &Value) -> bool {
        self.names.iter().any(|name| {
            let mut at = ctx.clone();
            for part in name.split('.') {
                match at.get_attr(part) {
                    Ok(next) if !next.is_undefined() => at = next,
                    _ => return false,
                }
                if is_unknown(&at) {
                    return true;
                }
            }
            false
        })
    }

    fn too_large(&self) -> TemplateError {
        TemplateError::invalid_render(
            &self.source,
            self.span,
            format!("the value is larger than {MAX_RENDERED_BYTES} bytes (1 MiB)"),
        )
    }

    fn render_error(&self, err: &minijinja::Error) -> TemplateError {
        TemplateError::render(&self.source, self.span, err)
    }
}

/// The inner expression when `source` is exactly one `{{ … }}` and nothing else.
fn single_expression(source: &str) -> Option<&str> {
    let trimmed = source.trim();
    let inner = trimmed.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn t(src: &str) -> Template {
        Template::compile(src, Span::new(1, 1, src.len())).unwrap()
    }

    #[test]
    fn single_expression_keeps_native_types() {
        let ctx = context! { row => context! { n => 3, tags => vec!["a", "b"] } };
        assert_eq!(to_json(&t("{{ row.n + 1 }}").eval(&ctx).unwrap()), 4);
        assert_eq!(
            to_json(&t("{{ row.tags }}").eval(&ctx).unwrap()),
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            to_json(&t("{{ none }}").eval(&ctx).unwrap()),
            serde_json::Value::Null
        );
    }

    /// Objects nested in a row are read in place, and read like any map: attributes,
    /// items in lists, keys, `in`, length, JSON.
    #[test]
    fn nested_objects_read_like_maps() {
        let row = serde_json::json!({
            "type": "CONTACT/STARTED",
            "content": { "agentId": "a1", "tags": ["x"], "deep": { "n": 2 } },
            "items": [{ "id": "i0" }, { "id": "i1", "more": { "k": "v" } }],
        });
        let serde_json::Value::Object(map) = row.clone() else {
            unreachable!()
        };
        let ctx = context! { row => from_json_map(map) };
        let eval = |src: &str| to_json(&t(src).eval(&ctx).unwrap());
        assert_eq!(eval("{{ row.content.agentId }}"), "a1");
        assert_eq!(eval("{{ row.content.deep.n * 3 }}"), 6);
        assert_eq!(eval("{{ row.items[1].more.k }}"), "v");
        assert_eq!(
            eval("{{ row.items | map(attribute='id') | join(',') }}"),
            "i0,i1"
        );
        assert_eq!(eval("{{ 'x' in row.content.tags }}"), true);
        assert_eq!(eval("{{ 'deep' in row.content }}"), true);
        assert_eq!(eval("{{ row.content | length }}"), 3);
        assert_eq!(eval("{{ row.content.missing is undefined }}"), true);
        assert_eq!(eval("{{ row.content }}"), row["content"]);
        assert_eq!(eval("{{ row.items }}"), row["items"]);
        let nested = t("{{ row.items[1] }}").eval(&ctx).unwrap();
        assert_eq!(
            json_map_of(&nested).map(serde_json::Map::len),
            Some(2),
            "a nested object is still read without converting it"
        );
    }

    #[test]
    fn mixed_text_renders_as_string() {
        let ctx = context! { row => context! { n => 3 } };
        assert_eq!(
            to_json(&t("n={{ row.n }}!").eval(&ctx).unwrap()),
            serde_json::json!("n=3!")
        );
        assert_eq!(t("plain").render(&ctx).unwrap(), "plain");
        assert!(t("plain").is_literal());
    }

    #[test]
    fn data_is_never_evaluated() {
        let row = serde_json::json!({"name": "{{ 7*7 }}"});
        let ctx = context! { row => from_json(&row) };
        assert_eq!(t("{{ row.name }}").render(&ctx).unwrap(), "{{ 7*7 }}");
        assert_eq!(t("x {{ row.name }}").render(&ctx).unwrap(), "x {{ 7*7 }}");
    }

    #[test]
    fn undefined_values_are_errors_not_empty_strings() {
        let ctx = context! { row => context! { a => 1 } };
        let err = t("{{ row.b }}").eval(&ctx).unwrap_err();
        assert!(err.to_string().contains("undefined"), "{err}");
        assert!(t("{{ row.b or 'x' }}").eval(&ctx).is_ok());
        assert!(t("id {{ row.b }}").eval(&ctx).is_err());
    }

    #[test]
    fn lists_variables_and_lookups() {
        let tpl = t("{{ lookup('inboxes', row.inbox).id ~ fetch.x ~ params.p ~ gladly_id() }}");
        assert_eq!(tpl.variables(), ["fetch.x", "params.p", "row.inbox"]);
        assert_eq!(tpl.lookups_used(), ["inboxes"]);
    }

    #[test]
    fn conditions_on_unknown_values_are_undecided() {
        let ctx = context! {
            find => context! { matches => unknown("find.matches") },
            row => context! { n => 2 },
            vars => context! { inbox => unknown("lookup inboxes[x]") },
        };
        assert_eq!(t("{{ find.matches > 1 }}").truth(&ctx).unwrap(), None);
        assert_eq!(t("{{ find.matches == 0 }}").truth(&ctx).unwrap(), None);
        assert_eq!(t("{{ vars.inbox.disabled }}").truth(&ctx).unwrap(), None);
        assert_eq!(t("{{ row.n > 1 }}").truth(&ctx).unwrap(), Some(true));
        assert_eq!(t("{{ row.n > 5 }}").truth(&ctx).unwrap(), Some(false));
        // What `truth` guards against: a comparison with an unknown decides by accident.
        assert!(t("{{ find.matches > 1 }}").is_true(&ctx).unwrap());
    }

    #[test]
    fn syntax_errors_name_the_template() {
        let err = Template::compile("{{ row. }}", Span::new(3, 9, 10)).unwrap_err();
        assert_eq!(err.span, Span::new(3, 9, 10));
        assert!(err.to_string().contains("`{{ row. }}`"), "{err}");
    }
}
