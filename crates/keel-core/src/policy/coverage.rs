//! Coverage criteria: total, patch and drop against the base.
//!
//! A line is coverable if the report lists it and covered if its hits are above zero, so the
//! total equals LCOV's LH/LF and Cobertura's line-rate. Patch coverage is covered added lines
//! over coverable added lines (diff-cover's definition); with `partial_lines = "miss"` a line
//! with untaken branches counts as coverable but not covered (Codecov's). A changed source file
//! the report does not list counts as uncovered, and a coverable file whose patch the host left
//! out makes patch coverage unknown, which fails (see [`patch`]). A change that adds no
//! coverable line passes as "not affected".

mod patch;

use super::{Outcome, Row, SkipReason, Specific, code, paths};
use crate::config::CoverageConfig;
use crate::evaluation::CoverageOutcome;
use crate::evaluation::MAX_SPECIFICS;
use crate::facts::{CoverageMetrics, Facts};
use crate::report::coverage::{CoverageReport, CoverageView};
use crate::units::floor_percent;

pub(super) fn evaluate(
    config: Option<&CoverageConfig>,
    not_affected: Option<String>,
    facts: &Facts,
    out: &mut Outcome,
) {
    let default = CoverageConfig::default();
    let c = config.unwrap_or(&default);
    if let Some(why) = not_affected {
        for (id, title, crit) in rows(c) {
            let row = Row::new(id, title, crit.level, crit.why.as_ref());
            out.push(row.unjudged(SkipReason::NotAffected, why.clone()));
        }
        return;
    }
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

    let patch = facts
        .diff
        .as_ref()
        .map(|diff| patch::measure(diff, &report, c, out));
    if let Some(p) = patch.as_ref().filter(|p| !p.unknown.is_empty()) {
        out.notes.push(unknown_patch(&p.unknown));
    }

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
            None => row.unjudged(SkipReason::Missing, "the report lists no coverable lines"),
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
            row.delta = Some(format!("{:+.2} points", p - b));
            out.metrics_compared = true;
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
        let row = patch_row(row, crit.threshold.0, patch.as_ref(), facts);
        let failed = row.status == crate::evaluation::Status::Fail;
        out.push(row);
        if let Some(p) = &patch {
            patch::annotate_unreported(p, failed, out);
        }
    } else if let Some(p) = &patch {
        patch::annotate_unreported(p, false, out);
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
            (None, _) => row.unjudged(
                SkipReason::NoBaseline,
                "no baseline: the base commit has no recorded coverage",
            ),
            (_, None) => row.unjudged(SkipReason::Missing, "the report lists no coverable lines"),
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
                r.delta = Some(format!("{:+.2} points", p - b));
                out.metrics_compared = true;
                r
            }
        };
        out.push(row);
    }

    out.coverage = Some(CoverageOutcome {
        total: totals.lines.into(),
        branches: totals.branches.map(Into::into),
        patch: patch.map(|p| p.ratio.into()),
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

/// The patch coverage row: unknown when a coverable file has no patch (never a pass).
fn patch_row(row: Row, threshold: f64, patch: Option<&patch::Patch>, facts: &Facts) -> Row {
    let Some(p) = patch else {
        return row.unjudged(
            super::hygiene::no_diff(facts),
            "no diff was given, so the added lines are unknown",
        );
    };
    if !p.unknown.is_empty() {
        return row
            .actual("unknown")
            .judged(false, unknown_patch(&p.unknown));
    }
    let Some(percent) = p.ratio.percent() else {
        return row
            .actual("not affected")
            .judged(true, "the change adds no coverable lines");
    };
    let uncovered = p.ratio.coverable - p.ratio.covered;
    let files = p.missed.len() + p.unreported.len();
    let mut explanation = if uncovered == 0 {
        format!(
            "all {} added coverable lines are covered",
            p.ratio.coverable
        )
    } else {
        format!(
            "{uncovered} added {} in {files} {} not covered ({} of {} covered)",
            if uncovered == 1 { "line" } else { "lines" },
            match (files, uncovered) {
                (1, 1) => "file is",
                (1, _) => "file are",
                (_, 1) => "files is",
                _ => "files are",
            },
            p.ratio.covered,
            p.ratio.coverable
        )
    };
    if !p.unreported.is_empty() {
        let files: Vec<String> = p.unreported.iter().map(|(f, _)| code(f)).collect();
        explanation.push_str(&format!(
            "; not in the coverage report, so counted as uncovered: {}",
            files.join(", ")
        ));
    }
    let mut row = row
        .actual(floor_percent(percent))
        .judged(percent >= threshold, explanation);
    let missed = p.missed.iter().map(|(f, l)| (f, l, ""));
    let unreported = p
        .unreported
        .iter()
        .map(|(f, l)| (f, l, ", not in the report"));
    for (path, lines, how) in missed.chain(unreported).take(MAX_SPECIFICS) {
        row.specifics.push(Specific {
            path: Some(path.clone()),
            lines: patch::ranges(lines),
            text: format!(
                "{} {}{how}",
                lines.len(),
                if lines.len() == 1 { "line" } else { "lines" }
            ),
            note: None,
        });
    }
    row
}

/// Why patch coverage is unknown.
fn unknown_patch(files: &[String]) -> String {
    let names: Vec<String> = files.iter().map(|f| code(f)).collect();
    let its = if files.len() == 1 { "its" } else { "their" };
    format!(
        "GitHub sent no patch for {} (too large); {its} added lines cannot be checked",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests;
