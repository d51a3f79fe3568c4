//! Cobertura XML → [`CoverageReport`], streaming with quick-xml.
//!
//! Counts `class > lines > line` only (the same lines repeat under `methods`, which would count
//! them twice). A line's `hits` decides covered; `condition-coverage="50% (1/2)"` gives its
//! branches. `<source>` roots are kept for path mapping. No DTD or entity is ever expanded.
//! Diagnostics and errors give the line and column of the offending element.

use super::coverage::{CoverageFormat, CoverageReport, max_line_number};
use super::{Bounded, ReportError};
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use positions::Positions;
use quick_xml::events::{BytesStart, Event};
use std::io::BufRead;

mod positions;

const FORMAT: &str = "Cobertura";

/// Parses a Cobertura XML report. `name` labels diagnostics.
pub fn parse_cobertura(
    name: &str,
    reader: impl BufRead,
    limits: &Limits,
) -> Result<CoverageReport, ReportError> {
    let bounded = Bounded::new(reader, limits.coverage_bytes);
    let mut xml = quick_xml::Reader::from_reader(Positions::new(bounded));
    xml.config_mut().trim_text(true);
    let mut report = CoverageReport::new(CoverageFormat::Cobertura, limits);
    let mut buf = Vec::with_capacity(1024);
    let mut state = State::default();
    loop {
        xml.get_mut().forget();
        let event = xml
            .read_event_into(&mut buf)
            .map_err(|e| read_error(e, &xml, limits))?;
        let positions = xml.get_ref();
        let here = Here {
            name,
            tag: &|| positions.tag(),
        };
        match event {
            Event::Start(e) => state.open(&e, false, &mut report, &here, limits)?,
            Event::Empty(e) => state.open(&e, true, &mut report, &here, limits)?,
            Event::End(e) => state.close(e.name().0, &mut report),
            Event::Text(t) if state.in_source => state.source_text.push_str(&t),
            Event::GeneralRef(r) if state.in_source => {
                state.source_text.push_str(match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !state.saw_root {
        return Err(ReportError::invalid(FORMAT, "no <coverage> root element"));
    }
    report
        .finish()
        .map_err(|e| ReportError::invalid(FORMAT, e.to_string()))?;
    Ok(report)
}

/// The reader's error as a [`ReportError`], with the line and column it happened at.
fn read_error<R: BufRead>(
    e: quick_xml::Error,
    xml: &quick_xml::Reader<Positions<Bounded<R>>>,
    limits: &Limits,
) -> ReportError {
    match e {
        quick_xml::Error::Io(io) if super::bounded::is_over_limit(&io) => ReportError::TooLarge {
            what: "coverage report",
            limit: limits.coverage_bytes,
        },
        quick_xml::Error::Io(io) => ReportError::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => {
            let (line, column) = xml.get_ref().at_offset(xml.error_position());
            ReportError::invalid(FORMAT, format!("{other} at line {line}, column {column}"))
        }
    }
}

/// The report's name and where the element being read starts (counted only when asked).
struct Here<'a> {
    name: &'a str,
    tag: &'a dyn Fn() -> (u32, u32),
}

impl Here<'_> {
    /// A diagnostic at the element being read.
    fn note(&self, report: &mut CoverageReport, message: impl Into<String>) {
        let (line, column) = (self.tag)();
        report.note(Diagnostic::at(self.name, line, column, message));
    }
}

#[derive(Default)]
struct State {
    saw_root: bool,
    in_source: bool,
    source_text: String,
    class_file: Option<usize>,
    methods_depth: u32,
    in_lines: bool,
}

impl State {
    fn open(
        &mut self,
        e: &BytesStart<'_>,
        empty: bool,
        report: &mut CoverageReport,
        here: &Here<'_>,
        limits: &Limits,
    ) -> Result<(), ReportError> {
        match e.name().0 {
            "coverage" => self.saw_root = true,
            "source" if !empty => {
                self.in_source = true;
                self.source_text.clear();
            }
            "class" => {
                let file = attr(e, "filename").filter(|f| !f.is_empty());
                self.class_file = file.map(|f| report.file_index(&f));
                if self.class_file.is_none() {
                    here.note(report, "<class> without a filename skipped");
                }
                if empty {
                    self.class_file = None;
                }
            }
            "methods" if !empty => self.methods_depth += 1,
            "lines" if !empty => self.in_lines = true,
            "line" if self.in_lines && self.methods_depth == 0 => {
                if let Some(file) = self.class_file {
                    line(e, file, report, here, limits)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self, tag: &str, report: &mut CoverageReport) {
        match tag {
            "source" => {
                self.in_source = false;
                let root = self.source_text.trim();
                if !root.is_empty() && !report.sources.iter().any(|s| s == root) {
                    report.sources.push(root.to_owned());
                }
            }
            "class" => self.class_file = None,
            "methods" => self.methods_depth = self.methods_depth.saturating_sub(1),
            "lines" => self.in_lines = false,
            _ => {}
        }
    }
}

fn line(
    e: &BytesStart<'_>,
    file: usize,
    report: &mut CoverageReport,
    here: &Here<'_>,
    limits: &Limits,
) -> Result<(), ReportError> {
    let (mut number, mut hits, mut condition) = (None, None, None);
    for (key, value) in raw_attributes(e.attributes_raw()) {
        match key {
            "number" => number = value.trim().parse::<u32>().ok(),
            "hits" => hits = parse_hits(value),
            "condition-coverage" => condition = parse_condition(value),
            _ => {}
        }
    }
    let (Some(number), Some(hits)) = (number, hits) else {
        here.note(report, "<line> without a valid number or hits skipped");
        return Ok(());
    };
    if number == 0 || number > max_line_number(limits) {
        here.note(report, format!("<line number=\"{number}\"> out of range"));
        return Ok(());
    }
    let mut grown = report.file_mut(file).set_line(number, hits > 0);
    if let Some((taken, total)) = condition {
        grown += report
            .file_mut(file)
            .set_branch_counts(number, taken, total);
    }
    report
        .grow(grown)
        .map_err(|e| ReportError::invalid(FORMAT, e.to_string()))
}

/// `key="value"` pairs of an element's raw attribute text, without unescaping: enough for
/// `<line>`, whose values are numbers and `"50% (1/2)"`. Stops at the first malformed pair.
fn raw_attributes(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    let b = raw.as_bytes();
    let mut i = 0;
    let skip_space = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    // Every slice boundary sits next to an ASCII delimiter, so it is a char boundary.
    std::iter::from_fn(move || {
        skip_space(&mut i);
        let key_start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key_end = i;
        skip_space(&mut i);
        if key_start == key_end || b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        skip_space(&mut i);
        let quote = *b.get(i).filter(|q| **q == b'"' || **q == b'\'')?;
        i += 1;
        let value_start = i;
        while i < b.len() && b[i] != quote {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        i += 1;
        Some((&raw[key_start..key_end], &raw[value_start..i - 1]))
    })
}

fn parse_hits(value: &str) -> Option<u64> {
    let v = value.trim();
    if let Ok(n) = v.parse::<u64>() {
        return Some(n);
    }
    // Negative or float counts from some converters: the sign and integer part decide.
    let f = v.parse::<f64>().ok()?;
    Some(if f > 0.0 {
        f.min(u64::MAX as f64) as u64
    } else {
        0
    })
}

/// `"50% (1/2)"` → (1, 2).
fn parse_condition(value: &str) -> Option<(u32, u32)> {
    let inner = value.split_once('(')?.1.split_once(')')?.0;
    let (taken, total) = inner.split_once('/')?;
    let (taken, total) = (taken.trim().parse().ok()?, total.trim().parse().ok()?);
    (total > 0).then_some((taken, total))
}

fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.0 == key)
        .map(|a| match quick_xml::escape::unescape(&a.value) {
            Ok(v) => v.into_owned(),
            Err(_) => a.value.into_owned(),
        })
}

#[cfg(test)]
mod tests;
