//! `[reports]`: where the App finds a commit's CI reports — which artifacts (names or globs:
//! a test matrix uploads one per job), of which workflows' runs, which runs it waits for, and
//! how long it waits when none of them comes (a path filter, CI outside GitHub Actions).

use crate::glob::PathGlobs;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The artifact read when `[reports]` names none.
pub const DEFAULT_ARTIFACT: &str = "keel-reports";

/// How long Keel waits, by default, for a run that has not even been queued.
pub const DEFAULT_TIMEOUT_MINUTES: u32 = 15;

/// Where the App reads the CI reports from: artifacts of the head commit's workflow runs, or
/// reports sent with `keel upload`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportsConfig {
    /// One artifact's name (default `keel-reports`). `artifacts` takes several.
    #[serde(default, deserialize_with = "one_name")]
    pub artifact: Option<String>,
    /// Artifact names or globs (`keel-reports-*`): every matching artifact of every run read
    /// is merged — coverage exactly, SARIF runs together, benchmarks by name.
    #[serde(default, deserialize_with = "names")]
    pub artifacts: Vec<String>,
    /// One workflow file (`ci.yml`). `workflows` takes several.
    #[serde(default, deserialize_with = "one_workflow")]
    pub workflow: Option<String>,
    /// The workflow files (`ci.yml` or `.github/workflows/ci.yml`; never a workflow's
    /// `name:`, which any pull request can copy) whose runs' artifacts are read. Default: every
    /// run of the head commit.
    #[serde(default, deserialize_with = "workflow_files")]
    pub workflows: Vec<String>,
    /// The workflow files whose runs must have finished before the reports are judged
    /// (default: `workflows`; when that is empty, every run of the head commit). A listed
    /// workflow that never runs (a path filter) does not keep the check waiting: once nothing
    /// is left running, or after `timeout`, its reports are `no report`.
    #[serde(default, deserialize_with = "optional_workflow_files")]
    #[schemars(with = "Vec<String>")]
    pub wait_for: Option<Vec<String>>,
    /// Whether reports sent with `keel upload` are read too. Default: yes, unless `workflow`
    /// or `workflows` names where the reports come from — then only those workflows'
    /// artifacts count, and an upload (its token may be held by any CI build) cannot add to
    /// them.
    pub uploads: Option<bool>,
    /// How long Keel waits for reports while no run that could bring them is queued or
    /// running (`"15m"`, `"2h"`; default 15 minutes). Set it longer when CI outside GitHub
    /// Actions sends reports with `keel upload`.
    pub timeout: Option<Minutes>,
}

impl ReportsConfig {
    /// The artifact names or globs read (`artifacts`, else `artifact`, else `keel-reports`).
    pub fn artifact_patterns(&self) -> Vec<String> {
        if !self.artifacts.is_empty() {
            return self.artifacts.clone();
        }
        vec![
            self.artifact
                .clone()
                .unwrap_or_else(|| DEFAULT_ARTIFACT.to_owned()),
        ]
    }

    /// The artifact patterns, compiled (`*` matches any text in a name).
    pub fn artifact_globs(&self) -> PathGlobs {
        // Checked while deserializing; a pattern that does not compile matches nothing.
        PathGlobs::for_names(self.artifact_patterns()).unwrap_or_default()
    }

    /// The workflow files whose runs are read; empty means every run.
    pub fn workflow_files(&self) -> Vec<String> {
        let mut files = self.workflows.clone();
        files.extend(self.workflow.iter().cloned());
        files
    }

    /// Whether archives sent with `keel upload` are read (`uploads`, else only when no
    /// workflow file is named).
    pub fn reads_uploads(&self) -> bool {
        self.uploads
            .unwrap_or_else(|| self.workflow.is_none() && self.workflows.is_empty())
    }

    /// The workflow files waited for; empty means every run of the head.
    pub fn wait_files(&self) -> Vec<String> {
        self.wait_for
            .clone()
            .unwrap_or_else(|| self.workflow_files())
    }

    /// How long Keel waits while nothing that could bring the reports runs, in milliseconds.
    pub fn timeout_ms(&self) -> i64 {
        i64::from(self.timeout.map_or(DEFAULT_TIMEOUT_MINUTES, |m| m.0)) * 60_000
    }
}

/// A duration in whole minutes, written `"45m"` or `"2h"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub struct Minutes(pub u32);

impl TryFrom<String> for Minutes {
    type Error = String;
    fn try_from(text: String) -> Result<Minutes, String> {
        let bad = || {
            format!("`{text}` is not a duration; write minutes or hours, e.g. \"45m\" or \"2h\"")
        };
        let t = text.trim();
        let (number, per) = if let Some(n) = t.strip_suffix('m') {
            (n, 1)
        } else if let Some(n) = t.strip_suffix('h') {
            (n, 60)
        } else {
            return Err(bad());
        };
        let n: u32 = number.trim().parse().map_err(|_| bad())?;
        let minutes = n.checked_mul(per).filter(|m| (1..=7 * 24 * 60).contains(m));
        minutes
            .map(Minutes)
            .ok_or_else(|| format!("`{text}` is out of range: between 1 minute and 7 days"))
    }
}

