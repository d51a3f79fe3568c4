//! Which criteria apply to a change: report criteria by the paths it touches, linking
//! criteria by who opened it and what kind of change it is (`[exempt]`).
//!
//! Paths come from the diff the host computed, never from what the pull request says about
//! itself: a title can exempt a change from paperwork, never from a measurement. A change
//! Keel cannot see whole (no diff, an incomplete file list) is affected by everything.

use crate::config::{Config, ExemptConfig, Level};
use crate::diff::Diff;
use crate::facts::{Facts, PullRequest};
use crate::glob::PathGlobs;
use crate::quote::code;
use crate::strategy::roadmap;

/// Whether a report criterion family applies to the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affected {
    /// It does (or Keel cannot tell that it does not).
    Yes,
    /// It does not, and why, as a sentence.
    No(String),
}

/// Whether a criterion family with `affects` globs applies to the change in `diff`.
pub fn affected(affects: &PathGlobs, exempt: &ExemptConfig, diff: Option<&Diff>) -> Affected {
    let Some(diff) = diff.filter(|d| d.incomplete.is_none()) else {
        return Affected::Yes;
    };
    let counts =
        |path: &str| !exempt.paths.is_match(path) && (affects.is_empty() || affects.is_match(path));
    let touched = diff
        .files
        .iter()
        .flat_map(|f| std::iter::once(f.path.as_str()).chain(f.old_path.as_deref()));
    if touched.clone().any(counts) {
        return Affected::Yes;
    }
    let only_exempt = diff.files.iter().all(|f| exempt.paths.is_match(&f.path));
    let why = if diff.files.is_empty() {
        "not affected: the change touches no file".to_owned()
    } else if only_exempt || affects.is_empty() {
        format!(
            "not affected: the change touches only {}",
            list(exempt.paths.patterns())
        )
    } else {
        format!(
            "not affected: the change touches no file under {}",
            list(affects.patterns())
        )
    };
    Affected::No(why)
}

/// Whether any criterion that needs CI reports applies to the change: when none does, the
/// shell need not wait for reports that a path-filtered workflow will never upload.
pub fn reports_needed(config: &Config, diff: Option<&Diff>) -> bool {
    let exempt = config.exempt();
    let judged = ReportsJudged::of(config);
    let coverage = config
        .coverage
        .as_ref()
        .is_some_and(|c| judged.coverage && affected(&c.affects, exempt, diff) == Affected::Yes);
    let security = config
        .security
        .as_ref()
        .is_some_and(|s| judged.sarif && affected(&s.affects, exempt, diff) == Affected::Yes);
    let performance = config
        .performance
        .as_ref()
        .is_some_and(|p| judged.benchmarks && affected(&p.affects, exempt, diff) == Affected::Yes);
    coverage || security || performance
}

/// Which kinds of report some criterion that is on judges (a criterion turned off judges
/// nothing, so its report is neither waited for nor missed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportsJudged {
    /// Coverage reports (`min_total`, `min_patch`, `max_drop`).
    pub coverage: bool,
    /// SARIF logs (`fail_on`).
    pub sarif: bool,
    /// Benchmark results (a budget).
    pub benchmarks: bool,
}

impl ReportsJudged {
    /// What `config` judges.
    pub fn of(config: &Config) -> ReportsJudged {
        fn on<T>(c: &Option<crate::config::Criterion<T>>) -> bool {
            c.as_ref().is_some_and(|c| c.level != Level::Off)
        }
        ReportsJudged {
            coverage: config
                .coverage
                .as_ref()
                .is_some_and(|c| on(&c.min_total) || on(&c.min_patch) || on(&c.max_drop)),
            sarif: config.security.as_ref().is_some_and(|s| on(&s.fail_on)),
            benchmarks: config
                .performance
                .as_ref()
                .is_some_and(|p| p.budget.iter().any(|b| b.level != Level::Off)),
        }
    }
}

/// Why the linking criteria (roadmap link, linked issue, title and branch patterns) do not
/// apply to the change, if they do not: its author is exempt, or it is upkeep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paperwork {
    /// They apply.
    Asked,
    /// The author is on `[exempt] authors` (a dependency bot): none of them apply.
    ExemptAuthor(String),
    /// The change is upkeep (its title, branch, labels or paths say so): it needs no roadmap
    /// item and no linked issue, but still follows the title and branch patterns.
    Upkeep(String),
}

impl Paperwork {
    /// Decides for the change in `facts` under `config`.
    pub fn of(config: &Config, facts: &Facts) -> Paperwork {
        let exempt = config.exempt();
        let Some(pr) = &facts.pull_request else {
            return Paperwork::Asked;
        };
        if let Some(author) = pr.author.as_deref().filter(|a| {
            exempt
                .authors
                .iter()
                .any(|e| e.eq_ignore_ascii_case(a.trim()))
        }) {
            return Paperwork::ExemptAuthor(format!("opened by {}", code(author)));
        }
        // Labels Keel puts on itself never count: its own verdict must not exempt the change
        // from the next one.
        let mut labels: Vec<&str> = exempt.upkeep_labels.iter().map(String::as_str).collect();
        if let Some(d) = &config.debt {
            labels.push(d.issue_label.as_str());
        }
        let owned = owned_labels(config);
        labels.retain(|l| !owned.iter().any(|o| o.eq_ignore_ascii_case(l)));
        let types: Vec<&str> = exempt.upkeep_types.iter().map(String::as_str).collect();
        if let Some(why) = roadmap::marked_as_upkeep(pr, &types, &labels) {
            return Paperwork::Upkeep(why);
        }
        if let Some(diff) = facts.diff.as_ref().filter(|d| d.incomplete.is_none())
            && !diff.files.is_empty()
            && diff.files.iter().all(|f| {
                exempt.paths.is_match(&f.path)
                    && f.old_path
                        .as_deref()
                        .is_none_or(|p| exempt.paths.is_match(p))
            })
        {
            return Paperwork::Upkeep(format!("it changes only {}", list(exempt.paths.patterns())));
        }
        Paperwork::Asked
    }
}

/// The pull request as the criteria read it: without the labels Keel itself puts on it, so
/// that Keel's own label never links, exempts or overrides anything (its verdict must not
/// change the next one, which Keel's own label events never ask for).
pub fn without_owned_labels(config: &Config, pr: &PullRequest) -> PullRequest {
    let owned = owned_labels(config);
    PullRequest {
        labels: pr
            .labels
            .iter()
            .filter(|l| !owned.iter().any(|o| o.eq_ignore_ascii_case(l)))
            .cloned()
            .collect(),
        ..pr.clone()
    }
}

/// The labels Keel itself puts on pull requests under `config` (the verdict's and the debt
/// verdict's): events about them are Keel's own doing, and they never mark a change.
pub fn owned_labels(config: &Config) -> Vec<String> {
    let mut owned: Vec<String> = config
        .labels
        .iter()
        .flat_map(|l| l.owned())
        .map(str::to_owned)
        .collect();
    if let Some(d) = &config.debt {
        owned.extend([d.labels.reduced.clone(), d.labels.added.clone()]);
    }
    owned
}

/// Globs as code spans, at most five.
fn list(patterns: &[String]) -> String {
    let mut shown: Vec<String> = patterns.iter().take(5).map(|p| code(p)).collect();
    if patterns.len() > 5 {
        shown.push(format!("{} more", patterns.len() - 5));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests;
