//! Reading only the parts of a JSON row a run uses.
//!
//! When every template and column of a run reads fixed paths of the row (`type`,
//! `content.agentId`), a [`Projection`] of those paths keeps just them while the line is
//! parsed, each in its own [`Slot`] of a [`PartialRow`]: no maps, no keys. The other keys
//! are checked for syntax and skipped, so a wide event costs a few small values instead of
//! a full tree of maps and strings. A path keeps everything below it, and a list on a path
//! is kept whole, so whatever reads a kept value sees it exactly as in the full row; the
//! template engine, should a row need it, gets the row rebuilt at those paths.

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
    /// This node's place among a row's [`Slot`]s (the row itself is 0).
    slot: usize,
    /// At the top: how many slots a row has.
    slots: usize,
    /// At the top: per slot, its node's children as (key, slot), so a row is read a key at
    /// a time without walking the tree.
    index: Vec<Vec<(String, usize)>>,
}

/// Key equality, deciding most pairs on length and first byte (every key of every line
/// is compared with the few projected ones).
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// What a row holds at one node of its projection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Slot {
    /// The key is not there.
    Absent,
    /// An object, whose projected keys are in their own slots.
    Object,
    /// A kept value (a whole node), or a node that is not an object in this row.
    Value(Value),
}

/// One row read in part: its slots, read through its projection, and its line (shared
/// with its batch), for the template engine should it take the row over.
#[derive(Debug)]
pub(crate) struct PartialRow {
    pub number: u64,
    pub line: u64,
    projection: std::sync::Arc<Projection>,
    slots: Vec<Slot>,
    text: (std::sync::Arc<Vec<u8>>, std::ops::Range<usize>),
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
        let mut next = 0;
        root.number(&mut next);
        root.slots = next;
        let mut index = vec![Vec::new(); next];
        root.fill_index(&mut index);
        root.index = index;
        root
    }

    fn fill_index(&self, index: &mut [Vec<(String, usize)>]) {
        index[self.slot] = self
            .children
            .iter()
            .map(|(key, child)| (key.clone(), child.slot))
            .collect();
        for (_, child) in &self.children {
            child.fill_index(index);
        }
    }

    fn number(&mut self, next: &mut usize) {
        self.slot = *next;
        *next += 1;
        for (_, child) in &mut self.children {
            child.number(next);
        }
    }

    /// Parses one JSON line into slots. `Ok(Err(value))` when the line is JSON but not an
    /// object.
    ///
    /// # Errors
    /// A syntax error anywhere in `bytes`, as `serde_json` reports it.
    pub(crate) fn parse_slots(
        &self,
        bytes: &[u8],
    ) -> Result<Result<Vec<Slot>, Value>, serde_json::Error> {
        // Skipped strings are not checked for UTF-8: a line that is not UTF-8 is parsed in
        // full, to fail exactly as it always has. One that is needs no check per string.
        let Ok(text) = std::str::from_utf8(bytes) else {
            return serde_json::from_slice::<Value>(bytes).map(Err);
        };
        let mut slots = vec![Slot::Absent; self.slots];
        let mut de = serde_json::Deserializer::from_str(text);
        SlotSeed {
            node: self,
            slots: &mut slots,
        }
        .deserialize(&mut de)?;
        de.end()?;
        match std::mem::replace(&mut slots[0], Slot::Object) {
            Slot::Object => Ok(Ok(slots)),
            Slot::Value(other) => Ok(Err(other)),
            Slot::Absent => Ok(Err(Value::Null)),
        }
    }

    /// The row at the projected paths (objects rebuilt in projection order).
    fn rebuild(&self, slots: &[Slot]) -> Map<String, Value> {
        let mut map = Map::with_capacity(self.children.len());
        for (key, child) in &self.children {
            match &slots[child.slot] {
                Slot::Absent => {}
                Slot::Object => {
                    map.insert(key.clone(), Value::Object(child.rebuild(slots)));
                }
                Slot::Value(v) => {
                    map.insert(key.clone(), v.clone());
                }
            }
        }
        map
    }

    /// True when it keeps the whole row.
    pub(crate) fn is_whole(&self) -> bool {
        self.whole
    }

    fn child(&self, key: &str) -> Option<&Projection> {
        self.children
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, p)| p)
    }

    /// The row at the projected paths, as JSON (tests compare it with a full parse).
    #[cfg(test)]
    fn parse(&self, bytes: &[u8]) -> Result<Value, serde_json::Error> {
        Ok(match self.parse_slots(bytes)? {
            Ok(slots) => Value::Object(self.rebuild(&slots)),
            Err(other) => other,
        })
    }
}

/// Fills the slots of `node` and below.
struct SlotSeed<'p, 's> {
    node: &'p Projection,
    slots: &'s mut Vec<Slot>,
}

impl<'de> DeserializeSeed<'de> for SlotSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.node.whole {
            self.slots[self.node.slot] = Slot::Value(Value::deserialize(d)?);
            return Ok(());
        }
        d.deserialize_any(SlotVisit(self))
    }
}

struct SlotVisit<'p, 's>(SlotSeed<'p, 's>);

impl SlotVisit<'_, '_> {
    fn put(self, value: Value) {
        self.0.slots[self.0.node.slot] = Slot::Value(value);
    }
}

