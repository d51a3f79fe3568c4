//! The result of evaluating a change: the single value every shell renders and publishes.

pub mod debt;
pub mod roadmap;

use crate::config::Level;
use crate::facts::Metrics;
use crate::report::coverage::Ratio;
use crate::report::sarif::Severity;
use serde::Serialize;
use std::collections::BTreeMap;

/// The verdict of the definition of done. Never "neutral": a required gate either passes or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    /// No required criterion failed.
    Success,
    /// At least one required criterion failed.
    Failure,
}

impl Conclusion {
    /// The lowercase name, as GitHub's check run API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
        }
    }
}

/// How one criterion came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A required criterion is not met.
    Fail,
    /// An advisory criterion is not met, or a regression is within noise.
    Warn,
    /// Met.
    Pass,
    /// A required criterion not met, shipped anyway on the record: a `/keel waive` for the
    /// judged commit, with who, why and until when ([`CriterionResult::waiver`]).
    Waived,
    /// Not evaluated, and why is in the explanation (no baseline, no diff, …).
    Skip,
}

impl Status {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Pass => "pass",
            Status::Waived => "waived",
            Status::Skip => "skip",
        }
    }

    /// `Pass` when `met`, else `Fail` for required and `Warn` for advisory criteria.
    pub fn judge(met: bool, level: Level) -> Status {
        match (met, level) {
            (true, _) => Status::Pass,
            (false, Level::Required) => Status::Fail,
            (false, _) => Status::Warn,
        }
    }
}

/// One row of the definition-of-done table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionResult {
    /// Stable id, e.g. `coverage.patch`, `performance.parse/*`.
    pub id: String,
    /// Human name, e.g. "Patch coverage".
    pub title: String,
    /// How much it counts.
    pub level: Level,
    /// How it came out.
    pub status: Status,
    /// The measured value, formatted.
    pub actual: Option<String>,
    /// The threshold, formatted with its comparison (`≥ 80%`).
    pub threshold: Option<String>,
    /// The base commit's value, formatted.
    pub baseline: Option<String>,
    /// Change against the baseline, formatted.
    pub delta: Option<String>,
    /// One sentence on why it came out this way.
    pub explanation: String,
    /// The business reason from the config.
    pub why: Option<String>,
    /// For a skipped row: why it was not judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<SkipReason>,
    /// What to look at: the files with uncovered added lines, the new findings, the regressed
    /// benchmarks (at most [`MAX_SPECIFICS`], the rest counted in the explanation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub specifics: Vec<Specific>,
    /// The waiver that lets a failing row pass ([`Status::Waived`]), or one that no longer
    /// does (expired, or given for an earlier commit: the row still fails and says so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverShown>,
}

/// A waiver as a row shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverShown {
    /// Who gave it.
    pub by: String,
    /// Why (the commenter's words: render escaped).
    pub reason: String,
    /// The last day it holds.
    pub until: Option<crate::config::Day>,
    /// The head commit it was given on, shortened.
    pub commit: String,
    /// Whether it applies; when not, why not ("given for an earlier commit", "ended on …").
    pub lapsed: Option<String>,
}

/// Most specifics a row carries.
pub const MAX_SPECIFICS: usize = 20;

/// Why a row was not judged. Only [`SkipReason::Exempt`] and [`SkipReason::NotAffected`] are
/// decisions; the others are facts Keel did not have, which `on_skip` turns into a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// `[exempt]` says the criterion does not apply to this change (its author, its kind).
    Exempt,
    /// The change touches none of the criterion's paths.
    NotAffected,
    /// The base commit has no recorded metrics to compare against (yet).
    NoBaseline,
    /// Not a pull request: there is no title, description or branch to judge.
    NoPullRequest,
    /// A fact that should have been there was not (a report without data, no diff).
    Missing,
}

impl SkipReason {
    /// Whether a required row skipped for this reason fails when the config says nothing:
    /// only where the fact should have been there.
    pub fn fails_by_default(self) -> bool {
        self == SkipReason::Missing
    }

    /// Whether it is a decision (exempt, not affected) rather than a missing fact.
    pub fn is_decision(self) -> bool {
        matches!(self, SkipReason::Exempt | SkipReason::NotAffected)
    }
}

/// One thing to look at under a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Specific {
    /// The repository path, when it is about a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Line ranges in that file, first and last line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<(u32, u32)>,
    /// What it says, in Keel's words with names as code spans: "2 lines", "`js/xss` (high)",
    /// "`parse` 12.1 ms → 14.0 ms (+15.7%, beyond noise)".
    pub text: String,
    /// Free text from outside (a finding's message), shown escaped after `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How loud an annotation is (GitHub's three levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationLevel {
    /// Blocks: a required criterion failed here.
    Failure,
    /// Worth a look.
    Warning,
    /// For information.
    Notice,
}

impl AnnotationLevel {
    /// The lowercase name, as GitHub's check run API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnotationLevel::Failure => "failure",
            AnnotationLevel::Warning => "warning",
            AnnotationLevel::Notice => "notice",
        }
    }
}

/// A message on lines of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// Repository path.
    pub path: String,
    /// First line.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// Level.
    pub level: AnnotationLevel,
    /// Short title.
    pub title: String,
    /// The message.
    pub message: String,
}

impl Annotation {
    /// The most characters GitHub accepts in an annotation's title.
    pub const MAX_TITLE_CHARS: usize = 255;
    /// The most bytes GitHub accepts in an annotation's message (64 KiB less one).
    pub const MAX_MESSAGE_BYTES: usize = 65_535;

