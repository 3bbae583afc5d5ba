//! Errors of the source module: [`SourceError`] for problems that stop a source from
//! opening at all, and [`RowError`] for one bad row that the run records and moves past.
//!
//! The split mirrors STYLE.md §2.6: a setup problem (unreadable file, broken header) ends
//! the run before any request is sent, while a malformed row is data about that row. This
//! file owns the types and their wording only; it does not decide which error a reader
//! raises, and it does not render source lines or carets (that is `diagnostic`'s job,
//! fed from the positions carried here).

use std::{error::Error, fmt, io};

/// A problem that stops a source from being opened: nothing can be read from it.
#[derive(Debug)]
pub(crate) struct SourceError {
    /// The path (or name given to [`from_reader`](super::from_reader)) of the source.
    pub path: String,
    /// The 1-based line the problem is on, when it has one.
    pub line: Option<u64>,
    /// What went wrong.
    pub kind: SourceErrorKind,
}

/// What stopped a source from opening.
#[derive(Debug)]
pub(crate) enum SourceErrorKind {
    /// The file could not be opened or read.
    Io(io::Error),
    /// The path is a directory, a FIFO, a device or a socket: reading it could block or
    /// never end.
    NotAFile(&'static str),
    /// The header record cannot be read as one (why, in words).
    BrokenHeader(String),
    /// The file holds no bytes (apart from a byte-order mark).
    Empty,
    /// A CSV file holds only line breaks, so it has no header row.
    NoHeader,
    /// Two header columns share a name; both positions are 1-based column numbers.
    DuplicateHeader {
        /// The shared column name.
        name: String,
        /// The first column with that name.
        first: usize,
        /// The later column with the same name.
        second: usize,
    },
    /// A header column has an empty name (often a trailing delimiter).
    EmptyHeaderName {
        /// The 1-based column number.
        column: usize,
    },
    /// A header column name is not valid UTF-8.
    HeaderNotUtf8 {
        /// The 1-based column number.
        column: usize,
    },
    /// The CSV delimiter cannot work as one (a quote, a line break, or not ASCII).
    InvalidDelimiter {
        /// The rejected byte.
        delimiter: u8,
    },
    /// A JSON-array source does not start with `[`.
    NotJsonArray {
        /// The character found instead.
        found: char,
    },
}

impl SourceError {
    pub(super) fn new(path: &str, line: Option<u64>, kind: SourceErrorKind) -> Self {
        Self {
            path: path.to_owned(),
            line,
            kind,
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.path)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl Error for SourceError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            SourceErrorKind::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl fmt::Display for SourceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(err) => write!(f, "cannot read the file: {err}"),
            Self::NotAFile(what) => write!(
                f,
                "is {what}, not a regular file: give the path of a file of rows"
            ),
            Self::BrokenHeader(why) => write!(f, "the header: {why}"),
            Self::Empty => f.write_str("the file is empty"),
            Self::NoHeader => f.write_str("the file has no header row, only blank lines"),
            Self::DuplicateHeader {
                name,
                first,
                second,
            } => write!(
                f,
                "header columns {first} and {second} are both named `{name}`; \
                 column names must be unique"
            ),
            Self::EmptyHeaderName { column } => write!(
                f,
                "header column {column} has an empty name (is there a stray delimiter?)"
            ),
            Self::HeaderNotUtf8 { column } => {
                write!(f, "header column {column} is not valid UTF-8")
            }
            Self::InvalidDelimiter { delimiter } => write!(
                f,
                "cannot use `{}` as the delimiter: it must be one ASCII character \
                 other than `\"` or a line break",
                delimiter.escape_ascii()
            ),
            Self::NotJsonArray { found } => write!(
                f,
                "expected a JSON array starting with `[`, found `{}`",
                found.escape_debug()
            ),
        }
    }
}

/// A problem with one row; the reader yields it in place of the row and goes on.
#[derive(Debug)]
pub(crate) struct RowError {
    /// The 1-based data row index the row would have had (bad rows take a number too).
    pub number: u64,
    /// The 1-based line where the row starts.
    pub line: u64,
    /// The column at fault, when the problem belongs to one (CSV).
    pub column: Option<String>,
    /// What went wrong.
    pub kind: RowErrorKind,
}

