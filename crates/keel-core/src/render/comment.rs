//! The sticky pull request comment: why the change exists (its roadmap items and their
//! hypotheses), the definition-of-done table, the debt verdict with the register items' cost,
//! the week's debt capacity, and a footer linking the check run and the config. At most
//! 65,536 characters, ending with [`COMMENT_MARKER`].

use super::dod::{self, Links};
use super::escape;
use super::markdown::title;
use crate::config::{CapacityUnit, Section};
use crate::evaluation::debt::Direction;
use crate::evaluation::{Evaluation, Status};
use std::fmt::Write;

/// Roadmap links and register items shown before the rest are summed up in one line.
pub const MAX_ITEMS_SHOWN: usize = 20;

/// The hidden marker Keel finds its comment by.
pub const COMMENT_MARKER: &str = "<!-- keel:definition-of-done -->";

/// Links for the footer (the shell knows the URLs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footer {
    /// The check run's page.
    pub check_run_url: Option<String>,
    /// The config file at the base commit.
    pub config_url: Option<String>,
    /// Where file links in the comment point.
    pub files: Links,
}

/// Renders the comment with the sections of `layout`, in its order, after the first sentence.
pub fn comment(ev: &Evaluation, footer: &Footer, layout: &[Section]) -> String {
    let icon = if ev.count(Status::Fail) > 0 {
        "❌"
    } else {
        "✅"
    };
    let mut s = format!("### {icon} {}\n\n{}\n\n", title(ev), dod::lead(ev));
    if let Some(c) = dod::compared(ev) {
        let _ = writeln!(s, "{c}\n");
    }
    for section in layout {
        match section {
            Section::Why => why(ev, &mut s),
            Section::Criteria => {
                s.push_str(&dod::to_fix(ev, &footer.files));
                s.push_str(&dod::waived(ev));
                s.push_str(&dod::folded(ev));
                let dismissed = dod::dismissed(ev);
                if !dismissed.is_empty() {
                    let _ = write!(s, "\n{dismissed}");
                }
            }
            Section::Debt => debt(ev, &mut s),
            Section::Capacity => capacity(ev, &mut s),
        }
    }
    footer_line(footer, &mut s);
    let mut s = super::trim_to(
        s,
        super::COMMENT_LIMIT - COMMENT_MARKER.len() - 1,
        "_Trimmed to fit GitHub's comment limit; the check run has everything._",
    );
    s.push('\n');
    s.push_str(COMMENT_MARKER);
    s
}

/// The roadmap items the change serves, with their hypotheses; or why it needs none.
fn why(ev: &Evaluation, s: &mut String) {
    if let Some(roadmap) = &ev.roadmap {
        s.push_str("#### Why this change\n\n");
        if roadmap.links.is_empty() {
            let required = ev
                .criteria
                .iter()
                .find(|c| c.id == "roadmap.link")
                .map(|c| c.status);
            match (&roadmap.upkeep, required) {
                (Some(why), _) => {
                    let _ = writeln!(
                        s,
                        "_Not linked to a roadmap item; it is upkeep: {}._",
                        escape::sentence(why)
                    );
                }
                (None, Some(Status::Fail | Status::Warn)) => s.push_str(
                    "_**Not linked to any roadmap item**, and the definition of done asks for one (a `Roadmap: R-12` trailer works too)._\n",
                ),
                (None, _) => s.push_str("_Not linked to any roadmap item._\n"),
            }
        }
        for link in roadmap.links.iter().take(MAX_ITEMS_SHOWN) {
            let item = &link.item;
            let how: Vec<String> = link.reasons.iter().map(|r| r.describe()).collect();
            let _ = writeln!(
                s,
                "- **{} · {}** ({}) — {}",
                escape::text(&item.id.0),
                escape::text(&item.title),
                item.status.as_str(),
                escape::sentence(&how.join("; "))
            );
            if let Some(h) = &item.hypothesis {
                let _ = writeln!(s, "  > {}", escape::text(&h.text));
                if let Some(problem) = &h.problem {
                    let _ = writeln!(
                        s,
                        "  >\n  > ⚠️ Not measurable yet: {}",
                        escape::text(problem)
                    );
                }
            }
            let mut facts = Vec::new();
            if let Some(m) = &item.metric {
                facts.push(format!("metric: {}", escape::text(m)));
            }
            if let Some(t) = &item.target {
                facts.push(format!("target: {}", escape::text(t)));
            }
            if let Some(o) = &item.owner {
                facts.push(format!("owner: {}", escape::text(o)));
            }
            if !facts.is_empty() {
                let _ = writeln!(s, "  <br><sub>{}</sub>", facts.join(" · "));
            }
        }
        if roadmap.links.len() > MAX_ITEMS_SHOWN {
            let _ = writeln!(
                s,
                "- _and {} more linked items_",
                roadmap.links.len() - MAX_ITEMS_SHOWN
            );
        }
        s.push('\n');
    }
}

