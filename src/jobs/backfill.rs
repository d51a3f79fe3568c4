//! Backfill: the last weeks of a repository's delivery history read from the GitHub API —
//! merged pull requests (with their first commit), production deployments with their final
//! status, incidents, releases — so the first weekly summary is not empty. Every write is an
//! upsert, so a backfill that stops on a rate limit and runs again later loses nothing.

use super::{CONFIG_PATH, Context, JobError};
use crate::github::api::{GitHubApi, Repo};
use crate::github::{CommitSha, PrNumber};
use crate::store::MergeDetails;

/// Most merged pull requests whose first commit is looked up (one call each).
pub const MAX_FIRST_COMMITS: usize = 500;

/// Reads `weeks` weeks of history into the store.
pub async fn run<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    weeks: u32,
) -> Result<(), JobError> {
    let since = ctx.now - i64::from(weeks) * 7 * 24 * 3_600_000;
    let config = match ctx
        .github
        .file_at(repo, CONFIG_PATH, &CommitSha("HEAD".into()))
        .await?
    {
        Some(bytes) => super::evaluate::parse_config(bytes).ok(),
        None => None,
    };
    let sc = config.and_then(|c| c.summary).unwrap_or_default();
    let name = &repo.name.0;
    let merged = ctx.github.merged_pull_requests_since(repo, since).await?;
    for (i, pr) in merged.iter().enumerate() {
        ctx.store
            .record_merge(name, pr.number, pr.merged_at)
            .await?;
        let first_commit_at = if i < MAX_FIRST_COMMITS {
            ctx.github
                .first_commit_at(repo, &PrNumber(pr.number))
                .await?
        } else {
            None
        };
        let details = MergeDetails {
            opened_at: Some(pr.created_at),
            first_commit_at,
            merge_sha: pr.merge_sha.clone(),
            reverts: super::reverted_pull_request(&pr.title, &pr.body),
        };
        ctx.store
            .record_merge_details(name, pr.number, &details)
            .await?;
    }
    for environment in &sc.environments {
        for d in ctx
            .github
            .deployments_since(repo, environment, since)
            .await?
        {
            ctx.store
                .record_deployment(name, d.id, &d.sha, environment, &d.state, d.at)
                .await?;
        }
    }
    for issue in ctx
        .github
        .labelled_issues_since(repo, &sc.incident_label, since)
        .await?
    {
        ctx.store
            .record_issue(
                name,
                issue.number,
                &issue.labels,
                issue.opened_at,
                issue.closed_at,
                issue.root_cause.as_deref(),
            )
            .await?;
    }
    for (id, at) in ctx.github.releases_since(repo, since).await? {
        ctx.store.record_release(name, id, at).await?;
    }
    tracing::info!(repo = %repo.name, weeks, merged = merged.len(), "backfill done");
    Ok(())
}
