//! The definition of done as people read it, shared by the sticky comment, the check run,
//! the Action's job summary and `keel check --format markdown`, so they never disagree: one
//! sentence that says what failed, where and what to do next; the base compared against;
//! each failing or warning row with its specifics and its business reason; the passing rest
//! folded away.

use super::escape;
use super::markdown::{plural, status_icon};
use crate::evaluation::{CriterionResult, Evaluation, SkipReason, Specific, Status};
use std::fmt::Write;

/// Where file links point: the head commit's tree on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// `https://github.com/<owner>/<repo>/blob/<head sha>`; `None`: files are not linked.
    pub blob: Option<String>,
}

/// Line ranges shown per file before the rest are counted.
const MAX_RANGES: usize = 10;

/// The first sentence: what failed (the first failing row: its value, what it needs and why),
/// the next step, and what else failed or could not be judged. For a passing change, how many
/// criteria were met and which did not apply.
pub fn lead(ev: &Evaluation) -> String {
    let failing: Vec<&CriterionResult> = ev
        .criteria
        .iter()
        .filter(|c| c.status == Status::Fail)
        .collect();
    let warning: Vec<&CriterionResult> = ev
        .criteria
        .iter()
        .filter(|c| c.status == Status::Warn)
        .collect();
    let mut s = match lead_row(ev) {
        Some(c) => {
            let mut s = headline(c);
            if let Some(step) = row_step(c) {
                let _ = write!(s, " Next: {step}.");
            }
            let (others, kind) = if failing.is_empty() {
                (warning.len() - 1, "warning")
            } else {
                (failing.len() - 1, "failing criterion")
            };
            if others > 0 {
                let _ = write!(
                    s,
                    " {others} more {} below.",
                    if others == 1 {
                        kind.to_owned()
                    } else if kind == "warning" {
                        "warnings".to_owned()
                    } else {
                        "failing criteria".to_owned()
                    }
                );
            }
            s
        }
        None => {
            let met = ev.count(Status::Pass);
            let waived = ev.count(Status::Waived);
            if met == 0 && ev.criteria.is_empty() {
                "No criteria are configured.".to_owned()
            } else if waived > 0 {
                format!(
                    "{met} {} of the definition of done {} met; {waived} {} waived: shipped below the bar on the record, as debt taken on purpose (below).",
                    plural(met, "criterion", "criteria"),
                    plural(met, "is", "are"),
                    plural(waived, "is", "are")
                )
            } else {
                format!(
                    "{met} {} of the definition of done {} met.",
                    plural(met, "criterion", "criteria"),
                    plural(met, "is", "are")
                )
            }
        }
    };
    let decided = ev
        .criteria
        .iter()
        .filter(|c| c.status == Status::Skip && c.skip.is_some_and(SkipReason::is_decision))
        .count();
    if decided > 0 && decided == ev.criteria.len() {
        s = "No criterion of the definition of done applies to this change (not affected or exempt).".to_owned();
    } else if decided > 0 {
        let _ = write!(
            s,
            " {decided} {} not apply to this change (not affected or exempt).",
            plural(decided, "does", "do")
        );
    }
    let unjudged: Vec<String> = ev
        .unjudged()
        .map(|c| {
            format!(
                "{} ({})",
                escape::sentence(&c.title),
                escape::sentence(&c.explanation)
            )
        })
        .collect();
    if !unjudged.is_empty() {
        let _ = write!(s, " ⏭️ Not judged: {}.", unjudged.join("; "));
    }
    s
}

/// The row the first sentence is about: the first failing one, else the first warning.
fn lead_row(ev: &Evaluation) -> Option<&CriterionResult> {
    let first = |status| ev.criteria.iter().find(|c| c.status == status);
    first(Status::Fail).or_else(|| first(Status::Warn))
}

/// "**Patch coverage**: 63.6% (needs ≥ 80%) — 4 added lines in 2 files are not covered."
fn headline(c: &CriterionResult) -> String {
    let title = escape::sentence(&c.title);
    let base = match (&c.baseline, &c.delta) {
        (Some(b), Some(d)) => format!("; base {}, {}", escape::text(b), escape::text(d)),
        _ => String::new(),
    };
    let mut s = match (&c.actual, &c.threshold) {
        (Some(a), Some(t)) => format!(
            "**{title}**: {} (needs {}{base})",
            escape::text(a),
            escape::sentence(t)
        ),
        (Some(a), None) => format!("**{title}**: {}", escape::text(a)),
        _ => format!("**{title}**"),
    };
    let explanation = escape::sentence(c.explanation.trim_end_matches('.'));
    if !explanation.is_empty() {
        let _ = write!(s, " — {explanation}");
    }
    s.push('.');
    s
}

