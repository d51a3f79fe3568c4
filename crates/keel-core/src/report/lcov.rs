//! LCOV tracefiles → [`CoverageReport`], streaming.
//!
//! Reads classic records (`FN:<line>,<name>`, numeric `BRDA`) and lcov-2 style ones
//! (`FN:<start>,<end>,<name>`, `FNL`/`FNA`, free-text branch ids as coverage.py writes them).
//! Several records for one file merge. Checksums, `TN`, `VER` and unknown records are skipped;
//! `LF`/`LH` that disagree with the `DA` lines of their record are noted, and so is an `SF:`
//! with no path (a file with no other record is an error naming that line). A UTF-8
//! byte-order mark before the first line is ignored. The input is read in chunks, so memory
//! follows the number of lines the report lists (within [`Limits::max_coverage_lines`]), not
//! the size of the file or its highest line number.

use super::coverage::{CoverageFormat, CoverageReport, max_line_number};
use super::{Bounded, ReportError};
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use std::io::BufRead;

const MAX_LINE: usize = 1 << 20;
/// Entries [`State::data_run`] adds before it stops to have them counted against the limit.
const COUNT_EVERY: u64 = 1 << 16;
const FORMAT: &str = "LCOV";

/// Parses an LCOV tracefile. `name` labels diagnostics.
///
/// Lines are read in place from the reader's own buffer (a `&[u8]` is read without any copy);
/// only a line split across two buffer fills is copied, and a line over 1 MiB is skipped.
pub fn parse_lcov(
    name: &str,
    reader: impl BufRead,
    limits: &Limits,
) -> Result<CoverageReport, ReportError> {
    let mut reader = Bounded::new(reader, limits.coverage_bytes);
    let io = |e| ReportError::from_io(e, "coverage report", limits.coverage_bytes);
    let mut state = State::new(name, limits);
    // The start of a line whose end is in a later buffer fill.
    let mut carry: Vec<u8> = Vec::new();
    let mut skipping_long_line = false;
    loop {
        let buf = reader.fill_buf().map_err(io)?;
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let Some(first_nl) = memchr::memchr(b'\n', buf) else {
            if !skipping_long_line {
                carry.extend_from_slice(buf);
                if carry.len() > MAX_LINE {
                    state.line_no += 1;
                    state.bad(format!("line longer than {MAX_LINE} bytes skipped"));
                    carry.clear();
                    skipping_long_line = true;
                }
            }
            reader.consume(len);
            continue;
        };
        let start = if skipping_long_line {
            skipping_long_line = false;
            first_nl + 1
        } else if !carry.is_empty() {
            carry.extend_from_slice(&buf[..first_nl]);
            state.line_no += 1;
            state.line(&carry)?;
            carry.clear();
            first_nl + 1
        } else {
            0
        };
        let last_nl = memchr::memrchr(b'\n', buf).unwrap_or(first_nl);
        if start <= last_nl {
            state.block(&buf[start..=last_nl])?;
        }
        carry.extend_from_slice(&buf[last_nl + 1..]);
        reader.consume(len);
    }
    if !carry.is_empty() && !skipping_long_line {
        state.line_no += 1;
        state.line(&carry)?;
    }
    state.finish()
}

#[derive(Default)]
struct RecordTally {
    lines: u64,
    hit: u64,
    declared_lines: Option<u64>,
    declared_hit: Option<u64>,
    first_line: u64,
}

struct State<'a> {
    name: &'a str,
    report: CoverageReport,
    max_line: u32,
    current: Option<usize>,
    line_no: u64,
    record: RecordTally,
    branch_line: u32,
    branch_ordinal: u32,
    records: u64,
    non_records: u64,
    /// The line of the first `SF:` that names no file.
    pathless_record: Option<u64>,
}

impl<'a> State<'a> {
    fn new(name: &'a str, limits: &Limits) -> Self {
        State {
            name,
            report: CoverageReport::new(CoverageFormat::Lcov, limits),
            max_line: max_line_number(limits),
            current: None,
            line_no: 0,
            record: RecordTally::default(),
            branch_line: 0,
            branch_ordinal: 0,
            records: 0,
            non_records: 0,
            pathless_record: None,
        }
    }