/// The debt verdict and register items, when the change pays down or adds debt (or touches
/// register items): a neutral change gets no debt section.
fn debt(ev: &Evaluation, s: &mut String) {
    if let Some(debt) = ev.debt.as_ref().filter(|d| {
        d.direction != Direction::Neutral || !d.items.is_empty() || d.overridden_by.is_some()
    }) {
        let headline = match (&debt.overridden_by, debt.direction) {
            (Some(label), _) => format!("no call: the label {} overrides it", escape::code(label)),
            (None, Direction::Reduced) => "⬇️ reduced".into(),
            (None, Direction::Added) => "⬆️ added".into(),
            (None, Direction::Mixed) => "↕️ both reduced and added".into(),
            (None, Direction::Neutral) => "no change".into(),
        };
        let _ = writeln!(s, "\n#### Technical debt: {headline}\n");
        for reason in &debt.reasons {
            let mark = if reason.reduces { "➖" } else { "➕" };
            let _ = writeln!(s, "- {mark} {}", escape::sentence(&reason.text));
        }
        if debt.reasons.is_empty() {
            s.push_str("_No sign of debt paid down or added._\n");
        }
        if !debt.items.is_empty() {
            s.push_str("\nRegister items involved:\n\n");
            for item in debt.items.iter().take(MAX_ITEMS_SHOWN) {
                let _ = writeln!(
                    s,
                    "- **{}** {} ({}) — {}",
                    escape::text(&item.id.0),
                    escape::text(&item.title),
                    if item.referenced {
                        "worked on"
                    } else {
                        "touched"
                    },
                    escape::text(&item.impact)
                );
            }
            if debt.items.len() > MAX_ITEMS_SHOWN {
                let _ = writeln!(s, "- _and {} more_", debt.items.len() - MAX_ITEMS_SHOWN);
            }
        }
    }
}

/// The week's debt capacity, when this change counts towards it (it is debt work or adds debt).
fn capacity(ev: &Evaluation, s: &mut String) {
    let counts = ev
        .debt
        .as_ref()
        .is_some_and(|d| d.direction != Direction::Neutral);
    if let Some(c) = ev.capacity.as_ref().filter(|_| counts) {
        let unit = match c.unit {
            CapacityUnit::Prs => "merged pull requests",
            CapacityUnit::Lines => "changed lines of merged pull requests",
        };
        let share = c
            .share
            .map_or_else(|| "—".to_owned(), |v| format!("{:.0}%", v * 100.0));
        let target = c
            .target
            .map(|t| format!("; the target is {:.0}%", t * 100.0))
            .unwrap_or_default();
        if c.counts.merged == 0 {
            // "0 of 0 (—)" reads as a broken number: say what it means.
            let _ = writeln!(
                s,
                "\nDebt capacity in {}: no pull request merged yet this week{target}.",
                escape::text(&c.counts.week)
            );
        } else {
            let _ = writeln!(
                s,
                "\nDebt capacity in {}: {} of {} {unit} ({share}) went to debt{target}.",
                escape::text(&c.counts.week),
                c.counts.debt,
                c.counts.merged
            );
        }
    }
}

/// Links to the check run and the config.
fn footer_line(footer: &Footer, s: &mut String) {
    let mut links = Vec::new();
    if let Some(url) = &footer.check_run_url {
        links.push(format!("[Check run]({url})"));
    }
    if let Some(url) = &footer.config_url {
        links.push(format!("[Definition of done]({url})"));
    }
    let details = "etails and annotations are in the **Keel · Definition of done** check run";
    links.push(if links.is_empty() {
        format!("D{details}")
    } else {
        format!("d{details}")
    });
    let _ = writeln!(s, "\n<sub>{}</sub>", links.join(" · "));
}

#[cfg(test)]
mod tests;
