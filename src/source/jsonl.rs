//! JSON Lines rows: one JSON object per line, blank lines skipped.
//!
//! It owns line splitting (with a size cap, so one runaway line cannot take all memory)
//! and the JSON-object parsing shared with the JSON-array reader, including turning
//! `serde_json`'s element-relative positions into file positions. A bad line fails that
//! row only. Values keep their JSON types; it does not flatten or coerce them.

use serde_json::{Map, Value};

use super::{
    Row,
    error::{RowError, RowErrorKind},
    input::Input,
    projection::{PartialRow, Projection},
};

/// A line's row number, file line, and its bytes or why it cannot be a row.
type NextLine<'a> = (u64, u64, Result<&'a [u8], RowErrorKind>);

/// Like [`NextLine`], with where the line's bytes end in the buffer they were read into.
type NextLineEnd = (u64, u64, Result<usize, RowErrorKind>);

/// Streams the rows of one JSON Lines source, reusing one line buffer.
pub(super) struct JsonlRows {
    input: Input,
    line: Vec<u8>,
    max_row_bytes: usize,
    number: u64,
    started: bool,
    done: bool,
}

impl JsonlRows {
    /// Wraps the input; nothing is read until the first row is asked for.
    pub(super) fn new(input: Input, max_row_bytes: usize) -> Self {
        Self {
            input,
            line: Vec::new(),
            max_row_bytes,
            number: 0,
            started: false,
            done: false,
        }
    }

    /// Reads up to the next non-blank line into `out` (after `out`'s first `start` bytes,
    /// without the line break): its row number and file line, and `Ok` with its end, or
    /// why it cannot be a row (nothing of it is kept then). `None` at the end.
    fn next_line_into(
        &mut self,
        out: &mut Vec<u8>,
        start: usize,
    ) -> std::io::Result<Option<NextLineEnd>> {
        if !self.started {
            self.started = true;
            self.input.skip_bom()?;
        }
        loop {
            let line = self.input.line();
            out.truncate(start);
            let Some(oversized) = read_line(&mut self.input, out, start, self.max_row_bytes)?
            else {
                return Ok(None);
            };
            if !oversized && out[start..].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.number += 1;
            if oversized {
                out.truncate(start);
                let limit = self.max_row_bytes;
                return Ok(Some((
                    self.number,
                    line,
                    Err(RowErrorKind::TooLarge { limit }),
                )));
            }
            // Without its line break, so an error at the end points at this line.
            if out.last() == Some(&b'\n') {
                out.pop();
            }
            return Ok(Some((self.number, line, Ok(out.len()))));
        }
    }

    /// Reads up to the next non-blank line: its row number, file line, and its bytes
    /// (without the line break), or why it cannot be a row.
    fn next_line(&mut self) -> std::io::Result<Option<NextLine<'_>>> {
        let mut line = std::mem::take(&mut self.line);
        let next = self.next_line_into(&mut line, 0);
        self.line = line;
        Ok(next?.map(|(number, at, end)| (number, at, end.map(|end| &self.line[..end]))))
    }

    /// Reads up to the next non-blank line and makes it a row.
    fn next_row(&mut self) -> std::io::Result<Option<Result<Row, RowError>>> {
        let Some((number, line, text)) = self.next_line()? else {
            return Ok(None);
        };
        Ok(Some(parse_line(number, line, text)))
    }

    /// Up to `max` lines appended to `batch` unparsed; false when the source is done.
    pub(super) fn next_packed(&mut self, batch: &mut Packed, max: usize) -> bool {
        while batch.items.len() < max {
            if self.done {
                return false;
            }
            let at = self.input.line();
            let start = batch.bytes.len();
            match self.next_line_into(&mut batch.bytes, start) {
                Ok(Some((number, line, Ok(end)))) => {
                    batch.items.push(Packed::line(number, line, start, end));
                }
                Ok(Some((number, line, Err(kind)))) => {
                    batch.items.push(PackedItem::Ready(Err(RowError {
                        number,
                        line,
                        column: None,
                        kind,
                    })));
                }
                Ok(None) => {
                    batch.bytes.truncate(start);
                    self.done = true;
                    return false;
                }
                Err(err) => {
                    batch.bytes.truncate(start);
                    self.done = true;
                    batch.items.push(PackedItem::Ready(Err(RowError {
                        number: self.number + 1,
                        line: at,
                        column: None,
                        kind: RowErrorKind::Io(err),
                    })));
                    return false;
                }
            }
        }
        true
    }
}

impl Iterator for JsonlRows {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let line = self.input.line();
        match self.next_row() {
            Ok(Some(row)) => Some(row),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(err) => {
                self.done = true;
                Some(Err(RowError {
                    number: self.number + 1,
                    line,
                    column: None,
                    kind: RowErrorKind::Io(err),
                }))
            }
        }
    }
}

