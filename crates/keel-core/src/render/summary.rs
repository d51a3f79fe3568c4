//! The weekly summary issue: headline numbers, the DORA table with trends and bands, a mermaid
//! chart of the last weeks, roadmap progress, debt capacity, definition-of-done health, work
//! linked to no roadmap item, and a footnote with the definitions. At most 65,536 characters.

use super::escape;
use crate::strategy::debt::impact;
use crate::summary::dora::{Band, Source, WeekMetrics, bands};
use crate::summary::report::WeeklyReport;
use std::fmt::Write;

/// The label every summary issue carries.
pub const SUMMARY_LABEL: &str = "keel-summary";

/// `Keel weekly summary · owner/name · 2026-W48`.
pub fn title(repo: &str, week: &str) -> String {
    format!("Keel weekly summary · {repo} · {week}")
}

/// Which way is better for a metric.
#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
}

fn trend(values: &[Option<f64>], better: Better) -> String {
    let Some((Some(now), before)) = values.split_last().map(|(l, r)| (*l, r)) else {
        return "—".into();
    };
    let earlier: Vec<f64> = before.iter().rev().take(4).flatten().copied().collect();
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

fn hours(h: Option<f64>) -> String {
    match h {
        None => "—".into(),
        Some(h) if h < 1.0 => format!("{:.0} min", h * 60.0),
        Some(h) if h < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} days", h / 24.0),
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{:.0}%", v * 100.0))
}

fn band(b: Option<Band>) -> &'static str {
    b.map_or("—", Band::as_str)
}

