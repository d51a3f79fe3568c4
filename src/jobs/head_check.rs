//! Keel's one check run per head commit. It shows the worst verdict of the head's open pull
//! requests (and its merge group), so a pull request into a laxer base cannot turn the commit
//! green.
//!
//! GitHub never moves a completed check run back to in progress, nor changes its conclusion.
//! A head whose verdict changes after its run completed therefore gets a new run of the same
//! name: the latest is the one GitHub shows and branch protection requires. The store
//! remembers which run is the head's and what it shows ([`Shown`]); a run Keel cannot vouch
//! for is never written to again.

use super::{Context, JobError};
use crate::github::api::{CheckRunOutput, FoundCheckRun, GitHubApi, Repo};
use crate::github::{CHECK_NAME, CommitSha};
use crate::store::{HeadVerdict, Shown, StoredCheckRun, Unjudged, VerdictState};
use keel_core::evaluation::{Annotation, Conclusion, cut_to_chars};

/// Keel's check run on `head_sha`: the one the store remembers, else the latest one GitHub
/// lists (a previous attempt made it and died before remembering), else a new one,
/// `in_progress`.
pub async fn check_run<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
) -> Result<u64, JobError> {
    if let Some(run) = ctx.store.check_run(&repo.name.0, &head_sha.0).await? {
        return Ok(run.id);
    }
    let run = match ctx
        .github
        .find_check_run(repo, CHECK_NAME, head_sha)
        .await?
    {
        Some(found) => StoredCheckRun {
            id: found.id,
            shown: shown_by(&found),
        },
        None => StoredCheckRun {
            id: ctx
                .github
                .start_check_run(repo, CHECK_NAME, head_sha)
                .await?,
            shown: Shown::InProgress,
        },
    };
    // Before the id is remembered, so that a retry after a failure here asks again.
    track_unknown_siblings(ctx, repo, head_sha).await?;
    ctx.store
        .set_check_run(&repo.name.0, &head_sha.0, run)
        .await?;
    Ok(run.id)
}

/// What a run GitHub listed shows.
fn shown_by(found: &FoundCheckRun) -> Shown {
    match (found.status.as_str(), found.conclusion.as_deref()) {
        ("completed", Some("success")) => Shown::Success,
        ("completed", Some("failure")) => Shown::Failure,
        ("completed", _) => Shown::Unknown,
        _ => Shown::InProgress,
    }
}

/// What the head's check run is to show.
pub enum Display<'a> {
    /// In progress, with a title and a summary.
    Progress {
        /// The title.
        title: &'a str,
        /// The summary (markdown).
        summary: &'a str,
    },
    /// Completed.
    Done(&'a CheckRunOutput<'a>),
}

/// Makes the head's check run show `display`: on the run Keel has when it may still be written
/// that way (in progress, or completed the same way), else on a new run. Returns the id of the
/// run written.
pub async fn display<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    display: Display<'_>,
) -> Result<u64, JobError> {
    let current = match ctx.store.check_run(&repo.name.0, &head_sha.0).await? {
        Some(run) => run,
        None => {
            let id = check_run(ctx, repo, head_sha).await?;
            // As found (a run completed by an earlier attempt) or made.
            (ctx.store.check_run(&repo.name.0, &head_sha.0).await?).unwrap_or(StoredCheckRun {
                id,
                shown: Shown::Unknown,
            })
        }
    };
    let wanted = match &display {
        Display::Progress { .. } => Shown::InProgress,
        Display::Done(output) => match output.conclusion {
            Conclusion::Success => Shown::Success,
            Conclusion::Failure => Shown::Failure,
        },
    };
    let id = if current.shown == Shown::InProgress || current.shown == wanted {
        current.id
    } else {
        let id = ctx
            .github
            .start_check_run(repo, CHECK_NAME, head_sha)
            .await?;
        tracing::info!(repo = %repo.name, head = %head_sha, old = current.id, new = id, "the check run completed otherwise: a new run shows the head's verdict");
        // Remembered at once, so that a retry writes to this run rather than making another.
        let fresh = StoredCheckRun {
            id,
            shown: Shown::InProgress,
        };
        ctx.store
            .set_check_run(&repo.name.0, &head_sha.0, fresh)
            .await?;
        id
    };
    match display {
        Display::Progress { title, summary } => {
            ctx.github
                .show_check_run_progress(repo, id, title, summary)
                .await?;
        }
        Display::Done(output) => ctx.github.complete_check_run(repo, id, output).await?,
    }
    ctx.store
        .set_check_run(
            &repo.name.0,
            &head_sha.0,
            StoredCheckRun { id, shown: wanted },
        )
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
        Some(_) => conclude_head(ctx, repo, head_sha, &exempt, &[]).await,
        None => {
            ctx.store
                .record_head_verdict(&repo.name.0, &head_sha.0, &exempt, ctx.now)
                .await?;
            Ok(())
        }
    }
}

