//! What Keel posts on a pull request: one sticky comment and its own labels (the check run
//! per commit is [`super::head_check`]'s). Each is idempotent, so a job that runs twice (its
//! lease expired mid-way) leaves exactly one of each. The store remembers the comment's id and
//! digest, which saves the look-up calls in the steady state.

use super::{Context, JobError};
use crate::github::PrNumber;
use crate::github::api::{GitHubApi, Repo};
use crate::store::StoredComment;
use keel_core::evaluation::Conclusion;
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
    /// `[comment]` says not to comment now; nothing posted.
    Held,
    /// `[comment] when = "on_failure"` and the change passes: Keel's own comment was deleted.
    Deleted,
}

/// Posts, edits, holds back or deletes Keel's sticky comment as `[comment]` says, for an
/// evaluation that concluded `conclusion`. Only a comment Keel made (remembered in the store,
/// or found by its marker among Keel's own) is ever edited or deleted.
pub async fn sticky_comment<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    settings: &keel_core::config::CommentConfig,
    conclusion: Conclusion,
    body: &str,
) -> Result<CommentChange, JobError> {
    use keel_core::config::CommentWhen;
    if settings.off {
        return Ok(CommentChange::Held);
    }
    let failed = conclusion == Conclusion::Failure;
    match settings.when {
        CommentWhen::Always => {}
        _ if failed => {}
        CommentWhen::OnFailure => {
            let Some(id) = own_comment(ctx, repo, number).await? else {
                return Ok(CommentChange::Held);
            };
            ctx.github.delete_comment(repo, id).await?;
            ctx.store.set_comment(&repo.name.0, number.0, None).await?;
            return Ok(CommentChange::Deleted);
        }
        CommentWhen::OnChange => {
            if own_comment(ctx, repo, number).await?.is_none() {
                return Ok(CommentChange::Held);
            }
        }
    }
    upsert_comment(
        ctx,
        repo,
        number,
        keel_core::render::comment::COMMENT_MARKER,
        body,
    )
    .await
}

/// The id of Keel's sticky comment on the pull request, if it has made one.
async fn own_comment<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
) -> Result<Option<u64>, JobError> {
    if let Some(stored) = ctx.store.comment(&repo.name.0, number.0).await? {
        return Ok(Some(stored.id));
    }
    // Found by its marker among comments of Keel's author, it must also have the shape Keel
    // writes: as the Action, that author is `github-actions[bot]`, whose other comments may
    // quote a pull request that carries the marker.
    let marker = keel_core::render::comment::COMMENT_MARKER;
    Ok(ctx
        .github
        .find_comment(repo, number, marker)
        .await?
        .filter(|c| c.body.starts_with("### ") && c.body.trim_end().ends_with(marker))
        .map(|c| c.id))
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

/// Puts Keel's labels for `evaluation` on the pull request, as `config` names them (the
/// verdict's `[labels]`, the debt verdict's `[debt.labels]` with their colours), and takes
/// off the ones that no longer apply; returns the labels the pull request has then. Shared by
/// the App and the Action.
pub async fn verdict_labels<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    current: &[String],
    config: &keel_core::Config,
    evaluation: &keel_core::Evaluation,
) -> Result<Vec<String>, JobError> {
    let (owned, wanted) = keel_labels(config, evaluation);
    let colors: Vec<(String, String)> = config
        .debt
        .iter()
        .flat_map(|d| {
            [
                (d.labels.reduced.clone(), d.labels.reduced_color.0.clone()),
                (d.labels.added.clone(), d.labels.added_color.0.clone()),
            ]
        })
        .collect();
    sync_labels(ctx, repo, number, current, &owned, &wanted, &colors).await
}

/// The labels Keel owns under `config`, and those the evaluation asks for.
fn keel_labels(
    config: &keel_core::Config,
    evaluation: &keel_core::Evaluation,
) -> (Vec<String>, Vec<String>) {
    let owned = keel_core::policy::scope::owned_labels(config);
    let mut wanted: Vec<String> = Vec::new();
    if let Some(labels) = &config.labels {
        let verdict = match evaluation.conclusion {
            Conclusion::Success => &labels.done,
            Conclusion::Failure => &labels.not_done,
        };
        wanted.extend(verdict.clone());
    }
    if let (Some(debt), Some(verdict)) = (&config.debt, &evaluation.debt) {
        wanted.extend(verdict.labels(debt).into_iter().map(str::to_owned));
    }
    (owned, wanted)
}

/// Makes Keel's labels on the pull request `wanted`: adds the missing ones (creating those with
/// a configured colour first, so they get it), removes the `owned` ones not wanted; returns the
/// labels the pull request has then. Labels Keel does not own are never touched; nothing is
/// sent when nothing changes.
pub async fn sync_labels<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    current: &[String],
    owned: &[String],
    wanted: &[String],
    colors: &[(String, String)],
) -> Result<Vec<String>, JobError> {
    let has = |label: &String| current.contains(label);
    let missing: Vec<String> = wanted.iter().filter(|l| !has(l)).cloned().collect();
    for (name, color) in colors.iter().filter(|(n, _)| missing.contains(n)) {
        ctx.github.ensure_label(repo, name, color).await?;
    }
    if !missing.is_empty() {
        ctx.github.add_labels(repo, number, &missing).await?;
    }
    let mut now: Vec<String> = current.to_vec();
    for label in owned {
        if !wanted.contains(label) && has(label) {
            ctx.github.remove_label(repo, number, label).await?;
            now.retain(|l| l != label);
        }
    }
    now.extend(missing);
    Ok(now)
}
