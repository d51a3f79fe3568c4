//! The weekly summary issue, written for a lead reading it on Monday morning: what needs
//! attention first (each with a link to what is behind it), the headline numbers with
//! performer words that cannot be misread, the delivery table with a plain per-week table
//! (what e-mail shows) and charts that leave weeks without data out, what failed, the
//! cycle-time breakdown, roadmap outcomes in plain words, where the work went, debt with its
//! money, the definition of done with the reasons behind its most failing criteria, and a
//! footnote with the definitions as computed. At most 65,536 characters.

pub mod attention;
mod delivery;
pub use delivery::what_failed;
pub mod rollup;
mod work;

#[cfg(test)]
mod tests;

use super::escape;
use crate::summary::dora::{Band, Source, WeekMetrics};
use crate::summary::report::WeeklyReport;
use std::fmt::Write;

/// The label every summary issue carries.
pub const SUMMARY_LABEL: &str = "keel-summary";

/// `Keel weekly summary · owner/name · 23–29 Nov 2026 (2026-W48)`.
pub fn title(repo: &str, week: &str) -> String {
    format!("Keel weekly summary · {repo} · {}", dates(week))
}

/// A week's dates with its ISO name: `23–29 Nov 2026 (2026-W48)`, `30 Nov – 6 Dec 2026
/// (2026-W49)`, `28 Dec 2026 – 3 Jan 2027 (2026-W53)`. A name that is not an ISO week is
/// returned as it is.
pub fn dates(week: &str) -> String {
    let parsed = week.split_once("-W").and_then(|(y, w)| {
        let monday = chrono::NaiveDate::from_isoywd_opt(
            y.parse().ok()?,
            w.parse().ok()?,
            chrono::Weekday::Mon,
        )?;
        Some((monday, monday + chrono::Days::new(6)))
    });
    let Some((monday, sunday)) = parsed else {
        return week.to_owned();
    };
    let range = if monday.format("%Y").to_string() != sunday.format("%Y").to_string() {
        format!(
            "{} – {}",
            monday.format("%-d %b %Y"),
            sunday.format("%-d %b %Y")
        )
    } else if monday.format("%m").to_string() != sunday.format("%m").to_string() {
        format!(
            "{} – {}",
            monday.format("%-d %b"),
            sunday.format("%-d %b %Y")
        )
    } else {
        format!("{}–{}", monday.format("%-d"), sunday.format("%-d %b %Y"))
    };
    format!("{range} ({week})")
}

/// The short name of a week in charts and tables: `W48`.
fn short(week: &str) -> &str {
    week.rsplit('-').next().unwrap_or(week)
}

/// A duration in hours, in the unit a person would say.
pub fn hours(h: Option<f64>) -> String {
    match h {
        None => "—".into(),
        Some(h) if h < 1.0 => format!("{:.0} min", h * 60.0),
        Some(h) if h < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} days", h / 24.0),
    }
}

/// A share from 0 to 1 as a whole percentage.
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{:.0}%", v * 100.0))
}

/// A band in words with a marker that does not rely on colour: `●●●○ high performer`.
pub fn performer(b: Option<Band>) -> String {
    match b {
        None => "— not enough data".into(),
        Some(b) => {
            let filled = match b {
                Band::Elite => 4,
                Band::High => 3,
                Band::Medium => 2,
                Band::Low => 1,
            };
            format!(
                "{}{} {} performer",
                "●".repeat(filled),
                "○".repeat(4 - filled),
                b.as_str()
            )
        }
    }
}

/// What stood in for deployments, in the headline's words.
fn source_words(source: Source) -> &'static str {
    match source {
        Source::Deployments => "deployments",
        Source::Merges => "merges to the default branch",
        Source::Releases => "releases",
    }
}

/// Renders the issue body.
pub fn body(report: &WeeklyReport) -> String {
    let mut s = String::new();
    let Some(this) = report.weeks.last() else {
        return "_No weeks to summarise._\n".into();
    };
    let _ = writeln!(
        s,
        "### {} · {}\n",
        escape::text(&report.repo),
        dates(&this.week.name)
    );
    attention::section(report, &mut s);
    headline(report, this, &mut s);
    delivery::section(report, &mut s);
    work::roadmap(report, &mut s);
    waivers(report, &mut s);
    work::investment(report, &mut s);
    work::debt(report, &mut s);
    work::definition_of_done(report, &mut s);
    work::unlinked(report, &mut s);
    footnote(report, this, &mut s);
    super::trim_to(
        s,
        super::COMMENT_LIMIT,
        "_Trimmed to fit GitHub's issue limit; `keel summary --format json` gives everything._",
    )
}