/// What to do about a failing row: for a row that had no report to judge, getting the report
/// to Keel; otherwise what its criterion asks ([`next_step`]).
fn row_step(c: &CriterionResult) -> Option<&'static str> {
    if c.actual.as_deref() == Some("no report") {
        return Some(
            "make CI write the report where the row says Keel looked, and check that the step that uploads it ran (README, Troubleshooting: \"no report\")",
        );
    }
    next_step(&c.id)
}

/// What to do about a failing row, by criterion.
pub fn next_step(id: &str) -> Option<&'static str> {
    Some(match id {
        "coverage.patch" => "add tests that run the added lines listed below",
        "coverage.total" | "coverage.drop" => "add tests, or remove code no test runs",
        "security.new_findings" => {
            "fix the findings below (a false positive can be dismissed with a `[[security.ignore]]` entry and a reason)"
        }
        "hygiene.size" => "split the change into smaller pull requests",
        "hygiene.linked_issue" => "link an issue in the description (`Fixes #12`)",
        "hygiene.title" => "edit the title",
        "hygiene.branch" => "push the change from a branch that follows the pattern",
        "hygiene.tests_with_src" => "add or change a test for the source change",
        "roadmap.link" => {
            "name the roadmap item (`R-12`) in the title, description or branch, or mark the change as upkeep"
        }
        "checks.required" => "open the failing check and fix what it reports",
        "config.change" => "fix the line annotated in `keel.toml`",
        "diff.complete" => "split the change into smaller pull requests",
        "debt.added" => "remove the debt, or put the `debt: none` label on the change",
        id if id.starts_with("performance.") => {
            "look at the benchmarks below and at what the change does on their path"
        }
        _ => return None,
    })
}

/// "Compared with the base commit `f95f852`." when a baseline was used. A row not judged for
/// want of one says so in the first sentence already, with its own reason; it is not said
/// twice.
pub fn compared(ev: &Evaluation) -> Option<String> {
    ev.compared_with
        .as_ref()
        .map(|with| format!("Compared with {}.", escape::sentence(with)))
}

/// Each failing or warning row: its headline (for the row the first sentence described, only
/// its name), why it matters, and its specifics.
pub fn to_fix(ev: &Evaluation, links: &Links) -> String {
    let mut s = String::new();
    let lead = lead_row(ev).map(|c| c.id.as_str());
    for c in ev
        .criteria
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
    {
        if Some(c.id.as_str()) == lead {
            if c.why.is_none() && c.specifics.is_empty() && c.waiver.is_none() {
                continue;
            }
            let _ = writeln!(
                s,
                "{} **{}**",
                status_icon(c.status),
                escape::sentence(&c.title)
            );
        } else {
            let _ = writeln!(s, "{} {}", status_icon(c.status), headline(c));
            if let Some(step) = row_step(c) {
                let _ = writeln!(s, "<br>Next: {step}.");
            }
        }
        if let Some(why) = &c.why {
            let _ = writeln!(s, "<br>_Why it matters:_ {}", escape::text(why));
        }
        if let Some(w) = &c.waiver
            && let Some(lapsed) = &w.lapsed
        {
            let _ = writeln!(
                s,
                "<br>_Not waived:_ the waiver by {} ({}) was {}.",
                escape::text(&format!("@{}", w.by)),
                escape::text(&w.reason),
                escape::sentence(lapsed)
            );
        }
        s.push('\n');
        for sp in &c.specifics {
            let _ = writeln!(s, "- {}", specific(sp, links));
        }
        if !c.specifics.is_empty() {
            s.push('\n');
        }
    }
    s
}

