//! The coverage model every coverage parser produces, and its exact merge rules.
//!
//! Per file, line data is kept as two bitsets indexed by line number (coverable, covered): two
//! bits a line, so memory follows the number of source lines, not the report's size, and
//! several records for the same file merge exactly (a line is covered if any record covers it).
//! Branches are kept per line with a bitmask of taken branches (identified by their order on the
//! line), so merged records count each branch once.

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::LazyLock;

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

/// Branch data for one line: how many branches, and which were taken (12 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchLine {
    /// Source line.
    pub line: u32,
    /// Taken branches by their order on the line (first 32).
    mask: u32,
    total: u16,
    /// Taken branches beyond the first 32.
    extra: u16,
}

/// Branches per line tracked individually; more are counted.
const MASK_BITS: u32 = 32;

impl BranchLine {
    /// Branches on the line.
    pub fn total(&self) -> u32 {
        u32::from(self.total)
    }

    /// Branches taken at least once.
    pub fn taken(&self) -> u32 {
        (self.mask.count_ones() + u32::from(self.extra)).min(self.total())
    }

    fn merge(&mut self, other: &BranchLine) {
        self.total = self.total.max(other.total);
        self.mask |= other.mask;
        self.extra = self.extra.max(other.extra);
    }
}

/// Coverage of one source file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCoverage {
    /// The path as the report names it (or, after mapping, the repository path).
    pub path: String,
    coverable: Vec<u64>,
    covered: Vec<u64>,
    branches: Vec<BranchLine>,
    branches_sorted: bool,
    /// Hits per function, keyed by a keyed hash of its name (see [`function_key`]).
    functions: HashMap<u64, u64, BuildHasherDefault<KeyHasher>>,
}

/// A function's identity: its name hashed with a key drawn once per process, so names need no
/// allocation and a crafted report cannot force collisions.
fn function_key(name: &[u8]) -> u64 {
    static KEY: LazyLock<RandomState> = LazyLock::new(RandomState::new);
    KEY.hash_one(name)
}