/// Before a pull request at `head_sha` is judged: when the head's check run shows success but
/// its verdicts no longer say so, it is shown in progress (or failed) now rather than when the
/// judgement ends. A pull request that changed since it was judged (opened at this head, moved
/// to another base, edited) counts as not judged yet; without this, for as long as its
/// judgement takes, the head would stay green on a verdict made for another base or another
/// pull request, and could be merged on it. Requests are made only then.
pub async fn hold<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    verdict: &HeadVerdict,
) -> Result<(), JobError> {
    let shows_success = ctx
        .store
        .check_run(&repo.name.0, &head_sha.0)
        .await?
        // A run Keel cannot vouch for may show success too.
        .is_some_and(|run| matches!(run.shown, Shown::Success | Shown::Unknown));
    if !shows_success {
        return Ok(());
    }
    let seen = ctx.store.head_verdicts(&repo.name.0, &head_sha.0).await?;
    let counted: Vec<&HeadVerdict> = seen
        .0
        .iter()
        .filter(|v| v.state != VerdictState::Exempt)
        .collect();
    let still_success =
        seen.1.is_empty() && worst(&counted).is_some_and(|v| v.state == VerdictState::Success);
    if !still_success {
        show_head(ctx, repo, head_sha, &seen, verdict, &[]).await?;
    }
    Ok(())
}

/// Records one pull request's verdict on `head_sha` and makes the commit's check run show
/// the worst verdict of every open pull request at that head: a failure anywhere fails it;
/// otherwise one still waiting (or not judged yet) keeps it in progress. A sibling pull
/// request against a laxer base therefore cannot turn the commit green. `annotations` are
/// sent only when this verdict is the one shown.
pub async fn conclude_head<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    verdict: &HeadVerdict,
    annotations: &[Annotation],
) -> Result<(), JobError> {
    ctx.store
        .record_head_verdict(&repo.name.0, &head_sha.0, verdict, ctx.now)
        .await?;
    // Jobs of other pull requests at this head may conclude at the same time: after writing,
    // read the verdicts (and the head's run) again and write once more if they changed, so
    // the last write always reflects every verdict recorded before it, on the run that counts.
    let mut seen = ctx.store.head_verdicts(&repo.name.0, &head_sha.0).await?;
    for _ in 0..MAX_CONCLUDE_ROUNDS {
        let written = show_head(ctx, repo, head_sha, &seen, verdict, annotations).await?;
        let now = ctx.store.head_verdicts(&repo.name.0, &head_sha.0).await?;
        let run = ctx.store.check_run(&repo.name.0, &head_sha.0).await?;
        let on_the_run_that_counts = written.is_none_or(|id| run.is_some_and(|r| r.id == id));
        if now == seen && on_the_run_that_counts {
            return Ok(());
        }
        seen = now;
    }
    Ok(())
}

/// How often [`conclude_head`] writes again when other verdicts keep arriving.
const MAX_CONCLUDE_ROUNDS: usize = 4;

/// Writes the check run for the verdicts `seen` (see [`conclude_head`]); returns the run
/// written, if any.
async fn show_head<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    seen: &(Vec<HeadVerdict>, Vec<Unjudged>),
    verdict: &HeadVerdict,
    annotations: &[Annotation],
) -> Result<Option<u64>, JobError> {
    let (verdicts, unjudged) = seen;
    let counted: Vec<&HeadVerdict> = verdicts
        .iter()
        .filter(|v| v.state != VerdictState::Exempt)
        .collect();
    let Some(shown) = worst(&counted) else {
        if unjudged.is_empty() {
            return Ok(None);
        }
        // Only pull requests not judged yet (or changed since): the head waits for them.
        let numbers: Vec<String> = unjudged.iter().map(|u| format!("#{}", u.number)).collect();
        let summary = format!(
            "Keel is judging {}; the check waits until it is judged.",
            numbers.join(", ")
        );
        let progress = Display::Progress {
            title: "Judging the change",
            summary: &summary,
        };
        return Ok(Some(display(ctx, repo, head_sha, progress).await?));
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
        let progress = Display::Progress {
            title: &title,
            summary: &summary,
        };
        return Ok(Some(display(ctx, repo, head_sha, progress).await?));
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
    Ok(Some(
        display(ctx, repo, head_sha, Display::Done(&output)).await?,
    ))
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
