//! JSON-array rows: a file holding `[ {...}, {...} ]`, streamed one element at a time.
//!
//! Inputs can hold a million rows, so the array is never parsed or held as a whole: a
//! byte [`Scanner`] that knows only strings, escapes and bracket depth cuts out each
//! top-level element, and each element alone goes to `serde_json`. That keeps memory at
//! the size of the largest element (capped) and lets a malformed element fail just its
//! own row when the next comma can still be found. It does not accept JSON Lines or a
//! top-level object; those are other formats or other files.

use super::{
    Row,
    error::{RowError, RowErrorKind, SourceError, SourceErrorKind},
    input::Input,
    jsonl::parse_object,
};

/// Streams the elements of one JSON array as rows, reusing one element buffer.
pub(super) struct JsonArrayRows {
    input: Input,
    element: Vec<u8>,
    max_row_bytes: usize,
    number: u64,
    state: State,
}

/// Where the reader is in the array.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Just after `[`: the array may be empty.
    Opened,
    /// Between elements: the next thing is an element.
    Elements,
    /// After the closing `]`: only whitespace may follow.
    Closed,
    /// The input ended after a complete element, without the closing `]`.
    Unclosed,
    /// Nothing more to yield.
    Done,
}

/// What ended an element.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stop {
    Comma,
    Close,
    Eof,
}

fn is_json_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

impl JsonArrayRows {
    /// Checks that the input starts with `[` and reads nothing past it.
    pub(super) fn open(
        name: &str,
        mut input: Input,
        max_row_bytes: usize,
    ) -> Result<Self, SourceError> {
        let io_error = |err| SourceError::new(name, None, SourceErrorKind::Io(err));
        if !input.skip_bom().map_err(io_error)? {
            return Err(SourceError::new(name, None, SourceErrorKind::Empty));
        }
        match input.skip_while(is_json_space).map_err(io_error)? {
            None => Err(SourceError::new(name, None, SourceErrorKind::Empty)),
            Some(b'[') => {
                input.consume(1);
                Ok(Self {
                    input,
                    element: Vec::new(),
                    max_row_bytes,
                    number: 0,
                    state: State::Opened,
                })
            }
            Some(_) => {
                let found = first_char(input.fill_buf().map_err(io_error)?);
                let kind = SourceErrorKind::NotJsonArray { found };
                Err(SourceError::new(name, Some(input.line()), kind))
            }
        }
    }

    /// Advances past whitespace and structure to the next row, error or end.
    fn step(&mut self) -> std::io::Result<Option<Result<Row, RowError>>> {
        loop {
            if self.state == State::Done {
                return Ok(None);
            }
            let next = self.input.skip_while(is_json_space)?;
            match (self.state, next) {
                (State::Done, _) | (State::Closed, None) => {
                    self.state = State::Done;
                    return Ok(None);
                }
                (State::Opened, Some(b']')) => {
                    self.input.consume(1);
                    self.state = State::Closed;
                }
                (State::Opened | State::Elements, Some(_)) => {
                    self.state = State::Elements;
                    return self.next_element().map(Some);
                }
                (State::Closed, Some(_)) => {
                    return Ok(Some(self.fail(RowErrorKind::TrailingContent)));
                }
                // `Unclosed` with more bytes: a pipe or terminal can deliver data after
                // reporting its end; the array was still not closed when it ended.
                (State::Unclosed, _) | (State::Opened | State::Elements, None) => {
                    return Ok(Some(self.fail(RowErrorKind::UnclosedArray)));
                }
            }
        }
    }

    /// Ends the reader with an error that belongs to no element.
    fn fail(&mut self, kind: RowErrorKind) -> Result<Row, RowError> {
        self.state = State::Done;
        Err(RowError {
            number: self.number + 1,
            line: self.input.line(),
            column: None,
            kind,
        })
    }

    /// Cuts out the element starting at the next byte and parses it.
    fn next_element(&mut self) -> std::io::Result<Result<Row, RowError>> {
        self.number += 1;
        let (number, line, column) = (self.number, self.input.line(), self.input.column());
        let (stop, oversized, complete) = self.scan_element()?;
        self.state = match stop {
            Stop::Comma => State::Elements,
            Stop::Close => State::Closed,
            // A cut-off element already says the file ends early; don't say it twice.
            Stop::Eof if complete => State::Unclosed,
            Stop::Eof => State::Done,
        };
        let parsed = if oversized {
            let limit = self.max_row_bytes;
            Err(RowErrorKind::TooLarge { limit })
        } else if self.element.is_empty() {
            Err(RowErrorKind::EmptyElement)
        } else {
            parse_object(&self.element, line, column)
        };
        Ok(Row::or_error(number, line, parsed))
    }

