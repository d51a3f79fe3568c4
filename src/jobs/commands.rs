//! `/keel` comment commands: acknowledged with 👀 at once, checked against the commenter's
//! permission from GitHub's collaborator-permission endpoint (never `author_association`,
//! which hides private organisation members), run, and closed with 🚀 or 😕. An error or a
//! refusal gets exactly one short reply for the whole comment; results show in the check run
//! and the sticky comment, not in new comments.

use super::{Context, JobError};
use crate::github::PrNumber;
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::{Event, Target};
use keel_core::commands::{Parsed, Verb, parse};
use keel_core::render::escape;

/// What one comment's commands came to.
struct Outcome {
    /// Lines for the one reply (errors, refusals, help), if any.
    reply: Vec<String>,
    /// Whether every command ran.
    ok: bool,
}

/// Runs the `/keel` lines of one comment ([`Event::Command`]).
pub async fn run<G: GitHubApi>(ctx: &Context<'_, G>, event: &Event) -> Result<(), JobError> {
    let Event::Command {
        installation,
        repo,
        number,
        comment_id,
        review_comment,
        author,
        lines,
    } = event
    else {
        return Ok(());
    };
    let (comment_id, review_comment) = (*comment_id, *review_comment);
    let repo = Repo {
        installation: installation.clone(),
        name: repo.clone(),
    };
    react(ctx, &repo, comment_id, review_comment, "eyes").await?;
    let permission = ctx.github.collaborator_permission(&repo, author).await?;
    let may_write = matches!(permission.as_str(), "admin" | "write" | "maintain");
    let mut outcome = Outcome {
        reply: Vec::new(),
        ok: true,
    };
    for line in lines {
        for parsed in parse(line) {
            run_one(ctx, &repo, number, author, may_write, parsed, &mut outcome).await?;
        }
    }
    if !outcome.reply.is_empty() {
        let body = format!(
            "@{author} {}\n\n<sub>Keel comment commands: `/keel help`.</sub>",
            outcome.reply.join("\n\n")
        );
        ctx.github.create_comment(&repo, number, &body).await?;
    }
    let last = if outcome.ok { "rocket" } else { "confused" };
    react(ctx, &repo, comment_id, review_comment, last).await
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

async fn run_one<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    author: &str,
    may_write: bool,
    parsed: Parsed,
    outcome: &mut Outcome,
) -> Result<(), JobError> {
    let verb = match parsed {
        Parsed::Command(verb) => verb,
        Parsed::Unknown(word) => {
            outcome.ok = false;
            let said = if word.is_empty() {
                "`/keel` needs a command.".to_owned()
            } else {
                format!(
                    "{} is not a Keel command.",
                    escape::code(&bounded(&format!("/keel {word}")))
                )
            };
            outcome.reply.push(format!("{said}\n\n{}", help()));
            return Ok(());
        }
        Parsed::Invalid { verb, why } => {
            outcome.ok = false;
            outcome
                .reply
                .push(format!("`/keel {verb}`: {}.", escape::text(&bounded(&why))));
            return Ok(());
        }
    };
    if verb.changes_state() && !may_write {
        outcome.ok = false;
        tracing::info!(repo = %repo.name, pr = %number, author, verb = verb.name(), "command refused: no write permission");
        outcome.reply.push(format!(
            "`/keel {}` needs write access to this repository.",
            verb.name()
        ));
        return Ok(());
    }
    match verb {
        Verb::Help => outcome.reply.push(help()),
        Verb::Recheck => {
            let pr = ctx.github.pull_request(repo, number).await?;
            let evaluate = Event::Evaluate {
                installation: repo.installation.clone(),
                repo: repo.name.clone(),
                head_sha: pr.head_sha,
                target: Target::PullRequest(number.clone()),
            };
            ctx.follow_up("recheck", &evaluate).await?;
        }
        other => {
            outcome.ok = false;
            outcome
                .reply
                .push(format!("`/keel {}` is not available yet.", other.name()));
        }
    }
    Ok(())
}

/// What the commands are.
fn help() -> String {
    "Commands, one per line at the start of a line: `/keel help`, `/keel recheck` (judge this pull request again; write access)."
        .to_owned()
}

/// Untrusted text for a reply: one line of at most 100 characters (escaped where it is used).
fn bounded(text: &str) -> String {
    text.chars().take(100).filter(|c| !c.is_control()).collect()
}
