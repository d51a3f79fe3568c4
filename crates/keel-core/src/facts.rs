//! What the shells gather about a change, and the metrics kept as the next baseline.
//!
//! Plain values: the shell fills them from disk, git or GitHub; the core only reads them.
//! `None` always means "not known here", which the evaluation reports as such.

use crate::diff::Diff;
use crate::report::bench::Measurement;
use crate::report::coverage::{CoverageReport, Ratio};
use crate::report::sarif::{Finding, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything known about a change.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The change's diff.
    pub diff: Option<Diff>,
    /// Coverage of the head commit (all reports merged); `None`: no report was found.
    pub coverage: Option<CoverageReport>,
    /// Findings of the head commit from all SARIF logs; `None`: no log was found.
    pub findings: Option<Vec<Finding>>,
    /// Benchmark results of the head commit; `None`: no result file was found.
    pub benchmarks: Option<Vec<Measurement>>,
    /// Pull request metadata, when there is a pull request.
    pub pull_request: Option<PullRequest>,
    /// Metrics of the base commit.
    pub baseline: Option<Metrics>,
    /// Other check runs on the head commit, when the shell can see them.
    pub check_runs: Option<Vec<CheckRunState>>,
    /// The head commit has more check runs than the shell reads: how many it read, and how
    /// many GitHub counts. One not read may be a required check's failure.
    pub check_runs_cut: Option<(usize, usize)>,
    /// The change edits the definition of done itself: the new file, checked. (The change is
    /// still judged by the base commit's file.)
    pub config_change: Option<ConfigChange>,
    /// Issues the change closes that carry the debt issue label (the shell asks GitHub).
    pub debt_issues: Vec<u64>,
    /// Merged work this week, for the debt capacity share.
    pub capacity: Option<CapacityCounts>,
    /// Today's date in UTC, from the shell's clock: `[[security.ignore]]` entries hold until
    /// their end date. `None`: no entry applies (an end date that cannot be checked has passed).
    pub today: Option<chrono::NaiveDate>,
    /// Findings the SARIF logs themselves mark as suppressed (they never count), to show.
    pub suppressed: Vec<crate::report::sarif::Suppressed>,
    /// The base commit the baseline belongs to, and how far back from the change's base it is
    /// (0: the base itself), when the shell knows.
    pub baseline_commit: Option<(String, u32)>,
    /// What people decided on the pull request with `/keel` commands (waivers, links, debt
    /// calls), the latest per subject, each bound to the head commit it was given on.
    pub decisions: Vec<Decision>,
    /// Rows the organisation's hard rules govern: no waiver turns them.
    pub unwaivable: Vec<String>,
    /// The organisation's policy is declared but cannot be used (and its last good version is
    /// over an hour old): why. Its hard rules fail closed.
    pub org_unavailable: Option<String>,
    /// The change edits the organisation's policy file and the new file cannot be used: why.
    pub org_change_invalid: Option<String>,
}

/// A decision someone took on a pull request with a `/keel` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// What was decided.
    pub kind: DecisionKind,
    /// Who (a login).
    pub by: String,
    /// The head commit it was given on (full SHA).
    pub commit: String,
    /// Whether that commit is the one judged now: a decision given for an earlier commit is
    /// shown, and applies only where the policy lets it survive pushes.
    pub current: bool,
}

impl Decision {
    /// The commit it was given on, shortened.
    pub fn short_commit(&self) -> &str {
        self.commit.get(..7).unwrap_or(&self.commit)
    }
}

/// What a [`Decision`] says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionKind {
    /// `/keel waive`: ship below the bar on this criterion, on the record.
    Waive {
        /// The criterion's id (`coverage.patch`).
        criterion: String,
        /// Why (free text from the commenter: shown escaped).
        reason: String,
        /// The last day it holds.
        until: Option<crate::config::Day>,
    },
    /// `/keel link`: the change serves this roadmap item.
    Link(String),
    /// `/keel unlink`: it does not, whatever Keel found.
    Unlink(String),
    /// `/keel debt reduced|added|none`.
    Debt(crate::commands::DebtCall),
}

