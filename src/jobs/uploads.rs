//! Reports sent with `keel upload` arrived for a commit: its pull requests and merge group are
//! judged again, and a commit a push made the default branch's head gets its baseline from
//! those the baseline token sent (CI outside GitHub Actions has no push run to read one from).

use super::reports::{self, Budget};
use super::{CONFIG_PATH, Context, JobError, workflow_run};
use crate::github::api::{GitHubApi, Repo};
use crate::github::{CommitSha, InstallationId, RepoName};

/// Handles [`crate::github::event::Event::ReportsUploaded`].
pub async fn arrived<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &RepoName,
    head_sha: &CommitSha,
) -> Result<(), JobError> {
    let installation = match ctx
        .store
        .pull_requests_at(&repo.0, &head_sha.0)
        .await?
        .first()
    {
        Some(tracked) => Some(tracked.installation_id),
        None => match ctx.store.merge_group(&repo.0, &head_sha.0).await? {
            Some((_, installation)) => Some(installation),
            None => ctx
                .store
                .installed_repos()
                .await?
                .into_iter()
                .find(|(name, _)| *name == repo.0)
                .map(|(_, installation)| installation),
        },
    };
    // Reports for a commit no pull request is at yet are read when one opens.
    let Some(installation) = installation.map(InstallationId) else {
        return Ok(());
    };
    if ctx
        .store
        .is_default_branch_commit(&repo.0, &head_sha.0)
        .await?
    {
        let target = Repo {
            installation: installation.clone(),
            name: repo.clone(),
        };
        record_baseline(ctx, &target, head_sha).await?;
    }
    workflow_run::evaluate_again(ctx, &installation, repo, head_sha, &[], None).await
}

/// Stores the metrics of the uploads of default-branch commit `sha` (under that commit's
/// config), each kind they lack kept from what a workflow run recorded.
async fn record_baseline<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    sha: &CommitSha,
) -> Result<(), JobError> {
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, sha).await? else {
        return Ok(());
    };
    let Ok(config) = super::org::effective_config(ctx, repo, bytes).await? else {
        return Ok(());
    };
    if !config.reports.clone().unwrap_or_default().reads_uploads() {
        tracing::info!(repo = %repo.name, %sha, "`[reports]` names the workflows its reports come from: no baseline from the uploads");
        return Ok(());
    }
    let parts =
        // Only what the baseline token sent: the pull request token is in every CI build.
        match reports::sources::uploaded(ctx, repo, &config, sha, &mut Budget::default(), true)
            .await?
        {
            Ok(parts) => parts,
            Err(why) => {
                tracing::info!(repo = %repo.name, %sha, why, "no baseline from the uploads");
                return Ok(());
            }
        };
    if parts.is_empty() {
        tracing::info!(repo = %repo.name, %sha, "no upload with the baseline token: no baseline from the uploads");
        return Ok(());
    }
    workflow_run::store_baseline(ctx, repo, sha, &config, parts.into_iter().map(|(_, r)| r))
        .await?;
    tracing::info!(repo = %repo.name, %sha, "baseline recorded from keel upload");
    Ok(())
}
