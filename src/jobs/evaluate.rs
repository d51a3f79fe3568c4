//! The pull request flow: the definition of done read from the **base** commit (a pull request
//! cannot weaken its own gate), one check run on the head commit, the changed files, the
//! baseline of the base commit from the store, the reports from the workflow run's artifact;
//! then the evaluation, published as the check run, the sticky comment and Keel's labels.
//!
//! Criteria that need reports wait for them: the check run stays `in_progress` with the other
//! criteria's results until the workflow run that should upload them finishes, and becomes an
//! explicit `no report` when it finished without. A pull request that edits the config gets the
//! new file checked at its head, with errors annotated on their line.

use super::reports::{self, ReportState};
use super::{CONFIG_PATH, Context, JobError, publish};
use crate::github::api::{CheckRunOutput, GitHubApi, Repo};
use crate::github::event::PullRequestInfo;
use crate::github::{CommitSha, PrNumber};
use keel_core::diagnostic::Diagnostic;
use keel_core::diff::{Diff, FileDiff, FileStatus};
use keel_core::evaluation::Conclusion;
use keel_core::facts::{ConfigChange, Facts, Metrics, PullRequest};
use keel_core::render::markdown;
use keel_core::{Config, evaluate};

/// Judges a pull request at the head its event names.
pub async fn pull_request<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    pr: &PullRequestInfo,
) -> Result<(), JobError> {
    judge(ctx, repo, &pr.head_sha, &pr.base_sha, Some(pr)).await
}

/// Judges a pull request again (its reports arrived, a re-run was asked for), reading it
/// fresh from GitHub. A head that has moved on is left alone: the newer head has its own run.
pub async fn pull_request_again<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    number: &PrNumber,
    head_sha: &CommitSha,
) -> Result<(), JobError> {
    let pr = ctx.github.pull_request(repo, number).await?;
    if pr.head_sha != *head_sha {
        tracing::info!(repo = %repo.name, pr = %number, old = %head_sha, new = %pr.head_sha, "the pull request has moved on; nothing to judge");
        return Ok(());
    }
    ctx.store
        .track_pull_request(
            &repo.name.0,
            number.0,
            &head_sha.0,
            repo.installation.0,
            ctx.now,
        )
        .await?;
    judge(ctx, repo, head_sha, &pr.base_sha, Some(&pr)).await
}

/// Judges a merge queue's merge group commit against its base (no comment, no labels).
pub async fn merge_group<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    base_sha: &CommitSha,
) -> Result<(), JobError> {
    judge(ctx, repo, head_sha, base_sha, None).await
}

async fn judge<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    base_sha: &CommitSha,
    pr: Option<&PullRequestInfo>,
) -> Result<(), JobError> {
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, base_sha).await? else {
        tracing::info!(repo = %repo.name, head = %head_sha, "no .github/keel.toml on the base commit: nothing to do");
        return Ok(());
    };
    let check_run = publish::check_run(ctx, repo, head_sha).await?;
    let config = match parse_config(bytes) {
        Ok(config) => config,
        Err(error) => {
            let summary = format!(
                "### ❌ The base branch's `{CONFIG_PATH}` cannot be read\n\n```\n{error}\n```\n\nFix it on the base branch; until then no change can be judged against it."
            );
            let output = CheckRunOutput {
                conclusion: Conclusion::Failure,
                title: "Invalid definition of done on the base branch",
                summary: &summary,
                annotations: &[],
            };
            return Ok(ctx
                .github
                .complete_check_run(repo, check_run, &output)
                .await?);
        }
    };
    let files = match pr {
        Some(pr) => ctx.github.pull_request_files(repo, &pr.number).await?,
        None => ctx.github.compare_files(repo, base_sha, head_sha).await?,
    };
    let config_change = match pr {
        Some(_) => config_change(ctx, repo, head_sha, &files).await?,
        None => None,
    };
    let baseline = ctx
        .store
        .baseline(&repo.name.0, &base_sha.0)
        .await?
        .and_then(|b| serde_json::from_slice::<Metrics>(&b.metrics).ok());
    let mut facts = Facts {
        diff: Some(Diff {
            files,
            diagnostics: Vec::new(),
        }),
        pull_request: pr.map(|pr| PullRequest {
            title: pr.title.clone(),
            body: pr.body.clone(),
            branch: pr.head_ref.clone(),
            labels: pr.labels.clone(),
        }),
        config_change,
        baseline,
        ..Facts::default()
    };
    let mut notes = Vec::new();
    if needs_reports(&config) {
        match reports::find(ctx, repo, &config, head_sha).await? {
            ReportState::Ready { reports, run_id } => {
                notes.extend(reports.warnings.iter().map(|w| format!("report: {w}")));
                notes.push(format!("Reports read from workflow run {run_id}."));
                facts.coverage = reports.coverage;
                facts.findings = reports.findings;
                facts.benchmarks = reports.benchmarks;
            }
            ReportState::Waiting => {
                return show_waiting(ctx, repo, check_run, &config, &facts).await;
            }
            ReportState::Missing(why) => notes.push(format!("No reports: {why}.")),
            ReportState::Broken(why) => {
                let summary = format!(
                    "### ❌ The reports cannot be read\n\n```\n{why}\n```\n\nThe definition of done cannot be judged without them. Fix the workflow that uploads them and push again (or re-run it)."
                );
                let output = CheckRunOutput {
                    conclusion: Conclusion::Failure,
                    title: "The reports cannot be read",
                    summary: &summary,
                    annotations: &[],
                };
                return Ok(ctx
                    .github
                    .complete_check_run(repo, check_run, &output)
                    .await?);
            }
        }
    }
    let mut evaluation = evaluate(&config, &facts);
    evaluation.notes.extend(notes);
    let title = markdown::title(&evaluation);
    let summary = markdown::summary(&evaluation);
    let output = CheckRunOutput {
        conclusion: evaluation.conclusion,
        title: &title,
        summary: &summary,
        annotations: &evaluation.annotations,
    };
    ctx.github
        .complete_check_run(repo, check_run, &output)
        .await?;
    if let Some(pr) = pr {
        let comment = markdown::comment(&evaluation);
        publish::upsert_comment(ctx, repo, &pr.number, markdown::COMMENT_MARKER, &comment).await?;
        publish::sync_labels(
            ctx,
            repo,
            &pr.number,
            &pr.labels,
            config.labels.as_ref(),
            evaluation.conclusion,
        )
        .await?;
    }
    Ok(())
}

