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
use crate::github::api::{CheckRunOutput, CheckRunState, GitHubApi, Repo};
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
    Ok(current(ctx, repo, head_sha, None).await?.id)
}

/// [`check_run`] with what the store knows it shows; a run Keel makes is tagged `tag`.
async fn current<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    tag: Option<&str>,
) -> Result<StoredCheckRun, JobError> {
    if let Some(run) = ctx.store.check_run(&repo.name.0, &head_sha.0).await? {
        return Ok(run);
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
                .start_check_run(repo, CHECK_NAME, head_sha, tag)
                .await?,
            shown: Shown::InProgress,
        },
    };
    // Before the id is remembered, so that a retry after a failure here asks again.
    track_unknown_siblings(ctx, repo, head_sha).await?;
    ctx.store
        .set_check_run(&repo.name.0, &head_sha.0, run)
        .await?;
    Ok(run)
}

/// What a run shows, as GitHub answered for it.
fn shown_by(state: &CheckRunState) -> Shown {
    match (state.status.as_str(), state.conclusion.as_deref()) {
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

impl Display<'_> {
    fn shown(&self) -> Shown {
        match self {
            Display::Progress { .. } => Shown::InProgress,
            Display::Done(output) => match output.conclusion {
                Conclusion::Success => Shown::Success,
                Conclusion::Failure => Shown::Failure,
            },
        }
    }
}

/// Makes the head's check run show `display`, and returns the id of the run written.
///
/// It writes on the run Keel has when that run may still be written that way (in progress,
/// or completed the same way), else on a new run, tagged `tag`. The store is told first, then
/// GitHub, whose answer settles it: when GitHub kept the run as it was (completed by a write
/// Keel never heard back from, or by a job writing beside this one), the display goes on a new
/// run. One store write per change of what the run shows, none when it shows it already.
pub async fn display<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    display: Display<'_>,
    tag: Option<&str>,
) -> Result<u64, JobError> {
    let wanted = display.shown();
    let mut run = current(ctx, repo, head_sha, tag).await?;
    for _ in 0..2 {
        if run.shown != Shown::InProgress && run.shown != wanted {
            run = new_run(ctx, repo, head_sha, run.id, tag).await?;
        }
        if run.shown != wanted {
            // Remembered before the write: should the write or its answer be lost, the store
            // errs towards a new run, never towards writing on a run that may show otherwise.
            let claimed = StoredCheckRun {
                shown: wanted,
                ..run
            };
            ctx.store
                .set_check_run(&repo.name.0, &head_sha.0, claimed)
                .await?;
        }
        let answer = match &display {
            Display::Progress { title, summary } => {
                ctx.github
                    .show_check_run_progress(repo, run.id, title, summary)
                    .await?
            }
            Display::Done(output) => ctx.github.complete_check_run(repo, run.id, output).await?,
        };
        run.shown = shown_by(&answer);
        if run.shown == wanted {
            return Ok(run.id);
        }
        ctx.store
            .set_check_run(&repo.name.0, &head_sha.0, run)
            .await?;
        tracing::warn!(repo = %repo.name, head = %head_sha, run = run.id, "GitHub kept the check run as it was: writing on a new run");
    }
    Err(JobError::Transient(format!(
        "GitHub kept check run {} on {head_sha} as it was twice",
        run.id
    )))
}

