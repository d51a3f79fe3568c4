//! Patch coverage: which added lines are coverable, which of those are covered, and which
//! changed files cannot be judged at all.
//!
//! A changed file the report lists is judged line by line. A changed source file it does not
//! list counts as uncovered (a new module no test imports must not pass as "not affected"):
//! its added non-blank lines are coverable and missed. A coverable file whose patch the host
//! left out makes patch coverage unknown. Nothing here decides pass or fail.

use super::super::Outcome;
use crate::config::{CoverageConfig, PartialLines};
use crate::diff::{Diff, FileDiff, FileStatus};
use crate::evaluation::{Annotation, AnnotationLevel};
use crate::report::coverage::{CoverageView, FileCoverage, LineStatus, Ratio};
use std::collections::BTreeSet;

/// What the added lines of a change come to.
#[derive(Debug, Default)]
pub(super) struct Patch {
    /// Covered over coverable added lines, unreported source files included.
    pub ratio: Ratio,
    /// Coverable files whose patch the host left out: their added lines are unknown.
    pub unknown: Vec<String>,
    /// Source files the report does not list, with their added non-blank lines.
    pub unreported: Vec<(String, Vec<u32>)>,
    /// Listed files with added coverable lines no test runs, and those lines.
    pub missed: Vec<(String, Vec<u32>)>,
}

/// Consecutive line numbers joined into (first, last) ranges.
pub(super) fn ranges(lines: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &line in lines {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == line => *end = line,
            _ => out.push((line, line)),
        }
    }
    out
}

/// Measures the change's added lines against `report`; annotates missed lines.
pub(super) fn measure(
    diff: &Diff,
    report: &CoverageView<'_>,
    c: &CoverageConfig,
    out: &mut Outcome,
) -> Patch {
    let source = SourceRule::new(c, report);
    let mut patch = Patch::default();
    let changed = diff
        .files
        .iter()
        .filter(|f| f.status != FileStatus::Deleted && !f.binary && !c.ignore.is_match(&f.path));
    for file in changed {
        let cov = report.file(&file.path);
        if cov.is_none() && !source.matches(&file.path) {
            continue;
        }
        if file.patch_missing {
            patch.unknown.push(file.path.clone());
            continue;
        }
        match cov {
            Some(cov) => {
                let missed = judge_lines(file, cov, c.partial_lines, &mut patch.ratio);
                annotate_missed(&file.path, &missed, cov, out);
                if !missed.is_empty() {
                    patch.missed.push((file.path.clone(), missed));
                }
            }
            None => {
                let lines = code_lines(file);
                patch.ratio.coverable += lines.len() as u64;
                if !lines.is_empty() {
                    patch.unreported.push((file.path.clone(), lines));
                }
            }
        }
    }
    patch
}

/// One annotation per source file the report does not list, as loud as the row's verdict.
pub(super) fn annotate_unreported(patch: &Patch, failed: bool, out: &mut Outcome) {
    let level = if failed {
        AnnotationLevel::Failure
    } else {
        AnnotationLevel::Warning
    };
    for (path, lines) in &patch.unreported {
        let (Some(&first), Some(&last)) = (lines.first(), lines.last()) else {
            continue;
        };
        let n = lines.len();
        out.annotations.push(Annotation {
            path: path.clone(),
            start_line: first,
            end_line: last,
            level,
            title: "Not in the coverage report".to_owned(),
            message: format!(
                "This file is not in the coverage report, so no test runs it: its {n} added line{} count as uncovered",
                if n == 1 { "" } else { "s" }
            ),
        });
    }
}

/// Which changed files count as source: the configured globs, else the report's extensions.
enum SourceRule<'a> {
    Globs(&'a crate::glob::PathGlobs),
    Extensions(BTreeSet<String>),
}

impl<'a> SourceRule<'a> {
    fn new(c: &'a CoverageConfig, report: &CoverageView<'_>) -> Self {
        if !c.source.is_empty() {
            return SourceRule::Globs(&c.source);
        }
        let extensions = report
            .files()
            .filter_map(|(path, _)| extension(path))
            .map(str::to_owned)
            .collect();
        SourceRule::Extensions(extensions)
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            SourceRule::Globs(globs) => globs.is_match(path),
            SourceRule::Extensions(known) => {
                extension(path).is_some_and(|e| known.contains(e)) && !is_test_file(path)
            }
        }
    }
}

/// Whether `path` is a test by the usual conventions: a `test`, `tests`, `__tests__`, `spec`
/// or `testdata` directory, or a name like `test_x.py`, `x_test.py`, `x_test.go`,
/// `x.test.ts` or `x.spec.js`. Coverage tools leave tests out of their reports, so the default
/// source rule does too (configured `source` globs decide for themselves).
fn is_test_file(path: &str) -> bool {
    let mut parts = path.split('/').rev();
    let name = parts.next().unwrap_or(path);
    let in_test_dir = parts.any(|dir| {
        matches!(
            dir,
            "test" | "tests" | "__tests__" | "spec" | "specs" | "testdata" | "testing"
        )
    });
    let stem = name.split('.').next().unwrap_or(name);
    in_test_dir
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_spec")
        || name.contains(".test.")
        || name.contains(".spec.")
}

/// `py` for `pkg/gate.py`; none for `Makefile` or `.gitignore`.
fn extension(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then_some(ext)
}

/// Adds a listed file's added lines to `ratio`; returns the missed ones.
fn judge_lines(
    file: &FileDiff,
    cov: &FileCoverage,
    partial: PartialLines,
    ratio: &mut Ratio,
) -> Vec<u32> {
    let mut missed = Vec::new();
    for &line in &file.added_lines {
        let covered = match cov.line(line) {
            LineStatus::NotCoverable => continue,
            LineStatus::Covered => true,
            LineStatus::Partial => partial == PartialLines::Hit,
            LineStatus::Missed => false,
        };
        ratio.coverable += 1;
        if covered {
            ratio.covered += 1;
        } else {
            missed.push(line);
        }
    }
    missed
}

/// The added lines that hold code: not blank. Without the lines' text, all of them.
fn code_lines(file: &FileDiff) -> Vec<u32> {
    if file.added_text.len() != file.added_lines.len() {
        return file.added_lines.clone();
    }
    file.added_lines
        .iter()
        .zip(&file.added_text)
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(&line, _)| line)
        .collect()
}

/// One annotation per run of consecutive missed added lines.
fn annotate_missed(path: &str, missed: &[u32], cov: &FileCoverage, out: &mut Outcome) {
    for (start, end) in ranges(missed) {
        let (title, message) = missed_text(start, end, cov);
        out.annotations.push(Annotation {
            path: path.to_owned(),
            start_line: start,
            end_line: end,
            level: AnnotationLevel::Warning,
            title,
            message,
        });
    }
}

/// Title and message for missed lines `start..=end`.
fn missed_text(start: u32, end: u32, cov: &FileCoverage) -> (String, String) {
    if start == end && cov.line(start) == LineStatus::Partial {
        let (taken, total) = cov
            .branch(start)
            .map(|b| (b.taken(), b.total()))
            .unwrap_or_default();
        (
            "Partly covered line".to_owned(),
            format!(
                "Added line {start} runs in tests, but only {taken} of its {total} branches are taken"
            ),
        )
    } else if start == end {
        (
            "Uncovered line".to_owned(),
            format!("Added line {start} is not covered by tests"),
        )
    } else {
        (
            "Uncovered lines".to_owned(),
            format!("Added lines {start}–{end} are not covered by tests"),
        )
    }
}
