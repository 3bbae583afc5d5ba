//! Input rows for a run: streams [`Row`]s (ordered column → value) from CSV, JSON Lines
//! or JSON-array files, one at a time, with the file line each row starts on.
//!
//! It owns reading and the errors that carry file positions: a [`SourceError`] when a
//! source cannot be opened at all (unreadable, empty, broken header, not an array), and
//! a [`RowError`] in place of one malformed row, after which reading goes on. Memory stays
//! flat whatever the input size: rows are never collected, and one row is capped at
//! [`MAX_ROW_BYTES`] for the JSON formats. It knows nothing about manifests: it neither
//! checks required columns nor renders templates, and CSV cells are always text, so data
//! is never code.

mod csv;
mod error;
mod input;
mod json_array;
mod jsonl;
mod projection;

use std::{fs::File, io::Read, iter::FusedIterator, path::Path};

use serde_json::{Map, Value};

pub(crate) use error::{RowError, RowErrorKind, SourceError, SourceErrorKind};
pub(crate) use jsonl::{Packed, Parsed};
pub(crate) use projection::{PartialRow, Projection};

use self::{csv::CsvRows, input::Input, json_array::JsonArrayRows, jsonl::JsonlRows};

/// The largest JSON row (a line, or an array element) a reader keeps, in bytes; a larger
/// one becomes a [`RowErrorKind::TooLarge`] row error instead of an unbounded buffer.
pub(crate) const MAX_ROW_BYTES: usize = 16 * 1024 * 1024;

/// How a source's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Delimited text with a header row; every cell is a string.
    Csv {
        /// The field separator (`,` for CSV, tab for TSV).
        delimiter: u8,
    },
    /// One JSON object per line.
    Jsonl,
    /// One JSON array of objects.
    JsonArray,
}

impl Format {
    /// Guesses the format from the file extension (any case): `.csv`, `.tsv` (tab),
    /// `.jsonl`, `.ndjson` and `.json` (an array).
    pub(crate) fn from_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Format::Csv { delimiter: b',' }),
            "tsv" => Some(Format::Csv { delimiter: b'\t' }),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "json" => Some(Format::JsonArray),
            _ => None,
        }
    }
}

/// One input row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The 1-based data row index: the first row after a CSV header is 1. Rows that fail
    /// to read take a number too, so numbers match the input's rows.
    pub number: u64,
    /// The 1-based line in the file where the row starts.
    pub line: u64,
    /// Column → value, in column (CSV) or key (JSON) order.
    pub values: Map<String, Value>,
}

impl Row {
    /// The row read at `number`/`line`, or the error that takes its place.
    pub(crate) fn or_error(
        number: u64,
        line: u64,
        parsed: Result<Map<String, Value>, RowErrorKind>,
    ) -> Result<Row, RowError> {
        match parsed {
            Ok(values) => Ok(Row {
                number,
                line,
                values,
            }),
            Err(kind) => Err(RowError {
                number,
                line,
                column: None,
                kind,
            }),
        }
    }
}

/// Opens the file at `path` and reads what must be known up front: the header for CSV,
/// the opening `[` for a JSON array, nothing for JSON Lines.
pub(crate) fn open(path: &Path, format: Format) -> Result<RowReader, SourceError> {
    let name = path.display().to_string();
    let io = |err| SourceError::new(&name, None, SourceErrorKind::Io(err));
    // Checked before opening: opening a FIFO waits for a writer, and a device such as
    // /dev/zero never ends.
    let kind = std::fs::metadata(path).map_err(io)?.file_type();
    if !kind.is_file() {
        return Err(SourceError::new(
            &name,
            None,
            SourceErrorKind::NotAFile(file_kind(kind)),
        ));
    }
    let file = File::open(path).map_err(io)?;
    from_reader(&name, Box::new(file), format)
}

