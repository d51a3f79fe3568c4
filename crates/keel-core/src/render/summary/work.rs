//! Where the week's work went: roadmap items with their outcomes in plain words, the
//! investment balance, technical debt with its money, the definition of done with the reasons
//! behind its most failing criteria, and the work no roadmap item explains.

use super::{escape, percent};
use crate::config::RoadmapItem;
use crate::strategy::debt::{impact, money};
use crate::summary::report::{Investment, Outcome, WeeklyReport};
use std::fmt::Write;

const NO_MERGES: &str = "No merged pull requests this week.\n";

/// The roadmap table.
pub(super) fn roadmap(report: &WeeklyReport, s: &mut String) {
    if report.roadmap.is_empty() {
        return;
    }
    s.push_str("#### Roadmap\n\n| Item | Status | Merged this week | Hypothesis | Outcome so far |\n|---|---|---|---|---|\n");
    for item in &report.roadmap {
        let merged: Vec<String> = report
            .merged
            .iter()
            .filter(|m| m.roadmap_items.contains(&item.id.0))
            .map(|m| format!("#{}", m.number))
            .collect();
        let _ = writeln!(
            s,
            "| **{}** {} | {} | {} | {} | {} |",
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
                .map_or_else(|| "—".to_owned(), |h| escape::text(&h.text)),
            outcome_words(item, report.outcomes.get(&item.id.0))
        );
    }
    s.push('\n');
}

/// Whether a hypothesis or target asks the metric to go down.
fn goes_down(item: &RoadmapItem) -> bool {
    let words = format!(
        "{} {}",
        item.hypothesis.as_ref().map_or("", |h| h.effect.as_str()),
        item.target.as_deref().unwrap_or("")
    )
    .to_lowercase();
    // Whole words: "serverless" or "dropdown" say nothing about the direction.
    words.split(|c: char| !c.is_alphanumeric()).any(|w| {
        matches!(
            w,
            "reduce"
                | "reduces"
                | "decrease"
                | "decreases"
                | "lower"
                | "lowers"
                | "cut"
                | "cuts"
                | "fewer"
                | "less"
                | "shorten"
                | "shortens"
                | "halve"
                | "halves"
        )
    }) || item
        .target
        .as_deref()
        .is_some_and(|t| t.trim_start().starts_with(['-', '−']))
}

/// The leading number of a target (`-15%` → 15, `< 2 s` → 2), and whether it is an
/// absolute bound (`<`, `>`) rather than a change.
fn target_number(target: &str) -> Option<(f64, Option<char>)> {
    let t = target.trim();
    let bound = t
        .chars()
        .next()
        .filter(|c| matches!(c, '<' | '>' | '≤' | '≥'));
    let digits: String = t
        .trim_start_matches(['<', '>', '≤', '≥', '=', '-', '−', '+', ' '])
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    Some((digits.parse().ok()?, bound))
}

/// "cart abandonment −11.5% so far, target −15%: not yet (measured 28 Nov 2026)".
pub(super) fn outcome_words(item: &RoadmapItem, measured: Option<&Outcome>) -> String {
    let metric = item
        .metric
        .clone()
        .or_else(|| {
            item.hypothesis
                .as_ref()
                .map(|h| h.effect.clone())
                .filter(|e| !e.is_empty())
        })
        .unwrap_or_else(|| "outcome".to_owned());
    let Some(m) = measured else {
        return match &item.target {
            Some(t) => format!("not measured yet (target {})", escape::text(t)),
            None => "—".to_owned(),
        };
    };
    let down = goes_down(item);
    let unit = item
        .target
        .as_deref()
        .filter(|t| t.trim_end().ends_with('%'))
        .map_or("", |_| "%");
    let when = m
        .measured_at
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || "from the outcomes file".to_owned(),
            |t| format!("measured {}", t.format("%-d %b %Y")),
        );
    let target = item.target.as_deref().and_then(target_number);
    let (shown, verdict) = match target {
        Some((bound, Some(op))) => {
            let met = match op {
                '<' | '≤' => m.value <= bound,
                _ => m.value >= bound,
            };
            (
                format!("{}{unit}", trim(m.value)),
                Some((
                    format!(
                        "target {}",
                        escape::text(item.target.as_deref().unwrap_or(""))
                    ),
                    met,
                )),
            )
        }
        Some((size, None)) => {
            // A signed change: a fall is negative, and only a fall meets a goal to go down.
            let signed = m.value;
            let sign = if down { "−" } else { "+" };
            let met = if down {
                signed <= -size
            } else {
                signed >= size
            };
            (
                format!(
                    "{}{}{unit}",
                    if signed < 0.0 { "−" } else { "+" },
                    trim(signed.abs())
                ),
                Some((format!("target {sign}{}{unit}", trim(size)), met)),
            )
        }
        None => (trim(m.value), None),
    };
    let metric = escape::text(&metric);
    match verdict {
        Some((target, met)) => format!(
            "{metric} {shown} so far, {target}: {} ({when})",
            if met { "reached" } else { "not yet" }
        ),
        None => format!("{metric} {shown} ({when})"),
    }
}

