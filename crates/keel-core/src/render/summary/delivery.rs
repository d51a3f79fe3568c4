//! Delivery: the DORA table with trends and performer words, the plain per-week table (what
//! an e-mail notification shows), charts with one unit per axis that leave weeks without data
//! out and say so, what failed behind the change failure rate, and the cycle-time breakdown.

use super::{escape, hours, percent, performer, short, source_words};
use crate::summary::dora::{Cause, WeekMetrics, bands, median};
use crate::summary::report::WeeklyReport;
use std::fmt::Write;

/// Which way is better for a metric.
#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
}

/// This week against the mean of up to four earlier weeks with data.
fn trend(values: &[Option<f64>], better: Better) -> String {
    let Some((Some(now), before)) = values.split_last().map(|(l, r)| (*l, r)) else {
        return "—".into();
    };
    let earlier: Vec<f64> = before.iter().rev().flatten().take(4).copied().collect();
    if earlier.is_empty() {
        return "—".into();
    }
    let mean = earlier.iter().sum::<f64>() / earlier.len() as f64;
    let change = now - mean;
    if change.abs() <= mean.abs() * 0.05 + 1e-9 {
        return "→ steady".into();
    }
    let up = change > 0.0;
    let good = matches!(
        (up, better),
        (true, Better::Higher) | (false, Better::Lower)
    );
    format!(
        "{} {}",
        if up { "↑" } else { "↓" },
        if good { "better" } else { "worse" }
    )
}

/// The section.
pub(super) fn section(report: &WeeklyReport, s: &mut String) {
    let Some(this) = report.weeks.last() else {
        return;
    };
    if !this.observed {
        return;
    }
    let last = report.weeks.len().checked_sub(2).map(|i| &report.weeks[i]);
    let series = |f: &dyn Fn(&WeekMetrics) -> Option<f64>| -> Vec<Option<f64>> {
        report
            .weeks
            .iter()
            .map(|w| if w.observed { f(w) } else { None })
            .collect()
    };
    let per_week = report.deployments_per_week();
    s.push_str("#### Delivery (DORA)\n\n| Metric | This week | Last week | Trend (vs up to 4 weeks before) | Performance¹ |\n|---|---|---|---|---|\n");
    let last_observed = last.filter(|w| w.observed);
    let _ = writeln!(
        s,
        "| Deployment frequency | {} | {} | {} | {} ({per_week:.1} a week) |",
        this.deployments,
        last_observed.map_or("no data".into(), |w| w.deployments.to_string()),
        trend(&series(&|w| Some(w.deployments as f64)), Better::Higher),
        performer(Some(bands::deployment_frequency(per_week)))
    );
    type Metric = (
        &'static str,
        fn(&WeekMetrics) -> Option<f64>,
        fn(f64) -> crate::summary::dora::Band,
        fn(Option<f64>) -> String,
    );
    let metrics: [Metric; 3] = [
        (
            "Lead time for changes",
            |w| w.lead_time_hours,
            bands::lead_time,
            hours,
        ),
        (
            "Change failure rate",
            |w| w.change_failure_rate,
            bands::change_failure_rate,
            percent,
        ),
        (
            "Time to restore",
            |w| w.time_to_restore_hours,
            bands::time_to_restore,
            hours,
        ),
    ];
    for (name, value, band, format) in metrics {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} |",
            format(value(this)),
            format(last_observed.and_then(value)),
            trend(&series(&|w| value(w)), Better::Lower),
            performer(value(this).map(band))
        );
    }
    s.push('\n');
    weekly_table(report, s);
    charts(report, s);
    failures(report, this, s);
    cycle_time(report, s);
}

/// The plain table: every week, "no data" where Keel was not recording yet.
fn weekly_table(report: &WeeklyReport, s: &mut String) {
    s.push_str("| Week | Dates | Deployments | Lead time | Change failure rate | Time to restore |\n|---|---|---|---|---|---|\n");
    for w in &report.weeks {
        let dates = super::dates(&w.week.name);
        let dates = dates.split(" (").next().unwrap_or(&dates);
        if !w.observed {
            let _ = writeln!(
                s,
                "| {} | {dates} | no data | no data | no data | no data |",
                short(&w.week.name)
            );
            continue;
        }
        let _ = writeln!(
            s,
            "| {} | {dates} | {} | {} | {} | {} |",
            short(&w.week.name),
            w.deployments,
            hours(w.lead_time_hours),
            percent(w.change_failure_rate),
            hours(w.time_to_restore_hours)
        );
    }
    s.push('\n');
}

