//! The CI reports of a commit: the configured artifact of its finished workflow runs,
//! downloaded under limits and parsed off the async runtime.

use super::{Context, JobError};
use crate::artifact::{self, ArtifactLimits};
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use crate::reports::Reports;
use keel_core::config::ReportsConfig;
use keel_core::{Config, Limits};

/// Where a commit's reports stand.
#[derive(Debug)]
pub enum ReportState {
    /// Read from the artifact of workflow run `run_id`.
    Ready {
        /// The reports.
        reports: Box<Reports>,
        /// Where they came from, for the summary.
        run_id: u64,
    },
    /// The run that should produce them has not finished: keep the check `in_progress`.
    Waiting,
    /// Every run that could have produced them finished without: judge with `no report`.
    Missing(String),
    /// The artifact exists but cannot be read (too large, a bomb, a broken report).
    Broken(String),
}

/// Finds the reports of `head_sha`: the newest finished workflow run (of the configured
/// workflow, if one is named) that uploaded the artifact.
pub async fn find<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    head_sha: &CommitSha,
) -> Result<ReportState, JobError> {
    let wanted = config.reports.clone().unwrap_or_default();
    let runs: Vec<_> = ctx
        .store
        .workflow_runs(&repo.name.0, &head_sha.0)
        .await?
        .into_iter()
        .filter(|r| wanted.workflow.as_ref().is_none_or(|w| *w == r.workflow))
        .collect();
    for run in &runs {
        let Some(found) = ctx
            .github
            .find_artifact(repo, run.run_id, &wanted.artifact)
            .await?
        else {
            continue;
        };
        let limits = ArtifactLimits::DEFAULT;
        if found.expired {
            return Ok(ReportState::Broken(format!(
                "the artifact `{}` of workflow run {} has expired",
                wanted.artifact, run.run_id
            )));
        }
        if found.size > limits.archive_bytes {
            return Ok(ReportState::Broken(
                artifact::ArtifactError::TooLarge {
                    size: found.size,
                    limit: limits.archive_bytes,
                }
                .to_string(),
            ));
        }
        let bytes = match ctx
            .github
            .download_artifact(repo, found.id, limits.archive_bytes)
            .await
        {
            Ok(bytes) => bytes,
            Err(crate::github::api::ApiError::Rejected {
                status: 200,
                message,
            }) => {
                return Ok(ReportState::Broken(message));
            }
            Err(e) => return Err(e.into()),
        };
        let config = config.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            artifact::read_reports(&bytes, &config, &Limits::DEFAULT, &limits)
        })
        .await
        .map_err(|e| JobError::Transient(format!("the report reader stopped: {e}")))?;
        return Ok(match parsed {
            Ok(reports) => ReportState::Ready {
                reports: Box::new(reports),
                run_id: run.run_id,
            },
            Err(e) => ReportState::Broken(format!("`{}`: {e}", wanted.artifact)),
        });
    }
    missing_or_waiting(ctx, repo, &wanted, head_sha, !runs.is_empty()).await
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
            "the workflow \"{workflow}\" finished without uploading the artifact \"{}\"",
            wanted.artifact
        )));
    }
    if ctx.github.unfinished_workflow_runs(repo, head_sha).await? > 0 {
        return Ok(ReportState::Waiting);
    }
    Ok(ReportState::Missing(format!(
        "every workflow run of this commit finished and none uploaded the artifact \"{}\"",
        wanted.artifact
    )))
}
