//! Which roadmap items a change serves, and how each link was found: an explicit reference
//! (`R-12` in the title, description or branch, or a `Roadmap: R-12` trailer), an issue of the
//! item that the change fixes or closes, a label, the milestone, or a changed file under the
//! item's paths.

use super::code;
use crate::config::{ItemId, RoadmapItem};
use crate::diff::Diff;
use crate::evaluation::roadmap::{Link, LinkReason};
use crate::facts::PullRequest;
use std::sync::LazyLock;

static CLOSING: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b")
        .expect("a valid regex")
});

static TRAILER: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(?im)^\s*roadmap\s*:\s*(.+)$").expect("a valid regex"));

/// Issues the description says the change fixes, closes or resolves (`Fixes #12`).
pub fn closing_issues(text: &str) -> Vec<u64> {
    let mut found: Vec<u64> = CLOSING
        .captures_iter(text)
        .filter_map(|c| c[1].parse().ok())
        .collect();
    found.dedup();
    found
}

/// Whether `id` occurs in `text` as a whole token (not inside a longer id or word).
pub fn mentions(text: &str, id: &ItemId) -> bool {
    let hay = text.to_ascii_lowercase();
    let needle = id.0.to_ascii_lowercase();
    let token = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    hay.match_indices(&needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        // `R-12` must not match inside `R-123` or `XR-12`.
        !token(before) && !token(after)
    })
}

/// Links the change to `items`; items with no link are left out. Dropped items still link
/// (the comment says they are dropped).
pub fn link(items: &[RoadmapItem], pr: Option<&PullRequest>, diff: Option<&Diff>) -> Vec<Link> {
    let empty = PullRequest::default();
    let pr = pr.unwrap_or(&empty);
    let trailers: Vec<&str> = TRAILER
        .captures_iter(&pr.body)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let body_without_trailers = TRAILER.replace_all(&pr.body, "");
    let closes = closing_issues(&format!("{}\n{}", pr.title, pr.body));
    let mut links = Vec::new();
    for item in items {
        let mut reasons = Vec::new();
        if mentions(&pr.title, &item.id) {
            reasons.push(LinkReason::Title);
        }
        if trailers.iter().any(|t| mentions(t, &item.id)) {
            reasons.push(LinkReason::Trailer);
        }
        if mentions(&body_without_trailers, &item.id) {
            reasons.push(LinkReason::Body);
        }
        if mentions(&pr.branch, &item.id) {
            reasons.push(LinkReason::Branch);
        }
        for number in closes.iter().filter(|n| item.issues.contains(n)) {
            reasons.push(LinkReason::Issue { number: *number });
        }
        for name in pr.labels.iter().filter(|l| item.labels.contains(l)) {
            reasons.push(LinkReason::Label { name: name.clone() });
        }
        if let (Some(want), Some(have)) = (&item.milestone, &pr.milestone)
            && want == have
        {
            reasons.push(LinkReason::Milestone { name: have.clone() });
        }
        if let Some(diff) = diff {
            let mut touched = diff.files.iter().filter(|f| item.paths.is_match(&f.path));
            if let Some(first) = touched.next() {
                reasons.push(LinkReason::Path {
                    file: first.path.clone(),
                    count: 1 + touched.count(),
                });
            }
        }
        if !reasons.is_empty() {
            links.push(Link {
                item: item.clone(),
                reasons,
            });
        }
    }
    links
}

/// Why a change needs no roadmap item: its conventional-commit title type or its branch
/// prefix is one of `kinds` (`fix`, `docs`, …), or it carries one of `upkeep_labels`. `None`
/// when nothing marks it.
pub fn marked_as_upkeep(
    pr: &PullRequest,
    kinds: &[&str],
    upkeep_labels: &[&str],
) -> Option<String> {
    let title = pr.title.trim_start().to_ascii_lowercase();
    for kind in kinds {
        let kind = kind.to_ascii_lowercase();
        if let Some(rest) = title.strip_prefix(&kind)
            && (rest.starts_with(':') || rest.starts_with('(') || rest.starts_with('!'))
        {
            return Some(format!("the title marks it as {}", code(&kind)));
        }
    }
    let branch = pr.branch.to_ascii_lowercase();
    for kind in kinds {
        let kind = kind.to_ascii_lowercase();
        if branch.starts_with(&format!("{kind}/")) || branch.starts_with(&format!("{kind}-")) {
            return Some(format!("the branch marks it as {}", code(&kind)));
        }
    }
    pr.labels
        .iter()
        .find(|l| upkeep_labels.iter().any(|u| u.eq_ignore_ascii_case(l)))
        .map(|l| format!("the label {} marks it as upkeep", code(l)))
}
