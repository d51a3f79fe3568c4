//! Jobs: what a worker does with a claimed job ([`worker`]). Each stored [`Event`] has one
//! handler here; the pull request flow lives in [`evaluate`] (gather facts, judge) and
//! [`publish`] (check run, sticky comment, labels), the reports of a commit in [`reports`],
//! and finished workflow runs (reports arrived, default-branch baselines) in [`workflow_run`].
//! Failures say whether trying again can help ([`JobError`]).

pub mod backfill;
pub mod checks;
mod code_scanning;
mod commands;
mod config_change;
pub mod evaluate;
pub mod head_check;
mod onboarding;
mod org;
mod org_change;
pub mod publish;
mod pushers;
mod reach;
pub mod redeliver;
pub mod report_cache;
pub mod reports;
pub mod summary;
mod uploads;
pub mod worker;
pub mod workflow_run;

use crate::clock::rfc3339_ms as millis;
use crate::github::api::{ApiError, GitHubApi, Repo};
use crate::github::event::{Event, Target};
use crate::store::{MergeDetails, NewJob, Store};

/// The job kind of a delivery; its payload is the [`crate::github::event::Event`] as JSON.
pub const EVENT_JOB: &str = "event";
/// Weeks of history read when the App is installed on a repository.
pub const BACKFILL_WEEKS: u32 = 8;
/// Where the definition of done lives.
pub const CONFIG_PATH: &str = ".github/keel.toml";

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Rate limited: try again after this long.
    #[error("rate limited for {after_ms} ms: {reason}")]
    RateLimited {
        /// Milliseconds to wait.
        after_ms: i64,
        /// What GitHub said.
        reason: String,
    },
    /// A passing failure (5xx, timeout, the database away): try again with backoff.
    #[error("{0}")]
    Transient(String),
    /// Trying again cannot help: straight to the dead letters.
    #[error("{0}")]
    Permanent(String),
}

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::RateLimited {
                retry_after_secs, ..
            } => JobError::RateLimited {
                after_ms: i64::try_from(retry_after_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
                reason: e.to_string(),
            },
            ApiError::Transient(_) => JobError::Transient(e.to_string()),
            ApiError::Rejected { .. } => JobError::Permanent(e.to_string()),
        }
    }
}

impl From<anyhow::Error> for JobError {
    /// Store failures: the database may come back.
    fn from(e: anyhow::Error) -> Self {
        JobError::Transient(format!("{e:#}"))
    }
}

/// What a running job works with.
pub struct Context<'a, G> {
    /// The store.
    pub store: &'a Store,
    /// GitHub (or the dry run).
    pub github: &'a G,
    /// Now, unix ms.
    pub now: i64,
    /// Names the job, for the ids of jobs it enqueues (so a re-run enqueues nothing twice).
    pub origin: String,
    /// The queue's id of the running job, when it came from the queue.
    pub job_id: Option<i64>,
    /// Parsed reports of artifacts read lately (the server's workers share one).
    pub reports: Option<&'a report_cache::ReportCache>,
}

impl<G: GitHubApi> Context<'_, G> {
    /// Enqueues `event` as a follow-up job, deduplicated on `origin` + `suffix`.
    pub async fn follow_up(&self, suffix: &str, event: &Event) -> Result<(), JobError> {
        let job = event_job(
            event,
            None,
            Some(format!("{}/{suffix}", self.origin)),
            self.now,
        )
        .map_err(|e| JobError::Permanent(format!("serialise a follow-up job: {e}")))?;
        self.store.enqueue(&job, self.now).await?;
        Ok(())
    }
}

/// The queued job of `event`: its serial key, and the installation and repository whose
/// budget and share of the workers it takes.
pub fn event_job(
    event: &Event,
    delivery_id: Option<String>,
    dedupe_key: Option<String>,
    run_at: i64,
) -> Result<NewJob, serde_json::Error> {
    Ok(NewJob {
        kind: EVENT_JOB.to_owned(),
        delivery_id,
        dedupe_key,
        serial_key: Some(event.serial_key()),
        payload: serde_json::to_vec(event)?,
        run_at,
        installation: event.installation_id().and_then(|i| i64::try_from(i).ok()),
        fair_group: event.repo().map(|r| r.0.clone()),
    })
}

