//! The Action's baseline without a server: the metrics of the base commit, read from the
//! reports artifact of the base branch's successful push run for that commit (or for its
//! nearest ancestor that has one), with the workflow token. When there is none, the reason is
//! said, never silently skipped.

use crate::github::CommitSha;
use crate::github::api::Repo;
use crate::github::client::{GitHub, MAX_ANCESTORS};
use crate::jobs::Context as JobContext;
use crate::jobs::reports::{Budget, RunReports, from_run, is_file};
use crate::store::{FinishedRun, Store};
use keel_core::facts::{Facts, Metrics};
use keel_core::{Config, Limits};

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
    let store = Store::in_memory().await?;
    let ctx = JobContext {
        store: &store,
        github: gh,
        now: crate::clock::now_ms(),
        origin: "action-baseline".into(),
        job_id: None,
        reports: None,
    };
    let finished = FinishedRun {
        run_id: run.id,
        workflow: String::new(),
        event: "push".into(),
        path: run.path.clone(),
        head_repo: repo.name.0.clone(),
        conclusion: "success".into(),
    };
    let read = from_run(&ctx, repo, config, &finished, &mut Budget::default())
        .await
        .map_err(|e| anyhow::anyhow!("read the baseline's artifact: {e}"))?;
    store.close().await;
    let parts = match read {
        RunReports::Read(parts) => parts,
        RunReports::None => {
            return Ok(Err(format!(
                "push run {} (for {}) uploaded no artifact named {}",
                run.id,
                short(&run.head_sha),
                wanted.artifact_patterns().join(", ")
            )));
        }
        RunReports::Broken(why) => {
            return Ok(Err(format!(
                "the artifact of push run {} cannot be read: {why}",
                run.id
            )));
        }
    };
    let mut merged = crate::reports::Reports::default();
    for (_, part) in parts {
        if let Err(e) = merged.absorb(part, &Limits::DEFAULT) {
            return Ok(Err(format!("the artifact of push run {}: {e:#}", run.id)));
        }
    }
    let facts = Facts {
        coverage: merged.coverage,
        findings: merged.findings,
        benchmarks: merged.benchmarks,
        ..Facts::default()
    };
    Ok(Ok(Found {
        sha: run.head_sha.clone(),
        steps,
        metrics: keel_core::evaluate(config, &facts).metrics,
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
