//! The Action's baseline without a server: the metrics of the base commit, read from the
//! reports artifact of the base branch's successful push run for that commit (or for its
//! nearest ancestor that has one), with the workflow token. When there is none, the reason is
//! said, never silently skipped.

use crate::github::CommitSha;
use crate::github::api::Repo;
use crate::github::client::{GitHub, MAX_ANCESTORS};
use crate::jobs::reports::is_file;
use keel_core::Config;
use keel_core::facts::Metrics;

/// A baseline found in a push run's artifact.
#[derive(Debug)]
pub struct Found {
    /// The commit it measured (the base or an ancestor).
    pub sha: String,
    /// How many commits back from the base that is (0: the base itself).
    pub steps: u32,
    /// Its metrics.
    pub metrics: Metrics,
    /// The push run it came from.
    pub run_id: u64,
}

impl Found {
    /// One line for the notes.
    pub fn describe(&self) -> String {
        let which = match self.steps {
            0 => "the base commit".to_owned(),
            1 => format!("{}, the commit before the base", short(&self.sha)),
            n => format!("{}, {n} commits before the base", short(&self.sha)),
        };
        format!(
            "Compared with {which}: metrics from the artifact of its push run {}.",
            self.run_id
        )
    }
}

/// The base commit's metrics from `branch`'s push runs, or why there are none.
pub async fn from_push_run(
    gh: &GitHub,
    repo: &Repo,
    config: &Config,
    base: &CommitSha,
    branch: &str,
) -> anyhow::Result<Result<Found, String>> {
    let wanted = config.reports.clone().unwrap_or_default();
    let files = wanted.workflow_files();
    let runs: Vec<_> = match gh.push_runs(repo, branch).await {
        Ok(runs) => runs
            .into_iter()
            .filter(|r| files.is_empty() || files.iter().any(|f| is_file(f, &r.path)))
            .collect(),
        Err(e) => {
            return Ok(Err(format!(
                "the push runs of `{branch}` cannot be listed ({e})"
            )));
        }
    };
    if runs.is_empty() {
        return Ok(Err(format!(
            "`{branch}` has no successful push run{} to read the base commit's reports from",
            if files.is_empty() {
                String::new()
            } else {
                format!(" of {}", files.join(", "))
            }
        )));
    }
    let (run, steps) = match runs.iter().find(|r| r.head_sha == base.0) {
        Some(run) => (run, 0),
        None => {
            let ancestors = match gh.ancestors(repo, base).await {
                Ok(a) => a,
                Err(e) => {
                    return Ok(Err(format!(
                        "the base commit's history cannot be read ({e})"
                    )));
                }
            };
            let nearest = ancestors.iter().enumerate().find_map(|(i, sha)| {
                runs.iter()
                    .find(|r| r.head_sha == *sha)
                    .map(|r| (r, u32::try_from(i).unwrap_or(u32::MAX)))
            });
            match nearest {
                Some(found) => found,
                None => {
                    return Ok(Err(format!(
                        "none of the {} newest successful push runs of `{branch}` is for the base commit {} or one of its {MAX_ANCESTORS} nearest ancestors",
                        runs.len(),
                        short(&base.0)
                    )));
                }
            }
        }
    };
    let finished = super::workflow_run::finished(run.id, &run.path, "push");
    let merged =
        match super::workflow_run::run_reports(gh, repo, config, "push run", &finished).await? {
            Ok((merged, _)) => merged,
            Err(why) => return Ok(Err(why)),
        };
    Ok(Ok(Found {
        sha: run.head_sha.clone(),
        steps,
        metrics: merged.metrics(config),
        run_id: run.id,
    }))
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Whether the config has a criterion a baseline changes (a drop, a regression, new findings).
pub fn wanted(config: &Config) -> bool {
    config.coverage.is_some() || config.security.is_some() || config.performance.is_some()
}
