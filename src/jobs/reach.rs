//! Keel's reach changed: a repository was deleted, renamed or transferred (what Keel stored
//! under its old name follows it or goes), or a person revoked Keel's authorisation (their
//! dashboard sessions end).

use super::{Context, JobError};
use crate::github::api::{GitHubApi, Repo};
use crate::github::{InstallationId, RepoName};

/// `from` was renamed to `to`, or (without `to`) deleted or transferred. A transfer gives
/// `only_if_gone`, the repository's id: its old name is made from the old owner and the
/// *new* name, so it is forgotten only if no other repository goes by it now.
pub(super) async fn repository_moved<G: GitHubApi>(
    ctx: &Context<'_, G>,
    installation: Option<&InstallationId>,
    from: &RepoName,
    to: Option<&RepoName>,
    only_if_gone: Option<u64>,
) -> Result<(), JobError> {
    if let Some(id) = only_if_gone {
        let Some(installation) = installation else {
            return Ok(());
        };
        let old = Repo {
            installation: installation.clone(),
            name: from.clone(),
        };
        if let Some(other) = ctx.github.repo_id(&old).await?
            && other != id
        {
            tracing::info!(%from, "transferred: another repository has its old name; nothing forgotten");
            return Ok(());
        }
    }
    match to {
        // Renamed: its history goes with it.
        Some(to) => ctx.store.rename_repo(&from.0, &to.0).await?,
        // Deleted or gone to another owner: nothing of it stays under the old name.
        None => {
            ctx.store
                .forget_repos(std::slice::from_ref(&from.0))
                .await?
        }
    }
    tracing::info!(%from, to = ?to.map(|t| &t.0), "repository moved");
    Ok(())
}

/// `user_id` revoked Keel's authorisation: every dashboard session of theirs ends.
pub(super) async fn authorization_revoked<G: GitHubApi>(
    ctx: &Context<'_, G>,
    user_id: u64,
) -> Result<(), JobError> {
    let ended = ctx.store.end_sessions_of(user_id).await?;
    tracing::info!(
        user_id,
        ended,
        "Keel's authorisation revoked: dashboard sessions ended"
    );
    Ok(())
}