    /// Reads complete lines. Runs of `DA:<n>,<n>` and numeric `BRDA:` lines, the bulk of any
    /// report, go through [`State::data_run`]; anything else (and any line the fast path does
    /// not fully understand) through [`State::line`].
    fn block(&mut self, block: &[u8]) -> Result<(), ReportError> {
        let mut pos = 0;
        while pos < block.len() {
            if let Some(file) = self.current {
                pos += self.data_run(file, &block[pos..])?;
                if pos >= block.len() {
                    break;
                }
            }
            self.line_no += 1;
            let rest = &block[pos..];
            let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            self.line(&rest[..end])?;
            pos += end + 1;
        }
        Ok(())
    }

    /// Reads consecutive well-formed `DA`/`BRDA` lines of the current record with the file,
    /// counters and branch cursor held in locals; returns the bytes consumed (whole lines).
    fn data_run(&mut self, file: usize, b: &[u8]) -> Result<usize, ReportError> {
        let max_line = u64::from(self.max_line);
        let (mut lines, mut hit, mut grown, mut pos, mut count) = (0u64, 0u64, 0u64, 0usize, 0u64);
        let (mut branch_line, mut ordinal) = (self.branch_line, self.branch_ordinal);
        let f = self.report.file_mut(file);
        loop {
            let rest = &b[pos..];
            if let Some(tail) = rest.strip_prefix(b"DA:") {
                let Some((line, nums, used)) = fast_numbers::<2>(tail) else {
                    break;
                };
                if line == 0 || line > max_line {
                    break;
                }
                let covered = nums[1] > 0;
                grown += f.set_line(line as u32, covered);
                lines += 1;
                hit += u64::from(covered);
                count += 1;
                pos += 3 + used;
            } else if let Some(tail) = rest.strip_prefix(b"BRDA:") {
                let Some((line, nums, used)) = fast_numbers::<4>(tail) else {
                    break;
                };
                if line == 0 || line > max_line {
                    break;
                }
                let line = line as u32;
                if line == branch_line {
                    ordinal += 1;
                } else {
                    branch_line = line;
                    ordinal = 0;
                }
                grown += f.set_branch(line, ordinal, nums[3] > 0);
                count += 1;
                pos += 5 + used;
            } else {
                break;
            }
            if grown >= COUNT_EVERY {
                break;
            }
        }
        self.branch_line = branch_line;
        self.branch_ordinal = ordinal;
        self.record.lines += lines;
        self.record.hit += hit;
        self.line_no += count;
        self.grow(grown)?;
        Ok(pos)
    }

    /// Counts `entries` more held against the limit.
    fn grow(&mut self, entries: u64) -> Result<(), ReportError> {
        if entries == 0 {
            return Ok(());
        }
        self.report
            .grow(entries)
            .map_err(|e| ReportError::invalid(FORMAT, e.to_string()))
    }

    fn bad(&mut self, message: String) {
        let d = Diagnostic::at_line(self.name, self.line_no, message);
        self.report.note(d);
    }

    fn line(&mut self, raw: &[u8]) -> Result<(), ReportError> {
        if raw.len() > MAX_LINE {
            self.bad(format!("line longer than {MAX_LINE} bytes skipped"));
            return Ok(());
        }
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = if self.line_no == 1 {
            super::strip_bom(line)
        } else {
            line
        };
        if let Some(rest) = line.strip_prefix(b"DA:") {
            return self.data_line(rest);
        }
        if let Some(rest) = line.strip_prefix(b"BRDA:") {
            return self.branch(rest);
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            match trim(line) {
                b"end_of_record" => self.end_record(),
                b"" => {}
                _ => self.not_a_record(),
            }
            return Ok(());
        };
        let (key, rest) = (&line[..colon], &line[colon + 1..]);
        match key {
            b"SF" => self.start_record(rest),
            b"FN" => self.function_def(rest)?,
            b"FNDA" => self.function_hits(rest, false)?,
            b"FNA" => self.function_hits(rest, true)?,
            b"LF" => self.record.declared_lines = parse_u64(trim(rest)),
            b"LH" => self.record.declared_hit = parse_u64(trim(rest)),
            _ if key.iter().all(u8::is_ascii_uppercase) && !key.is_empty() => {}
            _ => self.not_a_record(),
        }
        Ok(())
    }