/// What a change does to `.github/keel.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChange {
    /// The new file is valid; it applies once merged.
    Valid,
    /// The new file is invalid, here.
    Invalid(crate::diagnostic::Diagnostic),
    /// The change deletes or moves the file away: once merged, nothing into the branch would
    /// be judged.
    Removed,
}

/// Pull request metadata the hygiene criteria read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Title.
    pub title: String,
    /// Description (may be empty).
    pub body: String,
    /// Head branch name.
    pub branch: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Milestone title.
    #[serde(default)]
    pub milestone: Option<String>,
    /// The author's login (`dependabot[bot]` for Dependabot), as the host reports it.
    #[serde(default)]
    pub author: Option<String>,
}

/// Another check run's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRunState {
    /// Check run name.
    pub name: String,
    /// `success`, `failure`, …; `None` while it runs.
    pub conclusion: Option<String>,
    /// The app that made it, when known: every app's latest run of a name must succeed.
    #[serde(default)]
    pub app: Option<String>,
}

/// The format [`Metrics`] are written in. Version 2 keeps findings as counted whole identities
/// ([`FindingMetrics::identities`]); version 1 kept one key per fingerprint component, which
/// cannot tell a new finding from an old one, so its findings are not trusted for that.
pub const METRICS_VERSION: u32 = 2;

/// The numbers of one commit, kept to compare later changes against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Format version of this value.
    #[serde(default = "metrics_version")]
    pub version: u32,
    /// Coverage totals and per-file line ratios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageMetrics>,
    /// Security findings: counts and identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<FindingMetrics>,
    /// Benchmark measurements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub benchmarks: Vec<Measurement>,
}

impl Metrics {
    /// These metrics, with each kind they lack taken from `earlier` (another workflow run of
    /// the same commit that measured it: coverage from CI, findings from a scan).
    pub fn or(self, earlier: Metrics) -> Metrics {
        Metrics {
            version: self.version,
            coverage: self.coverage.or(earlier.coverage),
            findings: self.findings.or(earlier.findings),
            benchmarks: if self.benchmarks.is_empty() {
                earlier.benchmarks
            } else {
                self.benchmarks
            },
        }
    }
}

impl Default for Metrics {
    /// Empty metrics in the current format.
    fn default() -> Self {
        Metrics {
            version: METRICS_VERSION,
            coverage: None,
            findings: None,
            benchmarks: Vec::new(),
        }
    }
}

impl Metrics {
    /// The findings' identities with how often each occurs, when these metrics hold findings in
    /// a format that records whole identities (version 2 on); `None` otherwise.
    pub fn finding_identities(&self) -> Option<&BTreeMap<String, u64>> {
        if self.version < 2 {
            return None;
        }
        self.findings.as_ref().map(|f| &f.identities)
    }
}

/// Metrics stored before the version field existed are version 1.
fn metrics_version() -> u32 {
    1
}

/// Coverage numbers of one commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageMetrics {
    /// Covered / coverable lines.
    pub lines: Ratio,
    /// Taken / total branches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branches: Option<Ratio>,
    /// Line ratios per repository path.
    #[serde(default)]
    pub files: BTreeMap<String, Ratio>,
}

/// Security findings of one commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindingMetrics {
    /// Findings counted (ignored rules left out).
    pub count: u64,
    /// Count per severity.
    #[serde(default)]
    pub by_severity: BTreeMap<Severity, u64>,
    /// Each finding's identity ([`Finding::identity`]) and how many findings have it, to tell
    /// new findings from old. Empty in metrics of version 1 (those kept `keys`, now ignored).
    #[serde(default)]
    pub identities: BTreeMap<String, u64>,
}

/// Merged work so far this week, counted by the shell from its store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityCounts {
    /// The ISO week, like `2026-W48`.
    pub week: String,
    /// Merged pull requests (or their changed lines) this week.
    pub merged: u64,
    /// Of those, debt work.
    pub debt: u64,
}