/// The pull request a revert pull request reverts: GitHub's revert button writes
/// `Revert "…"` as the title and `Reverts owner/repo#12` as the description.
pub fn reverted_pull_request(title: &str, body: &str) -> Option<u64> {
    if !title.trim_start().starts_with("Revert ") {
        return None;
    }
    let at = body.find("Reverts ")?;
    let rest = &body[at + "Reverts ".len()..];
    let hash = rest.split_whitespace().next()?.rsplit_once('#')?.1;
    hash.parse().ok()
}

/// A pull request was closed: its verdicts stop counting for its head commit, and the other
/// open pull requests at that head are judged again (their check run may have shown this
/// one's verdict). A stale delivery (GitHub changed the pull request since) changes nothing;
/// one from the same second as the state Keel knows is checked against GitHub first (a
/// reopen in that second wins).
async fn closed<G: GitHubApi>(
    ctx: &Context<'_, G>,
    installation: Option<&crate::github::InstallationId>,
    repo: &crate::github::RepoName,
    number: &crate::github::PrNumber,
    updated_at: Option<&str>,
    merged: bool,
) -> Result<(), JobError> {
    let at = updated_at.and_then(millis);
    // A close always changes the state, so the same second as the known state is a tie.
    match ctx
        .store
        .pull_request_freshness(&repo.0, number.0, at, "closed")
        .await?
    {
        crate::store::Freshness::Stale => return Ok(()),
        // A merged pull request is closed for good: no reopen can have come after.
        crate::store::Freshness::Tie if !merged => {
            if let Some(installation) = installation {
                let target = Repo {
                    installation: installation.clone(),
                    name: repo.clone(),
                };
                if !ctx.github.pull_request(&target, number).await?.is_closed() {
                    return Ok(());
                }
            }
        }
        crate::store::Freshness::Tie | crate::store::Freshness::Newer => {}
    }
    let Some(head) = ctx.store.close_pull_request(&repo.0, number.0, at).await? else {
        return Ok(());
    };
    if let Some(installation) = installation {
        let head = crate::github::CommitSha(head);
        workflow_run::evaluate_again(ctx, installation, repo, &head, &[], None).await?;
    }
    Ok(())
}

/// Whether a judgement of the same pull request that is at least as new is already queued
/// behind this job: then this one is pointless (one evaluation per pull request state, not one
/// per delivery). A queued follow-up evaluation of the same head reads the pull request as it
/// is then, so it is; a queued delivery is when GitHub dated it no earlier than this one
/// (deliveries can arrive out of order: an older one queued behind a newer one is stale at its
/// turn), unless it is a bot's label change (Keel's own judges nothing). Only the first few
/// jobs behind are looked at: missing a later one costs an evaluation, never a judgement.
async fn superseded<G: GitHubApi>(ctx: &Context<'_, G>, event: &Event) -> Result<bool, JobError> {
    let (ours, head) = match event {
        Event::PullRequest { pr, .. } => (pr.updated_at.as_deref().and_then(millis), &pr.head_sha),
        Event::Evaluate {
            target: Target::PullRequest(_),
            head_sha,
            ..
        } => (None, head_sha),
        _ => return Ok(false),
    };
    let Some(id) = ctx.job_id else {
        return Ok(false);
    };
    let behind = ctx
        .store
        .queued_behind(&event.serial_key(), id, LOOK_BEHIND)
        .await?;
    Ok(behind.iter().any(|payload| {
        match serde_json::from_slice::<Event>(payload) {
            // An evaluation of an older head would find the pull request moved on and judge
            // nothing: only one of this head stands in for this job.
            Ok(Event::Evaluate {
                target: Target::PullRequest(_),
                head_sha,
                ..
            }) => head_sha == *head,
            // A bot's label change may be Keel's own, which judges nothing: it stands in for
            // no judgement.
            Ok(Event::PullRequest {
                pr,
                label_by_bot: None,
                ..
            }) => {
                let theirs = pr.updated_at.as_deref().and_then(millis);
                matches!((ours, theirs), (Some(a), Some(b)) if b >= a)
            }
            _ => false,
        }
    }))
}

/// How many queued jobs [`superseded`] reads.
const LOOK_BEHIND: i64 = 16;

