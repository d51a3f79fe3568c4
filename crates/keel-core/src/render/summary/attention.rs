//! "Needs attention": what a lead should look at first, each with a link to what is behind
//! it. What got worse beyond noise, what sits below the team's own targets or in the low
//! performer band, waivers about to end, roadmap items nobody merged work for in four weeks,
//! and incidents naming a root cause no deployment shipped.

use super::{escape, hours, percent};
use crate::summary::dora::{Band, WeekMetrics, bands};
use crate::summary::report::WeeklyReport;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// One thing that needs attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// What it is, in a sentence (markdown-escaped).
    pub text: String,
    /// Where it is, inside the repository's summary issue or repository (`#what-failed`,
    /// `#123`).
    pub link: Option<String>,
}

/// A change beyond this share of the earlier weeks' mean is more than noise.
const NOISE: f64 = 0.25;
/// At most this many items are listed (and kept in a roll-up line); the rest are counted.
pub const MAX_SHOWN: usize = 10;
/// A roadmap item with no merged pull request for this long is stale.
const STALE_DAYS: u64 = 28;

/// The sunday that ends the reported week (from its ISO name).
pub fn week_last_day(report: &WeeklyReport) -> Option<chrono::NaiveDate> {
    let name = &report.weeks.last()?.week.name;
    let (y, w) = name.split_once("-W")?;
    chrono::NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Sun)
}

/// Everything that needs attention, most serious first.
pub fn items(report: &WeeklyReport) -> Vec<Item> {
    let mut out = Vec::new();
    let Some(this) = report.weeks.last() else {
        return out;
    };
    if this.observed {
        low_bands(report, this, &mut out);
        worse(report, this, &mut out);
        below_targets(report, &mut out);
    }
    ending_waivers(report, &mut out);
    stale_items(report, this, &mut out);
    for cause in &this.unshipped_root_causes {
        out.push(Item {
            text: format!(
                "An incident names root cause {}, which no deployment shipped: check the commit it names",
                escape::code(cause)
            ),
            link: Some("#what-failed".into()),
        });
    }
    out
}

/// Writes the block: first in the issue.
pub fn section(report: &WeeklyReport, s: &mut String) {
    let items = items(report);
    s.push_str("#### Needs attention\n\n");
    if items.is_empty() {
        s.push_str("Nothing needs attention this week.\n\n");
        return;
    }
    for item in items.iter().take(MAX_SHOWN) {
        match &item.link {
            Some(link) if link.starts_with('#') && link[1..].parse::<u64>().is_err() => {
                let _ = writeln!(s, "- {} ([details]({link})).", item.text);
            }
            Some(link) => {
                let _ = writeln!(s, "- {} ({link}).", item.text);
            }
            None => {
                let _ = writeln!(s, "- {}.", item.text);
            }
        }
    }
    if items.len() > MAX_SHOWN {
        let _ = writeln!(s, "- _and {} more_.", items.len() - MAX_SHOWN);
    }
    s.push('\n');
}