/// The waived rows, each with who waived it, on which commit, why and until when: shown, never
/// folded away, since the check passes only on that basis.
pub fn waived(ev: &Evaluation) -> String {
    let mut s = String::new();
    for c in ev.criteria.iter().filter(|c| c.status == Status::Waived) {
        let Some(w) = &c.waiver else { continue };
        let _ = write!(
            s,
            "{} {} — waived by {} for `{}`",
            status_icon(c.status),
            headline(c).trim_end_matches('.'),
            escape::text(&format!("@{}", w.by)),
            escape::text(&w.commit)
        );
        if let Some(until) = w.until {
            let _ = write!(s, " until {}", until);
        }
        let _ = writeln!(s, ": “{}”.", escape::text(&w.reason));
        if let Some(why) = &c.why {
            let _ = writeln!(s, "<br>_Why it matters:_ {}", escape::text(why));
        }
        s.push('\n');
    }
    s
}

/// One specific as a list item, its file and lines linked when `links` allow.
fn specific(sp: &Specific, links: &Links) -> String {
    let mut s = String::new();
    if let Some(path) = &sp.path {
        let _ = write!(s, "{} — ", escape::code(path));
    }
    s.push_str(&escape::sentence(&sp.text));
    if !sp.lines.is_empty() {
        let shown: Vec<String> = sp
            .lines
            .iter()
            .take(MAX_RANGES)
            .map(|&(a, b)| {
                let label = if a == b {
                    a.to_string()
                } else {
                    format!("{a}–{b}")
                };
                match (&links.blob, sp.path.as_deref().filter(|p| linkable(p))) {
                    (Some(blob), Some(path)) => {
                        let anchor = if a == b {
                            format!("L{a}")
                        } else {
                            format!("L{a}-L{b}")
                        };
                        format!("[{label}]({blob}/{}#{anchor})", url_path(path))
                    }
                    _ => label,
                }
            })
            .collect();
        let more = sp.lines.len().saturating_sub(MAX_RANGES);
        let one_line = matches!(sp.lines.as_slice(), [(a, b)] if a == b);
        let word = if one_line { "line" } else { "lines" };
        match (shown.as_slice(), &links.blob) {
            // One link: the words are the link.
            ([only], Some(_)) if only.starts_with('[') => {
                let _ = write!(s, ": [{word} {}", only.trim_start_matches('['));
            }
            _ => {
                let _ = write!(s, ": {word} {}", shown.join(", "));
            }
        }
        if more > 0 {
            let _ = write!(s, " and {more} more");
        }
    }
    if let Some(note) = &sp.note {
        let _ = write!(s, " — {}", escape::text(note));
    }
    s
}

/// A repository path that can be linked: no empty, `.` or `..` segment, which would make the
/// link point outside the repository's tree (a SARIF log names paths as it likes).
fn linkable(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

/// A repository path for a URL: every byte but unreserved characters and `/` percent-encoded,
/// so no path can end the link or add to it.
fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The rows not shown above (met, not affected, exempt, not judged), folded under a summary
/// line; nothing when there are none.
pub fn folded(ev: &Evaluation) -> String {
    let rest: Vec<CriterionResult> = ev
        .criteria
        .iter()
        .filter(|c| !matches!(c.status, Status::Fail | Status::Warn | Status::Waived))
        .cloned()
        .collect();
    if rest.is_empty() {
        return String::new();
    }
    let met = rest.iter().filter(|c| c.status == Status::Pass).count();
    let skipped = rest.len() - met;
    let mut summary = Vec::new();
    if met > 0 {
        summary.push(format!("✅ {met} met"));
    }
    if skipped > 0 {
        summary.push(format!("⏭️ {skipped} not judged or not affected"));
    }
    format!(
        "<details><summary>{}</summary>\n\n{}\n</details>\n",
        summary.join(" · "),
        super::markdown::table(&rest)
    )
}

/// Findings that did not count, and who said so (shown in the comment and the check run).
pub fn dismissed(ev: &Evaluation) -> String {
    if ev.dismissed.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "**Dismissed findings** ({}): not counted, on the record.\n\n",
        ev.dismissed.len()
    );
    for d in &ev.dismissed {
        let at = d
            .location
            .as_deref()
            .map(|l| format!(" at {}", escape::code(l)))
            .unwrap_or_default();
        let by = match (&*d.by, &d.until) {
            ("config", Some(until)) => {
                format!("`[[security.ignore]]` until {}", escape::text(until))
            }
            _ => "suppressed in the SARIF log".to_owned(),
        };
        let _ = writeln!(
            s,
            "- {}{at} — {by}: {}",
            escape::code(&d.rule),
            escape::text(&d.reason)
        );
    }
    s
}
