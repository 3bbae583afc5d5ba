//! CSV (and TSV, or any one-byte delimiter) rows: the header, then one [`Row`] per record.
//!
//! It owns the header rules (required, unique, non-empty names) and turns each record
//! into text values: a cell is always a JSON string, never a number or a template, and
//! nothing is trimmed. It drives `csv_core` itself rather than the `csv` crate's reader
//! because only then does it see which bytes a record consumed, which is what makes
//! [`Row::line`] exact with CRLF endings, blank lines and quoted multi-line fields.
//! Blank lines are skipped and take no row number. It does not check required columns
//! against a manifest; callers do that with [`RowReader::columns`](super::RowReader::columns).

use std::collections::HashMap;

use csv_core::{ReadRecordResult, Reader as CoreReader, ReaderBuilder};
use serde_json::{Map, Value};

use super::{
    Row,
    error::{RowError, RowErrorKind, SourceError, SourceErrorKind},
    input::Input,
};

/// Streams the data records of one CSV source, reusing its buffers from row to row.
pub(super) struct CsvRows {
    input: Input,
    core: CoreReader,
    columns: Vec<String>,
    record: Record,
    /// Number of data records read so far (good or bad).
    number: u64,
    done: bool,
    /// The field delimiter.
    delimiter: u8,
    /// Set by `read_record` when the record just read cannot be trusted (and nothing after
    /// it): a quote left open at the end of the file, or a record over the size limit.
    broken: Option<RowErrorKind>,
}

/// The largest CSV record read, in bytes (fields are at most as large).
pub(crate) const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// The most fields one CSV record may have.
pub(crate) const MAX_RECORD_FIELDS: usize = 65_536;

/// Where the bytes of a record stand, quote-wise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// The fields of the last record read, as `csv_core` lays them out: all bytes in one
/// buffer and the end offset of each field in another.
#[derive(Default)]
struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
}

impl Record {
    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends[..self.len].iter().map(move |&end| {
            let field = &self.bytes[start..end];
            start = end;
            field
        })
    }
}

impl CsvRows {
    /// Reads the header, failing on anything that would make rows meaningless.
    pub(super) fn open(name: &str, mut input: Input, delimiter: u8) -> Result<Self, SourceError> {
        if !delimiter.is_ascii() || matches!(delimiter, b'"' | b'\n' | b'\r') {
            let kind = SourceErrorKind::InvalidDelimiter { delimiter };
            return Err(SourceError::new(name, None, kind));
        }
        let io_error = |err| SourceError::new(name, None, SourceErrorKind::Io(err));
        if !input.skip_bom().map_err(io_error)? {
            return Err(SourceError::new(name, None, SourceErrorKind::Empty));
        }
        let mut rows = Self {
            input,
            core: ReaderBuilder::new().delimiter(delimiter).build(),
            columns: Vec::new(),
            record: Record {
                bytes: vec![0; 4096],
                ends: vec![0; 32],
                len: 0,
            },
            number: 0,
            done: false,
            delimiter,
            broken: None,
        };
        let Some(line) = rows.read_record().map_err(io_error)? else {
            return Err(SourceError::new(name, None, SourceErrorKind::NoHeader));
        };
        if let Some(kind) = rows.broken.take() {
            let kind = SourceErrorKind::BrokenHeader(kind.to_string());
            return Err(SourceError::new(name, Some(line), kind));
        }
        rows.columns = header_columns(&rows.record)
            .map_err(|kind| SourceError::new(name, Some(line), kind))?;
        Ok(rows)
    }

