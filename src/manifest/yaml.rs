//! A YAML document as a tree of nodes that remember where they came from.
//!
//! serde-based YAML readers stop at the first problem and forget positions; the manifest
//! validator wants every problem at once, each with `line:column`. So the manifest is read
//! into [`Node`]s from `saphyr-parser`'s event stream (a maintained YAML 1.2 parser), and the
//! `raw` module walks the tree. This module knows nothing about manifests.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diagnostic::Span;

/// One YAML value and its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// What the value is.
    pub kind: NodeKind,
    /// Where it starts (for mappings and sequences: their first character).
    pub span: Span,
}

/// The shape of a YAML value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// A scalar: its text and whether it was written plain (unquoted), which decides
    /// whether `1`, `true` or `null` are read as numbers, booleans or null.
    Scalar {
        /// The scalar's text after YAML unescaping.
        text: String,
        /// Written without quotes or block indicators.
        plain: bool,
    },
    /// A sequence of nodes.
    Seq(Vec<Node>),
    /// A mapping, in document order; keys are nodes so their positions are kept.
    Map(Vec<(Node, Node)>),
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// Where the parser stopped.
    pub span: Span,
    /// The parser's explanation.
    pub message: String,
}

impl Node {
    /// The scalar text, when this is a scalar.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries, when this is a mapping.
    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// True for a plain `null`, `~` or empty scalar.
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true } if is_null_text(text))
    }

    /// A short name of the node's type for messages ("a mapping", "a list", "text").
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Map(_) => "a mapping",
            NodeKind::Seq(_) => "a list",
            NodeKind::Scalar { .. } if self.is_null() => "nothing",
            NodeKind::Scalar { .. } => "a scalar",
        }
    }

    /// The value as JSON, applying YAML 1.2 core-schema typing to plain scalars.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Scalar { text, plain: true } => plain_scalar_to_json(text),
            NodeKind::Scalar { text, .. } => Value::String(text.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn plain_scalar_to_json(text: &str) -> serde_json::Value {
    use serde_json::Value;
    if is_null_text(text) {
        return Value::Null;
    }
    match text {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    if text.contains(['.', 'e', 'E'])
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-')
        && let Ok(f) = text.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

/// Parses the one document of `source`. An empty document yields `Ok(None)`; a second
/// document with content is an error (it would otherwise be silently ignored).
pub(crate) fn parse(source: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut second: Option<Span> = None;
    for item in Parser::new_from_str(source) {
        let (event, span) = item.map_err(|e| {
            let line = e.marker().line();
            // A `[` or `{` left open shows up as a flow or indicator error on a later
            // line: point at it.
            let flowish = e.info().contains("flow") || e.info().contains("indicator");
            match unclosed_flow(source, line).filter(|_| flowish) {
                Some((open, at)) => YamlError {
                    span: at,
                    message: format!(
                        "this `{open}` is never closed (the YAML parser stopped at line {line}: \
                         {})",
                        e.info()
                    ),
                },
                None => YamlError {
                    span: Span::new(line, e.marker().col() + 1, 1),
                    message: e.info().to_owned(),
                },
            }
        })?;
        let start = span.start;
        let len = span.end.index().saturating_sub(start.index());
        let at = Span::new(start.line(), start.col() + 1, len);
        if builder.root.is_none() {
            builder.push(event, at)?;
            continue;
        }
        match event {
            Event::DocumentStart(_) => second = Some(at),
            Event::Scalar(text, ScalarStyle::Plain, ..) if is_null_text(&text) => {}
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) => {
                return Err(YamlError {
                    span: second.map_or(at, |s| Span { len: 3, ..s }),
                    message: "a manifest is one YAML document, but a second one starts here".into(),
                });
            }
            _ => {}
        }
    }
    Ok(builder.root)
}

/// The first `[` or `{` on a line before `before` that is still open when that line
/// starts (outside quotes and comments), with its position.
fn unclosed_flow(source: &str, before: usize) -> Option<(char, Span)> {
    let mut open: Vec<(char, Span)> = Vec::new();
    for (index, text) in source.lines().enumerate().take(before.saturating_sub(1)) {
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (column, c) in text.chars().enumerate() {
            let starts_value = matches!(previous, ' ' | '[' | '{' | ',' | ':' | '-');
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                // A quote opens a quoted value only where a value starts (`it's` is text).
                (None, '"' | '\'') if starts_value => quote = Some(c),
                (None, '#') if previous == ' ' => break,
                // Likewise a bracket opens a list or mapping only where a value starts.
                (None, '[' | '{') if starts_value || !open.is_empty() => {
                    open.push((c, Span::new(index + 1, column + 1, 1)));
                }
                (None, ']' | '}') => {
                    open.pop();
                }
                // Inside quotes, or any other character.
                _ => {}
            }
            previous = c;
        }
    }
    // The innermost: `{ a: [1, 2` leaves the `[` to close first.
    open.pop()
}

/// A fix for the YAML mistakes people make most in manifests, by the parser's message.
pub(crate) fn hint(message: &str) -> Option<&'static str> {
    let hints = [
        ("is never closed (", "close it on the line where it belongs"),
        (
            "mapping values are not allowed",
            "quote text that contains `: `, e.g. `\"not found: check the id\"`",
        ),
        (
            "expected ',' or '}'",
            "a `{` before this point is never closed",
        ),
        (
            "expected ',' or ']'",
            "a `[` before this point is never closed",
        ),
        ("tab", "indent with spaces: YAML does not allow tabs here"),
        (
            "invalid indentation in flow construct",
            "a `{` or `[` before this point is never closed",
        ),
        ("quoted scalar", "a quote before this point is never closed"),
        (
            "expected '-' indicator",
            "check this line's indentation against the list above it",
        ),
        ("a second one starts here", "put each job in its own file"),
    ];
    hints
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, h)| *h)
}

