//! Organisation policy: `.github/keel-org.toml` in the organisation's `.github` repository.
//!
//! Three kinds of keys, typed (never a generic deep merge):
//! - `[defaults]`: config a repository gets where it says nothing; it may change them.
//! - `[floor]`: constraints a repository may only tighten. Each key has a known strict
//!   direction (coverage minimums up, the severity that fails down, the largest drop and size
//!   down, required checks a superset, coverage ignore globs a subset); the stricter value wins.
//! - `[locked]`: exact values (the level of every floored criterion, whether waivers exist,
//!   `on_skip`).
//!
//! Each floor or lock is `hard` (never waived) or `soft` (waivable by the team the file names).
//! `[[scope]]` blocks add floors and locks for repositories by name glob or custom property;
//! `[[exception]]` blocks lift named keys for named repositories, with an owner, a reason and
//! an end date, and end by themselves.

use crate::config::{Config, Day, Level, OnSkip, Permission};
use crate::diagnostic::Diagnostic;
use crate::report::sarif::Severity;
use crate::units::Percent;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// The organisation repository Keel reads the policy from.
pub const ORG_REPO: &str = ".github";
/// The policy file in it, on its default branch.
pub const ORG_PATH: &str = ".github/keel-org.toml";

/// `.github/keel-org.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Keel organisation policy (.github/keel-org.toml)")]
pub struct OrgPolicy {
    /// `enforce` (default) or `evaluate`: report what the policy would fail without failing
    /// it, for rollouts.
    #[serde(default)]
    pub enforcement: Mode,
    /// The team (slug) whose members may waive `soft` rules with `/keel waive`.
    pub waive_team: Option<String>,
    /// Config a repository gets where it says nothing (any `keel.toml` section).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub defaults: toml::Table,
    /// Constraints a repository may only tighten.
    #[serde(default)]
    pub floor: Floor,
    /// Exact values.
    #[serde(default)]
    pub locked: Locked,
    /// Floors and locks for some repositories only, added to the ones above.
    #[serde(default)]
    pub scope: Vec<Scope>,
    /// Keys lifted for named repositories until a date.
    #[serde(default)]
    pub exception: Vec<Exception>,
}

/// Whether the policy blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Floors and locks apply.
    #[default]
    Enforce,
    /// They are reported (what would fail), never failing a change.
    Evaluate,
}

/// How a floor or lock holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// Never waived.
    #[default]
    Hard,
    /// Waivable by the organisation's `waive_team`.
    Soft,
}

/// A floor or lock: the bare value (hard), or `{ value = …, enforcement = "soft" }`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Rule<T> {
    /// The value.
    pub value: T,
    /// Hard or soft.
    pub enforcement: Enforcement,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Rule<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr<T> {
            Full {
                value: T,
                #[serde(default)]
                enforcement: Enforcement,
            },
            Bare(T),
        }
        Ok(match Repr::deserialize(d)? {
            Repr::Full { value, enforcement } => Rule { value, enforcement },
            Repr::Bare(value) => Rule {
                value,
                enforcement: Enforcement::Hard,
            },
        })
    }
}

/// `[floor]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    /// Coverage floors.
    #[serde(default)]
    pub coverage: CoverageFloor,
    /// Security floors.
    #[serde(default)]
    pub security: SecurityFloor,
    /// Hygiene floors.
    #[serde(default)]
    pub hygiene: HygieneFloor,
    /// Performance budget floors.
    #[serde(default)]
    pub performance: PerformanceFloor,
    /// Checks that must be required.
    #[serde(default)]
    pub checks: ChecksFloor,
    /// The least permission each `/keel` command needs; a repository may ask more.
    #[serde(default)]
    pub commands: CommandsFloor,
}

/// `[floor.commands]`: per verb, the least permission on the repository (`write`,
/// `maintain`, `admin`, …).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandsFloor {
    /// `/keel recheck`.
    pub recheck: Option<Permission>,
    /// `/keel link` and `/keel unlink`.
    pub link: Option<Permission>,
    /// `/keel debt`.
    pub debt: Option<Permission>,
    /// `/keel waive` and `/keel unwaive`.
    pub waive: Option<Permission>,
    /// `/keel outcome`.
    pub outcome: Option<Permission>,
}

/// `[floor.coverage]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageFloor {
    /// Least total coverage; a repository may ask more.
    pub min_total: Option<Rule<Percent>>,
    /// Least patch coverage; a repository may ask more.
    pub min_patch: Option<Rule<Percent>>,
    /// Largest drop against the base; a repository may allow less.
    pub max_drop: Option<Rule<Percent>>,
    /// The only globs a repository may leave out of coverage; others are dropped.
    pub ignore: Option<Rule<Vec<String>>>,
}