/// What a path that is not a regular file is, in words.
fn file_kind(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// Like [`open`], for bytes that do not come from a file (tests, memory, HTTP bodies);
/// `name` stands in for the path in errors.
pub(crate) fn from_reader(
    name: &str,
    reader: Box<dyn Read + Send>,
    format: Format,
) -> Result<RowReader, SourceError> {
    let input = Input::new(reader);
    let rows = match format {
        Format::Csv { delimiter } => Rows::Csv(Box::new(CsvRows::open(name, input, delimiter)?)),
        Format::Jsonl => Rows::Jsonl(JsonlRows::new(input, MAX_ROW_BYTES)),
        Format::JsonArray => Rows::JsonArray(JsonArrayRows::open(name, input, MAX_ROW_BYTES)?),
    };
    Ok(RowReader {
        name: name.to_owned(),
        rows,
    })
}

/// An open source: iterate it for rows, each `Ok(Row)` or the `Err(RowError)` that took
/// its place. It ends after the last row, or after an error nothing can follow (see
/// [`RowErrorKind`]).
pub(crate) struct RowReader {
    name: String,
    rows: Rows,
}

enum Rows {
    // Boxed: the CSV reader carries the parser's tables, several times the others' size.
    Csv(Box<CsvRows>),
    Jsonl(JsonlRows),
    JsonArray(JsonArrayRows),
}

impl RowReader {
    /// The CSV header's column names (without any byte-order mark); `None` for the JSON
    /// formats, whose rows each bring their own keys.
    pub(crate) fn columns(&self) -> Option<&[String]> {
        match &self.rows {
            Rows::Csv(rows) => Some(rows.columns()),
            Rows::Jsonl(_) | Rows::JsonArray(_) => None,
        }
    }
}

impl RowReader {
    /// The rows in batches of up to `size`, JSON Lines left unparsed (see [`Packed`]).
    pub(crate) fn packed(mut self, size: usize) -> impl Iterator<Item = Packed> + Send {
        let mut more = true;
        // Each batch starts at the size of the one before, instead of growing to it.
        let mut last = (0, 0);
        std::iter::from_fn(move || {
            if !more {
                return None;
            }
            let mut batch = Packed::with_capacity(last.0 + last.0 / 8, last.1);
            if let Rows::Jsonl(rows) = &mut self.rows {
                more = rows.next_packed(&mut batch, size);
            } else {
                while batch.len() < size {
                    let Some(row) = self.next() else {
                        more = false;
                        break;
                    };
                    batch.push_ready(row);
                }
            }
            last = batch.capacity_used();
            (!batch.is_empty()).then_some(batch)
        })
    }
}

impl Iterator for RowReader {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.rows {
            Rows::Csv(rows) => rows.next(),
            Rows::Jsonl(rows) => rows.next(),
            Rows::JsonArray(rows) => rows.next(),
        }
    }
}

impl FusedIterator for RowReader {}

impl std::fmt::Debug for RowReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowReader")
            .field("name", &self.name)
            .field("columns", &self.columns())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn memory(text: &'static str, format: Format) -> Result<RowReader, SourceError> {
        from_reader("memory", Box::new(text.as_bytes()), format)
    }

    #[test]
    fn format_from_extension() {
        let format = |path: &str| Format::from_path(Path::new(path));
        assert_eq!(format("a/rows.csv"), Some(Format::Csv { delimiter: b',' }));
        assert_eq!(format("rows.TSV"), Some(Format::Csv { delimiter: b'\t' }));
        assert_eq!(format("rows.jsonl"), Some(Format::Jsonl));
        assert_eq!(format("rows.ndjson"), Some(Format::Jsonl));
        assert_eq!(format("rows.json"), Some(Format::JsonArray));
        assert_eq!(format("rows.txt"), None);
        assert_eq!(format("rows"), None);
    }

    #[test]
    fn opens_a_csv_file_from_disk() {
        let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        file.write_all(b"\xEF\xBB\xBFid,email\r\n1,a@example.com\r\n")
            .unwrap();
        let format = Format::from_path(file.path()).unwrap();
        let mut rows = open(file.path(), format).unwrap();
        assert_eq!(
            rows.columns(),
            Some(&["id".to_owned(), "email".to_owned()][..])
        );
        let row = rows.next().unwrap().unwrap();
        assert_eq!((row.number, row.line), (1, 2));
        assert_eq!(row.values["email"], "a@example.com");
        assert!(rows.next().is_none());
    }

    #[test]
    fn missing_file_is_a_source_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.csv");
        let err = open(&path, Format::Csv { delimiter: b',' }).unwrap_err();
        assert!(matches!(err.kind, SourceErrorKind::Io(_)));
        assert_eq!(err.path, path.display().to_string());
        assert!(err.to_string().contains("cannot read the file"));
    }

    #[test]
    fn every_format_reads_the_same_rows() {
        let csv = memory("id,name\n1,Ann\n", Format::Csv { delimiter: b',' }).unwrap();
        let jsonl = memory("{\"id\":\"1\",\"name\":\"Ann\"}\n", Format::Jsonl).unwrap();
        let array = memory("[{\"id\":\"1\",\"name\":\"Ann\"}]", Format::JsonArray).unwrap();
        assert_eq!(jsonl.columns(), None);
        for reader in [csv, jsonl, array] {
            let rows: Vec<Row> = reader.map(Result::unwrap).collect();
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].values["name"], "Ann");
        }
    }

    #[test]
    fn json_array_that_is_not_an_array_fails_to_open() {
        let err = memory("{\"id\": 1}", Format::JsonArray).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`memory` line 1: expected a JSON array starting with `[`, found `{`"
        );
    }

    #[test]
    fn reader_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<RowReader>();
    }
}
