//! `/keel` comment commands: acknowledged with 👀 at once, checked against the commenter's
//! permission from GitHub's collaborator-permission endpoint (never `author_association`,
//! which hides private organisation members) and the base branch's `[commands]`, run, and
//! closed with 🚀 or 😕. An error, a refusal or an answer (`help`, `explain`) gets exactly one
//! short reply for the whole comment; results show in the check run and the sticky comment.
//! A redelivered comment does nothing twice; a retried job replies once. A review's body
//! takes no reactions (GitHub has none for reviews): it gets a reply only when something
//! needs saying.

pub(super) mod decisions;
mod verbs;

use super::{Context, JobError, head_check};
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::{Event, Target};
use crate::github::{CommitSha, PrNumber};
use crate::store::CommentProgress;
use keel_core::commands::parse;
use keel_core::config::Permission;

/// One comment's commands as they run.
struct Run<'a> {
    repo: &'a Repo,
    number: &'a PrNumber,
    comment_id: u64,
    author: &'a str,
    /// When the comment was written, unix ms (GitHub's time).
    written_at: Option<i64>,
    permission: Permission,
    /// Lines for the one reply (answers, errors, refusals), if any.
    reply: Vec<String>,
    /// Whether every command ran.
    ok: bool,
    /// A command changed what the pull request is judged on: judge it again once.
    rejudge: bool,
}

/// Runs the `/keel` lines of one comment ([`Event::Command`]).
pub async fn run<G: GitHubApi>(ctx: &Context<'_, G>, event: &Event) -> Result<(), JobError> {
    let Event::Command {
        installation,
        repo,
        number,
        comment_id,
        review_comment,
        review,
        author,
        lines,
        written_at,
    } = event
    else {
        return Ok(());
    };
    let repo = Repo {
        installation: installation.clone(),
        name: repo.clone(),
    };
    let kind = match (*review, *review_comment) {
        (true, _) => "review",
        (_, true) => "review_comment",
        _ => "issue",
    };
    let reacts = !*review;
    let progress = ctx
        .store
        .begin_comment(&repo.name.0, kind, *comment_id, ctx.now)
        .await?;
    if progress == CommentProgress::Done {
        tracing::info!(repo = %repo.name, pr = %number, comment = comment_id, "comment commands already ran: nothing to do");
        return Ok(());
    }
    if reacts {
        react(ctx, &repo, *comment_id, *review_comment, "eyes").await?;
    }
    let permission = ctx.github.collaborator_permission(&repo, author).await?;
    let mut run = Run {
        repo: &repo,
        number,
        comment_id: *comment_id,
        author,
        written_at: *written_at,
        permission: Permission::from_github(&permission),
        reply: Vec::new(),
        ok: true,
        // A retry judges again whatever it finds: the first try may have changed state
        // (an `unwaive` that ended a waiver) before it failed.
        rejudge: matches!(progress, CommentProgress::Begun { .. }),
    };
    let mut pull = verbs::Pull::default();
    for line in lines {
        for parsed in parse(line) {
            verbs::one(ctx, &mut run, &mut pull, parsed).await?;
        }
    }
    if run.rejudge && pull.pr.is_none() {
        pull.pr = Some(ctx.github.pull_request(&repo, number).await?);
    }
    if run.rejudge
        && let Some(pr) = &pull.pr
    {
        // A retry whose first try recorded a decision and failed before withdrawing.
        head_check::hold(ctx, &repo, &pr.head_sha).await?;
        judge_again(ctx, &repo, number, &pr.head_sha).await?;
    }
    let replied = matches!(progress, CommentProgress::Begun { replied: true });
    if !run.reply.is_empty() && !replied {
        let body = format!(
            "@{author} {}\n\n<sub>Keel comment commands: `/keel help`.</sub>",
            run.reply.join("\n\n")
        );
        ctx.github.create_comment(&repo, number, &body).await?;
        ctx.store
            .comment_progress(&repo.name.0, kind, *comment_id, None)
            .await?;
    }
    if reacts {
        let last = if run.ok { "rocket" } else { "confused" };
        react(ctx, &repo, *comment_id, *review_comment, last).await?;
    }
    ctx.store
        .comment_progress(&repo.name.0, kind, *comment_id, Some(ctx.now))
        .await?;
    Ok(())
}

/// Queues the judgement of pull request `number` at `head` that a command asks for (once per
/// comment, however many of its lines ask).
async fn judge_again<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    head: &CommitSha,
) -> Result<(), JobError> {
    let evaluate = Event::Evaluate {
        installation: repo.installation.clone(),
        repo: repo.name.clone(),
        head_sha: head.clone(),
        target: Target::PullRequest(number.clone()),
    };
    ctx.follow_up("command", &evaluate).await
}

/// A reaction on the comment; a comment deleted meanwhile takes none (not an error to retry).
async fn react<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    comment_id: u64,
    review_comment: bool,
    content: &str,
) -> Result<(), JobError> {
    match ctx
        .github
        .react(repo, comment_id, review_comment, content)
        .await
    {
        Err(e) if e.is_not_found() => Ok(()),
        other => other.map_err(JobError::from),
    }
}