impl<'de> Visitor<'de> for SlotVisit<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.put(Value::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.put(Value::from(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.put(Value::from(v));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.put(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.put(Value::String(v.to_owned()));
        Ok(())
    }

    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.put(Value::String(v));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.put(Value::Null);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.put(Value::Null);
        Ok(())
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let value = Value::deserialize(d)?;
        self.put(value);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let mut seq = seq;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        self.put(Value::Array(items));
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let SlotSeed { node, slots } = self.0;
        slots[node.slot] = Slot::Object;
        while let Some(Key(key)) = access.next_key::<Key<'de>>()? {
            match node.child(&key) {
                Some(child) => access.next_value_seed(SlotSeed {
                    node: child,
                    slots: &mut *slots,
                })?,
                None => {
                    access.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

impl PartialRow {
    /// The row `number` at `line`, from its slots; its text is `text.0[text.1]`.
    pub(crate) fn new(
        number: u64,
        line: u64,
        projection: std::sync::Arc<Projection>,
        slots: Vec<Slot>,
        text: (std::sync::Arc<Vec<u8>>, std::ops::Range<usize>),
    ) -> PartialRow {
        PartialRow {
            number,
            line,
            projection,
            slots,
            text,
        }
    }
}

impl crate::template::Partial for PartialRow {
    fn get(&self, node: Option<usize>, key: &str) -> crate::template::Reach<'_> {
        use crate::template::Reach;
        let children = self.projection.index.get(node.unwrap_or(0));
        let Some(&(_, slot)) = children.and_then(|c| c.iter().find(|(k, _)| same_key(k, key)))
        else {
            return Reach::NotRead;
        };
        match &self.slots[slot] {
            Slot::Absent => Reach::Absent,
            Slot::Object => Reach::Object(slot),
            Slot::Value(v) => Reach::Value(v),
        }
    }

    /// The whole row, parsed again from its line: the engine sees every key.
    fn to_map(&self) -> Map<String, Value> {
        let (bytes, range) = &self.text;
        match serde_json::from_slice::<Value>(&bytes[range.clone()]) {
            Ok(Value::Object(map)) => map,
            // The line parsed once already (only a nesting past serde_json's limit, in a
            // skipped part, gets here): the projected paths are all there is.
            _ => self.projection.rebuild(&self.slots),
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

    /// A row read into slots answers every path, and every native expression over its
    /// paths, exactly as the whole row does.
    #[test]
    fn rows_in_slots_read_like_whole_rows() {
        use crate::template::{Partial as _, RowRef, Template};
        let lines: [&[u8]; 6] = [
            br#"{"type":"CONTACT/STARTED","timestamp":"2026-11-20T10:00:00.000Z","initiator":{"id":"a1","type":"AGENT"},"content":{"agentId":"a1","availableFor":["VOICE","MAIL"],"channel":"PHONE_CALL","contactId":"c1","context":{"x":1}},"items":[{"id":"i0"},{"id":"i1"}]}"#,
            br#"{"type":"AGENT_AVAILABILITY/UPDATED","content":{"availableFor":null,"agentId":""},"initiator":{"id":"i2"}}"#,
            br#"{"type":"B","content":"a string","initiator":5,"items":"no list"}"#,
            br#"{"content":{},"initiator":{"type":null}}"#,
            b"{}",
            br#"{"type":"C","content":{"agentId":"x","agentId":"y"},"items":[]}"#,
        ];
        let sources = [
            "row.type == 'CONTACT/STARTED' and row.initiator.type == 'AGENT'",
            "row.content.agentId or row.initiator.id",
            "'VOICE' in (row.content.availableFor or [])",
            "row.type in ['AGENT_AVAILABILITY/UPDATED', 'B']",
            "row.content.channel == 'PHONE_CALL'",
            "row.content.contactId",
            "row.items[1].id",
            "row.initiator",
            "not row.content.missing",
            "row['type']",
        ];
        let templates: Vec<Template> = sources
            .iter()
            .map(|s| {
                let text = format!("{{{{ {s} }}}}");
                Template::compile(&text, crate::diagnostic::Span::new(1, 1, 1)).unwrap()
            })
            .collect();
        let mut paths = Vec::new();
        for t in &templates {
            t.native().unwrap().row_paths(&mut paths).unwrap();
        }
        let columns = [
            "timestamp",
            "content.contactId",
            "items.0.id",
            "items.1",
            "content.context.x",
        ];
        for c in columns {
            paths.push(c.split('.').map(str::to_owned).collect());
        }
        let projection = std::sync::Arc::new(Projection::new(&paths));
        let globals = Map::new();
        for line in lines {
            let Value::Object(full) = serde_json::from_slice::<Value>(line).unwrap() else {
                unreachable!()
            };
            let slots = projection.parse_slots(line).unwrap().unwrap();
            let text = (std::sync::Arc::new(line.to_vec()), 0..line.len());
            let partial = PartialRow::new(1, 1, std::sync::Arc::clone(&projection), slots, text);
            let text = String::from_utf8_lossy(line);
            for path in &paths {
                assert_eq!(
                    RowRef::Partial(&partial).value_at(path),
                    RowRef::Map(&full).value_at(path),
                    "{text}: {path:?}"
                );
            }
            for (t, source) in templates.iter().zip(sources) {
                let e = t.native().unwrap();
                let whole = crate::template::Env {
                    row: RowRef::Map(&full),
                    globals: &globals,
                };
                let part = crate::template::Env {
                    row: RowRef::Partial(&partial),
                    globals: &globals,
                };
                assert_eq!(e.eval(&part), e.eval(&whole), "{text}: `{source}`");
            }
            // What the engine gets when it takes over: the whole row.
            assert_eq!(partial.to_map(), full, "{text}");
        }
        let not_object = projection.parse_slots(b"[1]").unwrap();
        assert_eq!(not_object, Err(json!([1])));
        assert!(projection.parse_slots(br#"{"type":"A""#).is_err());
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
