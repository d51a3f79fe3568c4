//! Who pushed to a pull request: the sender of each `synchronize` delivery and of each `push`
//! to its head branch (before the pull request was opened, too), and the owner of the fork it
//! comes from. git's author and committer fields can name anyone; a push names the account
//! that made it. No one waives a change they pushed to (`/keel waive` and the waivers already
//! given read [`of_pull_request`]).

use super::{Context, JobError};
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::{Event, PullRequestInfo, Target};
use crate::store::PushedTo;

/// Records the pusher of a `synchronize` or branch `push` delivery. When the pusher has a
/// waiver standing on that pull request (their push was delivered late, after the waiver),
/// the pull request is judged again, so the waiver stops counting at once. The pull
/// request's author pushing to it (the usual push) writes nothing: the author may never
/// waive it anyway.
pub async fn record<G: GitHubApi>(ctx: &Context<'_, G>, event: &Event) -> Result<(), JobError> {
    match event {
        Event::PullRequest {
            installation,
            repo,
            pr,
            pushed_by: Some(login),
            ..
        } if !pr
            .author
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(login)) =>
        {
            let number = pr.number.0;
            ctx.store
                .record_pusher(&repo.0, PushedTo::PullRequest(number), login, ctx.now)
                .await?;
            let waived = ctx
                .store
                .live_decisions(&repo.0, number)
                .await?
                .iter()
                .any(|d| d.topic == "waiver" && d.by.eq_ignore_ascii_case(login));
            if let (true, Some(installation)) = (waived, installation) {
                let evaluate = Event::Evaluate {
                    installation: installation.clone(),
                    repo: repo.clone(),
                    head_sha: pr.head_sha.clone(),
                    target: Target::PullRequest(pr.number.clone()),
                };
                ctx.follow_up("pushed-by-waiver-giver", &evaluate).await?;
            }
        }
        Event::Push {
            repo,
            git_ref,
            pushed_by: Some(login),
            ..
        } => {
            if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
                ctx.store
                    .record_pusher(&repo.0, PushedTo::Branch(branch), login, ctx.now)
                    .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Everyone who pushed to pull request `pr` of `repo` or to its head branch, and the owner
/// of the fork it comes from; lowercased.
pub async fn of_pull_request<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    pr: &PullRequestInfo,
) -> Result<Vec<String>, JobError> {
    let same_repo = pr.head_repo.as_ref().is_none_or(|h| h.0 == repo.name.0);
    let branch = same_repo.then_some(pr.head_ref.as_str());
    let mut people = ctx.store.pushers(&repo.name.0, pr.number.0, branch).await?;
    if let Some((owner, _)) = pr
        .head_repo
        .as_ref()
        .filter(|_| !same_repo)
        .and_then(|h| h.0.split_once('/'))
    {
        people.push(owner.to_lowercase());
    }
    Ok(people)
}
