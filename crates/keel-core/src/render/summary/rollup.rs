//! The organisation roll-up issue in the organisation's `.github` repository: which
//! repositories need attention first, then one row per repository, grouped by team, with the
//! four keys and their performance, debt capacity against its target and the definition-of-done
//! pass rate, each linking to the repository's own summary.

use super::{dates, escape, hours, percent};
use crate::strategy::debt::money;
use crate::summary::dora::Band;
use crate::summary::report::WeeklyReport;
use crate::summary::rollup::RollupRow;
use std::fmt::Write;

/// `Keel organisation summary · acme · 23–29 Nov 2026 (2026-W48)`.
pub fn title(owner: &str, week: &str) -> String {
    format!("Keel organisation summary · {owner} · {}", dates(week))
}

/// The roll-up line of `report`, whose summary issue is `issue` and team `team`; `private`
/// until the roll-up job learns otherwise (it asks GitHub when it writes).
pub fn row(
    report: &WeeklyReport,
    team: Option<String>,
    issue: Option<u64>,
    private: bool,
    shared_when_private: bool,
) -> RollupRow {
    let this = report.weeks.last();
    let attention = super::attention::items(report);
    RollupRow {
        repo: report.repo.clone(),
        // A team name is a label, not a paragraph.
        team: team.map(|t| t.chars().take(100).collect()),
        issue,
        private,
        shared_when_private,
        observed: this.is_some_and(|w| w.observed),
        deployments_per_week: report.deployments_per_week(),
        lead_time_hours: this.and_then(|w| w.lead_time_hours),
        change_failure_rate: this.and_then(|w| w.change_failure_rate),
        time_to_restore_hours: this.and_then(|w| w.time_to_restore_hours),
        merged: report.merged.len(),
        debt_share: (report.debt.is_some() && !report.merged.is_empty())
            .then(|| report.debt_share()),
        debt_target: report.debt.as_ref().and_then(|d| d.capacity_target),
        dod_pass_rate: report.dod_pass_rate().map(|(rate, _)| rate),
        register_cost: report.register_cost(),
        currency: report.debt.as_ref().and_then(|d| d.currency.clone()),
        attention_count: attention.len(),
        attention: attention
            .into_iter()
            .take(super::attention::MAX_SHOWN)
            .map(|i| i.text)
            .collect(),
    }
}

/// A band in a table cell: the marker and the word.
fn cell(b: Option<Band>) -> String {
    match b {
        None => String::new(),
        Some(b) => format!(" {}", super::performer(Some(b)).replace(" performer", "")),
    }
}

fn summary_link(row: &RollupRow) -> String {
    match row.issue {
        Some(n) => format!("{}#{n}", row.repo),
        None => escape::text(&row.repo),
    }
}

/// Renders the roll-up of `rows` for `owner` and `week`; `hidden` private repositories were
/// left out (see `[summary] rollup_when_private`).
pub fn body(owner: &str, week: &str, rows: &[RollupRow], hidden: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### {} · {}\n", escape::text(owner), dates(week));
    if hidden > 0 {
        let _ = writeln!(
            s,
            "_{hidden} private {} left out, names and figures: a private repository appears only in a private `.github` and only when it sets `[summary] rollup_when_private = true` (each has its own summary issue)._\n",
            if hidden == 1 {
                "repository is"
            } else {
                "repositories are"
            }
        );
    }
    let observed = rows.iter().filter(|r| r.observed).count();
    let merged: usize = rows.iter().map(|r| r.merged).sum();
    let _ = writeln!(
        s,
        "**{}** repositories report to Keel ({observed} with delivery data this week) · **{merged}** merged pull requests in all.\n",
        rows.len()
    );
    let mut needy: Vec<&RollupRow> = rows.iter().filter(|r| !r.attention.is_empty()).collect();
    needy.sort_by(|a, b| {
        let lows = |r: &RollupRow| r.bands().iter().filter(|b| **b == Some(Band::Low)).count();
        (b.attention_count + lows(b))
            .cmp(&(a.attention_count + lows(a)))
            .then(a.repo.cmp(&b.repo))
    });
    s.push_str("#### Needs attention first\n\n");
    if needy.is_empty() {
        s.push_str("No repository needs attention this week.\n\n");
    } else {
        for r in needy.iter().take(10) {
            let more = match r.attention_count.max(1) {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            let _ = writeln!(s, "- {}: {}{more}.", summary_link(r), r.attention[0]);
        }
        s.push('\n');
    }
    let mut teams: std::collections::BTreeMap<String, Vec<&RollupRow>> =
        std::collections::BTreeMap::new();
    for r in rows {
        let team = r.team.clone().unwrap_or_else(|| "no team named".to_owned());
        teams.entry(team).or_default().push(r);
    }
    s.push_str("#### Repositories\n\n| Team | Repository | Deployments a week | Lead time | Change failure rate | Time to restore | Debt capacity vs target | Definition of done met | Needs attention |\n|---|---|---|---|---|---|---|---|---|\n");
    for (team, mut members) in teams {
        members.sort_by(|a, b| a.repo.cmp(&b.repo));
        for r in members {
            let [df, lt, cfr, ttr] = r.bands();
            if !r.observed {
                let _ = writeln!(
                    s,
                    "| {} | {} | no data | no data | no data | no data | — | — | — |",
                    escape::text(&team),
                    summary_link(r)
                );
                continue;
            }
            let debt = match (r.debt_share, r.debt_target) {
                (Some(share), Some(t)) => format!(
                    "{} vs {}{}",
                    percent(Some(share)),
                    percent(Some(t)),
                    if share + 1e-9 >= t { "" } else { " ⚠ below" }
                ),
                (Some(share), None) => format!("{} (no target)", percent(Some(share))),
                (None, _) if r.merged == 0 => "no merges".to_owned(),
                (None, _) => "—".to_owned(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {:.1}{} | {}{} | {}{} | {}{} | {debt} | {} | {} |",
                escape::text(&team),
                summary_link(r),
                r.deployments_per_week,
                cell(df),
                hours(r.lead_time_hours),
                cell(lt),
                percent(r.change_failure_rate),
                cell(cfr),
                hours(r.time_to_restore_hours),
                cell(ttr),
                percent(r.dod_pass_rate),
                r.attention_count
            );
        }
    }
    let costs: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            Some(format!(
                "{} {}",
                escape::text(&r.repo),
                money(r.register_cost?, r.currency.as_deref())
            ))
        })
        .collect();
    if !costs.is_empty() {
        let _ = writeln!(s, "\nDebt registers, monthly cost: {}.", costs.join(" · "));
    }
    s.push_str("\n---\n<sub>Markers: ●●●● elite, ●●●○ high, ●●○○ medium, ●○○○ low performer, by the thresholds of the 2023 Accelerate State of DevOps report (DORA); each repository's summary issue has the definitions and what is behind every figure. Teams come from `[summary] team` or the first owner of `*` in CODEOWNERS. A repository with no data had nothing recorded by the week's end: never read it as zero.</sub>\n");
    super::super::trim_to(
        s,
        super::super::COMMENT_LIMIT,
        "_Trimmed to fit GitHub's issue limit; each repository's summary issue has its figures._",
    )
}
