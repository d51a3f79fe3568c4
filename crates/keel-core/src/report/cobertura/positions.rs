//! Line and column of the XML being read, for diagnostics.
//!
//! The parser streams, so there is no text to look back into: this reader keeps the bytes of
//! the event being read (and the whitespace before it) and counts lines and characters of
//! everything before, so the start of that event can be told as a line and column.

use std::io::{self, BufRead, Read};

/// A buffered reader that can tell where the current event starts.
pub(super) struct Positions<R> {
    inner: R,
    /// Bytes consumed since the last [`Positions::forget`].
    window: Vec<u8>,
    /// Bytes consumed before `window`.
    window_start: u64,
    /// 1-based line at the start of `window`.
    line: u64,
    /// 1-based column, in characters, at the start of `window`.
    column: u64,
}

impl<R: BufRead> Positions<R> {
    /// Wraps `inner`, at line 1, column 1.
    pub(super) fn new(inner: R) -> Self {
        Positions {
            inner,
            window: Vec::new(),
            window_start: 0,
            line: 1,
            column: 1,
        }
    }

    /// Called before each event: what was read so far is counted and dropped.
    pub(super) fn forget(&mut self) {
        let (line, column) = self.position_in_window(self.window.len());
        self.window_start += self.window.len() as u64;
        self.window.clear();
        (self.line, self.column) = (line, column);
    }

    /// Line and column of the current event's `<`, or of where it started to be read.
    pub(super) fn tag(&self) -> (u32, u32) {
        let at = memchr::memchr(b'<', &self.window).unwrap_or(0);
        clamp(self.position_in_window(at))
    }

    /// Line and column of absolute byte `offset`, clamped to the bytes still known.
    pub(super) fn at_offset(&self, offset: u64) -> (u32, u32) {
        let within = offset.saturating_sub(self.window_start);
        let within = usize::try_from(within).unwrap_or(usize::MAX);
        clamp(self.position_in_window(within.min(self.window.len())))
    }

    fn position_in_window(&self, end: usize) -> (u64, u64) {
        let mut bytes = &self.window[..end];
        if self.window_start == 0 {
            bytes = super::super::strip_bom(bytes);
        }
        let newlines = memchr::memchr_iter(b'\n', bytes).count() as u64;
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => (self.line + newlines, 1 + chars(&bytes[last + 1..])),
            None => (self.line, self.column + chars(bytes)),
        }
    }
}

/// UTF-8 characters in `bytes` (bytes that do not continue a character).
fn chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64
}

fn clamp((line, column): (u64, u64)) -> (u32, u32) {
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

impl<R: BufRead> Read for Positions<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.inner.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Positions<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // The bytes are still in the inner buffer: `fill_buf` returned them and nothing has
        // been consumed since, so this reads nothing new.
        if amount > 0
            && let Ok(buf) = self.inner.fill_buf()
        {
            self.window.extend_from_slice(&buf[..amount.min(buf.len())]);
        }
        self.inner.consume(amount);
    }
}