/// One chart per unit: deployments (a count) and lead time (hours). Weeks without a value are
/// left out of a chart (mermaid cannot draw a gap) and named under it.
fn charts(report: &WeeklyReport, s: &mut String) {
    let source = source_words(report.source);
    let counts: Vec<(&str, String)> = report
        .weeks
        .iter()
        .filter(|w| w.observed)
        .map(|w| (short(&w.week.name), w.deployments.to_string()))
        .collect();
    let leads: Vec<(&str, String)> = report
        .weeks
        .iter()
        .filter_map(|w| {
            let h = w.lead_time_hours.filter(|_| w.observed)?;
            Some((short(&w.week.name), format!("{h:.1}")))
        })
        .collect();
    let charts = [
        (format!("{source} per week"), "bar", "count", counts),
        (
            "median lead time per week".to_owned(),
            "line",
            "hours",
            leads,
        ),
    ];
    for (title, kind, unit, points) in charts {
        if points.len() < 2 {
            continue;
        }
        let labels: Vec<String> = points.iter().map(|(w, _)| format!("\"{w}\"")).collect();
        let values: Vec<&str> = points.iter().map(|(_, v)| v.as_str()).collect();
        let _ = writeln!(
            s,
            "```mermaid\nxychart-beta\n    title \"{title}\"\n    x-axis [{}]\n    y-axis \"{unit}\"\n    {kind} [{}]\n```",
            labels.join(", "),
            values.join(", ")
        );
        let left_out = |observed: bool| -> Vec<&str> {
            report
                .weeks
                .iter()
                .filter(|w| w.observed == observed)
                .map(|w| short(&w.week.name))
                .filter(|w| !points.iter().any(|(p, _)| p == w))
                .collect()
        };
        let (before, empty) = (left_out(false), left_out(true));
        if !before.is_empty() {
            let _ = writeln!(
                s,
                "<sub>Left out of this chart, Keel had recorded nothing yet (no data, not a zero): {}.</sub>",
                before.join(", ")
            );
        }
        if !empty.is_empty() {
            let _ = writeln!(
                s,
                "<sub>Left out of this chart, nothing to measure that week (not a zero): {}.</sub>",
                empty.join(", ")
            );
        }
        s.push('\n');
    }
}

/// A commit as GitHub links it in an issue: the full SHA, bare.
fn commit(sha: &str) -> String {
    if sha.len() >= 7 && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        sha.to_owned()
    } else {
        escape::code(sha)
    }
}

/// The failed deployments behind the change failure rate, each linked.
fn failures(report: &WeeklyReport, this: &WeekMetrics, s: &mut String) {
    let lines = what_failed(report, this);
    if lines.is_empty() {
        return;
    }
    s.push_str("#### What failed\n\n");
    for line in lines {
        let _ = writeln!(s, "- {line}");
    }
    s.push('\n');
}

/// Each failure behind the week's change failure rate, and each root cause no deployment
/// shipped, as a sentence (commits in backticks).
pub fn what_failed(report: &WeeklyReport, this: &WeekMetrics) -> Vec<String> {
    let mut lines = Vec::new();
    let noun = match report.source {
        crate::summary::dora::Source::Deployments => "Deployment",
        crate::summary::dora::Source::Merges => "Merge",
        crate::summary::dora::Source::Releases => "Release",
    };
    for f in &this.failures {
        let when = chrono::DateTime::from_timestamp_millis(f.at)
            .map(|t| t.format("%a %-d %b %H:%M UTC").to_string())
            .unwrap_or_default();
        let what = f
            .sha
            .as_deref()
            .map_or_else(String::new, |sha| format!(" of {}", commit(sha)));
        let why = match &f.cause {
            Cause::FailedStatus => "its status was a failure".to_owned(),
            Cause::Incident {
                number,
                by_root_cause,
            } => {
                let incident =
                    number.map_or_else(|| "an incident".to_owned(), |n| format!("incident #{n}"));
                if *by_root_cause {
                    format!("{incident} names a commit it shipped as the root cause")
                } else {
                    format!("{incident} opened before the next deployment")
                }
            }
            Cause::Revert { revert, reverted } => {
                format!("#{revert} reverts #{reverted}, which it shipped")
            }
        };
        lines.push(format!("{noun}{what} ({when}): {why}."));
    }
    for cause in &this.unshipped_root_causes {
        lines.push(format!(
            "An incident names {} as its root cause, but no recorded deployment shipped it: it counts against none.",
            commit(cause)
        ));
    }
    lines
}

/// Medians of each step from first commit to deployment, over the week's merged pull requests.
fn cycle_time(report: &WeeklyReport, s: &mut String) {
    if report.merged.is_empty() {
        return;
    }
    type Step = fn(&crate::summary::report::CycleTimes) -> (Option<i64>, Option<i64>);
    let steps: [(&str, Step); 4] = [
        ("First commit → opened", |t| (t.first_commit, t.opened)),
        ("Opened → first review", |t| (t.opened, t.first_review)),
        ("First review → merged", |t| (t.first_review, t.merged)),
        ("Merged → deployed", |t| (t.merged, t.deployed)),
    ];
    s.push_str("#### Cycle time\n\n| Step | Median | Pull requests measured |\n|---|---|---|\n");
    for (name, step) in steps {
        let mut spans: Vec<f64> = report
            .merged
            .iter()
            .filter_map(|m| match step(&m.times) {
                (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / 3_600_000.0),
                _ => None,
            })
            .collect();
        let n = spans.len();
        let _ = writeln!(
            s,
            "| {name} | {} | {n} of {} |",
            hours(median(&mut spans)),
            report.merged.len()
        );
    }
    s.push('\n');
}
