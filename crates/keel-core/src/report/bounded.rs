//! A reader that fails, rather than truncating, once a size limit is passed.

use std::io::{self, BufRead, Read};

/// Wraps a reader; reading more than `limit` bytes in total is an error.
#[derive(Debug)]
pub struct Bounded<R> {
    inner: R,
    left: u64,
}

#[derive(Debug)]
struct OverLimit;

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("input is over its size limit")
    }
}

impl std::error::Error for OverLimit {}

impl<R: Read> Bounded<R> {
    /// Allows at most `limit` bytes through.
    pub fn new(inner: R, limit: u64) -> Self {
        Bounded { inner, left: limit }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // One probe byte tells "exactly at the limit" from "over it".
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(OverLimit)),
            };
        }
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.left == 0 {
            // Anything beyond the limit is an error, not the end of the input.
            return match self.inner.fill_buf()?.is_empty() {
                true => Ok(&[]),
                false => Err(io::Error::other(OverLimit)),
            };
        }
        let buf = self.inner.fill_buf()?;
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        Ok(&buf[..max])
    }

    fn consume(&mut self, amount: usize) {
        self.left = self.left.saturating_sub(amount as u64);
        self.inner.consume(amount);
    }
}

pub(crate) fn is_over_limit(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<OverLimit>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_reads_stop_at_the_limit_too() {
        let mut b = Bounded::new(&[7u8; 12][..], 10);
        assert_eq!(b.fill_buf().unwrap().len(), 10);
        b.consume(10);
        assert!(is_over_limit(&b.fill_buf().unwrap_err()));
        let mut exact = Bounded::new(&[7u8; 10][..], 10);
        exact.consume(10);
        assert!(exact.fill_buf().unwrap().is_empty());
    }

    #[test]
    fn exactly_the_limit_passes_and_one_more_byte_fails() {
        let mut ok = Vec::new();
        Bounded::new(&[1u8; 10][..], 10)
            .read_to_end(&mut ok)
            .unwrap();
        assert_eq!(ok.len(), 10);
        let err = Bounded::new(&[1u8; 11][..], 10)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(is_over_limit(&err));
    }
}