/// The most values a manifest may hold once its aliases are expanded: far above any real
/// job, far below what an alias bomb (`a: &a [*b, *b, ...]`) would build.
pub(crate) const MAX_NODES: usize = 100_000;

/// The deepest nesting of lists and mappings.
pub(crate) const MAX_DEPTH: usize = 64;

/// Builds the tree from parser events with an explicit stack (no recursion limit issues).
#[derive(Default)]
struct Builder {
    stack: Vec<(Node, usize)>,
    pending_key: Vec<Option<Node>>,
    /// Each anchored node with the number of values it holds.
    anchors: HashMap<usize, (Node, usize)>,
    /// Values in each open node so far (to size anchors).
    sizes: Vec<usize>,
    /// Values built so far, aliases expanded.
    nodes: usize,
    root: Option<Node>,
}

/// A tag names a type or an include the manifest language does not have.
fn refuse_tag(
    tag: Option<&std::borrow::Cow<'_, saphyr_parser::Tag>>,
    span: Span,
) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(tag) => Err(YamlError {
            span,
            message: format!(
                "YAML tags such as `{}{}` are not part of the manifest language (nothing is \
                 included or converted): remove the tag",
                tag.handle, tag.suffix
            ),
        }),
    }
}

impl Builder {
    /// Counts `count` more values; an error past [`MAX_NODES`].
    fn grow(&mut self, count: usize, span: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(count);
        if let Some(open) = self.sizes.last_mut() {
            *open = open.saturating_add(count);
        }
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                span,
                message: format!(
                    "the manifest holds more than {MAX_NODES} values once its aliases are \
                     expanded"
                ),
            });
        }
        Ok(())
    }

    /// Feeds one event; returns true once the first document is complete.
    fn push(&mut self, event: Event<'_>, span: Span) -> Result<bool, YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                refuse_tag(tag.as_ref(), span)?;
                self.grow(1, span)?;
                let plain = matches!(style, ScalarStyle::Plain);
                let len = if span.len == 0 {
                    text.chars().count()
                } else {
                    span.len
                };
                let node = Node {
                    kind: NodeKind::Scalar {
                        text: text.into_owned(),
                        plain,
                    },
                    span: Span { len, ..span },
                };
                Ok(self.finish(node, anchor, 1))
            }
            Event::SequenceStart(anchor, tag) => {
                refuse_tag(tag.as_ref(), span)?;
                self.open(NodeKind::Seq(Vec::new()), span, anchor)?;
                Ok(false)
            }
            Event::MappingStart(anchor, tag) => {
                refuse_tag(tag.as_ref(), span)?;
                self.open(NodeKind::Map(Vec::new()), span, anchor)?;
                Ok(false)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = self.stack.pop().expect("balanced events");
                self.pending_key.pop();
                let size = self.sizes.pop().unwrap_or(1);
                Ok(self.finish(node, anchor, size))
            }
            Event::Alias(id) => {
                let (node, size) = self.anchors.get(&id).map_or_else(
                    || {
                        let empty = NodeKind::Scalar {
                            text: String::new(),
                            plain: true,
                        };
                        (Node { kind: empty, span }, 1)
                    },
                    |(node, size)| (node.clone(), *size),
                );
                // Counted before it is copied, so a bomb stops before it takes memory.
                self.grow(size, span)?;
                Ok(self.finish(Node { span, ..node }, 0, size))
            }
            Event::DocumentEnd => Ok(self.root.is_some()),
            _ => Ok(false),
        }
    }

    fn open(&mut self, kind: NodeKind, span: Span, anchor: usize) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                span,
                message: format!("lists and mappings are nested more than {MAX_DEPTH} deep"),
            });
        }
        self.grow(1, span)?;
        self.stack.push((
            Node {
                kind,
                span: Span { len: 1, ..span },
            },
            anchor,
        ));
        self.pending_key.push(None);
        self.sizes.push(1);
        Ok(())
    }

    /// Attaches a finished node (holding `size` values) to its parent; returns true when
    /// it was the root.
    fn finish(&mut self, node: Node, anchor: usize, size: usize) -> bool {
        if anchor != 0 {
            // Anchors are copied only when an alias names them (most never are); their size
            // is what an alias adds.
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let Some((parent, _)) = self.stack.last_mut() else {
            self.root = Some(node);
            return true;
        };
        let key_slot = self.pending_key.last_mut().expect("one slot per open node");
        match &mut parent.kind {
            NodeKind::Seq(items) => items.push(node),
            NodeKind::Map(entries) => match key_slot.take() {
                Some(key) => entries.push((key, node)),
                None => *key_slot = Some(node),
            },
            NodeKind::Scalar { .. } => unreachable!("scalars are never open"),
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let root = parse("a: 1\nsteps:\n  - name: x\n    body: {k: 'v'}\n")
            .unwrap()
            .unwrap();
        let map = root.as_map().unwrap();
        assert_eq!(map[0].0.span, Span::new(1, 1, 1));
        assert_eq!(map[0].1.span, Span::new(1, 4, 1));
        let NodeKind::Seq(steps) = &map[1].1.kind else {
            panic!()
        };
        let step = steps[0].as_map().unwrap();
        assert_eq!(step[0].0.span.line, 3);
        assert_eq!(step[0].0.span.column, 5);
        assert_eq!(step[1].1.as_map().unwrap()[0].1.span, Span::new(4, 15, 3));
    }

    #[test]
    fn types_plain_scalars_only() {
        let root = parse("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: text\ng: \"null\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            root.to_json(),
            json!({"a": 1, "b": "1", "c": true, "d": null, "e": 1.5, "f": "text", "g": "null"})
        );
    }

    #[test]
    fn resolves_aliases() {
        let root = parse("a: &x {k: 1}\nb: *x\n").unwrap().unwrap();
        assert_eq!(root.to_json(), json!({"a": {"k": 1}, "b": {"k": 1}}));
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.span.line >= 1);
        assert!(!err.message.is_empty());
    }

    #[test]
    fn a_second_document_is_an_error() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(err.span, Span::new(2, 1, 3));
        assert_eq!(hint(&err.message), Some("put each job in its own file"));
        assert_eq!(parse("a: 1\n---\n").unwrap(), parse("a: 1\n").unwrap());
        assert!(parse("a: 1\n...\n").is_ok());
    }

    #[test]
    fn common_mistakes_get_a_hint() {
        let err = parse("a: x: y\n").unwrap_err();
        assert!(
            hint(&err.message).unwrap().starts_with("quote text"),
            "{}",
            err.message
        );
        // A `{` left open is named where it opens, not where the parser gives up.
        let err = parse("a: { b: 1\nc: 2\n").unwrap_err();
        assert_eq!((err.span.line, err.span.column), (1, 4), "{}", err.message);
        assert!(
            err.message.starts_with("this `{` is never closed"),
            "{}",
            err.message
        );
        assert_eq!(
            hint(&err.message),
            Some("close it on the line where it belongs")
        );
        // A quote or a bracket inside plain text opens nothing; a `[` in quotes is text.
        let err = parse("a: it's [here\nq: \"[x\"\nb: [x\nc: 1\n").unwrap_err();
        assert_eq!((err.span.line, err.span.column), (3, 4), "{}", err.message);
        assert_eq!(hint("something else"), None);
    }

    #[test]
    fn empty_document_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}
