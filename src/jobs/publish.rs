//! What Keel posts: one check run per commit, one sticky comment per pull request, and its own
//! labels. Each is idempotent, so a job that runs twice (its lease expired mid-way) leaves
//! exactly one of each. The store remembers ids and the comment's digest, which saves the
//! look-up calls in the steady state.

use super::{Context, JobError};
use crate::github::CHECK_NAME;
use crate::github::api::CheckRunOutput;
use crate::github::api::{GitHubApi, Repo};
use crate::github::{CommitSha, PrNumber};
use crate::store::{HeadVerdict, StoredComment, Unjudged, VerdictState};
use keel_core::evaluation::{Annotation, Conclusion, cut_to_chars};
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
    // Before the id is remembered, so that a retry after a failure here asks again.
    track_unknown_siblings(ctx, repo, head_sha).await?;
    ctx.store
        .set_check_run(&repo.name.0, &head_sha.0, id)
        .await?;
    Ok(id)
}

/// The first time Keel reports on a head commit, it asks GitHub which open pull requests
/// have it as their head: one Keel never heard of (opened before it was installed, or whose
/// events were lost) is tracked at once, so the head cannot turn green before it is judged
/// too, and its judgement is enqueued.
async fn track_unknown_siblings<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
) -> Result<(), JobError> {
    use crate::github::event::{Event, Target};
    for number in ctx.github.open_pull_requests_at(repo, head_sha).await? {
        let added = ctx
            .store
            .track_unknown_pull_request(
                &repo.name.0,
                number.0,
                &head_sha.0,
                repo.installation.0,
                ctx.now,
            )
            .await?;
        if added {
            let event = Event::Evaluate {
                installation: repo.installation.clone(),
                repo: repo.name.clone(),
                head_sha: head_sha.clone(),
                target: Target::PullRequest(number.clone()),
            };
            ctx.follow_up(&format!("sibling-{number}"), &event).await?;
        }
    }
    Ok(())
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
/// off the ones that no longer apply. Shared by the App and the Action.
pub async fn verdict_labels<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    current: &[String],
    config: &keel_core::Config,
    evaluation: &keel_core::Evaluation,
) -> Result<(), JobError> {
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

/// Records that pull request `verdict.number`'s base has no definition of done: it does not
/// count for its head's verdict. When Keel already reports on the head (for a sibling pull
/// request), the check run is brought up to date, since this one no longer keeps it pending.
pub async fn exempt<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    verdict: &HeadVerdict,
) -> Result<(), JobError> {
    let exempt = HeadVerdict {
        state: VerdictState::Exempt,
        ..verdict.clone()
    };
    match ctx.store.check_run(&repo.name.0, &head_sha.0).await? {
        Some(id) => conclude_head(ctx, repo, head_sha, id, &exempt, &[]).await,
        None => {
            ctx.store
                .record_head_verdict(&repo.name.0, &head_sha.0, &exempt, ctx.now)
                .await?;
            Ok(())
        }
    }
}

/// Records one pull request's verdict on `head_sha` and makes the commit's one check run show
/// the worst verdict of every open pull request at that head: a failure anywhere fails it;
/// otherwise one still waiting (or not judged yet) keeps it in progress. A sibling pull
/// request against a laxer base therefore cannot turn the commit green. `annotations` are
/// sent only when this verdict is the one shown.
pub async fn conclude_head<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    check_run: u64,
    verdict: &HeadVerdict,
    annotations: &[Annotation],
) -> Result<(), JobError> {
    ctx.store
        .record_head_verdict(&repo.name.0, &head_sha.0, verdict, ctx.now)
        .await?;
    // Jobs of other pull requests at this head may conclude at the same time: after writing,
    // read the verdicts again and write once more if they changed, so the last write always
    // reflects every verdict recorded before it.
    let mut seen = ctx.store.head_verdicts(&repo.name.0, &head_sha.0).await?;
    for _ in 0..MAX_CONCLUDE_ROUNDS {
        show_head(ctx, repo, check_run, &seen, verdict, annotations).await?;
        let now = ctx.store.head_verdicts(&repo.name.0, &head_sha.0).await?;
        if now == seen {
            return Ok(());
        }
        seen = now;
    }
    Ok(())
}

