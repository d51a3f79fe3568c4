//! Coverage criteria: total, patch and drop against the base.
//!
//! A line is coverable if the report lists it and covered if its hits are above zero, so the
//! total equals LCOV's LH/LF and Cobertura's line-rate. Patch coverage is covered added lines
//! over coverable added lines (diff-cover's definition); with `partial_lines = "miss"` a line
//! with untaken branches counts as coverable but not covered (Codecov's). A change that adds no
//! coverable line passes as "not affected".

use super::{Outcome, Row, code, paths};
use crate::config::{CoverageConfig, PartialLines};
use crate::diff::FileStatus;
use crate::evaluation::{Annotation, AnnotationLevel, CoverageOutcome};
use crate::facts::{CoverageMetrics, Facts};
use crate::report::coverage::{CoverageReport, CoverageView, LineStatus, Ratio};
use crate::units::floor_percent;

pub(super) fn evaluate(config: Option<&CoverageConfig>, facts: &Facts, out: &mut Outcome) {
    let default = CoverageConfig::default();
    let c = config.unwrap_or(&default);
    let Some(report) = &facts.coverage else {
        for (id, title, crit) in rows(c) {
            let row = Row::new(id, title, crit.level, crit.why.as_ref());
            out.push(row.no_report("coverage report", &c.paths));
        }
        return;
    };
    out.notes.extend(
        report
            .diagnostics
            .iter()
            .map(|d| format!("coverage report: {d}")),
    );
    if report.more_diagnostics > 0 {
        out.notes.push(format!(
            "coverage report: {} more lines skipped",
            report.more_diagnostics
        ));
    }
    let report = repo_paths(report, c, facts);
    let totals = report.totals();

    let patch = facts.diff.as_ref().map(|diff| {
        let mut ratio = Ratio::default();
        for file in diff
            .files
            .iter()
            .filter(|f| f.status != FileStatus::Deleted && !c.ignore.is_match(&f.path))
        {
            if file.patch_missing {
                out.notes.push(format!(
                    "the diff of {} was not available; its lines are not in patch coverage",
                    code(&file.path)
                ));
            }
            let Some(cov) = report.file(&file.path) else {
                continue;
            };
            let mut missed: Vec<u32> = Vec::new();
            for &line in &file.added_lines {
                let status = cov.line(line);
                let counts_covered = match status {
                    LineStatus::NotCoverable => continue,
                    LineStatus::Covered => true,
                    LineStatus::Partial => c.partial_lines == PartialLines::Hit,
                    LineStatus::Missed => false,
                };
                ratio.coverable += 1;
                if counts_covered {
                    ratio.covered += 1;
                } else {
                    missed.push(line);
                }
            }
            annotate_missed(&file.path, &missed, cov, out);
        }
        ratio
    });

    let baseline_total = facts
        .baseline
        .as_ref()
        .and_then(|b| b.coverage.as_ref())
        .and_then(|m| m.lines.percent());
    let total_pct = totals.lines.percent();

    if let Some(crit) = &c.min_total {
        let row = Row::new(
            "coverage.total",
            "Total coverage",
            crit.level,
            crit.why.as_ref(),
        )
        .threshold(format!("≥ {}", crit.threshold));
        let mut row = match total_pct {
            None => row.skipped("the report lists no coverable lines"),
            Some(p) => row.actual(floor_percent(p)).judged(
                p >= crit.threshold.0,
                format!(
                    "{} of {} lines covered",
                    totals.lines.covered, totals.lines.coverable
                ),
            ),
        };
        if let (Some(b), Some(p)) = (baseline_total, total_pct) {
            row.baseline = Some(floor_percent(b));
            row.delta = Some(format!("{:+.2}", p - b));
        }
        out.push(row);
    }
    if let Some(crit) = &c.min_patch {
        let row = Row::new(
            "coverage.patch",
            "Patch coverage",
            crit.level,
            crit.why.as_ref(),
        )
        .threshold(format!("≥ {}", crit.threshold));
        out.push(match patch {
            None => row.skipped("no diff was given, so the added lines are unknown"),
            Some(r) => match r.percent() {
                None => row
                    .actual("not affected")
                    .judged(true, "the change adds no coverable lines"),
                Some(p) => row.actual(floor_percent(p)).judged(
                    p >= crit.threshold.0,
                    format!(
                        "{} of {} added coverable lines covered",
                        r.covered, r.coverable
                    ),
                ),
            },
        });
    }
    if let Some(crit) = &c.max_drop {
        let mut row = Row::new(
            "coverage.drop",
            "Coverage drop",
            crit.level,
            crit.why.as_ref(),
        )
        .threshold(format!(
            "≤ {} {}",
            crate::units::significant(crit.threshold.0),
            if crit.threshold.0 == 1.0 {
                "point"
            } else {
                "points"
            }
        ));
        row = match (baseline_total, total_pct) {
            (None, _) => row.skipped("no baseline: the base commit has no recorded coverage"),
            (_, None) => row.skipped("the report lists no coverable lines"),
            (Some(b), Some(p)) => {
                let drop = b - p;
                let mut r = row.actual(format!("{:.2} points", drop.max(0.0))).judged(
                    drop <= crit.threshold.0 + 1e-9,
                    format!(
                        "total coverage went from {} to {}",
                        floor_percent(b),
                        floor_percent(p)
                    ),
                );
                r.baseline = Some(floor_percent(b));
                r.delta = Some(format!("{:+.2}", p - b));
                r
            }
        };
        out.push(row);
    }

    out.coverage = Some(CoverageOutcome {
        total: totals.lines.into(),
        branches: totals.branches.map(Into::into),
        patch: patch.map(Into::into),
        baseline_total,
    });
    out.metrics.coverage = Some(CoverageMetrics {
        lines: totals.lines,
        branches: totals.branches,
        files: report
            .files()
            .map(|(path, f)| (path.to_owned(), f.lines()))
            .collect(),
    });
}