/// Appends the next line of `input` (with its `\n`) to `out`, which holds `start` bytes of
/// other lines before it. Returns `None` at the end, `Some(true)` when the line was over
/// `max` bytes and was dropped rather than kept.
fn read_line(
    input: &mut Input,
    out: &mut Vec<u8>,
    start: usize,
    max: usize,
) -> std::io::Result<Option<bool>> {
    let (mut any, mut oversized) = (false, false);
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(any.then_some(oversized));
        }
        let (take, ends) = match memchr::memchr(b'\n', buf) {
            Some(at) => (at + 1, true),
            None => (buf.len(), false),
        };
        if !oversized && out.len() - start + take <= max {
            out.extend_from_slice(&buf[..take]);
        } else {
            oversized = true;
            out.truncate(start);
        }
        input.consume(take);
        any = true;
        if ends {
            return Ok(Some(oversized));
        }
    }
}

fn parse_line(number: u64, line: u64, text: Result<&[u8], RowErrorKind>) -> Result<Row, RowError> {
    Row::or_error(number, line, text.and_then(|t| parse_object(t, line, 1)))
}

/// A row of a batch: read whole, or (a JSON line) only at some paths.
#[derive(Debug)]
pub(crate) enum Parsed {
    Full(Row),
    Partial(PartialRow),
}

/// A batch of rows read but not parsed yet: JSON Lines lines share one buffer, so a batch
/// costs two allocations whatever its size, and is parsed by whoever takes it.
#[derive(Debug, Default)]
pub(crate) struct Packed {
    bytes: Vec<u8>,
    items: Vec<PackedItem>,
}

#[derive(Debug)]
enum PackedItem {
    Ready(Result<Row, RowError>),
    Line {
        number: u64,
        line: u64,
        start: usize,
        end: usize,
    },
}

impl Packed {
    fn line(number: u64, line: u64, start: usize, end: usize) -> PackedItem {
        PackedItem::Line {
            number,
            line,
            start,
            end,
        }
    }

    /// An empty batch with room for `bytes` of lines and `items` rows.
    pub(super) fn with_capacity(bytes: usize, items: usize) -> Packed {
        Packed {
            bytes: Vec::with_capacity(bytes),
            items: Vec::with_capacity(items),
        }
    }

    /// The bytes and rows it holds.
    pub(super) fn capacity_used(&self) -> (usize, usize) {
        (self.bytes.len(), self.items.len())
    }

    /// Adds a row that is already read (CSV, JSON arrays).
    pub(super) fn push_ready(&mut self, row: Result<Row, RowError>) {
        self.items.push(PackedItem::Ready(row));
    }

    /// Rows in the batch.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the batch holds no row.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The rows, parsed now, in order; JSON Lines rows are read only at the paths of
    /// `projection`, into [`PartialRow`]s.
    pub(crate) fn rows_partial(
        self,
        projection: &std::sync::Arc<Projection>,
    ) -> impl Iterator<Item = Result<Parsed, RowError>> {
        let bytes = std::sync::Arc::new(self.bytes);
        self.items.into_iter().map(move |item| match item {
            PackedItem::Ready(row) => row.map(Parsed::Full),
            PackedItem::Line {
                number,
                line,
                start,
                end,
            } => {
                let kind = match projection.parse_slots(&bytes[start..end]) {
                    Ok(Ok(slots)) => {
                        let text = (std::sync::Arc::clone(&bytes), start..end);
                        let projection = std::sync::Arc::clone(projection);
                        let row = PartialRow::new(number, line, projection, slots, text);
                        return Ok(Parsed::Partial(row));
                    }
                    Ok(Err(other)) => RowErrorKind::NotAnObject {
                        found: describe(&other),
                    },
                    Err(err) => invalid_json(&err, line, 1),
                };
                Err(RowError {
                    number,
                    line,
                    column: None,
                    kind,
                })
            }
        })
    }

    /// The rows, parsed now, in order.
    pub(crate) fn rows(self) -> impl Iterator<Item = Result<Row, RowError>> {
        let bytes = self.bytes;
        self.items.into_iter().map(move |item| match item {
            PackedItem::Ready(row) => row,
            PackedItem::Line {
                number,
                line,
                start,
                end,
            } => parse_line(number, line, Ok(&bytes[start..end])),
        })
    }
}

/// Parses `bytes` as one JSON object. `line` and `column` (1-based) say where the bytes
/// start in the file, so that a syntax error can point at the file position.
pub(super) fn parse_object(
    bytes: &[u8],
    line: u64,
    column: u64,
) -> Result<Map<String, Value>, RowErrorKind> {
    serde_json::from_slice::<Value>(bytes)
        .map_err(|err| invalid_json(&err, line, column))
        .and_then(object)
}