/// How often [`conclude_head`] writes again when other verdicts keep arriving.
const MAX_CONCLUDE_ROUNDS: usize = 4;

/// Writes the check run for the verdicts `seen` (see [`conclude_head`]).
async fn show_head<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    check_run: u64,
    seen: &(Vec<HeadVerdict>, Vec<Unjudged>),
    verdict: &HeadVerdict,
    annotations: &[Annotation],
) -> Result<(), JobError> {
    let (verdicts, unjudged) = seen;
    let counted: Vec<&HeadVerdict> = verdicts
        .iter()
        .filter(|v| v.state != VerdictState::Exempt)
        .collect();
    let Some(shown) = worst(&counted) else {
        return Ok(());
    };
    let several = counted.len() + unjudged.len() > 1;
    let pending = !unjudged.is_empty() && shown.state != VerdictState::Failure;
    let (title, summary) = if several {
        (
            format!("{} (#{} → {})", shown.title, shown.number, shown.base_ref),
            format!(
                "{}\n\n{}",
                siblings_table(&counted, unjudged, shown),
                shown.summary
            ),
        )
    } else {
        (shown.title.clone(), shown.summary.clone())
    };
    let title = cut_to_chars(&title, Annotation::MAX_TITLE_CHARS);
    let summary = cut_to_chars(&summary, MAX_SUMMARY_CHARS);
    if shown.state == VerdictState::Waiting || pending {
        ctx.github
            .show_check_run_progress(repo, check_run, &title, &summary)
            .await?;
        return Ok(());
    }
    let conclusion = match shown.state {
        VerdictState::Success => Conclusion::Success,
        _ => Conclusion::Failure,
    };
    let output = CheckRunOutput {
        conclusion,
        title: &title,
        summary: &summary,
        annotations: if shown.number == verdict.number {
            annotations
        } else {
            &[]
        },
    };
    ctx.github
        .complete_check_run(repo, check_run, &output)
        .await?;
    Ok(())
}

/// GitHub's limit on a check run's summary, in characters (its title has an annotation's).
const MAX_SUMMARY_CHARS: usize = 65_535;

/// The verdict the head shows: a failure before a wait before a success; the lowest number
/// first among equals.
fn worst<'a>(verdicts: &[&'a HeadVerdict]) -> Option<&'a HeadVerdict> {
    let rank = |v: &HeadVerdict| match v.state {
        VerdictState::Failure => 0,
        VerdictState::Waiting => 1,
        VerdictState::Success => 2,
        VerdictState::Exempt => 3,
    };
    verdicts.iter().copied().min_by_key(|v| (rank(v), v.number))
}

/// Which pull requests share the head, how each came out, and which one the check shows.
fn siblings_table(counted: &[&HeadVerdict], unjudged: &[Unjudged], shown: &HeadVerdict) -> String {
    use keel_core::render::escape;
    let mut s = format!(
        "### This commit is the head of {} pull requests\n\nThe check shows the strictest verdict, that of #{} into {}: a pull request into a laxer base cannot turn this commit green.\n\n| Pull request | Base | Verdict |\n|---|---|---|\n",
        counted.len() + unjudged.len(),
        shown.number,
        escape::code(&shown.base_ref)
    );
    for v in counted {
        let (icon, word) = match v.state {
            VerdictState::Success => ("✅", "met"),
            VerdictState::Failure => ("❌", "not met"),
            VerdictState::Waiting => ("⏳", "waiting"),
            VerdictState::Exempt => ("➖", "no definition of done"),
        };
        let name = if v.number == 0 {
            "merge group".to_owned()
        } else {
            format!("#{}", v.number)
        };
        s.push_str(&format!(
            "| {name} | {} | {icon} {word} |\n",
            escape::code(&v.base_ref)
        ));
    }
    for u in unjudged {
        s.push_str(&format!("| #{} | | ⏳ not judged yet |\n", u.number));
    }
    s
}
