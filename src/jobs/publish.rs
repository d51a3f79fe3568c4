//! What Keel posts: one check run per commit, one sticky comment per pull request, and its own
//! labels. Each is idempotent, so a job that runs twice (its lease expired mid-way) leaves
//! exactly one of each. The store remembers ids and the comment's digest, which saves the
//! look-up calls in the steady state.

use super::{CHECK_NAME, Context, JobError};
use crate::github::api::{GitHubApi, Repo};
use crate::github::{CommitSha, PrNumber};
use crate::store::StoredComment;
use sha2::{Digest, Sha256};

/// What [`upsert_comment`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentChange {
    /// Posted a new comment.
    Created,
    /// Edited the existing one.
    Edited,
    /// The existing one already said this; nothing sent.
    Unchanged,
}

/// Keel's check run on `head_sha`: the one the store remembers, else the one GitHub lists
/// (a previous attempt made it and died before remembering), else a new one, `in_progress`.
pub async fn check_run<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
) -> Result<u64, JobError> {
    if let Some(id) = ctx.store.check_run(&repo.name.0, &head_sha.0).await? {
        return Ok(id);
    }
    let id = match ctx
        .github
        .find_check_run(repo, CHECK_NAME, head_sha)
        .await?
    {
        Some(id) => id,
        None => {
            ctx.github
                .start_check_run(repo, CHECK_NAME, head_sha)
                .await?
        }
    };
    ctx.store
        .set_check_run(&repo.name.0, &head_sha.0, id)
        .await?;
    Ok(id)
}

/// Makes Keel's sticky comment on the pull request read `body`: edited through the id the
/// store remembers (no search), created when there is none, and not touched when it already
/// says this. A comment someone deleted is posted again.
pub async fn upsert_comment<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    marker: &str,
    body: &str,
) -> Result<CommentChange, JobError> {
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    let remember = |id: u64| StoredComment {
        id,
        digest: digest.clone(),
    };
    let known = match ctx.store.comment(&repo.name.0, number.0).await? {
        Some(stored) => Some(stored),
        None => ctx
            .github
            .find_comment(repo, number, marker)
            .await?
            .map(|c| StoredComment {
                id: c.id,
                digest: hex::encode(Sha256::digest(c.body.as_bytes())),
            }),
    };
    let change = match known {
        Some(c) if c.digest == digest => {
            ctx.store
                .set_comment(&repo.name.0, number.0, Some(&c))
                .await?;
            return Ok(CommentChange::Unchanged);
        }
        Some(c) => match ctx.github.edit_comment(repo, c.id, body).await {
            Ok(()) => {
                ctx.store
                    .set_comment(&repo.name.0, number.0, Some(&remember(c.id)))
                    .await?;
                CommentChange::Edited
            }
            Err(e) if e.is_not_found() => {
                let id = ctx.github.create_comment(repo, number, body).await?;
                ctx.store
                    .set_comment(&repo.name.0, number.0, Some(&remember(id)))
                    .await?;
                CommentChange::Created
            }
            Err(e) => return Err(e.into()),
        },
        None => {
            let id = ctx.github.create_comment(repo, number, body).await?;
            ctx.store
                .set_comment(&repo.name.0, number.0, Some(&remember(id)))
                .await?;
            CommentChange::Created
        }
    };
    Ok(change)
}

/// Makes Keel's labels on the pull request `wanted`: adds the missing ones (creating those with
/// a configured colour first, so they get it), removes the `owned` ones not wanted. Labels Keel does not own are never touched; nothing is sent when
/// nothing changes.
pub async fn sync_labels<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    current: &[String],
    owned: &[String],
    wanted: &[String],
    colors: &[(String, String)],
) -> Result<(), JobError> {
    let has = |label: &String| current.contains(label);
    let missing: Vec<String> = wanted.iter().filter(|l| !has(l)).cloned().collect();
    for (name, color) in colors.iter().filter(|(n, _)| missing.contains(n)) {
        ctx.github.ensure_label(repo, name, color).await?;
    }
    if !missing.is_empty() {
        ctx.github.add_labels(repo, number, &missing).await?;
    }
    for label in owned {
        if !wanted.contains(label) && has(label) {
            ctx.github.remove_label(repo, number, label).await?;
        }
    }
    Ok(())
}