/// Handles one stored event.
pub async fn handle<G: GitHubApi>(ctx: &Context<'_, G>, event: &Event) -> Result<(), JobError> {
    // Every push is on record, even one whose judgement a newer one supersedes: no one may
    // waive a change they pushed to.
    pushers::record(ctx, event).await?;
    if superseded(ctx, event).await? {
        tracing::info!(serial = %event.serial_key(), "a newer judgement of this pull request is queued: skipped");
        return Ok(());
    }
    match event {
        Event::PullRequest {
            installation: Some(installation),
            repo,
            pr,
            label_by_bot,
            ..
        } => {
            let repo = Repo {
                installation: installation.clone(),
                name: repo.clone(),
            };
            if let Some(label) = label_by_bot
                && evaluate::owns_label(ctx, &repo, pr, label).await?
            {
                tracing::info!(repo = %repo.name, pr = %pr.number, "Keel's own label change: nothing to judge");
                return Ok(());
            }
            evaluate::pull_request(ctx, &repo, pr).await
        }
        Event::PullRequestClosed {
            installation,
            repo,
            number,
            merged_at,
            created_at,
            merge_sha,
            title,
            body,
            updated_at,
        } => {
            let merged = merged_at.is_some();
            closed(
                ctx,
                installation.as_ref(),
                repo,
                number,
                updated_at.as_deref(),
                merged,
            )
            .await?;
            let Some(merged_at) = merged_at else {
                return Ok(());
            };
            let at = chrono::DateTime::parse_from_rfc3339(merged_at)
                .map_err(|e| JobError::Permanent(format!("merged_at `{merged_at}`: {e}")))?
                .timestamp_millis();
            ctx.store.record_merge(&repo.0, number.0, at).await?;
            let details = MergeDetails {
                opened_at: created_at.as_deref().and_then(millis),
                first_commit_at: match installation {
                    Some(installation) => {
                        let target = Repo {
                            installation: installation.clone(),
                            name: repo.clone(),
                        };
                        ctx.github.first_commit_at(&target, number).await?
                    }
                    None => None,
                },
                merge_sha: merge_sha.clone(),
                reverts: reverted_pull_request(title, body),
            };
            ctx.store
                .record_merge_details(&repo.0, number.0, &details)
                .await?;
            Ok(())
        }
        Event::DeploymentStatus {
            repo,
            deployment_id,
            sha,
            environment,
            state,
            at,
        } => {
            let at = millis(at).unwrap_or(ctx.now);
            ctx.store
                .record_deployment(&repo.0, *deployment_id, &sha.0, environment, state, at)
                .await?;
            Ok(())
        }
        Event::Issue {
            repo,
            number,
            labels,
            created_at,
            closed_at,
            root_cause,
        } => {
            let opened = millis(created_at).unwrap_or(ctx.now);
            let closed = closed_at.as_deref().and_then(millis);
            ctx.store
                .record_issue(
                    &repo.0,
                    *number,
                    labels,
                    opened,
                    closed,
                    root_cause.as_deref(),
                )
                .await?;
            Ok(())
        }
        Event::Backfill {
            installation,
            repo,
            weeks,
        } => {
            let target = Repo {
                installation: installation.clone(),
                name: repo.clone(),
            };
            backfill::run(ctx, &target, *weeks).await
        }
        Event::WeeklySummary {
            installation,
            repo,
            week,
        } => {
            let target = Repo {
                installation: installation.clone(),
                name: repo.clone(),
            };
            summary::write(ctx, &target, week.as_deref()).await
        }
        Event::OrgRollup {
            installation,
            repo,
            week,
        } => {
            let target = Repo {
                installation: installation.clone(),
                name: repo.clone(),
            };
            summary::rollup::write(ctx, &target, week).await
        }
        Event::Review {
            repo,
            number,
            submitted_at,
            commands,
        } => {
            let at = millis(submitted_at).unwrap_or(ctx.now);
            ctx.store.record_review(&repo.0, number.0, at).await?;
            if let Some(commands) = commands {
                ctx.follow_up("review-commands", commands).await?;
            }
            Ok(())
        }
        Event::Release {
            repo,
            release_id,
            published_at,
        } => {
            let at = millis(published_at).unwrap_or(ctx.now);
            ctx.store.record_release(&repo.0, *release_id, at).await?;
            Ok(())
        }
        Event::MergeGroup {
            installation: Some(installation),
            repo,
            head_sha,
            base_sha,
        } => {
            ctx.store
                .track_merge_group(&repo.0, &head_sha.0, &base_sha.0, installation.0)
                .await?;
            let repo = Repo {
                installation: installation.clone(),
                name: repo.clone(),
            };
            evaluate::merge_group(ctx, &repo, head_sha, base_sha).await
        }
        Event::Evaluate {
            installation,
            repo,
            head_sha,
            target,
        } => {
            let repo = Repo {
                installation: installation.clone(),
                name: repo.clone(),
            };
            match target {
                Target::PullRequest(number) => {
                    evaluate::pull_request_again(ctx, &repo, number, head_sha).await
                }
                Target::MergeGroup { base_sha } => {
                    evaluate::merge_group(ctx, &repo, head_sha, base_sha).await
                }
            }
        }
        Event::EvaluateLater {
            installation,
            repo,
            head_sha,
            target,
        } => {
            let evaluate = Event::Evaluate {
                installation: installation.clone(),
                repo: repo.clone(),
                head_sha: head_sha.clone(),
                target: target.clone(),
            };
            ctx.follow_up("evaluate", &evaluate).await
        }
        Event::ReportsUploaded { repo, head_sha } => uploads::arrived(ctx, repo, head_sha).await,
        Event::Command { .. } => commands::run(ctx, event).await,
        Event::RedeliverFailed => redeliver::run(ctx).await,
        Event::RepositoryMoved {
            installation,
            from,
            to,
            only_if_gone,
        } => {
            reach::repository_moved(ctx, installation.as_ref(), from, to.as_ref(), *only_if_gone)
                .await
        }
        Event::AuthorizationRevoked { user_id } => {
            reach::authorization_revoked(ctx, *user_id).await
        }
        Event::ChecksRerequested {
            installation: Some(installation),
            repo,
            head_sha,
            pull_requests,
        } => {
            workflow_run::evaluate_again(ctx, installation, repo, head_sha, pull_requests, None)
                .await
        }
        Event::WorkflowRunCompleted {
            installation: Some(_),
            ..
        } => workflow_run::completed(ctx, event).await,
        Event::CheckRunCompleted {
            installation: Some(installation),
            repo,
            head_sha,
            name,
            ..
        } => workflow_run::check_completed(ctx, installation, repo, head_sha, name).await,
        Event::Push {
            repo,
            git_ref,
            before: Some(before),
            after,
            default_branch: Some(default_branch),
            ..
        } if git_ref.strip_prefix("refs/heads/") == Some(default_branch.as_str())
            && !before.0.bytes().all(|b| b == b'0')
            && !after.0.bytes().all(|b| b == b'0') =>
        {
            ctx.store
                .record_commit(&repo.0, &after.0, &before.0)
                .await?;
            // The default branch's config (its summary schedule) may have changed.
            ctx.store.set_summary_check(&repo.0, None).await?;
            // A push to the organisation's `.github` repository may change its policy.
            if let Some((owner, org::ORG_REPO_NAME)) = repo.0.split_once('/') {
                ctx.store.org_policy_stale(owner).await?;
            }
            Ok(())
        }
        Event::Push { .. } => Ok(()),
        Event::Installation {
            action,
            installation,
            added,
            removed,
        } => {
            let names =
                |r: &[crate::github::RepoName]| r.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
            match action.as_str() {
                // Uninstalled: everything stored about its repositories goes.
                "deleted" => {
                    let repos = ctx.store.installation_repos(installation.0).await?;
                    ctx.store.forget_repos(&repos).await?;
                    ctx.store.remove_installation(installation.0).await?;
                }
                _ => {
                    ctx.store
                        .add_installation_repos(installation.0, &names(added), ctx.now)
                        .await?;
                    ctx.store.forget_repos(&names(removed)).await?;
                    // The first summary should not be empty: read recent history.
                    for repo in added {
                        let event = Event::Backfill {
                            installation: installation.clone(),
                            repo: repo.clone(),
                            weeks: BACKFILL_WEEKS,
                        };
                        ctx.follow_up(&format!("backfill-{repo}"), &event).await?;
                    }
                }
            }
            Ok(())
        }
        Event::PullRequest {
            installation: None, ..
        }
        | Event::MergeGroup {
            installation: None, ..
        }
        | Event::ChecksRerequested {
            installation: None, ..
        }
        | Event::WorkflowRunCompleted {
            installation: None, ..
        }
        | Event::CheckRunCompleted {
            installation: None, ..
        } => Err(JobError::Permanent(
            "the delivery names no installation; it did not come through the App".into(),
        )),
    }
}