/// `[floor.security]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityFloor {
    /// New findings at or above this severity fail; a repository may fail on lower ones too.
    pub fail_on: Option<Rule<Severity>>,
}

/// `[floor.performance]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceFloor {
    /// The largest worsening against the base any budget allows, in percent; a budget may
    /// allow less, and one without a relative limit gets this one.
    pub max_regression: Option<Rule<Percent>>,
}

/// `[floor.hygiene]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HygieneFloor {
    /// Most changed lines; a repository may allow fewer.
    pub max_changed_lines: Option<Rule<u64>>,
    /// A linked issue is required.
    pub require_linked_issue: Option<Rule<bool>>,
}

/// `[floor.checks]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecksFloor {
    /// Check runs every repository requires; a repository may add more.
    pub required: Option<Rule<Vec<String>>>,
}

/// `[locked]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Locked {
    /// The level of every floored criterion (`required`: a repository cannot make it
    /// advisory or turn it off).
    pub level: Option<Rule<Level>>,
    /// Whether `/keel waive` exists (`false`: no waivers anywhere).
    pub waivers: Option<Rule<bool>>,
    /// How a criterion that cannot be judged counts.
    pub on_skip: Option<Rule<OnSkip>>,
    /// Whether a waiver, link or debt call holds after a new push (`[commands]
    /// survive_pushes`).
    pub survive_pushes: Option<Rule<bool>>,
}

/// `[[scope]]`: more floors and locks for some repositories.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Repository names (without the owner), globs: `payments-*`.
    #[serde(default)]
    pub repos: Vec<String>,
    /// Custom properties the repository must have, all of them: `{ tier = "critical" }` (a
    /// multi-select property has the value when it is one of those selected).
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Floors added for these repositories.
    #[serde(default)]
    pub floor: Floor,
    /// Locks added for these repositories.
    #[serde(default)]
    pub locked: Locked,
}

/// `[[exception]]`: keys lifted for named repositories, on the record, until a date.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// Repository names (without the owner), globs.
    pub repos: Vec<String>,
    /// The floor and lock keys lifted (`coverage.min_total`, `locked.waivers`).
    pub keys: Vec<String>,
    /// Who owns it.
    pub owner: String,
    /// Why.
    pub reason: String,
    /// The last day it holds.
    pub until: Day,
}

/// A policy file that cannot be used, at a line.
pub type OrgError = Diagnostic;

/// A repository's custom properties: name → its values (one, or a multi-select's several).
pub type Properties = std::collections::BTreeMap<String, Vec<String>>;

impl OrgPolicy {
    /// Whether a scope selects repositories by custom property (the shell then reads them).
    pub fn uses_properties(&self) -> bool {
        self.scope.iter().any(|s| !s.properties.is_empty())
    }

    /// The JSON Schema (draft-07) of the policy file.
    pub fn json_schema() -> serde_json::Value {
        let schema = schemars::generate::SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<OrgPolicy>();
        serde_json::to_value(schema).expect("a schema is plain JSON")
    }

    /// Parses and checks a policy file; `path` labels errors.
    pub fn parse(path: &str, text: &str) -> Result<OrgPolicy, OrgError> {
        let policy: OrgPolicy = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            Diagnostic::at_offset(path, text, offset, e.message().trim_end().to_owned())
        })?;
        // The defaults must make a valid config on their own.
        if !policy.defaults.is_empty() {
            let defaults = toml::to_string(&policy.defaults).unwrap_or_default();
            Config::parse("[defaults]", &defaults).map_err(|e| {
                let offset = text.find("[defaults").unwrap_or(0);
                Diagnostic::at_offset(path, text, offset, format!("[defaults]: {}", e.0.message))
            })?;
        }
        Ok(policy)
    }
}

/// Where a key's effective value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The organisation's floor or lock (the repository said nothing, or less).
    Organisation,
    /// The repository, stricter than the floor.
    Repository,
    /// An exception lifted the floor: the repository's value holds.
    Exception {
        /// Who owns the exception.
        owner: String,
        /// Its last day.
        until: String,
    },
}