/// The object a row must be.
fn object(value: Value) -> Result<Map<String, Value>, RowErrorKind> {
    match value {
        Value::Object(values) => Ok(values),
        other => Err(RowErrorKind::NotAnObject {
            found: describe(&other),
        }),
    }
}

/// Converts a `serde_json` error, whose position counts from the start of the slice,
/// into one that counts from the start of the file.
fn invalid_json(err: &serde_json::Error, line: u64, column: u64) -> RowErrorKind {
    let message = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
    let (err_line, err_column) = (err.line() as u64, err.column() as u64);
    let (line, column) = match err_line {
        // No position (not expected for syntax errors): point at the element's start.
        0 => (line, column),
        1 => (line, column - 1 + err_column),
        _ => (line + err_line - 1, err_column),
    };
    RowErrorKind::InvalidJson {
        message,
        line,
        column,
    }
}

/// Names the JSON type of a non-object value, for "expected a JSON object, found …".
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &'static [u8], max_row_bytes: usize) -> JsonlRows {
        JsonlRows::new(Input::new(Box::new(text)), max_row_bytes)
    }

    fn rows(text: &'static [u8]) -> Vec<Result<(u64, u64, Value), String>> {
        reader(text, 1024)
            .map(|row| {
                row.map(|row| (row.number, row.line, Value::Object(row.values)))
                    .map_err(|err| err.to_string())
            })
            .collect()
    }

    #[test]
    fn reads_objects_with_their_json_types_and_key_order() {
        let mut rows = reader(b"{\"b\":1,\"a\":[true,null],\"c\":\"{{ 7*7 }}\"}\n", 1024);
        let row = rows.next().unwrap().unwrap();
        assert_eq!((row.number, row.line), (1, 1));
        let keys: Vec<_> = row.values.keys().collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(row.values["a"], serde_json::json!([true, null]));
        assert_eq!(row.values["c"], "{{ 7*7 }}");
        assert!(rows.next().is_none());
        assert!(rows.next().is_none());
    }

    #[test]
    fn blank_lines_are_skipped_but_counted() {
        assert_eq!(
            rows(b"\xEF\xBB\xBF\n{\"a\":1}\r\n  \r\n\t\n{\"a\":2}"),
            [
                Ok((1, 2, serde_json::json!({"a": 1}))),
                Ok((2, 5, serde_json::json!({"a": 2}))),
            ]
        );
    }

    #[test]
    fn bad_lines_fail_that_row_and_iteration_continues() {
        assert_eq!(
            rows(b"{\"a\":1}\n{\"a\":\n[1,2]\n\"text\"\n{\"a\":2} x\n{\"a\":3}\n"),
            [
                Ok((1, 1, serde_json::json!({"a": 1}))),
                Err("row 2 (line 2): invalid JSON at line 2, column 5: \
                     EOF while parsing a value"
                    .into()),
                Err("row 3 (line 3): expected a JSON object, found an array".into()),
                Err("row 4 (line 4): expected a JSON object, found a string".into()),
                Err("row 5 (line 5): invalid JSON at line 5, column 9: trailing characters".into()),
                Ok((6, 6, serde_json::json!({"a": 3}))),
            ]
        );
    }

    #[test]
    fn empty_input_has_no_rows() {
        assert!(rows(b"").is_empty());
        assert!(rows(b"\n\n").is_empty());
    }

    #[test]
    fn oversized_line_is_dropped_and_reading_goes_on() {
        let rows: Vec<_> = reader(b"{\"a\":\"0123456789\"}\n{\"b\":1}\n", 12).collect();
        assert!(matches!(
            rows[0],
            Err(RowError {
                number: 1,
                line: 1,
                kind: RowErrorKind::TooLarge { limit: 12 },
                ..
            })
        ));
        let row = rows[1].as_ref().unwrap();
        assert_eq!((row.number, row.line), (2, 2));
    }

    #[test]
    fn positions_inside_a_multi_line_slice_are_made_absolute() {
        let RowErrorKind::InvalidJson { line, column, .. } =
            parse_object(b"{\n  \"a\": x}", 10, 5).unwrap_err()
        else {
            panic!("expected invalid JSON");
        };
        assert_eq!((line, column), (11, 8));
        let RowErrorKind::InvalidJson { line, column, .. } =
            parse_object(b"{\"a\" 1}", 10, 5).unwrap_err()
        else {
            panic!("expected invalid JSON");
        };
        assert_eq!((line, column), (10, 10));
    }
}
