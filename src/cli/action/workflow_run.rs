//! The fork-safe two-workflow pattern: a fork's pull request runs its tests with a read-only
//! token and uploads the reports; a `workflow_run` workflow in the base repository (with a
//! token that may write) runs `keel action`, which finds the pull request from the run, reads
//! the run's artifacts (never the workspace, which holds the base branch) and posts on the
//! pull request's head. The config still comes from the base commit.

use crate::github::api::{GitHubApi, Repo};
use crate::github::client::GitHub;
use crate::github::event::PullRequestInfo;
use crate::github::{CommitSha, PrNumber};
use crate::jobs::Context as JobContext;
use crate::jobs::reports::{Budget, RunReports, from_run, is_file};
use crate::reports::Reports;
use crate::store::{FinishedRun, Store};
use keel_core::{Config, Limits};
use serde::Deserialize;

/// The run that triggered the workflow, and the pull request it tested.
#[derive(Debug, Clone)]
pub struct TriggeringRun {
    /// Run id.
    pub id: u64,
    /// Its workflow file.
    pub path: String,
    /// What triggered it (`pull_request`).
    pub event: String,
    /// The pull request, as it is now.
    pub pr: PullRequestInfo,
}

#[derive(Deserialize)]
struct Payload {
    workflow_run: Run,
}

#[derive(Deserialize)]
struct Run {
    id: u64,
    head_sha: String,
    #[serde(default)]
    head_branch: Option<String>,
    #[serde(default)]
    path: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    pull_requests: Vec<Numbered>,
    #[serde(default)]
    head_repository: Option<HeadRepo>,
}

#[derive(Deserialize)]
struct Numbered {
    number: u64,
}

#[derive(Deserialize)]
struct HeadRepo {
    owner: Owner,
}

#[derive(Deserialize)]
struct Owner {
    login: String,
}

/// The triggering run and its pull request, or why there is nothing to judge.
pub async fn triggering_run(
    gh: &GitHub,
    repo: &Repo,
    body: &[u8],
) -> anyhow::Result<Result<TriggeringRun, String>> {
    let payload: Payload = serde_json::from_slice(body)
        .map_err(|e| anyhow::anyhow!("the workflow_run event cannot be read: {e}"))?;
    let run = payload.workflow_run;
    // GitHub names the pull request for a run of the repository's own branch; for a fork
    // it names none, and the pull request is found from the fork's branch.
    let numbers: Vec<u64> = if run.pull_requests.is_empty() {
        match (&run.head_repository, &run.head_branch) {
            (Some(head), Some(branch)) => gh
                .open_pull_requests_from(repo, &head.owner.login, branch)
                .await
                .map_err(|e| anyhow::anyhow!("find the run's pull request: {e}"))?
                .into_iter()
                .filter(|(_, sha)| *sha == run.head_sha)
                .map(|(n, _)| n)
                .collect(),
            _ => Vec::new(),
        }
    } else {
        run.pull_requests.iter().map(|p| p.number).collect()
    };
    // The check run belongs to the commit: with several pull requests at it (into bases with
    // different definitions of done), judging one could turn the others' check green.
    let number = match numbers.as_slice() {
        [one] => *one,
        [] => {
            return Ok(Err(format!(
                "workflow run {} is not for an open pull request (commit {}): nothing to judge",
                run.id, run.head_sha
            )));
        }
        several => {
            return Ok(Err(format!(
                "workflow run {} tested commit {}, the head of several pull requests ({}): the Action judges one pull request per commit, so it judges none; use the Keel App, which judges them together",
                run.id,
                run.head_sha,
                several
                    .iter()
                    .map(|n| format!("#{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let pr = gh
        .pull_request(repo, &PrNumber(number))
        .await
        .map_err(|e| anyhow::anyhow!("read pull request #{number}: {e}"))?;
    if pr.head_sha != CommitSha(run.head_sha.clone()) {
        return Ok(Err(format!(
            "pull request #{number} has moved on from {} to {}: the run of its new head is judged instead",
            run.head_sha, pr.head_sha
        )));
    }
    Ok(Ok(TriggeringRun {
        id: run.id,
        path: run.path,
        event: run.event,
        pr,
    }))
}

/// The reports in the triggering run's artifacts (the `[reports]` artifact names), or why
/// they cannot be used. A run of a workflow file other than `[reports] workflows` is refused:
/// `workflow_run` triggers match workflows by display name, which a fork can copy.
pub async fn reports(
    gh: &GitHub,
    repo: &Repo,
    config: &Config,
    run: &TriggeringRun,
) -> anyhow::Result<Result<(Reports, Vec<String>), String>> {
    let wanted = config.reports.clone().unwrap_or_default();
    let files = wanted.workflow_files();
    if !files.is_empty() && !files.iter().any(|f| is_file(f, &run.path)) {
        return Ok(Err(format!(
            "the run that triggered this workflow is of `{}`, not of `[reports] workflows` ({}): its reports are not used",
            run.path,
            files.join(", ")
        )));
    }
    run_reports(
        gh,
        repo,
        config,
        "workflow run",
        &finished(run.id, &run.path, &run.event),
    )
    .await
}

/// A finished run as the App's artifact reader takes it.
pub(super) fn finished(run_id: u64, path: &str, event: &str) -> FinishedRun {
    FinishedRun {
        run_id,
        workflow: String::new(),
        event: event.to_owned(),
        path: path.to_owned(),
        head_repo: String::new(),
        conclusion: String::new(),
    }
}

/// The reports in the matching artifacts of `run` (called `label` in messages), read by the
/// App's own reader and merged, with a note per source; `Err` says why there are none.
pub(super) async fn run_reports(
    gh: &GitHub,
    repo: &Repo,
    config: &Config,
    label: &str,
    run: &FinishedRun,
) -> anyhow::Result<Result<(Reports, Vec<String>), String>> {
    let store = Store::in_memory().await?;
    let ctx = JobContext {
        store: &store,
        github: gh,
        now: crate::clock::now_ms(),
        origin: "action".into(),
        job_id: None,
        reports: None,
    };
    let read = from_run(&ctx, repo, config, run, &mut Budget::default())
        .await
        .map_err(|e| anyhow::anyhow!("read the artifacts of {label} {}: {e}", run.run_id));
    store.close().await;
    let parts = match read? {
        RunReports::Read(parts) => parts,
        RunReports::None => {
            return Ok(Err(format!(
                "{label} {} uploaded no artifact named {}",
                run.run_id,
                config
                    .reports
                    .clone()
                    .unwrap_or_default()
                    .artifact_patterns()
                    .join(", ")
            )));
        }
        RunReports::Broken(why) => {
            return Ok(Err(format!(
                "the artifacts of {label} {} cannot be read: {why}",
                run.run_id
            )));
        }
    };
    let mut merged = Reports::default();
    let mut notes = Vec::new();
    for (source, part) in parts {
        notes.push(source.describe());
        if let Err(e) = merged.absorb(part, &Limits::DEFAULT) {
            return Ok(Err(format!("`{}`: {e:#}", source.artifact)));
        }
    }
    merged.settle();
    Ok(Ok((merged, notes)))
}
