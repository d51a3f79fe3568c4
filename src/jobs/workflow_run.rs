//! A finished workflow run: remember it (its artifact may hold a commit's reports), judge the
//! pull requests and merge group of its commit again now that the reports may be there, and,
//! for a push to the default branch, store the commit's metrics as the baseline that later
//! pull requests are compared with.

use super::reports::{self, RunReports};
use super::{CONFIG_PATH, Context, JobError};
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::{Event, Target};
use crate::github::{CommitSha, InstallationId, PrNumber, RepoName};
use crate::store::{FinishedRun, Watch};

/// Handles `workflow_run` `completed`.
pub async fn completed<G: GitHubApi>(ctx: &Context<'_, G>, event: &Event) -> Result<(), JobError> {
    let Event::WorkflowRunCompleted {
        installation: Some(installation),
        repo,
        run_id,
        workflow,
        run_event,
        head_sha,
        head_branch,
        head_repo,
        default_branch,
        pull_requests,
        path,
        conclusion,
    } = event
    else {
        return Ok(());
    };
    let run = FinishedRun {
        run_id: *run_id,
        workflow: workflow.clone(),
        event: run_event.clone(),
        path: path.clone(),
        head_repo: head_repo.as_ref().map(|r| r.0.clone()).unwrap_or_default(),
        conclusion: conclusion.clone().unwrap_or_default(),
    };
    ctx.store
        .record_workflow_run(&repo.0, &head_sha.0, &run, ctx.now)
        .await?;
    // A re-run completes under the same id, perhaps with the artifact its first attempt lacked.
    ctx.store.forget_run_artifacts(&repo.0, *run_id).await?;
    // A baseline comes only from the push run of the repository itself on its default
    // branch: not a fork's run, not another run of the same commit, not a tag that is named
    // like the branch (a push to the branch recorded the commit).
    let on_default_branch = run_event == "push"
        && head_branch.is_some()
        && head_branch == default_branch
        && head_repo.as_ref() == Some(repo)
        && ctx
            .store
            .is_default_branch_commit(&repo.0, &head_sha.0)
            .await?;
    if on_default_branch {
        let target = Repo {
            installation: installation.clone(),
            name: repo.clone(),
        };
        record_baseline(ctx, &target, head_sha, &run).await?;
    }
    evaluate_again(ctx, installation, repo, head_sha, pull_requests, Some(&run)).await
}

/// Another app's check run completed: the verdicts at its commit that read or wait for a
/// check of that name are judged again (a required check finished, or was re-run).
pub async fn check_completed<G: GitHubApi>(
    ctx: &Context<'_, G>,
    installation: &InstallationId,
    repo: &RepoName,
    head_sha: &CommitSha,
    name: &str,
) -> Result<(), JobError> {
    if name == crate::github::CHECK_NAME {
        return Ok(());
    }
    let (verdicts, _) = ctx.store.head_verdicts(&repo.0, &head_sha.0).await?;
    let waiting: Vec<u64> = verdicts
        .iter()
        .filter(|v| v.checks.iter().any(|c| c == name))
        .map(|v| v.number)
        .collect();
    let evaluate = |target| Event::Evaluate {
        installation: installation.clone(),
        repo: repo.clone(),
        head_sha: head_sha.clone(),
        target,
    };
    for number in waiting {
        if number == 0 {
            if let Some((base_sha, _)) = ctx.store.merge_group(&repo.0, &head_sha.0).await? {
                let target = Target::MergeGroup {
                    base_sha: CommitSha(base_sha),
                };
                ctx.follow_up("merge-group", &evaluate(target)).await?;
            }
        } else {
            ctx.follow_up(
                &format!("pr-{number}"),
                &evaluate(Target::PullRequest(PrNumber(number))),
            )
            .await?;
        }
    }
    Ok(())
}

