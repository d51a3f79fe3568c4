//! `.github/keel.toml`: the typed model of a repository's definition of done.
//!
//! Every value that can be wrong is checked while it is read (percentages, units, globs,
//! patterns, severities), so an error always carries the file, line and column of the value
//! that caused it. Unknown keys are errors that name the nearest valid key. Absent sections
//! are not evaluated; every criterion is `required` unless it says otherwise.

mod commands;
mod comment;
mod exempt;
mod presets;
mod reports;
mod security;
mod strategy;
mod summary;
mod validate;
mod values;

pub use commands::{CommandsConfig, Permission};
pub use comment::{CommentConfig, CommentWhen, Section};
pub use exempt::{ExemptConfig, OnSkip};
pub use presets::Preset;
pub use reports::{DEFAULT_ARTIFACT, Minutes, ReportsConfig, names_a_file};
pub use security::{Day, FindingSource, IgnoredFinding, SecurityConfig};
pub use summary::{Fallback, Schedule, SummaryConfig, Timezone};
pub use validate::{MAX_PROBLEMS, Problem, ProblemKind};
pub use values::Pattern;
use values::QuantitySchema;

pub use strategy::{
    CapacityUnit, Color, DebtConfig, DebtItem, DebtLabels, Hypothesis, ItemId, ItemStatus,
    ItemsFile, RoadmapConfig, RoadmapItem,
};

use crate::diagnostic::Diagnostic;
use crate::glob::PathGlobs;
use crate::limits::Limits;
use crate::report::coverage::CoverageFormat;
use crate::units::{Percent, Quantity};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Where the config's JSON Schema is published (`docs/keel.schema.json` on the default
/// branch); editors find it from a `#:schema` line at the top of `keel.toml`.
pub const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/keel-dev/keel/main/docs/keel.schema.json";

/// A repository's definition of done.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Keel configuration (.github/keel.toml)")]
pub struct Config {
    /// A preset this config starts from: `keel:recommended` (nothing gets worse against the
    /// base; targets for new code warn) or `keel:strict`. Keys here win over the preset's.
    pub extends: Option<Preset>,
    /// How a required criterion that could not be judged (no baseline yet, no pull request,
    /// a report without the data it needs) counts: `fail` or `pass`. Unset: it fails where the
    /// fact should have been there (a report that lists nothing coverable, no diff) and passes,
    /// listed, where it cannot be yet (the base has no recorded metrics, not a pull request).
    /// Exempt and not-affected criteria always pass.
    pub on_skip: Option<OnSkip>,
    /// Test coverage: total, on the lines the change adds, and the drop against the base.
    pub coverage: Option<CoverageConfig>,
    /// Security scan results (SARIF): no new findings at or above a severity.
    pub security: Option<SecurityConfig>,
    /// Performance budgets: absolute, and relative to the base branch.
    pub performance: Option<PerformanceConfig>,
    /// Pull request hygiene: size, linked issue, tests with source, branch and title patterns.
    pub hygiene: Option<HygieneConfig>,
    /// Other check runs that must have succeeded.
    pub checks: Option<ChecksConfig>,
    /// Where the App finds the CI reports: the artifacts of the head commit's workflow runs
    /// (several runs and artifacts merged), or reports sent with `keel upload`.
    pub reports: Option<ReportsConfig>,
    /// Labels Keel puts on pull requests (and takes off again); no others are touched.
    pub labels: Option<LabelsConfig>,
    /// Roadmap items and their business hypotheses; which one a change serves.
    pub roadmap: Option<RoadmapConfig>,
    /// The technical debt register, and how debt work is recognised and counted.
    pub debt: Option<DebtConfig>,
    /// The weekly summary issue: schedule, timezone, what counts as production and incidents.
    pub summary: Option<SummaryConfig>,
    /// Changes some criteria do not apply to: bots' bumps, upkeep, documentation-only changes.
    /// Its defaults apply when it is absent.
    pub exempt: Option<ExemptConfig>,
    /// The sticky pull request comment: when Keel posts it and which sections it shows.
    pub comment: Option<CommentConfig>,
    /// `/keel` comment commands: who may use which, and how waivers hold.
    pub commands: Option<CommandsConfig>,
}

/// How much a criterion counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Failing it fails the check run and blocks the merge.
    #[default]
    Required,
    /// Failing it is shown as a warning; the check still succeeds.
    Advisory,
    /// Not evaluated.
    Off,
}

