//! `[security]`: no new findings at or above a severity, and the findings dismissed one by
//! one with a reason and an end date.

use super::Criterion;
use crate::glob::PathGlobs;
use crate::report::sarif::Severity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Security scan criteria.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// SARIF files (globs, relative to the repository root).
    #[serde(default, deserialize_with = "crate::glob::checked_patterns")]
    pub paths: Vec<String>,
    /// The paths this criterion family looks at (globs); a change that touches none of them
    /// (or only `[exempt] paths`) is "not affected". Default: every path.
    #[serde(default)]
    pub affects: PathGlobs,
    /// Fail on findings at or above this severity: `critical`, `high`, `medium` or `low`.
    pub fail_on: Option<Criterion<Severity>>,
    /// Count only findings the base commit did not have (default `true`).
    #[serde(default = "yes")]
    pub new_only: bool,
    /// Rule ids never counted.
    #[serde(default)]
    pub ignore_rules: Vec<String>,
    /// Findings dismissed one by one, each with a reason and an end date: a false positive
    /// stops failing the change until then, and the comment lists it.
    #[serde(default)]
    pub ignore: Vec<IgnoredFinding>,
    /// Prefixes removed from result paths before matching them to repository paths.
    #[serde(default)]
    pub strip_prefix: Vec<String>,
    /// Where findings come from: `sarif` (SARIF logs in the reports, the default) or
    /// `code-scanning` (the pull request's open GitHub code scanning alerts, new ones being
    /// those not open on the base branch; the App needs the "Code scanning alerts" read
    /// permission). Severity rules are the same.
    #[serde(default)]
    pub source: FindingSource,
}

/// Where `[security]` findings come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FindingSource {
    /// SARIF logs among the reports.
    #[default]
    Sarif,
    /// GitHub code scanning alerts.
    CodeScanning,
}

fn yes() -> bool {
    true
}

/// `[[security.ignore]]`: one dismissed finding (a rule, optionally only in some files).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoredFinding {
    /// The rule id, as the SARIF log names it.
    pub rule: String,
    /// Only findings in these files (globs); every file when empty.
    #[serde(default)]
    pub paths: PathGlobs,
    /// Why it is dismissed, shown in the comment (e.g. "false positive: input is a constant").
    pub reason: String,
    /// The last day it holds (`2027-03-31`); from the day after, the finding counts again.
    pub until: Day,
}

/// A calendar day, `YYYY-MM-DD`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub struct Day(pub chrono::NaiveDate);

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(s: String) -> Result<Day, String> {
        chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(Day)
            .map_err(|_| format!("`{s}` is not a date; write it as YYYY-MM-DD, e.g. 2027-03-31"))
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        d.0.format("%Y-%m-%d").to_string()
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}