    /// The annotation with its title and message cut to GitHub's limits (a longer one makes
    /// GitHub refuse the whole request with 422); a cut ends with `…`. The evaluation applies
    /// this to every annotation it returns.
    pub fn within_github_limits(mut self) -> Annotation {
        self.title = cut_to_chars(&self.title, Self::MAX_TITLE_CHARS);
        if self.message.len() > Self::MAX_MESSAGE_BYTES {
            let mut end = Self::MAX_MESSAGE_BYTES - ELLIPSIS.len_utf8();
            while !self.message.is_char_boundary(end) {
                end -= 1;
            }
            self.message.truncate(end);
            self.message.push(ELLIPSIS);
        }
        self
    }
}

/// Ends a cut text.
const ELLIPSIS: char = '…';

/// `text` cut to at most `max` characters, ending with `…` when it was cut (GitHub's limits
/// on titles and summaries count characters).
pub fn cut_to_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push(ELLIPSIS);
    cut
}

/// A coverage number as the JSON contract gives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CoverageNumber {
    /// Covered items.
    pub covered: u64,
    /// Coverable items.
    pub coverable: u64,
    /// Percent, `null` when nothing is coverable.
    pub percent: Option<f64>,
}

impl From<Ratio> for CoverageNumber {
    fn from(r: Ratio) -> Self {
        CoverageNumber {
            covered: r.covered,
            coverable: r.coverable,
            percent: r.percent(),
        }
    }
}

/// Coverage of the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageOutcome {
    /// Lines over the whole report.
    pub total: CoverageNumber,
    /// Branches over the whole report, when it has branch data.
    pub branches: Option<CoverageNumber>,
    /// Coverable lines the change adds; `null` when no diff is known.
    pub patch: Option<CoverageNumber>,
    /// The base commit's total line coverage, percent.
    pub baseline_total: Option<f64>,
}

/// Security findings of the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecurityOutcome {
    /// All findings counted (ignored rules left out).
    pub findings: u64,
    /// Findings the base did not have.
    pub new: u64,
    /// New findings per severity.
    pub new_by_severity: BTreeMap<Severity, u64>,
    /// How "new" was decided: `baseline`, `sarif-baseline-state`, `added-lines` or `all`.
    pub new_by: &'static str,
}

/// One benchmark against its budget and baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchOutcome {
    /// Benchmark name.
    pub name: String,
    /// Formatted value.
    pub value: String,
    /// Formatted baseline value.
    pub baseline: Option<String>,
    /// Change against the baseline in percent (positive: worse).
    pub worse_by_percent: Option<f64>,
    /// Whether the change clears the measurement noise; `null` when no interval is known.
    pub beyond_noise: Option<bool>,
    /// How it came out against its budget.
    pub status: Status,
}

/// The result of evaluating a change against a definition of done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// `success` unless a required criterion failed.
    pub conclusion: Conclusion,
    /// One row per evaluated criterion, in config order.
    pub criteria: Vec<CriterionResult>,
    /// Messages on lines: uncovered added lines, new findings.
    pub annotations: Vec<Annotation>,
    /// Coverage, when a report was read.
    pub coverage: Option<CoverageOutcome>,
    /// Security, when a log was read.
    pub security: Option<SecurityOutcome>,
    /// Benchmarks with a budget.
    pub performance: Vec<BenchOutcome>,
    /// Things the user should know that are not criteria (skipped lines, omitted patches).
    pub notes: Vec<String>,
    /// Findings a `[[security.ignore]]` entry or the log's own suppression dismissed, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dismissed: Vec<Dismissed>,
    /// The base commit the change was compared against, when metrics of one were used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<String>,
    /// Roadmap links, when the config has a `[roadmap]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roadmap: Option<roadmap::RoadmapOutcome>,
    /// The debt verdict, when the config has a `[debt]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debt: Option<debt::Verdict>,
    /// This week's debt capacity share, when the shell counted merged work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<debt::Capacity>,
    /// The head commit's metrics, to store as the next baseline (not part of the JSON output).
    #[serde(skip)]
    pub metrics: Metrics,
}

impl Evaluation {
    /// Rows with the given status.
    pub fn count(&self, status: Status) -> usize {
        self.criteria.iter().filter(|c| c.status == status).count()
    }

    /// Rows skipped for want of a fact (not a decision such as "not affected"): what the
    /// first sentence of every rendering lists as not judged.
    pub fn unjudged(&self) -> impl Iterator<Item = &CriterionResult> {
        self.criteria
            .iter()
            .filter(|c| c.status == Status::Skip && !c.skip.is_some_and(SkipReason::is_decision))
    }
}

/// A finding that did not count, and who said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dismissed {
    /// The rule.
    pub rule: String,
    /// Where, `path:line` when known.
    pub location: Option<String>,
    /// The reason given.
    pub reason: String,
    /// `config` (a `[[security.ignore]]` entry, with its end date) or `suppression` (the
    /// SARIF log's own, e.g. an in-source `keel-ignore` or `nosemgrep` comment).
    pub by: String,
    /// The last day a config entry holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotation(title: String, message: String) -> Annotation {
        Annotation {
            path: "a.py".into(),
            start_line: 1,
            end_line: 1,
            level: AnnotationLevel::Warning,
            title,
            message,
        }
    }

    #[test]
    fn titles_and_messages_are_cut_to_githubs_limits() {
        let a =
            annotation("é".repeat(300), format!("x{}", "€".repeat(30_000))).within_github_limits();
        assert_eq!(a.title.chars().count(), Annotation::MAX_TITLE_CHARS);
        assert!(a.title.ends_with('…'));
        assert!(a.message.len() <= Annotation::MAX_MESSAGE_BYTES);
        assert!(a.message.len() > Annotation::MAX_MESSAGE_BYTES - 4);
        assert!(a.message.ends_with('…'));
        let short = annotation("t".repeat(255), "m".repeat(65_535));
        assert_eq!(short.clone().within_github_limits(), short);
    }
}