impl Level {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Required => "required",
            Level::Advisory => "advisory",
            Level::Off => "off",
        }
    }
}

/// A threshold with its level and business reason. In TOML either the bare threshold
/// (`min_total = 80`, required) or a table (`min_total = { threshold = 80, level = "advisory",
/// why = "…" }`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion<T> {
    /// The threshold.
    pub threshold: T,
    /// How much it counts.
    pub level: Level,
    /// The business reason, shown when it fails (e.g. "SOC 2 compliance to close enterprise deals").
    pub why: Option<String>,
}

impl<T> Criterion<T> {
    /// A required criterion with no reason given.
    pub fn required(threshold: T) -> Self {
        Criterion {
            threshold,
            level: Level::Required,
            why: None,
        }
    }
}

/// Test coverage criteria.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageConfig {
    /// Report files (globs, relative to the repository root), LCOV or Cobertura.
    #[serde(default, deserialize_with = "crate::glob::checked_patterns")]
    pub paths: Vec<String>,
    /// The paths this criterion family looks at (globs); a change that touches none of them
    /// (or only `[exempt] paths`) is "not affected". Default: every path.
    #[serde(default)]
    pub affects: PathGlobs,
    /// Report format; detected from the content when absent.
    pub format: Option<CoverageFormat>,
    /// Least line coverage over the whole report, in percent.
    pub min_total: Option<Criterion<Percent>>,
    /// Least coverage of the coverable lines the change adds, in percent.
    pub min_patch: Option<Criterion<Percent>>,
    /// Largest fall of total coverage against the base commit, in percentage points.
    pub max_drop: Option<Criterion<Percent>>,
    /// How a line with partly taken branches counts: `hit` (default: covered, as LCOV's LH and
    /// diff-cover count it) or `miss` (coverable but not covered, as Codecov counts it).
    #[serde(default)]
    pub partial_lines: PartialLines,
    /// Prefixes removed from report paths before matching them to repository paths.
    #[serde(default)]
    pub strip_prefix: Vec<String>,
    /// Files left out of every coverage number (globs).
    #[serde(default)]
    pub ignore: PathGlobs,
    /// Which changed files are source code (globs, e.g. `["src/**"]`). A changed source file
    /// that the coverage report does not list counts as uncovered: each of its added non-blank
    /// lines is a coverable line no test runs. Default: files with an extension that some file
    /// in the report has (a report of `.py` files makes every changed `.py` file source).
    #[serde(default)]
    pub source: PathGlobs,
}

/// How partly covered lines count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartialLines {
    /// Covered.
    #[default]
    Hit,
    /// Coverable, not covered.
    Miss,
}

/// Performance budgets.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceConfig {
    /// Benchmark result files (globs): criterion `estimates.json`, hyperfine or Google
    /// Benchmark JSON, or Keel JSON.
    #[serde(default, deserialize_with = "crate::glob::checked_patterns")]
    pub paths: Vec<String>,
    /// The paths this criterion family looks at (globs); a change that touches none of them
    /// (or only `[exempt] paths`) is "not affected". Default: every path.
    #[serde(default)]
    pub affects: PathGlobs,
    /// Budgets, each for the benchmarks whose names match.
    #[serde(default)]
    pub budget: Vec<Budget>,
}

/// A budget for one or more benchmarks.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "BudgetToml")]
pub struct Budget {
    /// Benchmark name or glob (`*` matches any text, `/` included).
    pub benchmark: String,
    /// Compiled `benchmark`.
    #[serde(skip)]
    pub matcher: PathGlobs,
    /// Highest acceptable value (`10ms`, `2MB`, `42`).
    pub max: Option<Quantity>,
    /// Lowest acceptable value, for bigger-is-better benchmarks.
    pub min: Option<Quantity>,
    /// Largest worsening against the base commit, in percent.
    pub max_regression: Option<Percent>,
    /// Whether smaller (default) or bigger values are better.
    pub direction: Direction,
    /// How much the budget counts.
    pub level: Level,
    /// The business reason, shown when it fails.
    pub why: Option<String>,
}

