//! Markdown for GitHub: the check run summary and the definition-of-done table that the sticky
//! PR comment embeds. Both stay under GitHub's limits, trimmed with a note when needed.

use super::escape;
use crate::evaluation::{CriterionResult, Evaluation, Status};
use std::fmt::Write;

/// The check run's title line, e.g. "Definition of done not met: 2 required criteria failed".
pub fn title(ev: &Evaluation) -> String {
    let failed = ev.count(Status::Fail);
    let warned = ev.count(Status::Warn);
    match (failed, warned) {
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

/// The check run summary: headline, table, explanations, notes. At most 65,535 characters.
pub fn summary(ev: &Evaluation) -> String {
    let mut s = String::new();
    let icon = if ev.count(Status::Fail) > 0 {
        "❌"
    } else {
        "✅"
    };
    let _ = writeln!(s, "### {icon} {}\n", title(ev));
    s.push_str(&table(&ev.criteria));
    s.push_str(&details(ev));
    super::trim_to(
        s,
        super::CHECK_RUN_TEXT_LIMIT,
        "_Trimmed to fit GitHub's 65,535-character limit; `keel check --format json` gives everything._",
    )
}

pub use super::comment::COMMENT_MARKER;

/// The definition-of-done table alone (for the sticky comment).
pub fn table(criteria: &[CriterionResult]) -> String {
    if criteria.is_empty() {
        return "_No criteria are configured: add some to `.github/keel.toml`._\n".to_owned();
    }
    let mut s = String::from(
        "| | Criterion | Actual | Threshold | Base | Change | Level |\n|---|---|---|---|---|---|---|\n",
    );
    for c in criteria {
        // Values may be text from the pull request (a title, a branch): escape them fully.
        let value = |v: &Option<String>| v.as_deref().map(escape::text).unwrap_or_default();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            status_icon(c.status),
            escape::sentence(&c.title),
            value(&c.actual),
            c.threshold
                .as_deref()
                .map(escape::sentence)
                .unwrap_or_default(),
            value(&c.baseline),
            value(&c.delta),
            c.level.as_str(),
        );
    }
    s
}

fn details(ev: &Evaluation) -> String {
    let mut s = String::new();
    let mut ordered: Vec<&CriterionResult> = ev.criteria.iter().collect();
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
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests;
