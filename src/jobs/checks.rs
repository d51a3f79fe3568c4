//! `[checks] required`: other check runs folded into Keel's one gate. Keel reads the commit's
//! check runs (other apps' only, the latest of each name), waits while a required one is
//! queued or running, or missing while the commit's workflows still run, and otherwise hands
//! their conclusions to the evaluation, where a missing or failed one fails its row.

use super::{Context, JobError};
use crate::github::CHECK_NAME;
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use keel_core::facts::CheckRunState;

/// Where the required checks of a commit stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    /// Everything that can be known: judge with these (and, when the commit has more check
    /// runs than Keel reads, how many it read of how many).
    Known(Vec<CheckRunState>, Option<(usize, usize)>),
    /// Some are still to come (named in the text): keep Keel's check in progress.
    Waiting(String),
}

/// Reads the state of the `required` check runs on `head_sha`.
pub async fn read<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    required: &[String],
) -> Result<Required, JobError> {
    let listed = ctx.github.check_runs(repo, head_sha).await?;
    let runs = listed.runs;
    let running: Vec<&str> = required
        .iter()
        .filter(|name| {
            runs.iter()
                .any(|r| &r.name == *name && r.status != "completed")
        })
        .map(String::as_str)
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .filter(|name| name.as_str() != CHECK_NAME && !runs.iter().any(|r| &r.name == *name))
        .map(String::as_str)
        .collect();
    if !running.is_empty() {
        return Ok(Required::Waiting(format!("the checks {}", names(&running))));
    }
    if !missing.is_empty()
        && ctx
            .github
            .head_workflow_runs(repo, head_sha)
            .await?
            .iter()
            .any(|r| !r.finished)
    {
        return Ok(Required::Waiting(format!(
            "the checks {} (the commit's workflows are still running)",
            names(&missing)
        )));
    }
    Ok(Required::Known(
        runs.into_iter()
            .filter(|r| required.contains(&r.name))
            .map(|r| CheckRunState {
                name: r.name,
                conclusion: r.conclusion,
                app: Some(r.app),
            })
            .collect(),
        listed.cut,
    ))
}

fn names(list: &[&str]) -> String {
    list.iter()
        .map(|n| keel_core::render::escape::code(n))
        .collect::<Vec<_>>()
        .join(", ")
}
