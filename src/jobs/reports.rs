//! The CI reports of a commit: the configured artifact of its finished workflow runs,
//! downloaded under limits and parsed off the async runtime.

use super::{Context, JobError, report_cache};
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use crate::reports::Reports;
use crate::reports::artifact::{self, ArtifactLimits};
use crate::store::FinishedRun;
use keel_core::config::ReportsConfig;
use keel_core::{Config, Limits};

/// Where a commit's reports stand.
#[derive(Debug)]
pub enum ReportState {
    /// Read from the artifact of a workflow run.
    Ready {
        /// The reports.
        reports: Box<Reports>,
        /// Where they came from, for the summary.
        source: ReportSource,
    },
    /// The run that should produce them has not finished: keep the check `in_progress`.
    Waiting,
    /// Every run that could have produced them finished without: judge with `no report`.
    Missing(String),
    /// The artifact exists but cannot be read (too large, a bomb, a broken report).
    Broken(String),
}

/// The workflow run whose artifact held the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSource {
    /// Run id.
    pub run_id: u64,
    /// Its workflow file.
    pub path: String,
    /// What triggered it.
    pub event: String,
}

impl ReportSource {
    /// One sentence for the check run's notes.
    pub fn describe(&self) -> String {
        let path = if self.path.is_empty() {
            "an unknown workflow file"
        } else {
            &self.path
        };
        format!(
            "Reports read from workflow run {} ({path}, triggered by {}).",
            self.run_id, self.event
        )
    }
}

/// A workflow file path without GitHub's `@ref` suffix (reusable and dynamic workflows).
fn file_of(path: &str) -> &str {
    path.split_once('@').map_or(path, |(file, _)| file)
}

/// Whether `run` is of the workflow file `wanted` names (`ci.yml` or
/// `.github/workflows/ci.yml`). Display names never match: any pull request can add a
/// workflow with the same `name:`.
pub fn is_workflow(wanted: &str, run: &FinishedRun) -> bool {
    let file = file_of(&run.path);
    let wanted = wanted.trim_start_matches("./");
    !file.is_empty() && (file == wanted || file.ends_with(&format!("/{wanted}")))
}

/// Whether a `[reports] workflow` value names a workflow file (`ci.yml`).
pub fn names_a_file(workflow: &str) -> bool {
    workflow.ends_with(".yml") || workflow.ends_with(".yaml")
}

/// Finds the reports of `head_sha`: the newest finished workflow run (of the configured
/// workflow file, if one is named) that uploaded the artifact.
pub async fn find<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    head_sha: &CommitSha,
) -> Result<ReportState, JobError> {
    let wanted = config.reports.clone().unwrap_or_default();
    if let Some(workflow) = &wanted.workflow
        && !names_a_file(workflow)
    {
        return Ok(ReportState::Broken(format!(
            "`[reports] workflow = \"{workflow}\"` is a display name, and any pull request can add a workflow with the same name: name the workflow file instead, e.g. `ci.yml`"
        )));
    }
    let runs: Vec<FinishedRun> = ctx
        .store
        .workflow_runs(&repo.name.0, &head_sha.0)
        .await?
        .into_iter()
        .filter(|r| wanted.workflow.as_ref().is_none_or(|w| is_workflow(w, r)))
        .collect();
    for run in &runs {
        if let Some(state) = from_run(ctx, repo, config, run).await? {
            return Ok(state);
        }
    }
    missing_or_waiting(ctx, repo, &wanted, head_sha, !runs.is_empty()).await
}

/// The reports in the artifact of one workflow run; `None` when it uploaded none.
pub async fn from_run<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    run: &FinishedRun,
) -> Result<Option<ReportState>, JobError> {
    let wanted = config.reports.clone().unwrap_or_default();
    // A finished run gains no artifact: once it is known to lack it, it is not asked again.
    if ctx
        .store
        .artifact_absent(&repo.name.0, run.run_id, &wanted.artifact)
        .await?
    {
        return Ok(None);
    }
    let Some(found) = ctx
        .github
        .find_artifact(repo, run.run_id, &wanted.artifact)
        .await?
    else {
        ctx.store
            .record_artifact_absent(&repo.name.0, run.run_id, &wanted.artifact, ctx.now)
            .await?;
        return Ok(None);
    };
    let source = ReportSource {
        run_id: run.run_id,
        path: file_of(&run.path).to_owned(),
        event: run.event.clone(),
    };
    let key = report_cache::Key::new(&repo.name.0, found.id, config);
    if let Some(reports) = ctx.reports.and_then(|c| c.get(&key)) {
        return Ok(Some(ReportState::Ready {
            reports: Box::new(reports),
            source,
        }));
    }
    let limits = ArtifactLimits::DEFAULT;
    if found.expired {
        return Ok(Some(ReportState::Broken(format!(
            "the artifact `{}` of workflow run {} has expired",
            wanted.artifact, run.run_id
        ))));
    }
    if found.size > limits.archive_bytes {
        return Ok(Some(ReportState::Broken(
            artifact::ArtifactError::TooLarge {
                size: found.size,
                limit: limits.archive_bytes,
            }
            .to_string(),
        )));
    }
    let archive = match ctx
        .github
        .download_artifact(repo, found.id, limits.archive_bytes)
        .await
    {
        Ok(file) => file,
        Err(crate::github::api::ApiError::Rejected {
            status: 200,
            message,
        }) => {
            return Ok(Some(ReportState::Broken(message)));
        }
        Err(e) => return Err(e.into()),
    };
    let config = config.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        artifact::read_reports(archive, &config, &Limits::DEFAULT, &limits)
    })
    .await
    .map_err(|e| JobError::Transient(format!("the report reader stopped: {e}")))?;
    Ok(Some(match parsed {
        Ok(reports) => {
            if let Some(cache) = ctx.reports {
                cache.put(key, &reports);
            }
            ReportState::Ready {
                reports: Box::new(reports),
                source,
            }
        }
        Err(e) => ReportState::Broken(format!("`{}`: {e}", wanted.artifact)),
    }))
}

/// No finished run had the artifact: is one still coming?
async fn missing_or_waiting<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    wanted: &ReportsConfig,
    head_sha: &CommitSha,
    some_finished: bool,
) -> Result<ReportState, JobError> {
    if !some_finished {
        return Ok(ReportState::Waiting);
    }
    if let Some(workflow) = &wanted.workflow {
        return Ok(ReportState::Missing(format!(
            "the workflow `{workflow}` finished without uploading the artifact `{}`",
            wanted.artifact
        )));
    }
    if ctx.github.unfinished_workflow_runs(repo, head_sha).await? > 0 {
        return Ok(ReportState::Waiting);
    }
    Ok(ReportState::Missing(format!(
        "every workflow run of this commit finished and none uploaded the artifact `{}`",
        wanted.artifact
    )))
}
