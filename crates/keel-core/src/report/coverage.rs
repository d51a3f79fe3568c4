//! The coverage model every coverage parser produces, and its exact merge rules.
//!
//! Per file, the lines a report lists are kept as a sorted list of (line, covered) packed in
//! four bytes each, so memory follows the number of lines the report lists, never the highest
//! line number it names; several records for the same file merge exactly (a line is covered
//! if any record covers it). Branches are kept per line with a bitmask of taken branches
//! (identified by their order on the line), so merged records count each branch once. Lines,
//! branch lines and functions held count against [`Limits::max_coverage_lines`].

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use file::{LINE_CEILING, hash_table_bytes};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;

pub use file::{BranchLine, FileCoverage};

mod file;

/// The report formats Keel reads for coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CoverageFormat {
    /// LCOV tracefile (`SF:`/`DA:` records).
    Lcov,
    /// Cobertura XML (`<coverage><packages>…`).
    Cobertura,
}

impl CoverageFormat {
    /// Guesses the format from the first bytes of a report.
    pub fn detect(head: &[u8]) -> Option<CoverageFormat> {
        let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        if trimmed.starts_with('<') {
            return Some(CoverageFormat::Cobertura);
        }
        let record = |l: &str| {
            ["TN:", "SF:", "VER:", "DA:", "FN:", "end_of_record"]
                .iter()
                .any(|p| l.starts_with(p))
        };
        trimmed
            .lines()
            .take(20)
            .any(record)
            .then_some(CoverageFormat::Lcov)
    }
}

/// `covered` of `coverable`; the percentage is `None` when nothing is coverable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    /// Covered items.
    pub covered: u64,
    /// Coverable items.
    pub coverable: u64,
}

impl Ratio {
    /// A ratio from counts.
    pub fn new(covered: u64, coverable: u64) -> Self {
        Ratio { covered, coverable }
    }

    /// `covered / coverable` in percent, or `None` when nothing is coverable.
    pub fn percent(&self) -> Option<f64> {
        (self.coverable > 0).then(|| 100.0 * self.covered as f64 / self.coverable as f64)
    }

    /// Adds another ratio's counts to this one.
    pub fn add(&mut self, other: Ratio) {
        self.covered += other.covered;
        self.coverable += other.coverable;
    }
}

/// What a report says about one source line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStatus {
    /// The report does not list the line (blank, comment, declaration).
    NotCoverable,
    /// Executed, and every branch on it taken (or it has none).
    Covered,
    /// Executed, but some branches on it were never taken.
    Partial,
    /// Never executed.
    Missed,
}

/// Totals of a report: lines always; branches and functions when the report has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageTotals {
    /// Covered / coverable lines.
    pub lines: Ratio,
    /// Taken / total branches, when the report lists branches.
    pub branches: Option<Ratio>,
    /// Executed / listed functions, when the report lists functions.
    pub functions: Option<Ratio>,
}

/// A parsed coverage report (or several merged): files keyed by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageReport {
    /// The format it was read from (the first one, for merged reports).
    pub format: CoverageFormat,
    /// Source roots a Cobertura report names; file paths are relative to one of them.
    pub sources: Vec<String>,
    /// Lines that could not be read, up to the diagnostics limit.
    pub diagnostics: Vec<Diagnostic>,
    /// Diagnostics beyond the limit, counted.
    pub more_diagnostics: u64,
    files: Vec<FileCoverage>,
    index: HashMap<String, usize>,
    /// Entries held over all files, at least (exact once finished; see [`Self::grow`]).
    held: u64,
    max_entries: u64,
    max_diagnostics: usize,
}

impl CoverageReport {
    /// An empty report.
    pub fn new(format: CoverageFormat, limits: &Limits) -> Self {
        CoverageReport {
            format,
            sources: Vec::new(),
            diagnostics: Vec::new(),
            more_diagnostics: 0,
            files: Vec::new(),
            index: HashMap::new(),
            held: 0,
            max_entries: limits.max_coverage_lines,
            max_diagnostics: limits.max_diagnostics,
        }
    }

    /// The files, in the order they first appeared.
    pub fn files(&self) -> &[FileCoverage] {
        &self.files
    }

    /// The file with exactly this path.
    pub fn file(&self, path: &str) -> Option<&FileCoverage> {
        self.index.get(path).map(|&i| &self.files[i])
    }

    /// Sums over all files.
    pub fn totals(&self) -> CoverageTotals {
        totals(&self.files)
    }

    /// Heap bytes the report holds, estimated from its buffers' capacities (what a test can
    /// assert on; an estimate, not an allocator's count).
    pub fn heap_bytes(&self) -> usize {
        let strings = |v: &[String]| v.iter().map(String::capacity).sum::<usize>();
        let files: usize = self.files.iter().map(FileCoverage::heap_bytes).sum();
        let keys: usize = self.index.keys().map(String::capacity).sum();
        let diagnostics: usize = self
            .diagnostics
            .iter()
            .map(|d| {
                d.path.capacity()
                    + d.message.capacity()
                    + d.source_line.as_ref().map_or(0, String::capacity)
            })
            .sum();
        self.files.capacity() * size_of::<FileCoverage>()
            + files
            + hash_table_bytes(self.index.capacity(), size_of::<(String, usize)>())
            + keys
            + self.sources.capacity() * size_of::<String>()
            + strings(&self.sources)
            + self.diagnostics.capacity() * size_of::<Diagnostic>()
            + diagnostics
    }