impl From<Minutes> for String {
    fn from(m: Minutes) -> String {
        if m.0.is_multiple_of(60) {
            format!("{}h", m.0 / 60)
        } else {
            format!("{}m", m.0)
        }
    }
}

/// Whether `name` names a workflow file (`ci.yml`), not a display name.
pub fn names_a_file(name: &str) -> bool {
    name.ends_with(".yml") || name.ends_with(".yaml")
}

fn checked_workflow(name: String) -> Result<String, String> {
    if names_a_file(&name) {
        Ok(name)
    } else {
        Err(format!(
            "`{name}` is a display name, and any pull request can add a workflow with the same name: name the workflow file instead, e.g. `ci.yml`"
        ))
    }
}

fn checked_name(name: String) -> Result<String, String> {
    if name.trim().is_empty() {
        return Err("an artifact name cannot be empty".to_owned());
    }
    PathGlobs::for_names(vec![name.clone()])?;
    Ok(name)
}

fn one_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked_name(String::deserialize(d)?)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn names<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Name(String);
    impl<'de> Deserialize<'de> for Name {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            checked_name(String::deserialize(d)?)
                .map(Name)
                .map_err(serde::de::Error::custom)
        }
    }
    Ok(Vec::<Name>::deserialize(d)?
        .into_iter()
        .map(|n| n.0)
        .collect())
}

fn one_workflow<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    checked_workflow(String::deserialize(d)?)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A list of workflow files, each checked where it is written.
struct Workflow(String);

impl<'de> Deserialize<'de> for Workflow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_workflow(String::deserialize(d)?)
            .map(Workflow)
            .map_err(serde::de::Error::custom)
    }
}

fn workflow_files<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Vec::<Workflow>::deserialize(d)?
        .into_iter()
        .map(|w| w.0)
        .collect())
}

fn optional_workflow_files<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    workflow_files(d).map(Some)
}

#[cfg(test)]
mod tests {
    use crate::Config;

    fn reports(text: &str) -> super::ReportsConfig {
        Config::parse("k", &format!("[reports]\n{text}"))
            .unwrap()
            .reports
            .unwrap()
    }

    fn error(text: &str) -> String {
        Config::parse("k", &format!("[reports]\n{text}"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn artifacts_and_workflows_default_and_combine() {
        let r = reports("");
        assert_eq!(r.artifact_patterns(), ["keel-reports"]);
        assert!(r.workflow_files().is_empty() && r.wait_files().is_empty());
        assert_eq!(r.timeout_ms(), 15 * 60_000);
        let r = reports(
            "artifacts = [\"keel-reports-*\", \"sarif\"]\nworkflows = [\"ci.yml\", \".github/workflows/codeql.yml\"]\ntimeout = \"2h\"\n",
        );
        assert_eq!(r.artifact_patterns(), ["keel-reports-*", "sarif"]);
        let globs = r.artifact_globs();
        assert!(globs.is_match("keel-reports-3.12") && globs.is_match("sarif"));
        assert!(!globs.is_match("keel-reports") && !globs.is_match("other"));
        assert_eq!(r.wait_files(), ["ci.yml", ".github/workflows/codeql.yml"]);
        assert_eq!(r.timeout_ms(), 120 * 60_000);
        let r = reports("workflows = [\"ci.yml\", \"codeql.yml\"]\nwait_for = [\"ci.yml\"]\n");
        assert_eq!(r.wait_files(), ["ci.yml"]);
        let r = reports("artifact = \"cov\"\nworkflow = \"ci.yml\"\n");
        assert_eq!(
            (r.artifact_patterns(), r.workflow_files()),
            (vec!["cov".to_owned()], vec!["ci.yml".to_owned()])
        );
    }

    #[test]
    fn display_names_bad_durations_and_empty_names_are_errors_where_written() {
        for (text, line, says) in [
            ("workflow = \"CI\"\n", 2, "is a display name"),
            ("workflows = [\"ci.yml\", \"Build\"]\n", 2, "`ci.yml`"),
            ("wait_for = [\"CodeQL\"]\n", 2, "display name"),
            ("timeout = \"15\"\n", 2, "e.g. \"45m\""),
            ("timeout = \"0m\"\n", 2, "between 1 minute and 7 days"),
            ("timeout = \"9000h\"\n", 2, "out of range"),
            ("\nartifacts = [\"\"]\n", 3, "cannot be empty"),
        ] {
            let e = error(text);
            assert!(
                e.contains(says) && e.contains(&format!("k:{line}:")),
                "{text:?}: {e}"
            );
        }
    }
}