/// Renders the issue body.
pub fn body(report: &WeeklyReport) -> String {
    let mut s = String::new();
    let Some(this) = report.weeks.last() else {
        return "_No weeks to summarise._\n".into();
    };
    let last = report.weeks.len().checked_sub(2).map(|i| &report.weeks[i]);
    let series = |f: &dyn Fn(&WeekMetrics) -> Option<f64>| -> Vec<Option<f64>> {
        report.weeks.iter().map(f).collect()
    };
    let deploys = series(&|w| Some(w.deployments as f64));
    let lead = series(&|w| w.lead_time_hours);
    let cfr = series(&|w| w.change_failure_rate);
    let restore = series(&|w| w.time_to_restore_hours);
    let recent = report.weeks.iter().rev().take(4);
    let per_week =
        recent.clone().map(|w| w.deployments as f64).sum::<f64>() / recent.count().max(1) as f64;
    let source = match report.source {
        Source::Deployments => "deployments",
        Source::Merges => "merges to the default branch",
        Source::Releases => "releases",
    };
    let _ = writeln!(
        s,
        "### {} · {}\n",
        escape::text(&report.repo),
        this.week.name
    );
    let _ = writeln!(
        s,
        "**{}** {source} · lead time **{}** · change failure rate **{}** · time to restore **{}** · **{}** pull requests merged\n",
        this.deployments,
        hours(this.lead_time_hours),
        percent(this.change_failure_rate),
        hours(this.time_to_restore_hours),
        report.merged.len()
    );
    s.push_str("#### Delivery (DORA)\n\n| Metric | This week | Last week | Trend (vs 4 weeks before) | Band¹ |\n|---|---|---|---|---|\n");
    let _ = writeln!(
        s,
        "| Deployment frequency | {} | {} | {} | {} |",
        this.deployments,
        last.map_or("—".into(), |w| w.deployments.to_string()),
        trend(&deploys, Better::Higher),
        bands::deployment_frequency(per_week).as_str()
    );
    let _ = writeln!(
        s,
        "| Lead time for changes | {} | {} | {} | {} |",
        hours(this.lead_time_hours),
        hours(last.and_then(|w| w.lead_time_hours)),
        trend(&lead, Better::Lower),
        band(this.lead_time_hours.map(bands::lead_time))
    );
    let _ = writeln!(
        s,
        "| Change failure rate | {} | {} | {} | {} |",
        percent(this.change_failure_rate),
        percent(last.and_then(|w| w.change_failure_rate)),
        trend(&cfr, Better::Lower),
        band(this.change_failure_rate.map(bands::change_failure_rate))
    );
    let _ = writeln!(
        s,
        "| Time to restore | {} | {} | {} | {} |",
        hours(this.time_to_restore_hours),
        hours(last.and_then(|w| w.time_to_restore_hours)),
        trend(&restore, Better::Lower),
        band(this.time_to_restore_hours.map(bands::time_to_restore))
    );
    let mut waits: Vec<f64> = report
        .merged
        .iter()
        .filter_map(|m| m.review_wait_hours)
        .collect();
    if let Some(wait) = crate::summary::dora::median(&mut waits) {
        let _ = writeln!(
            s,
            "\nMedian wait for a first review of the week's merged pull requests: **{}**.",
            hours(Some(wait))
        );
    }
    let labels: Vec<String> = report
        .weeks
        .iter()
        .map(|w| format!("\"{}\"", w.week.name.rsplit('-').next().unwrap_or("")))
        .collect();
    let values: Vec<String> = report
        .weeks
        .iter()
        .map(|w| w.deployments.to_string())
        .collect();
    let leads: Vec<String> = report
        .weeks
        .iter()
        .map(|w| format!("{:.1}", w.lead_time_hours.unwrap_or(0.0)))
        .collect();
    let top = report
        .weeks
        .iter()
        .map(|w| (w.deployments as f64).max(w.lead_time_hours.unwrap_or(0.0)))
        .fold(1.0f64, f64::max)
        .ceil();
    let _ = writeln!(
        s,
        "\n```mermaid\nxychart-beta\n    title \"{source} (bars) and lead time in hours (line)\"\n    x-axis [{}]\n    y-axis 0 --> {top}\n    bar [{}]\n    line [{}]\n```\n",
        labels.join(", "),
        values.join(", "),
        leads.join(", ")
    );

    if !report.roadmap.is_empty() {
        s.push_str("#### Roadmap\n\n| Item | Status | Merged this week | Hypothesis | Measured vs target |\n|---|---|---|---|---|\n");
        for item in &report.roadmap {
            let merged: Vec<String> = report
                .merged
                .iter()
                .filter(|m| m.roadmap_items.contains(&item.id.0))
                .map(|m| format!("#{}", m.number))
                .collect();
            let measured = match (report.outcomes.get(&item.id.0), &item.target) {
                (Some(v), Some(t)) => format!("{v} vs {}", escape::text(t)),
                (Some(v), None) => v.to_string(),
                (None, Some(t)) => format!("not measured yet (target {})", escape::text(t)),
                (None, None) => "—".to_owned(),
            };
            let _ = writeln!(
                s,
                "| **{}** {} | {} | {} | {} | {measured} |",
                escape::text(&item.id.0),
                escape::text(&item.title),
                item.status.as_str(),
                if merged.is_empty() {
                    "—".to_owned()
                } else {
                    format!("{} ({})", merged.len(), merged.join(", "))
                },
                item.hypothesis
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), |h| escape::text(&h.text))
            );
        }
        s.push('\n');
    }

    waivers(report, &mut s);

    if let Some(debt) = &report.debt {
        let evaluated: Vec<_> = report.merged.iter().filter(|m| m.debt.is_some()).collect();
        let is = |m: &&&crate::summary::report::MergedChange, v: &[&str]| {
            m.debt.as_deref().is_some_and(|d| v.contains(&d))
        };
        let reduced = evaluated
            .iter()
            .filter(|m| is(m, &["reduced", "mixed"]))
            .count();
        let added = evaluated
            .iter()
            .filter(|m| is(m, &["added", "mixed"]))
            .count();
        let share =
            (!report.merged.is_empty()).then(|| reduced as f64 / report.merged.len() as f64);
        s.push_str("#### Technical debt\n\n");
        let target = debt
            .capacity_target
            .map(|t| format!(" (target {:.0}%)", t * 100.0))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "- Capacity spent on debt: **{}** of merged pull requests{target}.",
            percent(share)
        );
        let _ = writeln!(
            s,
            "- Debt reduced by {reduced}, added by {added} pull requests."
        );
        if reduced == 0 {
            s.push_str("- ⚠️ **No debt work this week.**\n");
        }
        let mut items: Vec<_> = debt.items.iter().collect();
        items.sort_by(|a, b| {
            let cost = |i: &crate::config::DebtItem| {
                i.cost_per_month.unwrap_or(0.0) + 1000.0 * i.slows_delivery_days.unwrap_or(0.0)
            };
            cost(b).total_cmp(&cost(a))
        });
        if !items.is_empty() {
            s.push_str("- Top register items by business impact:\n");
            for item in items.iter().take(5) {
                let _ = writeln!(
                    s,
                    "  - **{}** {} — {}",
                    escape::text(&item.id.0),
                    escape::text(&item.title),
                    escape::text(&impact(item))
                );
            }
        }
        s.push('\n');
    }

    let judged: Vec<_> = report.merged.iter().filter(|m| m.dod.is_some()).collect();
    s.push_str("#### Definition of done\n\n");
    if judged.is_empty() {
        s.push_str("- No merged pull request was judged by Keel this week.\n");
    } else {
        let passed = judged
            .iter()
            .filter(|m| m.dod.as_deref() == Some("success"))
            .count();
        let _ = writeln!(
            s,
            "- {passed} of {} merged pull requests met their definition of done ({}).",
            judged.len(),
            percent(Some(passed as f64 / judged.len() as f64))
        );
        let mut failing: std::collections::BTreeMap<&str, usize> =
            std::collections::BTreeMap::new();
        for m in &judged {
            for c in &m.failed_criteria {
                *failing.entry(c.as_str()).or_default() += 1;
            }
        }
        let mut failing: Vec<(&str, usize)> = failing.into_iter().collect();
        failing.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if !failing.is_empty() {
            let top: Vec<String> = failing
                .iter()
                .take(3)
                .map(|(c, n)| format!("{} ({n})", escape::text(c)))
                .collect();
            let _ = writeln!(s, "- Most often failing: {}.", top.join(", "));
        }
    }
    let health: Vec<String> = report
        .health
        .iter()
        .filter(|h| h.coverage.is_some() || h.findings.is_some())
        .map(|h| {
            format!(
                "{}: {}{}",
                h.week.rsplit('-').next().unwrap_or(""),
                h.coverage
                    .map_or("—".into(), |c| format!("{c:.1}% coverage")),
                h.findings
                    .map_or(String::new(), |f| format!(", {f} findings"))
            )
        })
        .collect();
    if !health.is_empty() {
        let _ = writeln!(s, "- Default branch: {}.", health.join(" · "));
    }
    let with_benchmarks: Vec<&crate::summary::report::Health> = report
        .health
        .iter()
        .filter(|h| !h.benchmarks.is_empty())
        .collect();
    if let (Some(first), Some(last)) = (with_benchmarks.first(), with_benchmarks.last()) {
        let trends: Vec<String> = last
            .benchmarks
            .iter()
            .take(10)
            .map(|b| {
                let since = first
                    .benchmarks
                    .iter()
                    .find(|f| f.name == b.name && f.value > 0.0 && first.week != last.week)
                    .map(|f| {
                        format!(
                            " ({:+.1}% since {})",
                            (b.value - f.value) / f.value * 100.0,
                            first.week.rsplit('-').next().unwrap_or("")
                        )
                    })
                    .unwrap_or_default();
                format!("{} {}{since}", escape::code(&b.name), b.quantity())
            })
            .collect();
        let _ = writeln!(s, "- Benchmarks: {}.", trends.join(" · "));
    }

    let unlinked: Vec<String> = report
        .merged
        .iter()
        .filter(|m| m.roadmap_items.is_empty())
        .map(|m| match &m.title {
            Some(t) => format!("#{} {}", m.number, escape::text(t)),
            None => format!("#{}", m.number),
        })
        .collect();
    if !report.roadmap.is_empty() {
        s.push_str("\n#### Not linked to the roadmap\n\n");
        if unlinked.is_empty() {
            s.push_str("Every merged pull request served a roadmap item.\n");
        } else {
            for u in unlinked.iter().take(30) {
                let _ = writeln!(s, "- {u}");
            }
            if unlinked.len() > 30 {
                let _ = writeln!(s, "- _and {} more_", unlinked.len() - 30);
            }
        }
    }

    let this_week = report.weeks.last();
    let by_time = if this_week.is_some_and(|w| w.lead_time_by_time) {
        " — this week some changes were paired with the first deployment after their merge by time alone: the stored push history did not reach back far enough to tell"
    } else {
        ""
    };
    let unshipped = this_week
        .map(|w| &w.unshipped_root_causes)
        .filter(|c| !c.is_empty())
        .map(|c| {
            format!(
                " This week's incidents name root causes no deployment shipped: {}.",
                c.iter()
                    .map(|x| escape::code(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .unwrap_or_default();
    let _ = write!(
        s,
        "\n---\n<sub>¹ Bands use the thresholds of the 2023 Accelerate State of DevOps report (DORA): \
deployment frequency daily+ elite, weekly high, monthly medium (averaged over 4 weeks); lead time < 1 day elite, \
< 1 week high, < 1 month medium; change failure rate ≤ 5% elite, ≤ 10% high, ≤ 15% medium; time to restore \
< 1 hour elite, < 1 day high, < 1 week medium. \
Definitions: deployment frequency counts successful production {source}; lead time is the median from a pull \
request's first commit to the first successful deployment that contains its merge (its commit, or one of the \
default-branch heads pushed since the previous successful deployment; to the merge without deployments){by_time}; \
change failure rate is the share of the week's deployments followed by a failed status, an incident whose root \
cause is a commit it shipped (or, without one, opened before the next deployment) or a revert of a change it \
shipped (never above 100%); time to restore is the median from an incident's opening or a failed deployment to \
its closing or the next successful deployment.{unshipped}</sub>\n"
    );
    super::trim_to(
        s,
        super::COMMENT_LIMIT,
        "_Trimmed to fit GitHub's issue limit; `keel summary --format json` gives everything._",
    )
}

/// The week's waivers: how many, of which criteria, which end within a week after it, and
/// each with who, why and until when.
fn waivers(report: &WeeklyReport, s: &mut String) {
    if report.waivers.is_empty() {
        return;
    }
    let n = report.waivers.len();
    let mut by_family: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for w in &report.waivers {
        let family = w.criterion.split('.').next().unwrap_or(&w.criterion);
        *by_family.entry(family).or_default() += 1;
    }
    let families: Vec<String> = by_family
        .iter()
        .map(|(f, c)| format!("{c} {}", escape::text(f)))
        .collect();
    let _ = write!(
        s,
        "#### Waivers: debt taken on purpose\n\n- {n} {} this week: {}",
        if n == 1 { "waiver" } else { "waivers" },
        families.join(", ")
    );
    // The week's last day (UTC, near enough for "ends by").
    let week_end = report
        .weeks
        .last()
        .and_then(|w| chrono::DateTime::from_timestamp_millis(w.week.end - 1))
        .map(|t| t.date_naive());
    if let Some(end) = week_end {
        let soon = report
            .waivers
            .iter()
            .filter(|w| !w.ended && w.until.is_some_and(|u| u.0 <= end + chrono::Days::new(7)))
            .count();
        if soon > 0 {
            let _ = write!(
                s,
                "; {soon} {} by {}",
                if soon == 1 { "ends" } else { "end" },
                (end + chrono::Days::new(7)).format("%a %d %b %Y")
            );
        }
    }
    s.push_str(".\n");
    for w in &report.waivers {
        let until = w.until.map(|u| format!(" until {u}")).unwrap_or_default();
        let ended = if w.ended { " (ended)" } else { "" };
        let _ = writeln!(
            s,
            "  - #{} {} by {}{until}{ended}: “{}”",
            w.number,
            escape::code(&w.criterion),
            escape::text(&format!("@{}", w.by)),
            escape::text(&w.reason)
        );
    }
    s.push('\n');
}
