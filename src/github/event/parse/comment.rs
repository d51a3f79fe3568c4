//! Pull request comments and review comments: their `/keel` commands as an
//! [`Event::Command`], or why a comment runs nothing.

use super::{Installation, Number, Parsed, Repository};
use crate::clock::rfc3339_ms;
use crate::github::event::Event;
use crate::github::{InstallationId, PrNumber, RepoName};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct CommentPayload {
    action: String,
    #[serde(default)]
    issue: Option<CommentedIssue>,
    #[serde(default)]
    pull_request: Option<Number>,
    comment: CommentJson,
    repository: Repository,
    installation: Option<Installation>,
}

#[derive(Deserialize)]
struct CommentedIssue {
    number: u64,
    #[serde(default)]
    pull_request: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct CommentJson {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    user: CommentUser,
    /// When it was written (RFC 3339).
    #[serde(default)]
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct CommentUser {
    login: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// A submitted review's body, for its `/keel` lines.
#[derive(Deserialize)]
pub(super) struct ReviewBody {
    /// When it was submitted (RFC 3339).
    pub(super) submitted_at: Option<String>,
    #[serde(default)]
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    user: Option<CommentUser>,
}

/// The `/keel` lines of a submitted review's body, as the [`Event::Command`] the review job
/// enqueues: `None` for a bot's review or one without a command.
pub(super) fn review_commands(
    review: &ReviewBody,
    installation: Option<&Installation>,
    repo: &str,
    number: u64,
) -> Option<Box<Event>> {
    let user = review.user.as_ref()?;
    if review.id == 0 || user.kind.as_deref() == Some("Bot") || user.login.ends_with("[bot]") {
        return None;
    }
    let lines = keel_core::commands::command_lines(review.body.as_deref().unwrap_or(""));
    if lines.is_empty() {
        return None;
    }
    Some(Box::new(Event::Command {
        installation: InstallationId(installation?.id),
        repo: RepoName(repo.to_owned()),
        number: PrNumber(number),
        comment_id: review.id,
        review_comment: false,
        review: true,
        author: user.login.clone(),
        lines,
        written_at: review.submitted_at.as_deref().and_then(rfc3339_ms),
    }))
}

/// A comment's `/keel` commands as an event, or why the comment runs nothing: an edit (the
/// text people agreed to may not be what runs), a bot's (Keel's own replies included), a
/// comment on an issue, or no command at all.
pub(super) fn command(name: &str, p: CommentPayload) -> Parsed {
    if p.action != "created" {
        return Parsed::Ignored(format!(
            "`{name}` action `{}` runs no command (only new comments do)",
            p.action
        ));
    }
    if p.comment.user.kind.as_deref() == Some("Bot") || p.comment.user.login.ends_with("[bot]") {
        return Parsed::Ignored("a bot's comment runs no command".into());
    }
    let review_comment = name == "pull_request_review_comment";
    let number = match (&p.issue, &p.pull_request) {
        (Some(issue), _) if issue.pull_request.is_some() => issue.number,
        (_, Some(pr)) if review_comment => pr.number,
        _ => return Parsed::Ignored("a comment on an issue runs no command".into()),
    };
    let Some(installation) = p.installation else {
        return Parsed::Ignored("no installation".into());
    };
    let lines = keel_core::commands::command_lines(p.comment.body.as_deref().unwrap_or(""));
    if lines.is_empty() {
        return Parsed::Ignored("no /keel command".into());
    }
    Parsed::Event(Box::new(Event::Command {
        installation: InstallationId(installation.id),
        repo: RepoName(p.repository.full_name),
        number: PrNumber(number),
        comment_id: p.comment.id,
        review_comment,
        review: false,
        author: p.comment.user.login,
        lines,
        written_at: p.comment.created_at.as_deref().and_then(rfc3339_ms),
    }))
}
