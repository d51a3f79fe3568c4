//! The Action's check run: its one pull request's verdict, through the App's code
//! ([`head_check::display`]), tagged with the pull request it judged.

use super::{PublishError, files_links};
use crate::github::api::{CheckRunOutput, GitHubApi, Repo};
use crate::github::client::GitHub;
use crate::github::event::PullRequestInfo;
use crate::github::{CHECK_NAME, CommitSha};
use crate::jobs::{Context, head_check};
use keel_core::evaluation::{Conclusion, Evaluation};
use keel_core::render::markdown;

/// Shows `evaluation` on the check run of the pull request's head; returns the run's id and
/// what was done.
pub(super) async fn publish(
    ctx: &Context<'_, GitHub>,
    gh: &GitHub,
    repo: &Repo,
    pr: &PullRequestInfo,
    evaluation: &Evaluation,
) -> Result<(u64, String), PublishError> {
    let tag = format!("pull request #{}", pr.number);
    if let Some(id) = failed_for_another(gh, repo, &pr.head_sha, &tag, evaluation).await? {
        let what = format!(
            "check run {id} left failed: another pull request at this commit did not meet its definition of done"
        );
        return Ok((id, what));
    }
    let title = markdown::title(evaluation);
    let summary = markdown::summary(evaluation, &files_links(gh, repo, pr));
    let output = CheckRunOutput {
        conclusion: evaluation.conclusion,
        title: &title,
        summary: &summary,
        annotations: &evaluation.annotations,
    };
    // A run completed otherwise before (a re-run at this commit) is never reused.
    let done = head_check::Display::Done(&output);
    let id = head_check::display(ctx, repo, &pr.head_sha, done, Some(&tag)).await?;
    let what = format!(
        "check run {id} completed: {}",
        evaluation.conclusion.as_str()
    );
    Ok((id, what))
}

/// The Action judges one pull request and cannot see the others at its commit: a failed run
/// the Action made there for another pull request (its tag says which) stands against this
/// one's success, as the App's worst verdict would (a laxer base cannot turn the commit green).
async fn failed_for_another(
    gh: &GitHub,
    repo: &Repo,
    head_sha: &CommitSha,
    tag: &str,
    evaluation: &Evaluation,
) -> Result<Option<u64>, PublishError> {
    if evaluation.conclusion != Conclusion::Success {
        return Ok(None);
    }
    let found = gh.find_check_run(repo, CHECK_NAME, head_sha).await?;
    Ok(found
        .filter(|r| {
            r.conclusion.as_deref() == Some("failure") && r.external_id.as_deref() != Some(tag)
        })
        .map(|r| r.id))
}
