//! Is a change paying technical debt down or running it up? Each signal is a named reason a
//! person can check; the verdict is what the labels say. Informational unless the config makes
//! added debt blocking.

use crate::config::{DebtConfig, DebtItem};
use crate::diff::{Diff, FileStatus};
use crate::evaluation::BenchOutcome;
use crate::evaluation::debt::{Direction, Reason, TouchedItem, Verdict};
use crate::facts::{Metrics, PullRequest};
use crate::units;

use super::code;
use super::roadmap::mentions;

/// Everything the classification reads.
pub struct Inputs<'a> {
    /// `[debt]` with the register (items from a separate file already merged in).
    pub config: &'a DebtConfig,
    /// The pull request, when known.
    pub pr: Option<&'a PullRequest>,
    /// The change.
    pub diff: Option<&'a Diff>,
    /// Issues the change closes that carry the debt issue label.
    pub debt_issues: &'a [u64],
    /// The base commit's metrics.
    pub baseline: Option<&'a Metrics>,
    /// The head commit's metrics.
    pub current: &'a Metrics,
    /// Benchmarks judged against their budgets.
    pub performance: &'a [BenchOutcome],
}

/// Files whose change alone is a dependency upgrade.
const DEPENDENCY_FILES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "go.mod",
    "go.sum",
    "requirements.txt",
    "poetry.lock",
    "pyproject.toml",
    "Pipfile",
    "Pipfile.lock",
    "uv.lock",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "composer.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "gradle.lockfile",
    "mix.exs",
    "mix.lock",
    "packages.lock.json",
];

/// Classifies a change.
pub fn classify(inputs: &Inputs<'_>) -> Verdict {
    let config = inputs.config;
    let empty = PullRequest::default();
    let pr = inputs.pr.unwrap_or(&empty);
    let mut reasons = Vec::new();
    let reduces = |text: String| Reason {
        reduces: true,
        text,
    };
    let adds = |text: String| Reason {
        reduces: false,
        text,
    };
    let text = format!("{}\n{}\n{}", pr.title, pr.body, pr.branch);
    let mut items = Vec::new();
    for item in &config.items {
        let referenced = mentions(&text, &item.id);
        let touched = inputs.diff.is_some_and(|d| {
            !item.paths.is_empty() && d.files.iter().any(|f| item.paths.is_match(&f.path))
        });
        if referenced {
            reasons.push(reduces(format!("works on {} ({})", item.id, item.title)));
        }
        if referenced || touched {
            items.push(TouchedItem {
                id: item.id.clone(),
                title: item.title.clone(),
                referenced,
                impact: impact(item, config.currency.as_deref()),
            });
        }
    }
    for number in inputs.debt_issues {
        reasons.push(reduces(format!(
            "fixes #{number}, labelled {}",
            code(&config.issue_label)
        )));
    }
    if let Some(diff) = inputs.diff {
        let (added, removed) = count_lines(diff, |line| {
            config.markers.iter().any(|m| has_word(line, m))
        });
        let markers = config.markers.join("/");
        match added.cmp(&removed) {
            std::cmp::Ordering::Less => reasons.push(reduces(format!(
                "removes {} {markers} marker{} (net)",
                removed - added,
                plural(removed - added)
            ))),
            std::cmp::Ordering::Greater => reasons.push(adds(format!(
                "adds {} {markers} marker{} (net)",
                added - removed,
                plural(added - removed)
            ))),
            std::cmp::Ordering::Equal => {}
        }
        let (added, removed) = count_lines(diff, |line| {
            config
                .suppressions
                .iter()
                .any(|s| !s.is_empty() && line.contains(s.as_str()))
        });
        match added.cmp(&removed) {
            std::cmp::Ordering::Less => reasons.push(reduces(format!(
                "removes {} warning suppression{} (net)",
                removed - added,
                plural(removed - added)
            ))),
            std::cmp::Ordering::Greater => reasons.push(adds(format!(
                "adds {} warning suppression{} (net)",
                added - removed,
                plural(added - removed)
            ))),
            std::cmp::Ordering::Equal => {}
        }
        let only_dependencies = !diff.files.is_empty()
            && diff.files.iter().all(|f| {
                let name = f.path.rsplit('/').next().unwrap_or(&f.path);
                DEPENDENCY_FILES.contains(&name)
                    || (name.starts_with("requirements") && name.ends_with(".txt"))
            });
        if only_dependencies {
            reasons.push(reduces(
                "upgrades dependencies (only manifests and lockfiles change)".into(),
            ));
        }
        if let Some(reason) =
            touched_coverage(diff, inputs.baseline, inputs.current, config.coverage_dip.0)
        {
            reasons.push(reason);
        }
    }
    if let (Some(base), Some(now)) = (
        inputs.baseline.and_then(Metrics::finding_identities),
        inputs.current.finding_identities(),
    ) {
        let fixed = surplus(base, now);
        let new = surplus(now, base);
        if fixed > 0 {
            reasons.push(reduces(format!(
                "fixes {fixed} security finding{} the base branch had",
                plural(fixed)
            )));
        }
        if new > 0 {
            reasons.push(adds(format!("adds {new} security finding{}", plural(new))));
        }
    }
    for bench in inputs.performance {
        if let (Some(worse), Some(true)) = (bench.worse_by_percent, bench.beyond_noise)
            && worse < 0.0
        {
            reasons.push(reduces(format!(
                "makes {} {:.1}% faster, beyond noise",
                code(&bench.name),
                -worse
            )));
        }
    }
    reasons.sort_by_key(|r| !r.reduces);
    let any_reduces = reasons.iter().any(|r| r.reduces);
    let any_adds = reasons.iter().any(|r| !r.reduces);
    let direction = match (any_reduces, any_adds) {
        (true, false) => Direction::Reduced,
        (false, true) => Direction::Added,
        (true, true) => Direction::Mixed,
        (false, false) => Direction::Neutral,
    };
    let overridden_by = pr
        .labels
        .iter()
        .find(|l| **l == config.labels.none)
        .cloned();
    Verdict {
        direction,
        overridden_by,
        reasons,
        items,
    }
}