fn headline(report: &WeeklyReport, this: &WeekMetrics, s: &mut String) {
    if !this.observed {
        let _ = writeln!(
            s,
            "Keel had recorded nothing by the end of this week: no delivery figures yet.\n"
        );
        return;
    }
    let merged = match report.merged.len() {
        0 => "**no** merged pull requests".to_owned(),
        1 => "**1** merged pull request".to_owned(),
        n => format!("**{n}** merged pull requests"),
    };
    let _ = writeln!(
        s,
        "**{}** {} · lead time **{}** · change failure rate **{}** · time to restore **{}** · {merged}\n",
        this.deployments,
        source_words(report.source),
        hours(this.lead_time_hours),
        percent(this.change_failure_rate),
        hours(this.time_to_restore_hours),
    );
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
    if let Some(end) = attention::week_last_day(report) {
        let soon = report
            .waivers
            .iter()
            .filter(|w| {
                !w.ended
                    && w.until
                        .is_some_and(|u| u.0 >= end && u.0 <= end + chrono::Days::new(7))
            })
            .count();
        if soon > 0 {
            let _ = write!(
                s,
                "; {soon} {} by {}",
                if soon == 1 { "ends" } else { "end" },
                (end + chrono::Days::new(7)).format("%a %-d %b %Y")
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

/// The definitions exactly as computed, worded for the source actually used.
fn footnote(report: &WeeklyReport, this: &WeekMetrics, s: &mut String) {
    let _ = write!(
        s,
        "\n---\n<sub>¹ {BANDS} {} Weeks before Keel recorded anything are shown as no data, \
never as zero.</sub>\n",
        definitions(report, this)
    );
}

/// Where the performance bands come from, in plain words.
pub const BANDS: &str = "Performance follows the thresholds of the 2023 Accelerate State of \
DevOps report (DORA): deployment frequency daily or more elite, weekly high, monthly medium \
(averaged over 4 weeks); lead time under a day elite, a week high, a month medium; change \
failure rate up to 5% elite, 10% high, 15% medium; time to restore under an hour elite, a day \
high, a week medium; anything slower or higher is low.";

/// What each of the four metrics counted, for the deployment source used (plain text).
pub fn definitions(report: &WeeklyReport, this: &WeekMetrics) -> String {
    let by_time = if this.lead_time_by_time {
        " This week some changes were paired with the first deployment after their merge by time \
alone: the stored push history did not reach back far enough to tell what that deployment contained."
    } else {
        ""
    };
    match report.source {
        Source::Deployments => format!(
            "Deployment frequency counts successful production deployments. Lead time is the \
median from a pull request's first commit to the first successful deployment that contains its \
merge: the deployment of its merge commit, or one whose default-branch heads pushed since the \
previous successful deployment include it; a deployment already running when the merge landed \
does not contain it.{by_time} Change failure rate is the share of the week's deployments followed \
by a failed status, an incident whose root cause is a commit it shipped (or, without a root \
cause, opened before the next deployment), or a revert of a change it shipped (never above \
100%). Time to restore is the median from an incident's opening or a failed deployment to its \
closing or the next successful deployment."
        ),
        Source::Merges => "No production deployments were recorded, so merges to the default \
branch stand in for them: deployment frequency counts merged pull requests; lead time is the \
median from a pull request's first commit to its merge; change failure rate is the share of \
merges followed by an incident whose root cause is that merge (or, without a root cause, opened \
before the next merge) or reverted later; time to restore is the median from an incident's \
opening to its closing."
            .to_owned(),
        Source::Releases => "No production deployments were recorded, so published releases \
stand in for them: deployment frequency counts releases; lead time is the median from a pull \
request's first commit to its merge; change failure rate is the share of releases followed by an \
incident opened before the next release; time to restore is the median from an incident's \
opening to its closing."
            .to_owned(),
    }
}