/// The check run stays `in_progress`, showing the criteria that need no reports.
async fn show_waiting<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    check_run: u64,
    config: &Config,
    facts: &Facts,
) -> Result<(), JobError> {
    let without_reports = Config {
        coverage: None,
        security: None,
        performance: None,
        ..config.clone()
    };
    let partial = evaluate(&without_reports, facts);
    let artifact = config.reports.clone().unwrap_or_default().artifact;
    let summary = format!(
        "### ⏳ Waiting for the workflow run's reports\n\nCoverage, security and performance criteria are judged when the artifact `{artifact}` arrives. The rest so far:\n\n{}",
        markdown::table(&partial.criteria)
    );
    ctx.github
        .show_check_run_progress(repo, check_run, "Waiting for reports", &summary)
        .await?;
    Ok(())
}

pub(super) fn parse_config(bytes: Vec<u8>) -> Result<Config, String> {
    String::from_utf8(bytes)
        .map_err(|_| "the file is not UTF-8 text".to_owned())
        .and_then(|text| Config::parse(CONFIG_PATH, &text).map_err(|e| e.to_string()))
}

/// When the pull request edits the definition of done, the new file checked at the head
/// commit (the change itself is still judged by the base commit's file).
async fn config_change<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    files: &[FileDiff],
) -> Result<Option<ConfigChange>, JobError> {
    let edited = files
        .iter()
        .any(|f| f.path == CONFIG_PATH && f.status != FileStatus::Deleted);
    if !edited {
        return Ok(None);
    }
    let Some(bytes) = ctx.github.file_at(repo, CONFIG_PATH, head_sha).await? else {
        return Ok(None);
    };
    let checked = match String::from_utf8(bytes) {
        Err(_) => ConfigChange::Invalid(Diagnostic::at_line(
            CONFIG_PATH,
            1,
            "the file is not UTF-8 text",
        )),
        Ok(text) => match Config::parse(CONFIG_PATH, &text) {
            Ok(_) => ConfigChange::Valid,
            Err(e) => ConfigChange::Invalid(e.0),
        },
    };
    Ok(Some(checked))
}

/// Whether any configured criterion is judged from a CI report.
pub fn needs_reports(config: &Config) -> bool {
    let coverage = config
        .coverage
        .as_ref()
        .is_some_and(|c| c.min_total.is_some() || c.min_patch.is_some() || c.max_drop.is_some());
    let security = config
        .security
        .as_ref()
        .is_some_and(|s| s.fail_on.is_some());
    let performance = config
        .performance
        .as_ref()
        .is_some_and(|p| !p.budget.is_empty());
    coverage || security || performance
}