/// `[[performance.budget]]` as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BudgetToml {
    /// Benchmark name or glob (`*` matches any text, `/` included).
    benchmark: String,
    /// Highest acceptable value (`10ms`, `2MB`, `42`).
    #[schemars(with = "Option<QuantitySchema>")]
    max: Option<Quantity>,
    /// Lowest acceptable value, for bigger-is-better benchmarks.
    #[schemars(with = "Option<QuantitySchema>")]
    min: Option<Quantity>,
    /// Largest worsening against the base commit, in percent (`"5%"`).
    max_regression: Option<Percent>,
    /// `smaller` (default) or `bigger` is better.
    #[serde(default)]
    direction: Direction,
    /// How much the budget counts (default `required`).
    #[serde(default)]
    level: Level,
    /// The business reason, shown when it fails.
    why: Option<String>,
}

impl TryFrom<BudgetToml> for Budget {
    type Error = String;
    fn try_from(b: BudgetToml) -> Result<Self, String> {
        if b.max.is_none() && b.min.is_none() && b.max_regression.is_none() {
            return Err(format!(
                "budget for `{}` sets no limit; give `max`, `min` or `max_regression`",
                b.benchmark
            ));
        }
        if let (Some(max), Some(min)) = (b.max, b.min)
            && max.dimension != min.dimension
        {
            return Err("`max` and `min` are in different units".into());
        }
        let matcher = PathGlobs::for_names(vec![b.benchmark.clone()])?;
        Ok(Budget {
            benchmark: b.benchmark,
            matcher,
            max: b.max,
            min: b.min,
            max_regression: b.max_regression,
            direction: b.direction,
            level: b.level,
            why: b.why,
        })
    }
}

impl JsonSchema for Budget {
    fn schema_name() -> Cow<'static, str> {
        "Budget".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        BudgetToml::json_schema(g)
    }
}

/// Which way is better for a benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Times, sizes: smaller is better.
    #[default]
    Smaller,
    /// Throughput: bigger is better.
    Bigger,
}

/// Pull request hygiene criteria.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HygieneConfig {
    /// Most added plus removed lines in one pull request.
    pub max_changed_lines: Option<Criterion<u64>>,
    /// Files not counted by `max_changed_lines` (globs, e.g. lockfiles).
    #[serde(default)]
    pub ignore: PathGlobs,
    /// The description must link an issue (`Fixes #12`, `#12`, `owner/repo#12` or an issue URL).
    pub require_linked_issue: Option<Criterion<bool>>,
    /// A change to source files must change tests too.
    pub tests_with_src: Option<TestsWithSrc>,
    /// The head branch name must match this regular expression.
    pub branch_pattern: Option<Criterion<Pattern>>,
    /// The title must match this regular expression.
    pub title_pattern: Option<Criterion<Pattern>>,
}

/// "Changing these files needs a change to those files."
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestsWithSrc {
    /// Source globs.
    pub src: PathGlobs,
    /// Test globs; at least one changed file must match when a source file changes.
    pub tests: PathGlobs,
    /// How much it counts (default `required`).
    #[serde(default)]
    pub level: Level,
    /// The business reason, shown when it fails.
    pub why: Option<String>,
}

/// Other check runs that must have concluded `success` (or `neutral`/`skipped`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecksConfig {
    /// Check run names.
    #[serde(default)]
    pub required: Vec<String>,
    /// How much they count (default `required`).
    #[serde(default)]
    pub level: Level,
    /// The business reason, shown when one fails.
    pub why: Option<String>,
}

/// Labels that mirror the check run's verdict. Keel adds the one that applies and removes the
/// other; labels it does not own are never touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelsConfig {
    /// Put on a pull request that meets its definition of done.
    pub done: Option<String>,
    /// Put on a pull request that does not (yet).
    pub not_done: Option<String>,
}

impl LabelsConfig {
    /// Every label Keel owns under this config.
    pub fn owned(&self) -> impl Iterator<Item = &str> {
        self.done.iter().chain(&self.not_done).map(String::as_str)
    }
}

impl Config {
    /// `[exempt]` as written, or its defaults.
    pub fn exempt(&self) -> &ExemptConfig {
        self.exempt.as_ref().unwrap_or(ExemptConfig::defaults())
    }
}

/// `keel.toml` could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub Diagnostic);