/// What was wrong with a row.
///
/// After [`Io`](Self::Io), [`UnclosedArray`](Self::UnclosedArray) and
/// [`TrailingContent`](Self::TrailingContent) the reader ends: there is no next row to
/// find. After every other kind it continues with the next row.
#[derive(Debug)]
pub(crate) enum RowErrorKind {
    /// A CSV record has a different number of fields than the header.
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields in this record.
        found: usize,
    },
    /// A CSV field is not valid UTF-8 (the column is in [`RowError::column`]).
    InvalidUtf8,
    /// A CSV field holds a NUL byte (a binary file, or a broken export).
    NulByte,
    /// A JSON row does not parse.
    InvalidJson {
        /// The parser's message, without its position.
        message: String,
        /// The 1-based line of the problem in the file.
        line: u64,
        /// The 1-based byte column of the problem on that line (0 at an end of line).
        column: u64,
    },
    /// A JSON row parses but is not an object.
    NotAnObject {
        /// What it is instead, with its article (`an array`, `a string`, `null`, …).
        found: &'static str,
    },
    /// A JSON array holds an empty element (`[{}, , {}]` or a trailing comma).
    EmptyElement,
    /// A row is larger than the reader accepts; it was skipped without being kept.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The file ends before the JSON array is closed with `]`.
    UnclosedArray,
    /// There is more than whitespace after the closing `]` of a JSON array.
    TrailingContent,
    /// A quote opened in the record is never closed, so the rest of the file was read as
    /// one cell; nothing after it can be trusted.
    UnclosedQuote {
        /// The 1-based line of the opening quote.
        opened: u64,
    },
    /// A CSV record is over the size limit (a quote never closed in a large file, or a
    /// file without line breaks); nothing after it can be trusted.
    RecordTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading failed part-way through the file.
    Io(io::Error),
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {} (line {})", self.number, self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", column `{column}`")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl Error for RowError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            RowErrorKind::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl fmt::Display for RowErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FieldCount { expected, found } => write!(
                f,
                "expected {expected} {}, as in the header, found {found}",
                plural(*expected, "field", "fields")
            ),
            Self::InvalidUtf8 => f.write_str("the value is not valid UTF-8"),
            Self::NulByte => f.write_str("the value holds a NUL byte (is this a binary file?)"),
            Self::InvalidJson {
                message,
                line,
                column,
            } => write!(f, "invalid JSON at line {line}, column {column}: {message}"),
            Self::NotAnObject { found } => write!(f, "expected a JSON object, found {found}"),
            Self::EmptyElement => f.write_str("empty array element (a stray or trailing comma)"),
            Self::TooLarge { limit } => write!(f, "the row is larger than {limit} bytes"),
            Self::UnclosedArray => f.write_str("the file ends before the closing `]` of the array"),
            Self::TrailingContent => {
                f.write_str("unexpected content after the closing `]` of the array")
            }
            Self::UnclosedQuote { opened } => write!(
                f,
                "the quote opened on line {opened} is never closed, so the rest of the file \
                 would be one cell: close it (a quote inside a value is written `\"\"`)"
            ),
            Self::RecordTooLarge { limit } => write!(
                f,
                "the record is larger than {limit} bytes (a quote never closed, or no line \
                 breaks?): the file is not read further"
            ),
            Self::Io(err) => write!(f, "cannot read the rest of the file: {err}"),
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_error_names_path_and_line() {
        let err = SourceError::new(
            "rows.csv",
            Some(1),
            SourceErrorKind::DuplicateHeader {
                name: "email:1".into(),
                first: 2,
                second: 5,
            },
        );
        assert_eq!(
            err.to_string(),
            "`rows.csv` line 1: header columns 2 and 5 are both named `email:1`; \
             column names must be unique"
        );
        let err = SourceError::new("rows.csv", None, SourceErrorKind::Empty);
        assert_eq!(err.to_string(), "`rows.csv`: the file is empty");
    }

    #[test]
    fn invalid_delimiter_is_escaped() {
        let kind = SourceErrorKind::InvalidDelimiter { delimiter: b'\n' };
        assert!(
            kind.to_string()
                .starts_with("cannot use `\\n` as the delimiter")
        );
    }

    #[test]
    fn row_error_shows_row_line_and_column() {
        let err = RowError {
            number: 7,
            line: 9,
            column: Some("email".into()),
            kind: RowErrorKind::InvalidUtf8,
        };
        assert_eq!(
            err.to_string(),
            "row 7 (line 9), column `email`: the value is not valid UTF-8"
        );
        let err = RowError {
            number: 2,
            line: 3,
            column: None,
            kind: RowErrorKind::FieldCount {
                expected: 3,
                found: 1,
            },
        };
        assert_eq!(
            err.to_string(),
            "row 2 (line 3): expected 3 fields, as in the header, found 1"
        );
    }

    #[test]
    fn io_errors_expose_their_source() {
        let err = SourceError::new(
            "x",
            None,
            SourceErrorKind::Io(io::Error::other("disk on fire")),
        );
        assert!(err.source().is_some());
        assert_eq!(err.to_string(), "`x`: cannot read the file: disk on fire");
    }
}