    /// The header's column names, in file order.
    pub(super) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Reads the next record into `self.record`; returns the line it starts on, or `None`
    /// at the end of the input.
    fn read_record(&mut self) -> std::io::Result<Option<u64>> {
        // Step over line breaks ourselves so the record's first byte is the next one.
        if self
            .input
            .skip_while(|b| b == b'\n' || b == b'\r')?
            .is_none()
        {
            return Ok(None);
        }
        let line = self.input.line();
        let record = &mut self.record;
        let (mut out, mut ends) = (0, 0);
        // The quoting state of the record's bytes, as csv_core reads them: a quote opens a
        // quoted field only at the start of a field (`55" TV` is text), so a file that
        // ends inside one left a quote open; `opened` is the line of that quote.
        let (mut state, mut newlines, mut opened) = (Quoting::FieldStart, 0u64, line);
        let delimiter = self.delimiter;
        loop {
            let buf = self.input.fill_buf()?;
            let at_end = buf.is_empty();
            let (result, nin, nout, nend) =
                self.core
                    .read_record(buf, &mut record.bytes[out..], &mut record.ends[ends..]);
            for &b in &buf[..nin] {
                state = match (state, b) {
                    (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                    // `""` inside quotes is one quote character.
                    (Quoting::Quoted, _) | (Quoting::QuoteInQuoted, b'"') => Quoting::Quoted,
                    (Quoting::FieldStart, b'"') => {
                        opened = line + newlines;
                        Quoting::Quoted
                    }
                    (_, b) if b == delimiter || b == b'\n' || b == b'\r' => Quoting::FieldStart,
                    _ => Quoting::Unquoted,
                };
                if b == b'\n' {
                    newlines += 1;
                }
            }
            self.input.consume(nin);
            out += nout;
            ends += nend;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull
                    if record.bytes.len() >= MAX_RECORD_BYTES
                        || record.ends.len() >= MAX_RECORD_FIELDS =>
                {
                    record.len = ends;
                    self.broken = Some(RowErrorKind::RecordTooLarge {
                        limit: MAX_RECORD_BYTES,
                    });
                    return Ok(Some(line));
                }
                ReadRecordResult::OutputFull => record.bytes.resize(record.bytes.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => record.ends.resize(record.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    record.len = ends;
                    if at_end && state == Quoting::Quoted && newlines > 0 {
                        self.broken = Some(RowErrorKind::UnclosedQuote { opened });
                    }
                    return Ok(Some(line));
                }
                // Not reached after a non-break byte, but harmless: there is no record.
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// Turns the record just read into a row, or says why it cannot be one.
    fn to_row(&self, number: u64, line: u64) -> Result<Row, RowError> {
        let error = |column: Option<&String>, kind| RowError {
            number,
            line,
            column: column.cloned(),
            kind,
        };
        if self.record.len != self.columns.len() {
            let kind = RowErrorKind::FieldCount {
                expected: self.columns.len(),
                found: self.record.len,
            };
            return Err(error(None, kind));
        }
        let mut values = Map::with_capacity(self.columns.len());
        for (column, field) in self.columns.iter().zip(self.record.fields()) {
            let Ok(text) = std::str::from_utf8(field) else {
                return Err(error(Some(column), RowErrorKind::InvalidUtf8));
            };
            // A NUL is never text a person meant; Gladly would store it or refuse the body.
            if field.contains(&0) {
                return Err(error(Some(column), RowErrorKind::NulByte));
            }
            values.insert(column.clone(), Value::String(text.to_owned()));
        }
        Ok(Row {
            number,
            line,
            values,
        })
    }
}

impl Iterator for CsvRows {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let number = self.number + 1;
        match self.read_record() {
            Ok(Some(line)) => {
                self.number = number;
                if let Some(kind) = self.broken.take() {
                    self.done = true;
                    return Some(Err(RowError {
                        number,
                        line,
                        column: None,
                        kind,
                    }));
                }
                Some(self.to_row(number, line))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(err) => {
                // A reader that failed once cannot be trusted to resume mid-record.
                self.done = true;
                Some(Err(RowError {
                    number,
                    line: self.input.line(),
                    column: None,
                    kind: RowErrorKind::Io(err),
                }))
            }
        }
    }
}

/// Validates the header record and returns its names; positions in errors are 1-based.
fn header_columns(record: &Record) -> Result<Vec<String>, SourceErrorKind> {
    let mut columns = Vec::with_capacity(record.len);
    let mut seen = HashMap::with_capacity(record.len);
    for (index, field) in record.fields().enumerate() {
        let column = index + 1;
        let name =
            std::str::from_utf8(field).map_err(|_| SourceErrorKind::HeaderNotUtf8 { column })?;
        if name.is_empty() {
            return Err(SourceErrorKind::EmptyHeaderName { column });
        }
        if let Some(first) = seen.insert(name, column) {
            return Err(SourceErrorKind::DuplicateHeader {
                name: name.to_owned(),
                first,
                second: column,
            });
        }
        columns.push(name.to_owned());
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn open(text: &[u8], delimiter: u8) -> Result<CsvRows, SourceError> {
        let input = Input::new(Box::new(std::io::Cursor::new(text.to_vec())));
        CsvRows::open("rows.csv", input, delimiter)
    }

    /// A row as (number, line, values as text), or the error's Display.
    type Outcome = Result<(u64, u64, Vec<String>), String>;

    fn rows(text: &[u8]) -> Vec<Outcome> {
        open(text, b',')
            .unwrap()
            .map(|row| {
                row.map(|row| {
                    let values = row
                        .values
                        .values()
                        .map(|v| v.as_str().unwrap().to_owned())
                        .collect();
                    (row.number, row.line, values)
                })
                .map_err(|err| err.to_string())
            })
            .collect()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|&v| v.to_owned()).collect()
    }

    #[test]
    fn reads_header_and_rows_as_text_in_column_order() {
        let mut rows = open(b"b,a,n\nx,y,123\n", b',').unwrap();
        assert_eq!(rows.columns(), ["b", "a", "n"]);
        let row = rows.next().unwrap().unwrap();
        assert_eq!((row.number, row.line), (1, 2));
        let keys: Vec<_> = row.values.keys().collect();
        assert_eq!(keys, ["b", "a", "n"]);
        // Data is text: a numeric-looking cell stays a string.
        assert_eq!(row.values["n"], Value::String("123".into()));
        assert!(rows.next().is_none());
        assert!(rows.next().is_none());
    }

    #[test]
    fn strips_bom_from_first_header_name() {
        let rows = open(b"\xEF\xBB\xBFid,name\n1,a\n", b',').unwrap();
        assert_eq!(rows.columns(), ["id", "name"]);
    }

    #[test]
    fn crlf_lines_and_missing_final_newline() {
        assert_eq!(
            rows(b"id,name\r\n1,a\r\n2,b"),
            [
                Ok((1, 2, strings(&["1", "a"]))),
                Ok((2, 3, strings(&["2", "b"]))),
            ]
        );
    }

    #[test]
    fn quoted_fields_keep_delimiters_quotes_and_newlines() {
        let text = b"id,note\r\n1,\"a, \"\"b\"\"\r\nsecond\nthird\"\r\n2,plain\r\n";
        assert_eq!(
            rows(text),
            [
                Ok((1, 2, strings(&["1", "a, \"b\"\r\nsecond\nthird"]))),
                Ok((2, 5, strings(&["2", "plain"]))),
            ]
        );
    }

    #[test]
    fn blank_lines_are_skipped_but_counted_as_lines() {
        assert_eq!(
            rows(b"\n\nid\n\n1\r\n\r\n\r\n2\n\n"),
            [Ok((1, 5, strings(&["1"]))), Ok((2, 8, strings(&["2"])))]
        );
    }

    #[test]
    fn blank_cells_and_spaces_are_kept_as_is() {
        assert_eq!(
            rows(b"a,b,c\n, x ,\n"),
            [Ok((1, 2, strings(&["", " x ", ""])))]
        );
    }

    #[test]
    fn template_syntax_in_a_cell_is_plain_text() {
        assert_eq!(
            rows(b"name\n{{ 7*7 }}\n"),
            [Ok((1, 2, strings(&["{{ 7*7 }}"])))]
        );
    }

    #[test]
    fn tab_and_semicolon_delimiters() {
        let mut rows = open(b"id\tnote\n1\ta,b;c\n", b'\t').unwrap();
        assert_eq!(rows.columns(), ["id", "note"]);
        assert_eq!(rows.next().unwrap().unwrap().values["note"], "a,b;c");
        let mut rows = open(b"id;note\n1;a,b\n", b';').unwrap();
        assert_eq!(rows.next().unwrap().unwrap().values["note"], "a,b");
    }

    #[test]
    fn wrong_field_count_fails_that_row_only() {
        assert_eq!(
            rows(b"a,b\n1,2\n1,2,3\nonly\n3,4\n"),
            [
                Ok((1, 2, strings(&["1", "2"]))),
                Err("row 2 (line 3): expected 2 fields, as in the header, found 3".into()),
                Err("row 3 (line 4): expected 2 fields, as in the header, found 1".into()),
                Ok((4, 5, strings(&["3", "4"]))),
            ]
        );
    }

    #[test]
    fn invalid_utf8_fails_that_row_and_names_the_column() {
        assert_eq!(
            rows(b"id,name\n1,\xFF\xFE\n2,ok\n"),
            [
                Err("row 1 (line 2), column `name`: the value is not valid UTF-8".into()),
                Ok((2, 3, strings(&["2", "ok"]))),
            ]
        );
    }

    #[test]
    fn duplicate_header_names_both_columns() {
        let err = open(b"id,email:1,name,email:1\n", b',').err().unwrap();
        assert_eq!(err.line, Some(1));
        assert!(matches!(
            err.kind,
            SourceErrorKind::DuplicateHeader { ref name, first: 2, second: 4 } if name == "email:1"
        ));
    }

    #[test]
    fn empty_header_name_says_which_column() {
        let err = open(b"\nid,,name\n", b',').err().unwrap();
        assert_eq!(err.line, Some(2));
        assert!(matches!(
            err.kind,
            SourceErrorKind::EmptyHeaderName { column: 2 }
        ));
        let err = open(b"id,name,\n", b',').err().unwrap();
        assert!(matches!(
            err.kind,
            SourceErrorKind::EmptyHeaderName { column: 3 }
        ));
    }

    #[test]
    fn empty_and_headerless_files_fail_to_open() {
        assert!(matches!(
            open(b"", b',').err().unwrap().kind,
            SourceErrorKind::Empty
        ));
        let bom = open(b"\xEF\xBB\xBF", b',').err().unwrap();
        assert!(matches!(bom.kind, SourceErrorKind::Empty));
        let blank = open(b"\r\n\n", b',').err().unwrap();
        assert!(matches!(blank.kind, SourceErrorKind::NoHeader));
    }

    #[test]
    fn header_only_file_has_no_rows() {
        assert!(rows(b"id,name\r\n").is_empty());
    }

    #[test]
    fn rejects_delimiters_that_cannot_work() {
        for delimiter in [b'"', b'\n', b'\r', 0xE9] {
            let err = open(b"a\n", delimiter).err().unwrap();
            assert!(matches!(err.kind, SourceErrorKind::InvalidDelimiter { .. }));
        }
    }

    #[test]
    fn large_records_grow_the_buffers() {
        let long = "x".repeat(10_000);
        let header: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
        let row: Vec<&str> = (0..100).map(|_| long.as_str()).collect();
        let text = format!("{}\n{}\n", header.join(","), row.join(","));
        let mut rows = open(text.as_bytes(), b',').unwrap();
        let row = rows.next().unwrap().unwrap();
        assert_eq!(row.values.len(), 100);
        assert_eq!(row.values["c99"], Value::String(long));
    }

    /// A reader that hands out one byte per call, so every record spans many refills.
    struct Trickle(std::io::Cursor<Vec<u8>>);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let len = buf.len().min(1);
            self.0.read(&mut buf[..len])
        }
    }

    #[test]
    fn lines_stay_right_when_input_arrives_byte_by_byte() {
        let text = b"id,note\r\n\r\n1,\"x\r\ny\"\r\n2,z\r\n".to_vec();
        let input = Input::new(Box::new(Trickle(std::io::Cursor::new(text))));
        let lines: Vec<_> = CsvRows::open("t", input, b',')
            .unwrap()
            .map(|row| row.unwrap().line)
            .collect();
        assert_eq!(lines, [3, 5]);
    }

    struct FailAfter(&'static [u8]);

    impl Read for FailAfter {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk gone"));
            }
            self.0.read(buf)
        }
    }

    #[test]
    fn read_failure_mid_file_ends_the_rows() {
        let input = Input::new(Box::new(FailAfter(b"id\n1\n")));
        let mut rows = CsvRows::open("t", input, b',').unwrap();
        assert_eq!(rows.next().unwrap().unwrap().values["id"], "1");
        let err = rows.next().unwrap().unwrap_err();
        assert_eq!((err.number, err.line), (2, 3));
        assert!(matches!(err.kind, RowErrorKind::Io(_)));
        assert!(rows.next().is_none());
    }

    #[test]
    fn a_quote_left_open_is_named_and_a_quote_in_text_is_not() {
        // Excel's last line without a break: a multi-line quoted cell and an inch mark.
        let valid = rows(b"id,note,size\n1,\"a\nb\",55\" TV");
        assert_eq!(valid, [Ok((1, 2, strings(&["1", "a\nb", "55\" TV"])))]);
        let open = rows(b"id,note\nc1,x\nc2,\"hello\nc3,world\nc4,y\n");
        assert_eq!(open.len(), 2, "{open:?}");
        assert!(
            open[1]
                .as_ref()
                .unwrap_err()
                .contains("the quote opened on line 3 is never closed"),
            "{open:?}"
        );
    }

    #[test]
    fn a_record_with_too_many_fields_stops_the_file() {
        let mut text = b"id\n".to_vec();
        text.extend(std::iter::repeat_n(b',', 70_000));
        text.extend(b"\nc2\n");
        let out = rows(&text);
        assert_eq!(out.len(), 1, "nothing after it is read");
        assert!(
            out[0].as_ref().unwrap_err().contains("larger than"),
            "{out:?}"
        );
    }
}