/// The mean of up to four earlier weeks that had a value; `None` with fewer than two.
fn earlier_mean(
    weeks: &[WeekMetrics],
    metric: impl Fn(&WeekMetrics) -> Option<f64>,
) -> Option<f64> {
    let (_, before) = weeks.split_last()?;
    let values: Vec<f64> = before
        .iter()
        .rev()
        .filter(|w| w.observed)
        .take(4)
        .filter_map(&metric)
        .collect();
    (values.len() >= 2).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn worse(report: &WeeklyReport, this: &WeekMetrics, out: &mut Vec<Item>) {
    let link = Some("#delivery-dora".to_owned());
    let lead_or_restore = [
        (
            "Lead time",
            this.lead_time_hours,
            earlier_mean(&report.weeks, |w| w.lead_time_hours),
        ),
        (
            "Time to restore",
            this.time_to_restore_hours,
            earlier_mean(&report.weeks, |w| w.time_to_restore_hours),
        ),
    ];
    for (name, now, mean) in lead_or_restore {
        if let (Some(now), Some(mean)) = (now, mean)
            && !(name == "Time to restore" && bands::time_to_restore(now) == Band::Low)
            && now > mean * (1.0 + NOISE)
            && now - mean >= 1.0
        {
            out.push(Item {
                text: format!(
                    "{name} got worse: {} this week against {} on average in the weeks before",
                    hours(Some(now)),
                    hours(Some(mean))
                ),
                link: link.clone(),
            });
        }
    }
    if let (Some(now), Some(mean)) = (
        this.change_failure_rate,
        earlier_mean(&report.weeks, |w| w.change_failure_rate),
    ) && now - mean > 0.10
        // The low band already says it, with the count.
        && bands::change_failure_rate(now) != Band::Low
    {
        out.push(Item {
            text: format!(
                "Change failure rate got worse: {} this week against {} on average in the weeks before",
                percent(Some(now)),
                percent(Some(mean))
            ),
            link: Some("#what-failed".into()),
        });
    }
    let deployed = |w: &WeekMetrics| w.observed.then_some(w.deployments as f64);
    if let (Some(mean), now) = (
        earlier_mean(&report.weeks, deployed),
        this.deployments as f64,
    ) && now < mean * (1.0 - NOISE)
        && mean - now >= 2.0
    {
        out.push(Item {
            text: format!("Fewer deployments: {now:.0} this week against {mean:.1} a week before"),
            link,
        });
    }
}

fn low_bands(report: &WeeklyReport, this: &WeekMetrics, out: &mut Vec<Item>) {
    let cfr = this.change_failure_rate.map(bands::change_failure_rate);
    if cfr == Some(Band::Low) {
        let n = this.failures.len();
        out.push(Item {
            text: format!(
                "Change failure rate {}: low performer ({n} failed {} this week)",
                percent(this.change_failure_rate),
                match (n, report.source) {
                    (1, crate::summary::dora::Source::Deployments) => "deployment",
                    (_, crate::summary::dora::Source::Deployments) => "deployments",
                    (1, _) => "change",
                    _ => "changes",
                }
            ),
            link: Some("#what-failed".into()),
        });
    }
    let restore = this.time_to_restore_hours.map(bands::time_to_restore);
    if restore == Some(Band::Low) {
        out.push(Item {
            text: format!(
                "Time to restore {}: low performer",
                hours(this.time_to_restore_hours)
            ),
            link: Some("#what-failed".into()),
        });
    }
}

fn below_targets(report: &WeeklyReport, out: &mut Vec<Item>) {
    if let Some(target) = report.debt.as_ref().and_then(|d| d.capacity_target)
        && !report.merged.is_empty()
    {
        let share = report.debt_share();
        if share < target {
            out.push(Item {
                text: format!(
                    "Debt capacity {} of merged pull requests, below the team's target of {}",
                    percent(Some(share)),
                    percent(Some(target))
                ),
                link: Some("#technical-debt".into()),
            });
        }
    }
    let coverage = report.health.iter().rev().find_map(|h| h.coverage);
    if let (Some(target), Some(now)) = (report.coverage_target, coverage)
        && now < target
    {
        out.push(Item {
            text: format!(
                "Coverage of the default branch {now:.1}%, below the team's target of {target:.0}%"
            ),
            link: Some("#definition-of-done".into()),
        });
    }
}

fn ending_waivers(report: &WeeklyReport, out: &mut Vec<Item>) {
    let Some(end) = week_last_day(report) else {
        return;
    };
    let horizon = end + chrono::Days::new(7);
    let mut seen = std::collections::BTreeSet::new();
    for w in &report.waivers_in_force {
        let Some(until) = w.until else { continue };
        if w.ended || until.0 > horizon || until.0 < end || !seen.insert((w.number, &w.criterion)) {
            continue;
        }
        // Qualified, so the link holds in the organisation roll-up too.
        let pull = format!("{}#{}", report.repo, w.number);
        out.push(Item {
            text: format!(
                "The waiver of {} on {pull} ends {}: the criterion fails again unless the work is done",
                escape::code(&w.criterion),
                until.0.format("%a %-d %b")
            ),
            link: Some(pull),
        });
    }
}

fn stale_items(report: &WeeklyReport, this: &WeekMetrics, out: &mut Vec<Item>) {
    let stale_before = this.week.end - (STALE_DAYS as i64) * 86_400_000;
    for item in &report.roadmap {
        if item.status != crate::config::ItemStatus::Active {
            continue;
        }
        let last = report.roadmap_last_merged.get(&item.id.0).copied();
        // Never merged: Keel cannot tell how long it has been planned, so it says nothing.
        let stale = last.is_some_and(|at| at < stale_before);
        if !stale {
            continue;
        }
        let since = last
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map_or_else(String::new, |t| {
                format!("nothing merged since {}", t.format("%-d %b"))
            });
        out.push(Item {
            text: format!(
                "Roadmap item **{}** {} is active with {since}",
                escape::text(&item.id.0),
                escape::text(&item.title)
            ),
            link: Some(
                item.issues
                    .first()
                    .map_or_else(|| "#roadmap".to_owned(), |n| format!("#{n}")),
            ),
        });
    }
}