/// Enqueues a fresh evaluation of every pull request (named, or known to the store by its
/// head: a fork's run names none) and merge group at `head_sha`. Each runs serialised with
/// the pull request's other jobs. After workflow run `finished`, only those whose verdict
/// watches for such a run (or that have none yet) are judged again.
pub async fn evaluate_again<G: GitHubApi>(
    ctx: &Context<'_, G>,
    installation: &InstallationId,
    repo: &RepoName,
    head_sha: &CommitSha,
    named: &[PrNumber],
    finished: Option<&FinishedRun>,
) -> Result<(), JobError> {
    let verdicts = match finished {
        Some(_) => ctx.store.head_verdicts(&repo.0, &head_sha.0).await?.0,
        None => Vec::new(),
    };
    let watches = |number: u64| {
        let Some(run) = finished else { return true };
        verdicts
            .iter()
            .find(|v| v.number == number)
            .is_none_or(|v| match &v.watch {
                Watch::Nothing => false,
                Watch::AnyRun => true,
                Watch::Workflow(files) => files.split(',').any(|f| reports::is_workflow(f, run)),
            })
    };
    let mut numbers: Vec<PrNumber> = named.to_vec();
    for tracked in ctx.store.pull_requests_at(&repo.0, &head_sha.0).await? {
        if !numbers.iter().any(|n| n.0 == tracked.number) {
            numbers.push(PrNumber(tracked.number));
        }
    }
    numbers.retain(|n| watches(n.0));
    let evaluate = |target| Event::Evaluate {
        installation: installation.clone(),
        repo: repo.clone(),
        head_sha: head_sha.clone(),
        target,
    };
    for number in numbers {
        ctx.follow_up(
            &format!("pr-{number}"),
            &evaluate(Target::PullRequest(number)),
        )
        .await?;
    }
    if let Some((base_sha, _)) = ctx.store.merge_group(&repo.0, &head_sha.0).await?
        && watches(0)
    {
        ctx.follow_up(
            "merge-group",
            &evaluate(Target::MergeGroup {
                base_sha: CommitSha(base_sha),
            }),
        )
        .await?;
    }
    Ok(())
}

/// Stores the metrics of the reports `parts` (merged) as default-branch commit `sha`'s
/// baseline, under that commit's `config`; each kind they lack is kept from what another
/// source (another push run, an upload) recorded for the same commit. Parts that cannot be
/// merged record nothing.
pub(super) async fn store_baseline<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    sha: &CommitSha,
    config: &keel_core::Config,
    parts: impl IntoIterator<Item = crate::reports::Reports>,
) -> Result<(), JobError> {
    let mut merged = crate::reports::Reports::default();
    for part in parts {
        if let Err(e) = merged.absorb(part, &keel_core::Limits::DEFAULT) {
            tracing::info!(repo = %repo.name, %sha, error = %e, "no baseline recorded for this commit");
            return Ok(());
        }
    }
    let mut metrics = merged.metrics(config);
    if let Some(stored) = ctx.store.baseline(&repo.name.0, &sha.0).await?
        && stored.steps == 0
        && let Ok(earlier) = serde_json::from_slice::<keel_core::facts::Metrics>(&stored.metrics)
    {
        metrics = metrics.or(earlier);
    }
    let json = serde_json::to_vec(&metrics)
        .map_err(|e| JobError::Permanent(format!("serialise a baseline: {e}")))?;
    ctx.store
        .record_baseline(&repo.name.0, &sha.0, &json, ctx.now)
        .await?;
    Ok(())
}

/// Stores the metrics of a default-branch commit, read from the artifact of the push run
/// itself with the config of that commit. A commit without reports records nothing (its
/// descendants fall back to the nearest ancestor that has them).
async fn record_baseline<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    sha: &CommitSha,
    run: &FinishedRun,
) -> Result<(), JobError> {
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, sha).await? else {
        return Ok(());
    };
    let config = match super::org::effective_config(ctx, repo, bytes).await? {
        Ok(c) => c,
        Err(error) => {
            tracing::warn!(repo = %repo.name, %sha, error, "the default branch's config is invalid; no baseline recorded");
            return Ok(());
        }
    };
    let wanted = config.reports.clone().unwrap_or_default();
    let files = wanted.workflow_files();
    if !files.is_empty() && !files.iter().any(|w| reports::is_workflow(w, run)) {
        return Ok(());
    }
    // Each push run of the commit brings its part (coverage from CI, SARIF from CodeQL): the
    // baseline merges what the stored one has with this run's, kind by kind.
    match reports::from_run(ctx, repo, &config, run, &mut reports::Budget::default()).await? {
        RunReports::Read(read) => {
            store_baseline(ctx, repo, sha, &config, read.into_iter().map(|(_, r)| r)).await?;
            tracing::info!(repo = %repo.name, %sha, run = run.run_id, "baseline recorded");
        }
        other => {
            tracing::info!(repo = %repo.name, %sha, state = ?other, "no baseline recorded for this commit");
        }
    }
    Ok(())
}
