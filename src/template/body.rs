//! Request bodies (and query values) as trees of templates, rendered to JSON per row.

use minijinja::Value;

use super::{Env, Template, TemplateError, functions::is_omit, to_json};
use crate::diagnostic::Span;

/// A JSON value whose strings may be templates.
#[derive(Debug)]
pub(crate) enum BodyTemplate {
    /// A value with no template inside (numbers, booleans, null, plain strings).
    Static(serde_json::Value),
    /// A string template; a single `{{ … }}` keeps its native type.
    Template(Template),
    /// A list of values.
    Array(Vec<BodyTemplate>),
    /// An object, keys in written order.
    Object(Vec<(String, BodyTemplate)>),
}

impl BodyTemplate {
    /// Renders to JSON. `None` means the whole value was omitted.
    pub(crate) fn render(&self, ctx: &Value) -> Result<Option<serde_json::Value>, TemplateError> {
        self.render_in(ctx, None)
    }

    /// Like [`BodyTemplate::render`], evaluating templates natively over `env` where they
    /// can be (`ctx` is the same row's template context, used for the rest).
    pub(crate) fn render_in(
        &self,
        ctx: &Value,
        env: Option<&Env<'_>>,
    ) -> Result<Option<serde_json::Value>, TemplateError> {
        Ok(match self {
            BodyTemplate::Static(v) => Some(v.clone()),
            BodyTemplate::Template(t) => {
                if let Some(Ok(body)) = env.map(|env| t.native_body(env)) {
                    return Ok(body);
                }
                let value = t.eval(ctx)?;
                if is_omit(&value) {
                    None
                } else {
                    Some(to_json(&value))
                }
            }
            BodyTemplate::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = item.render_in(ctx, env)? {
                        out.push(v);
                    }
                }
                Some(serde_json::Value::Array(out))
            }
            BodyTemplate::Object(entries) => {
                let mut out = serde_json::Map::with_capacity(entries.len());
                for (key, value) in entries {
                    if let Some(v) = value.render_in(ctx, env)? {
                        out.insert(key.clone(), v);
                    }
                }
                Some(serde_json::Value::Object(out))
            }
        })
    }

    /// Where the value at `path` (`phones[0].type`) is written, when it is a template; the
    /// closest template-bearing ancestor's position otherwise.
    pub(crate) fn span_at(&self, path: &str) -> Option<Span> {
        let mut current = self;
        let mut found = None;
        for segment in path.split(['.', '[']).filter(|s| !s.is_empty()) {
            let next = match (current, segment.strip_suffix(']')) {
                (BodyTemplate::Array(items), Some(index)) => {
                    index.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                (BodyTemplate::Object(entries), None) => {
                    entries.iter().find(|(k, _)| k == segment).map(|(_, v)| v)
                }
                _ => None,
            };
            match next {
                Some(n) => current = n,
                None => break,
            }
            found = current.span().or(found);
        }
        found
    }

    /// Where the template or value starts, when known.
    pub(crate) fn span(&self) -> Option<Span> {
        match self {
            BodyTemplate::Template(t) => Some(t.span()),
            _ => None,
        }
    }
}