/// Added and removed lines matching.
fn count_lines(diff: &Diff, matches: impl Fn(&str) -> bool) -> (usize, usize) {
    let mut added = 0;
    let mut removed = 0;
    for file in &diff.files {
        added += file.added_text.iter().filter(|l| matches(l)).count();
        removed += file.removed_text.iter().filter(|l| matches(l)).count();
    }
    (added, removed)
}

/// Whether `word` occurs in `line` with no letter, digit or `_` on either side.
fn has_word(line: &str, word: &str) -> bool {
    let inner = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    line.match_indices(word).any(|(at, _)| {
        !inner(line[..at].chars().next_back()) && !inner(line[at + word.len()..].chars().next())
    })
}

/// Line coverage of the changed files present in both the base and the head metrics.
/// A change smaller than `noise` percentage points is no signal either way.
fn touched_coverage(
    diff: &Diff,
    baseline: Option<&Metrics>,
    current: &Metrics,
    noise: f64,
) -> Option<Reason> {
    let base = baseline?.coverage.as_ref()?;
    let now = current.coverage.as_ref()?;
    let (mut bc, mut bt, mut nc, mut nt) = (0u64, 0u64, 0u64, 0u64);
    for file in diff
        .files
        .iter()
        .filter(|f| f.status != FileStatus::Deleted)
    {
        if let (Some(b), Some(n)) = (base.files.get(&file.path), now.files.get(&file.path)) {
            bc += b.covered;
            bt += b.coverable;
            nc += n.covered;
            nt += n.coverable;
        }
    }
    if bt == 0 || nt == 0 {
        return None;
    }
    let before = 100.0 * bc as f64 / bt as f64;
    let after = 100.0 * nc as f64 / nt as f64;
    if (after - before).abs() < noise.max(0.1) {
        return None;
    }
    Some(Reason {
        reduces: after > before,
        text: format!(
            "coverage of the changed files {} from {before:.1}% to {after:.1}%",
            if after > before { "rises" } else { "falls" }
        ),
    })
}

/// An item's cost in a business lead's words.
pub fn impact(item: &DebtItem, currency: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(days) = item.slows_delivery_days {
        parts.push(format!(
            "slows each feature touching it by ~{} day{}",
            trim_number(days),
            if (days - 1.0).abs() < f64::EPSILON {
                ""
            } else {
                "s"
            }
        ));
    }
    if let Some(risk) = item.outage_risk_pct {
        parts.push(format!(
            "{}% risk of an outage this quarter",
            trim_number(risk)
        ));
    }
    if let Some(cost) = item.cost_per_month {
        parts.push(match currency {
            Some(_) => format!("costs {} a month", money(cost, currency)),
            None => format!(
                "costs {} a month (currency not set)",
                units::thousands(cost)
            ),
        });
    }
    if let Some(text) = &item.impact {
        parts.push(text.clone());
    }
    if parts.is_empty() {
        "no business impact recorded".into()
    } else {
        parts.join("; ")
    }
}

fn trim_number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// An amount with its currency: `€1,200` for a symbol, `1,200 EUR` for a code, and
/// without one `1,200 (currency not set)`, so a lead never guesses which.
pub fn money(amount: f64, currency: Option<&str>) -> String {
    match currency.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if c.chars().all(|ch| ch.is_ascii_alphabetic()) => {
            format!("{} {c}", units::thousands(amount))
        }
        Some(symbol) => format!("{symbol}{}", units::thousands(amount)),
        None => format!("{} (currency not set)", units::thousands(amount)),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How many occurrences `a` has beyond those of the same identity in `b`.
fn surplus(
    a: &std::collections::BTreeMap<String, u64>,
    b: &std::collections::BTreeMap<String, u64>,
) -> usize {
    let extra: u64 = a
        .iter()
        .map(|(id, n)| n.saturating_sub(b.get(id).copied().unwrap_or(0)))
        .sum();
    usize::try_from(extra).unwrap_or(usize::MAX)
}