    /// Copies the element's bytes into `self.element` (unless it outgrows the cap) and
    /// consumes the comma or `]` after it. Returns that stop, whether the element was
    /// too large, and whether it was syntactically closed when the input ended.
    fn scan_element(&mut self) -> std::io::Result<(Stop, bool, bool)> {
        self.element.clear();
        let mut scanner = Scanner::default();
        let mut oversized = false;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok((Stop::Eof, oversized, scanner.is_complete()));
            }
            let (len, stop) = scanner.scan(buf);
            if !oversized && self.element.len() + len <= self.max_row_bytes {
                self.element.extend_from_slice(&buf[..len]);
            } else {
                oversized = true;
                self.element.clear();
            }
            self.input.consume(len + usize::from(stop.is_some()));
            if let Some(stop) = stop {
                return Ok((stop, oversized, true));
            }
        }
    }
}

impl Iterator for JsonArrayRows {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.input.line();
        match self.step() {
            Ok(item) => item,
            Err(err) => {
                self.state = State::Done;
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

/// Finds where a top-level array element ends, one buffer at a time, by tracking only
/// what can hide a `,` or `]`: strings (with escapes) and nested brackets.
#[derive(Default, Debug)]
struct Scanner {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl Scanner {
    /// Scans the next bytes of the element. Returns how many belong to it and, when the
    /// element ends within `bytes`, the stop right after them.
    fn scan(&mut self, bytes: &[u8]) -> (usize, Option<Stop>) {
        for (at, &byte) in bytes.iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if byte == b'\\' {
                    self.escaped = true;
                } else if byte == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth = self.depth.saturating_add(1),
                b'}' | b']' if self.depth > 0 => self.depth -= 1,
                b']' => return (at, Some(Stop::Close)),
                b',' if self.depth == 0 => return (at, Some(Stop::Comma)),
                // A stray `}` stays in the element; the parser reports it.
                _ => {}
            }
        }
        (bytes.len(), None)
    }

    /// Whether every string and bracket opened so far is closed.
    fn is_complete(&self) -> bool {
        self.depth == 0 && !self.in_string
    }
}

/// The character at the start of `bytes`, for "expected `[`, found …".
fn first_char(bytes: &[u8]) -> char {
    bytes
        .utf8_chunks()
        .next()
        .and_then(|chunk| chunk.valid().chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn open(text: &'static [u8]) -> Result<JsonArrayRows, SourceError> {
        JsonArrayRows::open("rows.json", Input::new(Box::new(text)), 1024)
    }

    fn rows(text: &'static [u8]) -> Vec<Result<(u64, u64, Value), String>> {
        open(text)
            .unwrap()
            .map(|row| {
                row.map(|row| (row.number, row.line, Value::Object(row.values)))
                    .map_err(|err| err.to_string())
            })
            .collect()
    }

    #[test]
    fn streams_elements_with_start_lines() {
        let text = b"[\n  {\"id\": 1},\n  {\"id\": 2,\n   \"n\": [1, {\"x\": []}]}\n]\n";
        assert_eq!(
            rows(text),
            [
                Ok((1, 2, json!({"id": 1}))),
                Ok((2, 3, json!({"id": 2, "n": [1, {"x": []}]}))),
            ]
        );
    }

    #[test]
    fn brackets_commas_and_quotes_inside_strings_do_not_cut_elements() {
        let text = br#"[{"s": "a ] b, c } [ \" still \\"}, {"t": "\\\"],"}]"#;
        assert_eq!(
            rows(text),
            [
                Ok((1, 1, json!({"s": "a ] b, c } [ \" still \\"}))),
                Ok((2, 1, json!({"t": "\\\"],"}))),
            ]
        );
    }

    #[test]
    fn template_syntax_in_a_value_is_plain_text() {
        assert_eq!(
            rows(br#"[{"name": "{{ 7*7 }}"}]"#),
            [Ok((1, 1, json!({"name": "{{ 7*7 }}"})))]
        );
    }

    #[test]
    fn non_object_and_malformed_elements_fail_alone() {
        let text = b"[{\"a\":1}, 5, [1, 2], \"s\", null,\n {\"a\" 2}, {\"a\":3}]";
        assert_eq!(
            rows(text),
            [
                Ok((1, 1, json!({"a": 1}))),
                Err("row 2 (line 1): expected a JSON object, found a number".into()),
                Err("row 3 (line 1): expected a JSON object, found an array".into()),
                Err("row 4 (line 1): expected a JSON object, found a string".into()),
                Err("row 5 (line 1): expected a JSON object, found null".into()),
                Err("row 6 (line 2): invalid JSON at line 2, column 7: expected `:`".into()),
                Ok((7, 2, json!({"a": 3}))),
            ]
        );
    }

    #[test]
    fn empty_arrays_have_no_rows() {
        assert!(rows(b"[]").is_empty());
        assert!(rows(b"\xEF\xBB\xBF \n[ \n ]\n\n").is_empty());
    }

    #[test]
    fn stray_and_trailing_commas_are_empty_elements() {
        assert_eq!(
            rows(b"[{\"a\":1},,{\"a\":2},]"),
            [
                Ok((1, 1, json!({"a": 1}))),
                Err("row 2 (line 1): empty array element (a stray or trailing comma)".into()),
                Ok((3, 1, json!({"a": 2}))),
                Err("row 4 (line 1): empty array element (a stray or trailing comma)".into()),
            ]
        );
    }

    #[test]
    fn missing_closing_bracket_is_reported_after_the_last_row() {
        assert_eq!(
            rows(b"[{\"a\":1},\n{\"a\":2}\n"),
            [
                Ok((1, 1, json!({"a": 1}))),
                Ok((2, 2, json!({"a": 2}))),
                Err("row 3 (line 3): the file ends before the closing `]` of the array".into()),
            ]
        );
        assert_eq!(
            rows(b"[{\"a\":1},"),
            [
                Ok((1, 1, json!({"a": 1}))),
                Err("row 2 (line 1): the file ends before the closing `]` of the array".into()),
            ]
        );
    }

    #[test]
    fn element_cut_off_by_the_end_is_one_error() {
        assert_eq!(
            rows(b"[{\"a\":1}, {\"a\": \"x"),
            [
                Ok((1, 1, json!({"a": 1}))),
                Err("row 2 (line 1): invalid JSON at line 1, column 18: \
                     EOF while parsing a string"
                    .into()),
            ]
        );
    }

    #[test]
    fn content_after_the_array_is_reported() {
        assert_eq!(
            rows(b"[{\"a\":1}]\n[{\"a\":2}]"),
            [
                Ok((1, 1, json!({"a": 1}))),
                Err("row 2 (line 2): unexpected content after the closing `]` of the array".into()),
            ]
        );
    }

    #[test]
    fn not_an_array_fails_to_open() {
        let err = open(b"\n  {\"a\": 1}").err().unwrap();
        assert_eq!(err.line, Some(2));
        assert!(matches!(
            err.kind,
            SourceErrorKind::NotJsonArray { found: '{' }
        ));
        let err = open(b"\xC3\xA9").err().unwrap();
        assert!(matches!(
            err.kind,
            SourceErrorKind::NotJsonArray { found: 'é' }
        ));
        assert!(matches!(
            open(b"").err().unwrap().kind,
            SourceErrorKind::Empty
        ));
        assert!(matches!(
            open(b" \n ").err().unwrap().kind,
            SourceErrorKind::Empty
        ));
    }

    #[test]
    fn oversized_element_is_skipped_to_the_next_comma() {
        let text: &'static [u8] = b"[{\"a\":\"0123456789\"}, {\"b\":1}]";
        let rows: Vec<_> = JsonArrayRows::open("t", Input::new(Box::new(text)), 12)
            .unwrap()
            .collect();
        assert!(matches!(
            rows[0],
            Err(RowError {
                number: 1,
                kind: RowErrorKind::TooLarge { limit: 12 },
                ..
            })
        ));
        assert_eq!(rows[1].as_ref().unwrap().values["b"], 1);
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn scanner_keeps_state_across_buffers() {
        let mut scanner = Scanner::default();
        assert_eq!(scanner.scan(br#"{"a": "x\"#), (9, None));
        assert_eq!(scanner.scan(br#""y", "b": [1, 2"#), (15, None));
        assert_eq!(scanner.scan(b"]} , {}"), (3, Some(Stop::Comma)));
        assert!(scanner.is_complete());
    }
}