/// One floored or locked key as it came out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    /// The key (`coverage.min_total`, `locked.waivers`).
    pub key: &'static str,
    /// The row it governs (`coverage.total`), when it governs one.
    pub criterion: Option<String>,
    /// The effective value, formatted.
    pub value: String,
    /// What the repository asked, formatted, when it asked something else.
    pub asked: Option<String>,
    /// Whether the repository asked something looser (overridden).
    pub loosened: bool,
    /// Where the effective value came from.
    pub origin: Origin,
    /// Hard or soft.
    pub enforcement: Enforcement,
}

/// A repository's config under its organisation's policy.
#[derive(Debug, Clone)]
pub struct Effective {
    /// The config the change is judged by.
    pub config: Config,
    /// Every floored or locked key, in file order.
    pub applied: Vec<Applied>,
    /// Rows no waiver turns (hard floors and locks).
    pub hard: Vec<String>,
    /// Rows only the organisation's waive team may waive (soft floors and locks).
    pub soft: Vec<String>,
    /// Evaluate mode: what the policy changes is reported, never failing.
    pub mode: Mode,
}

impl Effective {
    /// The keys a repository set looser than a hard rule.
    pub fn loosened_hard(&self) -> impl Iterator<Item = &Applied> {
        self.applied
            .iter()
            .filter(|a| a.loosened && a.enforcement == Enforcement::Hard)
    }
}

/// One key of the effective configuration and where its value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyOrigin {
    /// `section.key` (`coverage.min_patch`), or a top-level key.
    pub key: String,
    /// The value as TOML, cut to 80 characters.
    pub value: String,
    /// `organisation floor or lock`, `organisation default`, `repository` or `built-in`.
    pub origin: &'static str,
}

/// Every key of `effective`'s configuration (sections one level deep) with its origin: the
/// organisation's floor or lock where it governs the key, the repository where its file
/// (`repo_text`) sets it, the organisation's `[defaults]` where they do, else Keel's built-in
/// default.
pub fn origins(policy: &OrgPolicy, repo_text: &str, effective: &Effective) -> Vec<KeyOrigin> {
    let Ok(toml::Value::Table(config)) = toml::Value::try_from(&effective.config) else {
        return Vec::new();
    };
    let repo: toml::Table = toml::from_str(repo_text).unwrap_or_default();
    let set_in = |table: &toml::Table, section: Option<&str>, key: &str| match section {
        Some(sec) => table
            .get(sec)
            .and_then(|v| v.as_table())
            .is_some_and(|t| t.contains_key(key)),
        None => table.contains_key(key),
    };
    let governed = |key: &str| {
        effective.applied.iter().any(|a| {
            a.key == key
                || (a.key == "locked.waivers" && key == "commands.waivers")
                || (a.key == "locked.on_skip" && key == "on_skip")
                || (a.key == "locked.survive_pushes" && key == "commands.survive_pushes")
        })
    };
    let mut out = Vec::new();
    let mut push = |section: Option<&str>, key: &str, value: &toml::Value| {
        let name = section.map_or_else(|| key.to_owned(), |s| format!("{s}.{key}"));
        let origin = if governed(&name) {
            "organisation floor or lock"
        } else if set_in(&repo, section, key) {
            "repository"
        } else if set_in(&policy.defaults, section, key) {
            "organisation default"
        } else {
            "built-in"
        };
        let mut shown = value.to_string();
        if shown.chars().count() > 80 {
            shown = shown.chars().take(79).collect::<String>() + "…";
        }
        out.push(KeyOrigin {
            key: name,
            value: shown,
            origin,
        });
    };
    for (name, value) in &config {
        match value {
            toml::Value::Table(section) => {
                for (key, value) in section {
                    push(Some(name), key, value);
                }
            }
            other => push(None, name, other),
        }
    }
    out
}

/// The line of a floor or lock `key` (`coverage.min_total`, `locked.waivers`) in a
/// `keel.toml` text: the key's own line in its section, else the section's header, else 1.
pub fn key_line(text: &str, key: &str) -> u32 {
    let (section, field) = match key {
        "locked.waivers" => ("commands", "waivers"),
        "locked.on_skip" => ("", "on_skip"),
        "locked.survive_pushes" => ("commands", "survive_pushes"),
        other => other.split_once('.').unwrap_or(("", other)),
    };
    let mut current = "";
    let mut header = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            current = name.trim();
            if current == section && header.is_none() {
                header = Some(n as u32 + 1);
            }
            continue;
        }
        let named = t.split_once('=').is_some_and(|(k, _)| k.trim() == field);
        if current == section && named {
            return n as u32 + 1;
        }
    }
    header.unwrap_or(1)
}

mod apply;
pub use apply::{apply, with_defaults};

#[cfg(test)]
mod tests;