    fn not_a_record(&mut self) {
        self.non_records += 1;
        self.bad("not an LCOV record; skipped".into());
    }

    fn start_record(&mut self, rest: &[u8]) {
        let path = String::from_utf8_lossy(trim(rest));
        if path.is_empty() {
            self.current = None;
            self.pathless_record.get_or_insert(self.line_no);
            self.bad(format!(
                "`SF:` with no path on line {}; its record is skipped",
                self.line_no
            ));
            return;
        }
        self.records += 1;
        self.current = Some(self.report.file_index(&path));
        self.record = RecordTally {
            first_line: self.line_no,
            ..RecordTally::default()
        };
        self.branch_line = 0;
    }

    fn end_record(&mut self) {
        if self.current.take().is_none() {
            return;
        }
        let r = std::mem::take(&mut self.record);
        let declared = (r.declared_lines, r.declared_hit);
        if let (Some(lf), Some(lh)) = declared
            && (lf, lh) != (r.lines, r.hit)
        {
            let message = format!(
                "record says LF:{lf} LH:{lh} but lists {} lines, {} hit; the DA lines are used",
                r.lines, r.hit
            );
            self.report
                .note(Diagnostic::at_line(self.name, r.first_line, message));
        }
    }

    fn data_line(&mut self, rest: &[u8]) -> Result<(), ReportError> {
        let Some(file) = self.current else {
            self.bad("DA: outside a record (no SF:); skipped".into());
            return Ok(());
        };
        let (line, after) = leading_u32(rest);
        let hits = after.and_then(|a| a.strip_prefix(b",")).map(parse_hits);
        let (Some(line), Some(Some(hits))) = (line, hits) else {
            self.bad("malformed DA: line; expected DA:<line>,<hits>".into());
            return Ok(());
        };
        if line == 0 || line > self.max_line {
            self.bad(format!(
                "DA: line number {line} out of range 1..={}",
                self.max_line
            ));
            return Ok(());
        }
        self.record.lines += 1;
        self.record.hit += u64::from(hits > 0);
        let grown = self.report.file_mut(file).set_line(line, hits > 0);
        self.grow(grown)
    }

    fn branch(&mut self, rest: &[u8]) -> Result<(), ReportError> {
        let Some(file) = self.current else {
            self.bad("BRDA: outside a record (no SF:); skipped".into());
            return Ok(());
        };
        let (line, _) = leading_u32(rest);
        let taken = memchr::memrchr(b',', rest).map(|i| trim(&rest[i + 1..]));
        let (Some(line), Some(taken)) = (line, taken) else {
            self.bad("malformed BRDA: line; expected BRDA:<line>,<block>,<branch>,<taken>".into());
            return Ok(());
        };
        let taken = match taken {
            b"-" => false,
            digits => match parse_u64(digits) {
                Some(n) => n > 0,
                None => {
                    self.bad("BRDA: taken count is not a number or '-'".into());
                    return Ok(());
                }
            },
        };
        if line == 0 || line > self.max_line {
            self.bad(format!("BRDA: line number {line} out of range"));
            return Ok(());
        }
        self.branch_at(file, line, taken)
    }

    /// Records the next branch of `line` (branches are identified by their order on the line).
    fn branch_at(&mut self, file: usize, line: u32, taken: bool) -> Result<(), ReportError> {
        if line == self.branch_line {
            self.branch_ordinal += 1;
        } else {
            self.branch_line = line;
            self.branch_ordinal = 0;
        }
        let ordinal = self.branch_ordinal;
        let grown = self.report.file_mut(file).set_branch(line, ordinal, taken);
        self.grow(grown)
    }

    /// `FN:<line>,<name>` or `FN:<start>,<end>,<name>`.
    fn function_def(&mut self, rest: &[u8]) -> Result<(), ReportError> {
        let Some(file) = self.current else {
            return Ok(());
        };
        let (start, after) = leading_u32(rest);
        let Some(after) = after
            .and_then(|a| a.strip_prefix(b","))
            .filter(|_| start.is_some())
        else {
            self.bad("malformed FN: line".into());
            return Ok(());
        };
        let name = match leading_u32(after) {
            (Some(_), Some(tail)) if tail.first() == Some(&b',') => &tail[1..],
            _ => after,
        };
        let grown = self
            .report
            .file_mut(file)
            .add_function(name.trim_ascii(), 0);
        self.grow(grown)
    }