fn rows(
    c: &CoverageConfig,
) -> Vec<(
    &'static str,
    &'static str,
    &crate::config::Criterion<crate::units::Percent>,
)> {
    [
        ("coverage.total", "Total coverage", c.min_total.as_ref()),
        ("coverage.patch", "Patch coverage", c.min_patch.as_ref()),
        ("coverage.drop", "Coverage drop", c.max_drop.as_ref()),
    ]
    .into_iter()
    .filter_map(|(id, title, crit)| Some((id, title, crit?)))
    .collect()
}

/// The report under repository paths, ignored files left out.
fn repo_paths<'a>(
    report: &'a CoverageReport,
    c: &CoverageConfig,
    facts: &Facts,
) -> CoverageView<'a> {
    let changed: Vec<&str> = facts
        .diff
        .iter()
        .flat_map(|d| d.files.iter().map(|f| f.path.as_str()))
        .collect();
    let table = paths::map_paths(
        report.files().iter().map(|f| f.path.as_str()),
        &report.sources,
        &c.strip_prefix,
        &changed,
    );
    report.view(|p| {
        let repo = table.get(p).cloned().unwrap_or_else(|| p.to_owned());
        (!c.ignore.is_match(&repo)).then_some(repo)
    })
}

/// One annotation per run of consecutive missed added lines.
fn annotate_missed(
    path: &str,
    missed: &[u32],
    cov: &crate::report::coverage::FileCoverage,
    out: &mut Outcome,
) {
    let mut i = 0;
    while i < missed.len() {
        let start = missed[i];
        let mut end = start;
        while i + 1 < missed.len() && missed[i + 1] == end + 1 {
            i += 1;
            end = missed[i];
        }
        i += 1;
        let partial = start == end && cov.line(start) == LineStatus::Partial;
        let (title, message) = if partial {
            let b = cov
                .branch(start)
                .map(|b| (b.taken(), b.total()))
                .unwrap_or_default();
            (
                "Partly covered line".to_owned(),
                format!(
                    "Added line {start} runs in tests, but only {} of its {} branches are taken",
                    b.0, b.1
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
        };
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
