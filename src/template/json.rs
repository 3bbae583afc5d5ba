//! Conversions between JSON data (rows, responses) and template values.
//!
//! JSON objects become a lazy map object: a row's cells are converted only when a template
//! reads them, which matters when a million rows each carry a dozen columns.

use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectExt as _, ObjectRepr};

use super::functions::{is_omit, is_unknown};

/// A JSON object seen by templates as a map, in its key order.
#[derive(Debug)]
struct JsonMap(serde_json::Map<String, serde_json::Value>);

impl Object for JsonMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let value = self.0.get(key)?;
        Some(node(self, &|| vec![Step::Key(key.to_owned())], value))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.mapped_enumerator(|this| Box::new(this.0.keys().map(|k| Value::from(k.as_str()))))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
}

/// One step from a root object down to a nested value.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// An object nested in a root [`JsonMap`] (`row.content`), read in place: reaching it
/// copies nothing but its path, where converting it would copy the whole object on every
/// access (a template reading `row.content.agentId` and `row.content.type` reads it twice).
#[derive(Debug)]
struct Nested {
    root: Arc<JsonMap>,
    path: Vec<Step>,
}

impl Nested {
    fn map(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        let mut steps = self.path.iter();
        let mut current = match steps.next()? {
            Step::Key(k) => self.root.0.get(k)?,
            Step::Index(_) => return None,
        };
        for step in steps {
            current = match step {
                Step::Key(k) => current.as_object()?.get(k)?,
                Step::Index(i) => current.as_array()?.get(*i)?,
            };
        }
        current.as_object()
    }
}

impl Object for Nested {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let value = self.map()?.get(key)?;
        Some(node(
            &self.root,
            &|| {
                let mut path = self.path.clone();
                path.push(Step::Key(key.to_owned()));
                path
            },
            value,
        ))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.mapped_enumerator(|this| match this.map() {
            Some(map) => Box::new(map.keys().map(|k| Value::from(k.as_str()))),
            None => Box::new(std::iter::empty()),
        })
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.map().map_or(0, serde_json::Map::len))
    }
}

/// The template value of `value`, found at `path` below `root`: objects (also inside
/// lists) stay in place, everything else is converted.
fn node(root: &Arc<JsonMap>, path: &dyn Fn() -> Vec<Step>, value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Object(_) => Value::from_object(Nested {
            root: Arc::clone(root),
            path: path(),
        }),
        serde_json::Value::Array(items) if items.iter().any(serde_json::Value::is_object) => {
            let base = path();
            Value::from(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        node(
                            root,
                            &|| {
                                let mut p = base.clone();
                                p.push(Step::Index(i));
                                p
                            },
                            item,
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        }
        other => from_json(other),
    }
}

/// A JSON object as a template value, without copying or converting its entries.
pub(crate) fn from_json_map(map: serde_json::Map<String, serde_json::Value>) -> Value {
    Value::from_object(JsonMap(map))
}

/// The JSON object behind a value made by [`from_json_map`] (or an object nested in one),
/// read without converting it.
pub(crate) fn json_map_of(value: &Value) -> Option<&serde_json::Map<String, serde_json::Value>> {
    match value.downcast_object_ref::<JsonMap>() {
        Some(m) => Some(&m.0),
        None => value.downcast_object_ref::<Nested>().and_then(Nested::map),
    }
}

/// Converts a rendered value to JSON. Strings stay strings; undefined and `omit` become
/// null; unknown values become their `<unknown …>` text. Done by hand rather than through
/// serde because it runs for every body value of every row.
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    use minijinja::value::ValueKind;
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => serde_json::Value::Null,
        ValueKind::Bool => serde_json::Value::Bool(value.is_true()),
        ValueKind::String => {
            serde_json::Value::String(value.as_str().unwrap_or_default().to_owned())
        }
        ValueKind::Number => number_to_json(value),
        ValueKind::Seq | ValueKind::Iterable => serde_json::Value::Array(
            value
                .try_iter()
                .map(|items| items.map(|v| to_json(&v)).collect())
                .unwrap_or_default(),
        ),
        ValueKind::Map if !is_omit(value) && !is_unknown(value) => {
            let mut map = serde_json::Map::new();
            if let Ok(keys) = value.try_iter() {
                for key in keys {
                    let item = value.get_item(&key).unwrap_or_default();
                    let name = key.as_str().map_or_else(|| key.to_string(), str::to_owned);
                    map.insert(name, to_json(&item));
                }
            }
            serde_json::Value::Object(map)
        }
        _ if is_omit(value) => serde_json::Value::Null,
        _ => serde_json::Value::String(value.to_string()),
    }
}

fn number_to_json(value: &Value) -> serde_json::Value {
    if let Some(i) = value.as_i64() {
        return serde_json::Value::from(i);
    }
    f64::try_from(value.clone())
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// Builds a template value from JSON data (rows, captures, responses) without evaluating it.
pub(crate) fn from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_u64().map(Value::from))
            .unwrap_or_else(|| Value::from(n.as_f64().unwrap_or_default())),
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::from(items.iter().map(from_json).collect::<Vec<_>>())
        }
        serde_json::Value::Object(map) => from_json_map(map.clone()),
    }
}