/// Passes an already-keyed hash through.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl FileCoverage {
    fn new(path: String) -> Self {
        FileCoverage {
            path,
            branches_sorted: true,
            ..FileCoverage::default()
        }
    }

    /// What the report says about `line`.
    pub fn line(&self, line: u32) -> LineStatus {
        let word = (line >> 6) as usize;
        let bit = 1u64 << (line & 63);
        match self.coverable.get(word) {
            Some(w) if w & bit != 0 => {}
            _ => return LineStatus::NotCoverable,
        }
        if self.covered[word] & bit == 0 {
            return LineStatus::Missed;
        }
        match self.branch(line) {
            Some(b) if b.taken() < b.total() => LineStatus::Partial,
            _ => LineStatus::Covered,
        }
    }

    /// Branch data of `line`, if it has branches.
    pub fn branch(&self, line: u32) -> Option<&BranchLine> {
        debug_assert!(self.branches_sorted, "call CoverageReport::finish first");
        self.branches
            .binary_search_by_key(&line, |b| b.line)
            .ok()
            .map(|i| &self.branches[i])
    }

    /// Covered and coverable lines.
    pub fn lines(&self) -> Ratio {
        let count = |words: &[u64]| words.iter().map(|w| u64::from(w.count_ones())).sum();
        Ratio::new(count(&self.covered), count(&self.coverable))
    }

    /// Taken and total branches.
    pub fn branches(&self) -> Ratio {
        self.branches.iter().fold(Ratio::default(), |mut r, b| {
            r.add(Ratio::new(u64::from(b.taken()), u64::from(b.total())));
            r
        })
    }

    /// Functions executed at least once, and functions listed.
    pub fn functions(&self) -> Ratio {
        let hit = self.functions.values().filter(|&&h| h > 0).count() as u64;
        Ratio::new(hit, self.functions.len() as u64)
    }

    /// Marks `line` coverable, and covered when `covered`. Returns the cells newly allocated.
    #[inline(always)]
    pub(crate) fn set_line(&mut self, line: u32, covered: bool) -> u64 {
        let word = (line >> 6) as usize;
        let grown = if word >= self.coverable.len() {
            self.grow_to(word)
        } else {
            0
        };
        let bit = 1u64 << (line & 63);
        self.coverable[word] |= bit;
        self.covered[word] |= if covered { bit } else { 0 };
        grown
    }

    #[cold]
    fn grow_to(&mut self, word: usize) -> u64 {
        let grown = (word + 1 - self.coverable.len()) as u64 * 64;
        self.coverable.resize(word + 1, 0);
        self.covered.resize(word + 1, 0);
        grown
    }

    /// Records branch number `ordinal` (0-based, in order on the line) of `line`.
    #[inline(always)]
    pub(crate) fn set_branch(&mut self, line: u32, ordinal: u32, taken: bool) {
        let entry = match self.branches.last_mut() {
            Some(last) if last.line == line && ordinal > 0 => last,
            _ => {
                if self.branches.last().is_some_and(|last| last.line >= line) {
                    self.branches_sorted = false;
                }
                self.branches.push(BranchLine {
                    line,
                    mask: 0,
                    total: 0,
                    extra: 0,
                });
                self.branches.last_mut().expect("just pushed")
            }
        };
        let count = u16::try_from(ordinal.saturating_add(1)).unwrap_or(u16::MAX);
        entry.total = entry.total.max(count);
        if taken {
            if ordinal < MASK_BITS {
                entry.mask |= 1 << ordinal;
            } else {
                entry.extra = entry.extra.saturating_add(1);
            }
        }
    }

    /// Records `taken` of `total` branches on `line` when the format gives only counts.
    pub(crate) fn set_branch_counts(&mut self, line: u32, taken: u32, total: u32) {
        let total = u16::try_from(total).unwrap_or(u16::MAX);
        let taken = taken.min(u32::from(total));
        if self.branches.last().is_some_and(|last| last.line >= line) {
            self.branches_sorted = false;
        }
        let mask = if taken >= MASK_BITS {
            u32::MAX
        } else {
            (1u32 << taken) - 1
        };
        let extra = u16::try_from(taken.saturating_sub(MASK_BITS)).unwrap_or(u16::MAX);
        self.branches.push(BranchLine {
            line,
            mask,
            total,
            extra,
        });
    }

    /// Records a function (hits add up over records).
    pub(crate) fn add_function(&mut self, name: &[u8], hits: u64) {
        self.add_function_key(function_key(name), hits);
    }

    fn add_function_key(&mut self, key: u64, hits: u64) {
        let h = self.functions.entry(key).or_insert(0);
        *h = h.saturating_add(hits);
    }

    fn merge(&mut self, other: &FileCoverage) -> u64 {
        let mut grown = 0;
        if other.coverable.len() > self.coverable.len() {
            grown = (other.coverable.len() - self.coverable.len()) as u64 * 64;
            self.coverable.resize(other.coverable.len(), 0);
            self.covered.resize(other.coverable.len(), 0);
        }
        for (i, (c, v)) in other.coverable.iter().zip(&other.covered).enumerate() {
            self.coverable[i] |= c;
            self.covered[i] |= v;
        }
        if !other.branches.is_empty() {
            self.branches.extend_from_slice(&other.branches);
            self.branches_sorted = false;
        }
        for (&key, &hits) in &other.functions {
            self.add_function_key(key, hits);
        }
        grown
    }

    fn sort_branches(&mut self) {
        self.coverable.shrink_to_fit();
        self.covered.shrink_to_fit();
        if self.branches_sorted {
            self.branches.shrink_to_fit();
            return;
        }
        self.branches.sort_by_key(|b| b.line);
        let mut merged: Vec<BranchLine> = Vec::with_capacity(self.branches.len());
        for b in self.branches.drain(..) {
            match merged.last_mut() {
                Some(last) if last.line == b.line => last.merge(&b),
                _ => merged.push(b),
            }
        }
        merged.shrink_to_fit();
        self.branches = merged;
        self.branches_sorted = true;
    }
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
    cells: u64,
    max_cells: u64,
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
            cells: 0,
            max_cells: limits.max_coverage_cells,
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

    /// Adds another report's files into this one.
    pub fn merge(&mut self, other: CoverageReport) -> Result<(), CellsExceeded> {
        for file in other.files {
            let i = self.file_index(&file.path);
            let grown = self.files[i].merge(&file);
            self.grow(grown)?;
        }
        for s in other.sources {
            if !self.sources.contains(&s) {
                self.sources.push(s);
            }
        }
        self.diagnostics.extend(other.diagnostics);
        self.more_diagnostics += other.more_diagnostics;
        self.finish();
        Ok(())
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
                Some(&i) => {
                    let merged = view.files[i].1.to_mut();
                    merged.merge(file);
                    merged.sort_branches();
                }
                None => {
                    view.index.insert(path.clone(), view.files.len());
                    view.files.push((path, Cow::Borrowed(file)));
                }
            }
        }
        view
    }

    /// Sorts and merges branch data; parsers call this once at the end.
    pub fn finish(&mut self) {
        for f in &mut self.files {
            f.sort_branches();
        }
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

    pub(crate) fn grow(&mut self, cells: u64) -> Result<(), CellsExceeded> {
        self.cells += cells;
        if self.cells > self.max_cells {
            return Err(CellsExceeded {
                limit: self.max_cells,
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

/// The report's line numbers span more cells than [`Limits::max_coverage_cells`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line numbers in the report span more than {limit} lines in total")]
pub struct CellsExceeded {
    /// The limit.
    pub limit: u64,
}