/// An in-progress run to replace run `replacing`, remembered at once so that a retry writes
/// on it rather than making another. When GitHub's latest run is still in progress (the
/// replaced run itself, whose completion never reached GitHub, or a newer one whose id Keel
/// never heard back) it is taken up rather than left in progress for ever as the latest run.
async fn new_run<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    replacing: u64,
    tag: Option<&str>,
) -> Result<StoredCheckRun, JobError> {
    // From here on the replaced run may no longer be the latest: never written again.
    let replaced = StoredCheckRun {
        id: replacing,
        shown: Shown::Unknown,
    };
    ctx.store
        .set_check_run(&repo.name.0, &head_sha.0, replaced)
        .await?;
    let lost = ctx
        .github
        .find_check_run(repo, CHECK_NAME, head_sha)
        .await?
        .filter(|found| found.id >= replacing && shown_by(found) == Shown::InProgress);
    let id = match lost {
        Some(found) => found.id,
        None => {
            ctx.github
                .start_check_run(repo, CHECK_NAME, head_sha, tag)
                .await?
        }
    };
    tracing::info!(repo = %repo.name, head = %head_sha, old = replacing, new = id, "the check run completed otherwise: a new run shows the head's verdict");
    let run = StoredCheckRun {
        id,
        shown: Shown::InProgress,
    };
    ctx.store
        .set_check_run(&repo.name.0, &head_sha.0, run)
        .await?;
    Ok(run)
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
    let still_success = seen.1.is_empty()
        && worst(&counted(&seen.0)).is_some_and(|v| v.state == VerdictState::Success);
    if !still_success {
        show_head(ctx, repo, head_sha, &seen, 0, &[]).await?;
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
        let written = show_head(ctx, repo, head_sha, &seen, verdict.number, annotations).await?;
        let now = ctx.store.head_verdicts(&repo.name.0, &head_sha.0).await?;
        let run = ctx.store.check_run(&repo.name.0, &head_sha.0).await?;
        let on_the_run_that_counts = written.is_none_or(|id| run.is_some_and(|r| r.id == id));
        if now == seen && on_the_run_that_counts {
            return Ok(());
        }
        seen = now;
    }
    // Still moving: the job runs again later rather than leave a stale write standing.
    Err(JobError::Transient(format!(
        "the verdicts at {head_sha} kept changing while they were shown"
    )))
}

/// How often [`conclude_head`] writes again when other verdicts keep arriving.
const MAX_CONCLUDE_ROUNDS: usize = 4;

/// Writes the check run for the verdicts `seen` (see [`conclude_head`]), with `annotations`
/// when the verdict shown is pull request `annotated`'s; returns the run written, if any.
async fn show_head<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    seen: &(Vec<HeadVerdict>, Vec<Unjudged>),
    annotated: u64,
    annotations: &[Annotation],
) -> Result<Option<u64>, JobError> {
    let (verdicts, unjudged) = seen;
    let counted = counted(verdicts);
    let Some(shown) = worst(&counted) else {
        if unjudged.is_empty() {
            // No pull request at the head has a definition of done (moved to a base without
            // one): a run Keel shows in progress says so instead of waiting for nothing.
            let run = ctx.store.check_run(&repo.name.0, &head_sha.0).await?;
            if !run.is_some_and(|r| r.shown == Shown::InProgress) {
                return Ok(None);
            }
            let progress = Display::Progress {
                title: "No definition of done applies",
                summary: "No open pull request at this commit targets a branch with a `.github/keel.toml`: there is nothing to judge. A pull request into a branch that has one is judged as soon as it is opened or moved there.",
            };
            return Ok(Some(display(ctx, repo, head_sha, progress, None).await?));
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
        return Ok(Some(display(ctx, repo, head_sha, progress, None).await?));
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
        return Ok(Some(display(ctx, repo, head_sha, progress, None).await?));
    }
    let conclusion = match shown.state {
        VerdictState::Success => Conclusion::Success,
        _ => Conclusion::Failure,
    };
    let output = CheckRunOutput {
        conclusion,
        title: &title,
        summary: &summary,
        annotations: if shown.number == annotated {
            annotations
        } else {
            &[]
        },
    };
    Ok(Some(
        display(ctx, repo, head_sha, Display::Done(&output), None).await?,
    ))
}

/// GitHub's limit on a check run's summary, in characters (its title has an annotation's).
const MAX_SUMMARY_CHARS: usize = 65_535;

/// The verdicts that count for the head's check: not those of pull requests whose base has no
/// definition of done.
fn counted(verdicts: &[HeadVerdict]) -> Vec<&HeadVerdict> {
    verdicts
        .iter()
        .filter(|v| v.state != VerdictState::Exempt)
        .collect()
}

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