fn trim(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Feature, debt, upkeep and unlinked shares of the merged work.
pub(super) fn investment(report: &WeeklyReport, s: &mut String) {
    s.push_str("#### Where the work went\n\n");
    if report.merged.is_empty() {
        s.push_str(NO_MERGES);
        s.push('\n');
        return;
    }
    let n = report.merged.len();
    let count = |kind: Investment| {
        report
            .merged
            .iter()
            .filter(|m| m.investment() == kind)
            .count()
    };
    let parts: Vec<String> = [
        (Investment::Feature, "roadmap features"),
        (Investment::Debt, "debt paid down"),
        (Investment::Upkeep, "upkeep by bots"),
        (Investment::Unlinked, "unlinked"),
    ]
    .into_iter()
    .map(|(kind, name)| {
        let c = count(kind);
        format!("{name} **{c}** ({})", percent(Some(c as f64 / n as f64)))
    })
    .collect();
    let _ = writeln!(s, "Of {n} merged pull requests: {}.\n", parts.join(" · "));
}

/// Debt capacity against the target, the register with its money and trend.
pub(super) fn debt(report: &WeeklyReport, s: &mut String) {
    let Some(debt) = &report.debt else {
        return;
    };
    s.push_str("#### Technical debt\n\n");
    let currency = debt.currency.as_deref();
    if report.merged.is_empty() {
        s.push_str("- No merged pull requests this week, so no debt capacity to report.\n");
    } else {
        let reduced = report.merged.iter().filter(|m| m.reduced_debt()).count();
        let added = report
            .merged
            .iter()
            .filter(|m| matches!(m.debt.as_deref(), Some("added" | "mixed")))
            .count();
        let share = report.debt_share();
        let target = match debt.capacity_target {
            Some(t) if share + 1e-9 >= t => format!(", target {}: on target", percent(Some(t))),
            Some(t) => format!(", target {}: below target", percent(Some(t))),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "- Capacity spent on debt: **{}** of merged pull requests{target}.",
            percent(Some(share))
        );
        let _ = writeln!(
            s,
            "- Debt reduced by {reduced}, added by {added} merged pull requests."
        );
    }
    if let Some(total) = report.register_cost() {
        let trend = match report.register_cost_before {
            Some(before) if (total - before).abs() < 0.5 => {
                ", unchanged since last week".to_owned()
            }
            Some(before) if total > before => {
                format!(", up {} since last week", money(total - before, currency))
            }
            Some(before) => format!(", down {} since last week", money(before - total, currency)),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "- The register's {} items cost **{}** a month in total{trend}.",
            debt.items.len(),
            money(total, currency)
        );
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
                escape::text(&impact(item, currency))
            );
        }
    }
    s.push('\n');
}

/// The pass rate, the most often failing criteria with their `why`, and the default branch.
pub(super) fn definition_of_done(report: &WeeklyReport, s: &mut String) {
    s.push_str("#### Definition of done\n\n");
    let judged: Vec<_> = report.merged.iter().filter(|m| m.dod.is_some()).collect();
    if report.merged.is_empty() {
        s.push_str("- No merged pull requests this week.\n");
    } else if judged.is_empty() {
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
        let mut failing: std::collections::BTreeMap<&str, (usize, Option<&str>)> =
            std::collections::BTreeMap::new();
        for c in judged.iter().flat_map(|m| &m.failed_criteria) {
            let entry = failing.entry(c.title.as_str()).or_default();
            entry.0 += 1;
            entry.1 = entry.1.or(c.why.as_deref());
        }
        let mut failing: Vec<_> = failing.into_iter().collect();
        failing.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        if !failing.is_empty() {
            s.push_str("- Most often failing:\n");
            for (title, (n, why)) in failing.iter().take(3) {
                let why = why.map_or_else(
                    || " — no `why` written for it in keel.toml".to_owned(),
                    |w| format!(" — why it matters: {}", escape::text(w)),
                );
                let _ = writeln!(s, "  - {} ({n}){why}", escape::text(title));
            }
        }
    }
    let health: Vec<String> = report
        .health
        .iter()
        .filter(|h| h.coverage.is_some() || h.findings.is_some())
        .map(|h| {
            format!(
                "{}: {}{}",
                super::short(&h.week),
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
                            super::short(&first.week)
                        )
                    })
                    .unwrap_or_default();
                format!("{} {}{since}", escape::code(&b.name), b.quantity())
            })
            .collect();
        let _ = writeln!(s, "- Benchmarks: {}.", trends.join(" · "));
    }
}

/// Merged work no roadmap item explains.
pub(super) fn unlinked(report: &WeeklyReport, s: &mut String) {
    if report.roadmap.is_empty() {
        return;
    }
    s.push_str("\n#### Not linked to the roadmap\n\n");
    if report.merged.is_empty() {
        s.push_str(NO_MERGES);
        return;
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
    if unlinked.is_empty() {
        s.push_str("Every merged pull request served a roadmap item.\n");
        return;
    }
    for u in unlinked.iter().take(30) {
        let _ = writeln!(s, "- {u}");
    }
    if unlinked.len() > 30 {
        let _ = writeln!(s, "- _and {} more_", unlinked.len() - 30);
    }
}