    /// `FNDA:<hits>,<name>`, or with `indexed` the lcov-2 `FNA:<index>,<hits>,<name>`.
    fn function_hits(&mut self, rest: &[u8], indexed: bool) -> Result<(), ReportError> {
        let Some(file) = self.current else {
            return Ok(());
        };
        let rest = if indexed {
            match memchr::memchr(b',', rest) {
                Some(i) => &rest[i + 1..],
                None => rest,
            }
        } else {
            rest
        };
        let parsed = memchr::memchr(b',', rest)
            .and_then(|i| Some((parse_hits(&rest[..i])?, &rest[i + 1..])));
        match parsed {
            Some((hits, name)) => {
                let grown = self
                    .report
                    .file_mut(file)
                    .add_function(name.trim_ascii(), hits);
                self.grow(grown)
            }
            None => {
                self.bad("malformed function hit line".into());
                Ok(())
            }
        }
    }

    fn finish(mut self) -> Result<CoverageReport, ReportError> {
        if self.records == 0 {
            let reason = match self.pathless_record {
                Some(line) => {
                    format!("`SF:` with no path on line {line}, and no record names a file")
                }
                None if self.non_records > 0 => {
                    "no SF: record found; is this an LCOV tracefile?".to_owned()
                }
                None => "the file is empty".to_owned(),
            };
            return Err(ReportError::invalid(FORMAT, reason));
        }
        self.report
            .finish()
            .map_err(|e| ReportError::invalid(FORMAT, e.to_string()))?;
        Ok(self.report)
    }
}

/// Reads `N` comma-separated unsigned numbers ending a line (`\n`, or `\r\n`); the last may
/// be `-`, read as 0. Returns the first, all of them, and the bytes used including the
/// newline; `None` for anything else (including numbers of more than 18 digits), which the
/// general path then reads.
#[inline(always)]
fn fast_numbers<const N: usize>(b: &[u8]) -> Option<(u64, [u64; N], usize)> {
    let mut nums = [0u64; N];
    let mut i = 0;
    for (k, slot) in nums.iter_mut().enumerate() {
        let start = i;
        if k == N - 1 && b.get(i) == Some(&b'-') {
            i += 1;
        } else {
            let mut v: u64 = 0;
            while i < b.len() {
                let d = b[i].wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                v = v * 10 + u64::from(d);
                i += 1;
                if i - start > 18 {
                    return None;
                }
            }
            if i == start {
                return None;
            }
            *slot = v;
        }
        let sep = if k + 1 == N { b'\n' } else { b',' };
        match b.get(i) {
            Some(&c) if c == sep => i += 1,
            Some(b'\r') if k + 1 == N && b.get(i + 1) == Some(&b'\n') => i += 2,
            _ => return None,
        }
    }
    Some((nums[0], nums, i))
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Leading decimal digits as a u32 (`None` when absent or too large), and what follows.
fn leading_u32(bytes: &[u8]) -> (Option<u32>, Option<&[u8]>) {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 10 {
        return (None, None);
    }
    let value = bytes[..digits].iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    });
    (value, Some(&bytes[digits..]))
}

fn parse_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// An execution count: digits (saturating), up to a checksum; a negative count reads as 0.
fn parse_hits(bytes: &[u8]) -> Option<u64> {
    let bytes = match memchr::memchr(b',', bytes) {
        Some(i) => &bytes[..i],
        None => bytes,
    };
    let bytes = trim(bytes);
    if let Some(neg) = bytes.strip_prefix(b"-") {
        return parse_u64(neg).map(|_| 0);
    }
    // Some tools write counts as floats ("1.0"); the integer part decides.
    let int = match memchr::memchr(b'.', bytes) {
        Some(i) if bytes[i + 1..].iter().all(u8::is_ascii_digit) => &bytes[..i],
        _ => bytes,
    };
    parse_u64(int)
}

#[cfg(test)]
mod tests;