    /// Adds another report's files into this one; fails when the merged report would hold
    /// more than [`Limits::max_coverage_lines`] entries (this report's limit).
    pub fn merge(&mut self, other: CoverageReport) -> Result<(), LinesExceeded> {
        for file in other.files {
            let i = self.file_index(&file.path);
            let before = self.files[i].entries();
            self.files[i].merge(&file);
            self.held += self.files[i].entries().saturating_sub(before);
            self.check()?;
        }
        for s in other.sources {
            if !self.sources.contains(&s) {
                self.sources.push(s);
            }
        }
        self.diagnostics.extend(other.diagnostics);
        self.more_diagnostics += other.more_diagnostics;
        self.finish()
    }

    /// A view of the report under other paths: each file's path replaced by `map(path)`;
    /// files that map to `None` are left out, files that map to the same path are merged
    /// (only those are copied).
    pub fn view(&self, mut map: impl FnMut(&str) -> Option<String>) -> CoverageView<'_> {
        let mut view = CoverageView {
            files: Vec::with_capacity(self.files.len()),
            index: HashMap::new(),
        };
        for file in &self.files {
            let Some(path) = map(&file.path) else {
                continue;
            };
            match view.index.get(&path) {
                Some(&i) => view.files[i].1.to_mut().merge(file),
                None => {
                    view.index.insert(path.clone(), view.files.len());
                    view.files.push((path, Cow::Borrowed(file)));
                }
            }
        }
        view
    }

    /// Sorts in and merges what parsers recorded out of order; parsers call this once at the
    /// end. Fails when the report holds more than [`Limits::max_coverage_lines`] entries.
    pub fn finish(&mut self) -> Result<(), LinesExceeded> {
        for f in &mut self.files {
            f.finish();
        }
        self.held = self.files.iter().map(FileCoverage::entries).sum();
        self.check()
    }

    pub(crate) fn file_index(&mut self, path: &str) -> usize {
        if let Some(&i) = self.index.get(path) {
            return i;
        }
        self.index.insert(path.to_owned(), self.files.len());
        self.files.push(FileCoverage::new(path.to_owned()));
        self.files.len() - 1
    }

    pub(crate) fn file_mut(&mut self, index: usize) -> &mut FileCoverage {
        &mut self.files[index]
    }

    /// Counts `entries` more held. `held` may overcount (entries recorded out of order are
    /// merged later), so going over the limit first counts exactly; to keep that rare, the
    /// exact count is taken only once `held` is half the limit over it.
    pub(crate) fn grow(&mut self, entries: u64) -> Result<(), LinesExceeded> {
        self.held = self.held.saturating_add(entries);
        if self.held > self.max_entries.saturating_add(self.max_entries / 2) {
            return self.finish();
        }
        Ok(())
    }

    fn check(&self) -> Result<(), LinesExceeded> {
        if self.held > self.max_entries {
            return Err(LinesExceeded {
                limit: self.max_entries,
            });
        }
        Ok(())
    }

    pub(crate) fn note(&mut self, diagnostic: Diagnostic) {
        if self.diagnostics.len() < self.max_diagnostics {
            self.diagnostics.push(diagnostic);
        } else {
            self.more_diagnostics += 1;
        }
    }
}

/// A coverage report seen under repository paths (see [`CoverageReport::view`]).
#[derive(Debug, Clone)]
pub struct CoverageView<'a> {
    files: Vec<(String, Cow<'a, FileCoverage>)>,
    index: HashMap<String, usize>,
}

impl CoverageView<'_> {
    /// The file at repository path `path`.
    pub fn file(&self, path: &str) -> Option<&FileCoverage> {
        self.index.get(path).map(|&i| self.files[i].1.as_ref())
    }

    /// Repository paths and their coverage.
    pub fn files(&self) -> impl Iterator<Item = (&str, &FileCoverage)> {
        self.files.iter().map(|(p, f)| (p.as_str(), f.as_ref()))
    }

    /// Sums over the files in view.
    pub fn totals(&self) -> CoverageTotals {
        totals(self.files.iter().map(|(_, f)| f.as_ref()))
    }
}

fn totals<'a>(files: impl IntoIterator<Item = &'a FileCoverage>) -> CoverageTotals {
    let mut lines = Ratio::default();
    let mut branches = Ratio::default();
    let mut functions = Ratio::default();
    for f in files {
        lines.add(f.lines());
        branches.add(f.branches());
        functions.add(f.functions());
    }
    CoverageTotals {
        lines,
        branches: (branches.coverable > 0).then_some(branches),
        functions: (functions.coverable > 0).then_some(functions),
    }
}

/// The report (or the merge of several) lists more lines than [`Limits::max_coverage_lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the coverage report lists more than {limit} lines, branch lines and functions in total \
     (limit `max_coverage_lines`)"
)]
pub struct LinesExceeded {
    /// The limit.
    pub limit: u64,
}

/// The highest line number a parser accepts: [`Limits::max_line_number`], at most
/// [`LINE_CEILING`].
pub(crate) fn max_line_number(limits: &Limits) -> u32 {
    limits.max_line_number.min(LINE_CEILING)
}

#[cfg(test)]
mod tests;