impl Config {
    /// Parses and checks a config file. `path` labels errors.
    pub fn parse(path: &str, text: &str) -> Result<Config, ConfigError> {
        let limit = Limits::DEFAULT.config_bytes;
        if text.len() as u64 > limit {
            let message = format!(
                "config is {} bytes, over the limit of {limit} bytes",
                text.len()
            );
            return Err(ConfigError(Diagnostic::at_line(path, 1, message)));
        }
        let mut config: Config = parse_toml(path, text)?;
        if let Some(preset) = config.extends {
            config = over_preset(path, text, preset)?;
        }
        if let Some(r) = &config.roadmap {
            unique_ids(path, text, r.items.iter().map(|i| &i.id))?;
        }
        if let Some(d) = &config.debt {
            unique_ids(path, text, d.items.iter().map(|i| &i.id))?;
            if let Some(t) = d.capacity_target
                && !(0.0..=1.0).contains(&t)
            {
                let offset = text.find("capacity_target").unwrap_or(0);
                return Err(ConfigError(Diagnostic::at_offset(
                    path,
                    text,
                    offset,
                    format!("capacity_target is a share from 0 to 1 (0.2 = 20%), not {t}"),
                )));
            }
        }
        Ok(config)
    }

    /// Parses a separate roadmap or debt file (`[[items]]` tables), with the same
    /// file:line:column errors.
    pub fn parse_items<T: serde::de::DeserializeOwned + HasId>(
        path: &str,
        text: &str,
    ) -> Result<Vec<T>, ConfigError> {
        let file: ItemsFile<T> = parse_toml(path, text)?;
        unique_ids(path, text, file.items.iter().map(HasId::id))?;
        Ok(file.items)
    }

    /// The JSON Schema (draft-07) of the config, for editor completion; its `$id` is
    /// [`SCHEMA_URL`], where `docs/keel.schema.json` is published.
    pub fn json_schema() -> serde_json::Value {
        let schema = schemars::generate::SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<Config>();
        let mut value = serde_json::to_value(schema).expect("a schema is plain JSON");
        if let Some(map) = value.as_object_mut() {
            map.insert("$id".to_owned(), SCHEMA_URL.into());
        }
        value
    }
}

/// The config `text` read over `preset`: the preset first, the file's keys over it.
fn over_preset(path: &str, text: &str, preset: Preset) -> Result<Config, ConfigError> {
    let at_extends = |message: String| {
        let offset = text.find("extends").unwrap_or(0);
        ConfigError(Diagnostic::at_offset(path, text, offset, message))
    };
    let own: toml::Table = toml::from_str(text).map_err(|e| at_extends(e.message().to_owned()))?;
    let mut merged: toml::Table = toml::from_str(preset.text()).map_err(|e| {
        at_extends(format!(
            "the preset {} cannot be read: {}",
            preset.name(),
            e.message()
        ))
    })?;
    presets::merge(&mut merged, own);
    Config::deserialize(toml::Value::Table(merged)).map_err(|e| {
        at_extends(format!(
            "this file over {} is not a valid config: {}",
            preset.name(),
            validate::plain(e.message())
        ))
    })
}

/// Something with an item id.
pub trait HasId {
    /// The id.
    fn id(&self) -> &ItemId;
}

impl HasId for RoadmapItem {
    fn id(&self) -> &ItemId {
        &self.id
    }
}

impl HasId for DebtItem {
    fn id(&self) -> &ItemId {
        &self.id
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, ConfigError> {
    let limit = Limits::DEFAULT.config_bytes;
    if text.len() as u64 > limit {
        let message = format!(
            "{path} is {} bytes, over the limit of {limit} bytes",
            text.len()
        );
        return Err(ConfigError(Diagnostic::at_line(path, 1, message)));
    }
    toml::from_str::<T>(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = validate::plain(&with_suggestion(e.message().trim_end_matches('\n')));
        ConfigError(Diagnostic::at_offset(path, text, offset, message))
    })
}

/// A second item with an id already used is an error at that second id.
fn unique_ids<'a>(
    path: &str,
    text: &str,
    ids: impl Iterator<Item = &'a ItemId>,
) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            let quoted = format!("\"{id}\"");
            let offset = text.match_indices(&quoted).nth(1).map_or(0, |(i, _)| i);
            return Err(ConfigError(Diagnostic::at_offset(
                path,
                text,
                offset,
                format!("item id `{id}` is used twice"),
            )));
        }
    }
    Ok(())
}

/// Appends "did you mean `x`?" to serde's unknown-field and unknown-variant messages.
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message.to_owned();
    };
    let Some((unknown, tail)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let candidates: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (edit_distance(unknown, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(unknown.len()) / 2).max(2))
        .min();
    match best {
        Some((_, c)) => format!("{message}; did you mean `{c}`?"),
        None => message.to_owned(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(prev + usize::from(ca != *cb));
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
