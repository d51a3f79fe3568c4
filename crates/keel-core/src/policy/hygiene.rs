//! Pull request hygiene: size, a linked issue, tests with source changes, branch and title.

use super::scope::Paperwork;
use super::{Outcome, Row, SkipReason, code};
use crate::config::HygieneConfig;
use crate::diff::FileStatus;
use crate::facts::Facts;
use std::sync::LazyLock;

/// `#12`, `owner/repo#12`, or an issue/pull URL.
static ISSUE_REF: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?:^|[\s(\[])(?:[\w.-]+/[\w.-]+)?#\d+\b|https?://\S+/(?:issues|pull)/\d+")
        .expect("valid pattern")
});

pub(super) fn evaluate(h: &HygieneConfig, paperwork: &Paperwork, facts: &Facts, out: &mut Outcome) {
    let pr = facts.pull_request.as_ref();
    if let Some(crit) = &h.max_changed_lines {
        let row = Row::new("hygiene.size", "Change size", crit.level, crit.why.as_ref()).threshold(
            format!(
                "≤ {} {}",
                crit.threshold,
                if crit.threshold == 1 { "line" } else { "lines" }
            ),
        );
        out.push(match &facts.diff {
            None => row.unjudged(no_diff(facts), "no diff was given"),
            Some(diff) => {
                let counted: u64 = diff
                    .files
                    .iter()
                    .filter(|f| !h.ignore.is_match(&f.path))
                    .map(|f| u64::from(f.added) + u64::from(f.removed))
                    .sum();
                let lines = if counted == 1 { "line" } else { "lines" };
                let files = if diff.files.len() == 1 {
                    "file"
                } else {
                    "files"
                };
                row.actual(format!("{counted} {lines}")).judged(
                    counted <= crit.threshold,
                    format!(
                        "{counted} {lines} added or removed in {} {files}",
                        diff.files.len()
                    ),
                )
            }
        });
    }
    if let Some(crit) = h.require_linked_issue.as_ref().filter(|c| c.threshold) {
        let row = Row::new(
            "hygiene.linked_issue",
            "Linked issue",
            crit.level,
            crit.why.as_ref(),
        )
        .threshold("an issue reference");
        out.push(match (pr, paperwork) {
            (None, _) => row.unjudged(
                SkipReason::NoPullRequest,
                "no pull request metadata was given",
            ),
            (_, Paperwork::ExemptAuthor(why) | Paperwork::Upkeep(why)) => {
                row.unjudged(SkipReason::Exempt, format!("not needed: {why}"))
            }
            (Some(pr), Paperwork::Asked) => {
                let found = ISSUE_REF
                    .find(&pr.body)
                    .or_else(|| ISSUE_REF.find(&pr.title));
                match found {
                    Some(m) => row
                        .actual(m.as_str().trim().to_owned())
                        .judged(true, "the description links an issue"),
                    None => row.actual("none").judged(
                        false,
                        "neither the title nor the description links an issue (e.g. `Fixes #12`)",
                    ),
                }
            }
        });
    }
    if let Some(t) = &h.tests_with_src {
        let row = Row::new(
            "hygiene.tests_with_src",
            "Tests with source changes",
            t.level,
            t.why.as_ref(),
        )
        .threshold("a test change when source changes");
        out.push(match &facts.diff {
            None => row.unjudged(no_diff(facts), "no diff was given"),
            Some(diff) => {
                let live = || {
                    diff.files
                        .iter()
                        .filter(|f| f.status != FileStatus::Deleted)
                };
                let src: Vec<&str> = live()
                    .filter(|f| t.src.is_match(&f.path))
                    .map(|f| f.path.as_str())
                    .collect();
                let tests = live().filter(|f| t.tests.is_match(&f.path)).count();
                if src.is_empty() {
                    row.actual("no source change")
                        .judged(true, "no file matching the source globs changed")
                } else if tests > 0 {
                    row.actual(format!(
                        "{tests} test {}",
                        if tests == 1 { "file" } else { "files" }
                    ))
                    .judged(
                        true,
                        format!("{} source and {tests} test files changed", src.len()),
                    )
                } else {
                    let shown: Vec<String> = src.iter().take(5).map(|s| code(s)).collect();
                    let more = if src.len() > 5 {
                        format!(" and {} more", src.len() - 5)
                    } else {
                        String::new()
                    };
                    row.actual("no test change").judged(
                        false,
                        format!(
                            "{}{more} changed, but no file matching the test globs did",
                            shown.join(", ")
                        ),
                    )
                }
            }
        });
    }
    let patterns = [
        (
            "hygiene.branch",
            "Branch name",
            &h.branch_pattern,
            pr.map(|p| p.branch.as_str()),
        ),
        (
            "hygiene.title",
            "Title",
            &h.title_pattern,
            pr.map(|p| p.title.as_str()),
        ),
    ];
    for (id, title, crit, value) in patterns {
        let Some(crit) = crit else { continue };
        let row = Row::new(id, title, crit.level, crit.why.as_ref())
            .threshold(describe_pattern(id, &crit.threshold.0));
        out.push(match (value, paperwork) {
            (None, _) => row.unjudged(
                SkipReason::NoPullRequest,
                "no pull request metadata was given",
            ),
            (_, Paperwork::ExemptAuthor(why)) => {
                row.unjudged(SkipReason::Exempt, format!("exempt: {why}"))
            }
            (Some(v), _) => {
                let met = crit.threshold.0.is_match(v);
                let verb = if met { "matches" } else { "does not match" };
                row.actual(v.to_owned()).judged(
                    met,
                    format!(
                        "{} {verb} the pattern {}",
                        code(v),
                        code(crit.threshold.0.as_str())
                    ),
                )
            }
        });
    }
}

/// Why a diff-based row was not judged: outside a pull request there is no change to read
/// (a push, `keel check` on a branch), so that is not a missing fact; inside one it is.
pub(super) fn no_diff(facts: &Facts) -> SkipReason {
    if facts.pull_request.is_some() {
        SkipReason::Missing
    } else {
        SkipReason::NoPullRequest
    }
}

/// What a title or branch pattern asks, in words, for the table: "a conventional title, e.g.
/// `feat: …`" when it accepts conventional-commit titles, else "the configured pattern" (the
/// explanation names the expression itself).
fn describe_pattern(id: &str, pattern: &regex::Regex) -> String {
    let accepts = |samples: &[&str]| samples.iter().all(|s| pattern.is_match(s));
    match id {
        "hygiene.title" if accepts(&["feat: add a thing", "fix(cart): a thing"]) => {
            "a conventional title, e.g. `feat: …`".to_owned()
        }
        "hygiene.branch" if accepts(&["feat/a-thing", "fix/a-thing"]) => {
            "a typed branch, e.g. `feat/…`".to_owned()
        }
        "hygiene.title" => "the title pattern in `keel.toml`".to_owned(),
        _ => "the branch pattern in `keel.toml`".to_owned(),
    }
}
