//! The buffered byte input every format reader pulls from, counting lines as it goes.
//!
//! Line numbers are the whole point of this file: each reader consumes bytes only through
//! [`Input::consume`], which counts the line breaks it passes, so "the line this row starts
//! on" is simply [`Input::line`] at the moment the row's first byte is next. It owns the
//! byte-order-mark rule too. It knows nothing about CSV or JSON syntax.

use std::io::{self, BufRead, BufReader, Read};

/// Bytes read from the underlying reader per refill; big enough that a refill is rare.
const BUFFER_BYTES: usize = 256 * 1024;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A buffered reader that knows which line and column the next byte is on.
pub(super) struct Input {
    reader: BufReader<Box<dyn Read + Send>>,
    /// 1-based line of the next unread byte.
    line: u64,
    /// Bytes consumed so far.
    offset: u64,
    /// Offset of the first byte of the current line.
    line_start: u64,
}

impl Input {
    pub(super) fn new(reader: Box<dyn Read + Send>) -> Self {
        Self {
            reader: BufReader::with_capacity(BUFFER_BYTES, reader),
            line: 1,
            offset: 0,
            line_start: 0,
        }
    }

    /// The 1-based line of the next unread byte.
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// The 1-based byte column of the next unread byte.
    pub(super) fn column(&self) -> u64 {
        self.offset - self.line_start + 1
    }

    /// The buffered bytes not yet consumed, reading more if none are left; empty at the end.
    pub(super) fn fill_buf(&mut self) -> io::Result<&[u8]> {
        loop {
            match self.reader.fill_buf() {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // Re-borrow through `buffer` so the returned slice outlives the match.
                Ok(_) => return Ok(self.reader.buffer()),
                Err(err) => return Err(err),
            }
        }
    }

    /// Marks the first `n` buffered bytes as read, counting the line breaks among them.
    pub(super) fn consume(&mut self, n: usize) {
        let consumed = &self.reader.buffer()[..n];
        if let Some(last) = memchr::memrchr(b'\n', consumed) {
            self.line += count_newlines(consumed);
            self.line_start = self.offset + last as u64 + 1;
        }
        self.offset += n as u64;
        self.reader.consume(n);
    }

    /// Skips a UTF-8 byte-order mark at the very start, which spreadsheet exports add.
    /// Returns whether the input holds any bytes at all.
    pub(super) fn skip_bom(&mut self) -> io::Result<bool> {
        let buf = self.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        if buf.starts_with(UTF8_BOM) {
            self.consume(UTF8_BOM.len());
            // Editors do not count the mark as a column.
            self.line_start = self.offset;
            return Ok(!self.fill_buf()?.is_empty());
        }
        Ok(true)
    }

    /// Consumes bytes while `skip` holds and returns the first byte it does not hold for,
    /// left unread, or `None` at the end of the input.
    pub(super) fn skip_while(&mut self, skip: impl Fn(u8) -> bool) -> io::Result<Option<u8>> {
        loop {
            let buf = self.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            if let Some(at) = buf.iter().position(|&b| !skip(b)) {
                let next = buf[at];
                self.consume(at);
                return Ok(Some(next));
            }
            let all = buf.len();
            self.consume(all);
        }
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: &'static [u8]) -> Input {
        Input::new(Box::new(bytes))
    }

    #[test]
    fn counts_lines_and_columns_while_consuming() {
        let mut input = input(b"ab\ncd\r\nef");
        assert_eq!((input.line(), input.column()), (1, 1));
        input.fill_buf().unwrap();
        input.consume(4);
        assert_eq!((input.line(), input.column()), (2, 2));
        input.consume(3);
        assert_eq!((input.line(), input.column()), (3, 1));
    }

    #[test]
    fn strips_bom_and_reports_emptiness() {
        let mut bom_only = input(b"\xEF\xBB\xBF");
        assert!(!bom_only.skip_bom().unwrap());
        let mut empty = input(b"");
        assert!(!empty.skip_bom().unwrap());
        let mut text = input(b"\xEF\xBB\xBFa");
        assert!(text.skip_bom().unwrap());
        assert_eq!(text.column(), 1);
        assert_eq!(text.fill_buf().unwrap(), b"a");
    }

    #[test]
    fn skip_while_stops_before_the_first_other_byte() {
        let mut input = input(b"\n\r\n  x");
        assert_eq!(
            input.skip_while(|b| b.is_ascii_whitespace()).unwrap(),
            Some(b'x')
        );
        assert_eq!((input.line(), input.column()), (3, 3));
        input.consume(1);
        assert_eq!(input.skip_while(|_| true).unwrap(), None);
    }
}
