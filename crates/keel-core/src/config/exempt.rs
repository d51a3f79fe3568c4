//! `[exempt]`: the changes some criteria do not apply to, and how a criterion that could not
//! be judged counts (`on_skip`).
//!
//! Two kinds of criteria are told apart. *Linking* criteria (roadmap link, linked issue, title
//! and branch patterns) ask the author for paperwork; a dependency bot cannot give it and an
//! upkeep change (a `docs:` or `refactor:` change) has none to give. *Report* criteria
//! (coverage, security, performance) measure code; a change that touches none of their paths
//! is "not affected" by them. Exemptions never touch the report criteria of a change that
//! touches code: a bot's bump that adds a vulnerability still fails.

use crate::glob::PathGlobs;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[exempt]`. Present or not, its defaults apply: bots' dependency bumps and upkeep changes
/// are not asked to link a roadmap item or an issue, and documentation-only changes are not
/// judged by coverage, security or performance criteria.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExemptConfig {
    /// Pull request authors (GitHub logins) not asked to link a roadmap item or an issue, nor
    /// to follow the title and branch patterns. Their changes are still judged by every
    /// report criterion.
    #[serde(default = "default_authors")]
    pub authors: Vec<String>,
    /// Conventional-commit types (`docs: …`, `build(deps): …`) that mark a change as upkeep: it
    /// needs no roadmap item and no linked issue. A branch named `docs/…` marks it too.
    #[serde(default = "default_upkeep_types")]
    pub upkeep_types: Vec<String>,
    /// Labels that mark a change as upkeep, like an upkeep type.
    #[serde(default = "default_upkeep_labels")]
    pub upkeep_labels: Vec<String>,
    /// Paths no report criterion looks at (globs). A change that touches only these is "not
    /// affected" by coverage, security and performance criteria, and counts as upkeep.
    #[serde(default = "default_paths")]
    pub paths: PathGlobs,
}

impl ExemptConfig {
    /// The defaults, compiled once: the evaluation reads them for every change whose config
    /// has no `[exempt]`.
    pub fn defaults() -> &'static ExemptConfig {
        static DEFAULTS: std::sync::LazyLock<ExemptConfig> =
            std::sync::LazyLock::new(ExemptConfig::default);
        &DEFAULTS
    }
}

impl Default for ExemptConfig {
    fn default() -> Self {
        ExemptConfig {
            authors: default_authors(),
            upkeep_types: default_upkeep_types(),
            upkeep_labels: default_upkeep_labels(),
            paths: default_paths(),
        }
    }
}

fn default_authors() -> Vec<String> {
    ["dependabot[bot]", "renovate[bot]"]
        .map(String::from)
        .to_vec()
}

fn default_upkeep_types() -> Vec<String> {
    [
        "fix", "hotfix", "chore", "debt", "docs", "refactor", "test", "ci", "build", "style",
        "deps", "revert",
    ]
    .map(String::from)
    .to_vec()
}

fn default_upkeep_labels() -> Vec<String> {
    ["bug", "fix", "chore", "dependencies", "documentation"]
        .map(String::from)
        .to_vec()
}

/// Documentation by kind of file, never by folder alone: `docs/` often holds code too (a
/// Sphinx `conf.py`, a site's scripts, an OpenAPI spec that generates code).
fn default_paths() -> PathGlobs {
    PathGlobs::new(
        [
            "**/*.md",
            "**/*.rst",
            "**/*.adoc",
            "docs/**/*.png",
            "docs/**/*.svg",
            "docs/**/*.jpg",
            "docs/**/*.gif",
            "LICENSE*",
            ".github/ISSUE_TEMPLATE/**",
        ]
        .map(String::from)
        .to_vec(),
    )
    .expect("the default globs are valid")
}

/// How a required criterion that could not be judged counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnSkip {
    /// It fails the check: nothing unjudged passes.
    Fail,
    /// It passes, listed as not judged.
    Pass,
}

impl OnSkip {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            OnSkip::Fail => "fail",
            OnSkip::Pass => "pass",
        }
    }
}
