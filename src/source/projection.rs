//! Reading only the parts of a JSON row a run uses.
//!
//! When every template and column of a run reads fixed paths of the row (`type`,
//! `content.agentId`), a [`Projection`] of those paths builds just them while the line is
//! parsed: the other keys are checked for syntax and skipped, so a wide event costs a few
//! small values instead of a full tree of maps and strings. A path keeps everything below
//! it, and a list on a path is kept whole, so whatever reads a kept value sees it exactly
//! as in the full row.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize as _;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The paths of a row to build; the rest is skipped.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Projection {
    /// Keep this value and everything in it.
    whole: bool,
    children: Vec<(String, Projection)>,
}

impl Projection {
    /// The projection keeping `paths` (each a list of keys from the row's top).
    pub(crate) fn new(paths: &[Vec<String>]) -> Projection {
        let mut root = Projection::default();
        for path in paths {
            let mut at = &mut root;
            for key in path {
                if at.whole {
                    break;
                }
                let i = at
                    .children
                    .iter()
                    .position(|(k, _)| k == key)
                    .unwrap_or_else(|| {
                        at.children.push((key.clone(), Projection::default()));
                        at.children.len() - 1
                    });
                at = &mut at.children[i].1;
            }
            at.whole = true;
            at.children.clear();
        }
        root
    }

    /// True when it keeps the whole row.
    pub(crate) fn is_whole(&self) -> bool {
        self.whole
    }

    fn child(&self, key: &str) -> Option<&Projection> {
        self.children.iter().find(|(k, _)| k == key).map(|(_, p)| p)
    }

    /// Parses one JSON value keeping only the projected parts of objects.
    ///
    /// # Errors
    /// A syntax error anywhere in `bytes`, as `serde_json` reports it.
    pub(crate) fn parse(&self, bytes: &[u8]) -> Result<Value, serde_json::Error> {
        // Skipped strings are not checked for UTF-8: a line that is not UTF-8 is parsed in
        // full, to fail exactly as it always has.
        if std::str::from_utf8(bytes).is_err() {
            return serde_json::from_slice(bytes);
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = Seed(self).deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

struct Seed<'p>(&'p Projection);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.whole {
            Value::deserialize(d)
        } else {
            d.deserialize_any(Visit(self.0))
        }
    }
}

/// A key, borrowed from the line when it holds no escape.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Builds values as `serde_json::Value` does, but for objects keeps only projected keys.
struct Visit<'p>(&'p Projection);

impl<'de> Visitor<'de> for Visit<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    /// A list on a projected path is kept whole.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        // Sized for every projected key at once: growing the map rehashes it.
        let mut map = Map::with_capacity(self.0.children.len());
        while let Some(Key(key)) = access.next_key::<Key<'de>>()? {
            match self.0.child(&key) {
                Some(child) => {
                    let value = access.next_value_seed(Seed(child))?;
                    map.insert(key.into_owned(), value);
                }
                None => {
                    access.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(list: &[&str]) -> Vec<Vec<String>> {
        list.iter()
            .map(|p| p.split('.').map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn keeps_the_projected_paths_whole_and_nothing_else() {
        let line = br#"{"id":"e1","type":"CONTACT/STARTED","timestamp":"2026-11-20T10:00:00Z",
            "initiator":{"id":"a1","type":"AGENT","extra":{"x":[1,2]}},
            "content":{"agentId":"a1","availableFor":["VOICE",{"k":1}],"context":{"a":{"b":1}},
                       "channel":"PHONE_CALL"},"tags":"x","n":1.5,"big":18446744073709551615}"#;
        let p = Projection::new(&paths(&[
            "type",
            "content.agentId",
            "content.availableFor",
            "initiator",
            "timestamp.deeper",
            "n",
            "big",
            "missing.x",
        ]));
        assert_eq!(
            p.parse(line).unwrap(),
            json!({"type": "CONTACT/STARTED", "timestamp": "2026-11-20T10:00:00Z",
                   "initiator": {"id": "a1", "type": "AGENT", "extra": {"x": [1, 2]}},
                   "content": {"agentId": "a1", "availableFor": ["VOICE", {"k": 1}]},
                   "n": 1.5, "big": 18_446_744_073_709_551_615_u64})
        );
        // What it keeps is what a full parse has at those paths.
        let full: Value = serde_json::from_slice(line).unwrap();
        let kept = p.parse(line).unwrap();
        assert_eq!(kept["initiator"], full["initiator"]);
        assert_eq!(
            kept["content"]["availableFor"],
            full["content"]["availableFor"]
        );
        assert!(!p.is_whole());
        assert!(Projection::new(&[vec![]]).is_whole());
    }

    #[test]
    fn skipped_parts_are_still_checked_for_syntax() {
        let p = Projection::new(&paths(&["type"]));
        let broken = br#"{"type":"A","content":{"x":[1,2}}"#;
        let projected = p.parse(broken).unwrap_err();
        let full = serde_json::from_slice::<Value>(broken).unwrap_err();
        assert_eq!(
            (projected.line(), projected.column()),
            (full.line(), full.column())
        );
        assert!(p.parse(br#"{"type":"A"} x"#).is_err(), "trailing bytes");
        assert!(p.parse(br#"{"type":"A","b":"\q"}"#).is_err(), "bad escape");
        assert_eq!(
            p.parse(br#"{"ty\u0070e":"A","b":"x"}"#).unwrap(),
            json!({"type": "A"}),
            "an escaped key is still the key"
        );
        assert_eq!(p.parse(b"[1,2]").unwrap(), json!([1, 2]));
        // Bytes that are not UTF-8, in a part that is skipped, fail the line as before.
        let line = b"{\"type\":\"A\",\"b\":\"x\xff\xfey\",\"c\":1}";
        let projected = p.parse(line).unwrap_err();
        let full = serde_json::from_slice::<Value>(line).unwrap_err();
        assert_eq!(projected.to_string(), full.to_string());
    }
}
