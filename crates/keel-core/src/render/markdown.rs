//! Markdown for GitHub: the check run summary and the definition-of-done table that the sticky
//! PR comment embeds. Both stay under GitHub's limits, trimmed with a note when needed.

use super::escape;
use crate::evaluation::{CriterionResult, Evaluation, Status};
use std::fmt::Write;

/// The check run's title line, e.g. "Definition of done not met: 2 required criteria failed".
pub fn title(ev: &Evaluation) -> String {
    let failed = ev.count(Status::Fail);
    let warned = ev.count(Status::Warn);
    let waived = ev.count(Status::Waived);
    match (failed, warned) {
        (0, 0) if waived > 0 => format!(
            "Definition of done met with {waived} {}",
            plural(waived, "waiver", "waivers")
        ),
        (0, 0) => "Definition of done met".to_owned(),
        (0, w) => format!(
            "Definition of done met, with {w} {}",
            plural(w, "warning", "warnings")
        ),
        (f, _) => format!(
            "Definition of done not met: {f} required {} failed",
            plural(f, "criterion", "criteria")
        ),
    }
}

/// The check run summary (also the Action's job summary and `keel check --format markdown`):
/// the same first sentence and rows as the comment ([`super::dod`]), then every row's
/// explanation, the dismissed findings and the notes. At most 65,535 characters.
pub fn summary(ev: &Evaluation, links: &super::dod::Links) -> String {
    let mut s = String::new();
    let icon = if ev.count(Status::Fail) > 0 {
        "❌"
    } else {
        "✅"
    };
    let _ = writeln!(s, "### {icon} {}\n", title(ev));
    let _ = writeln!(s, "{}\n", super::dod::lead(ev));
    if let Some(c) = super::dod::compared(ev) {
        let _ = writeln!(s, "{c}\n");
    }
    s.push_str(&super::dod::to_fix(ev, links));
    s.push_str(&super::dod::waived(ev));
    s.push_str(&super::dod::folded(ev));
    s.push_str(&details(ev));
    let dismissed = super::dod::dismissed(ev);
    if !dismissed.is_empty() {
        let _ = write!(s, "\n{dismissed}");
    }
    super::trim_to(
        s,
        super::CHECK_RUN_TEXT_LIMIT,
        "_Trimmed to fit GitHub's 65,535-character limit; `keel check --format json` gives everything._",
    )
}

pub use super::comment::COMMENT_MARKER;

/// The check run while Keel waits for reports or checks: what it waits for, and the criteria
/// that need none of it (`partial`), judged so far.
pub fn waiting(partial: &Evaluation, waiting_for: &[String]) -> String {
    let mut s = format!(
        "### ⏳ Waiting for {}\n\nThe definition of done is judged when they are in; nothing is concluded before. The rest so far:\n\n",
        waiting_for
            .iter()
            .map(|w| escape::sentence(w))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    let failing = partial
        .criteria
        .iter()
        .any(|c| matches!(c.status, Status::Fail | Status::Warn));
    if failing {
        let _ = writeln!(s, "{}\n", super::dod::lead(partial));
    }
    s.push_str(&table(&partial.criteria));
    s
}

/// A definition-of-done table of `criteria`; a column no row fills is left out.
pub fn table(criteria: &[CriterionResult]) -> String {
    if criteria.is_empty() {
        return "_No criteria are configured: add some to `.github/keel.toml`._\n".to_owned();
    }
    // Values may be text from the pull request (a title, a branch): escape them fully.
    let value = |v: &Option<String>| v.as_deref().map(escape::text).unwrap_or_default();
    type Cell = fn(&CriterionResult) -> Option<&String>;
    let optional: [(&str, Cell, bool); 4] = [
        ("Actual", |c| c.actual.as_ref(), false),
        ("Needs", |c| c.threshold.as_ref(), true),
        ("Base", |c| c.baseline.as_ref(), false),
        ("Change", |c| c.delta.as_ref(), false),
    ];
    let shown: Vec<&(&str, Cell, bool)> = optional
        .iter()
        .filter(|(_, cell, _)| criteria.iter().any(|c| cell(c).is_some()))
        .collect();
    let mut s = String::from("| | Criterion |");
    for (name, _, _) in &shown {
        let _ = write!(s, " {name} |");
    }
    s.push_str(" Level |\n|---|---|");
    s.push_str(&"---|".repeat(shown.len()));
    s.push_str("---|\n");
    for c in criteria {
        let _ = write!(
            s,
            "| {} | {} |",
            status_icon(c.status),
            escape::sentence(&c.title)
        );
        for (_, cell, keel_words) in &shown {
            let text = if *keel_words {
                cell(c).map(|t| escape::sentence(t)).unwrap_or_default()
            } else {
                value(&cell(c).cloned())
            };
            let _ = write!(s, " {text} |");
        }
        let _ = writeln!(s, " {} |", c.level.as_str());
    }
    s
}

fn details(ev: &Evaluation) -> String {
    let mut s = String::new();
    // Failing and warning rows are shown in full above.
    let mut ordered: Vec<&CriterionResult> = ev
        .criteria
        .iter()
        .filter(|c| !matches!(c.status, Status::Fail | Status::Warn))
        .collect();
    ordered.sort_by_key(|c| c.status);
    if !ordered.is_empty() {
        s.push('\n');
    }
    for c in ordered {
        let _ = write!(
            s,
            "- {} **{}**: {}",
            status_icon(c.status),
            escape::sentence(&c.title),
            escape::sentence(&c.explanation)
        );
        if let Some(why) = c
            .why
            .as_deref()
            .filter(|_| matches!(c.status, Status::Fail | Status::Warn))
        {
            let _ = write!(s, "  \n  _Why it matters:_ {}", escape::text(why));
        }
        s.push('\n');
    }
    if !ev.annotations.is_empty() {
        let _ = writeln!(
            s,
            "\n{} {} on the changed lines.",
            ev.annotations.len(),
            plural(ev.annotations.len(), "annotation", "annotations")
        );
    }
    if !ev.notes.is_empty() {
        let _ = writeln!(
            s,
            "\n<details><summary>Notes ({})</summary>\n",
            ev.notes.len()
        );
        for n in &ev.notes {
            let _ = writeln!(s, "- {}", escape::text(n));
        }
        s.push_str("\n</details>\n");
    }
    s
}

/// The icon for a status.
pub fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::Warn => "⚠️",
        Status::Skip => "⏭️",
        Status::Waived => "⚖️",
    }
}

/// `one` or `many` by `n`.
pub(super) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests;
