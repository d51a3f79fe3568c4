//! The pull request flow, first phase: the definition of done read from the pull request's
//! **base** commit (a pull request cannot weaken its own gate), one check run found or created
//! on the head commit, the changed files from GitHub, and the criteria that need no reports
//! evaluated at once. When the config has criteria that need reports (coverage, security,
//! performance), the check run stays `in_progress` and says it waits for them. A pull request
//! that edits the config gets the new file checked, with errors annotated on their line.

use super::JobError;
use crate::github::client::{CheckRunOutput, GitHub};
use crate::github::event::{Event, PullRequestInfo};
use crate::github::{InstallationId, RepoName};
use keel_core::diff::Diff;
use keel_core::evaluation::Conclusion;
use keel_core::facts::{ConfigChange, Facts, PullRequest};
use keel_core::render::markdown;
use keel_core::{Config, evaluate};

/// The check run's name; maintainers require it in branch protection.
pub const CHECK_NAME: &str = "Keel · Definition of done";
/// Where the definition of done lives.
pub const CONFIG_PATH: &str = ".github/keel.toml";

/// Handles one stored event.
pub async fn handle(github: &GitHub, event: &Event) -> Result<(), JobError> {
    match event {
        Event::PullRequest {
            installation: Some(installation),
            repo,
            pr,
            ..
        } => evaluate_pull_request(github, installation, repo, pr).await,
        Event::PullRequest {
            installation: None, ..
        } => Err(JobError::Permanent(
            "the delivery names no installation; it did not come through the App".into(),
        )),
        other => {
            tracing::info!(serial = other.serial_key(), "no handler for this event yet");
            Ok(())
        }
    }
}

async fn evaluate_pull_request(
    github: &GitHub,
    installation: &InstallationId,
    repo: &RepoName,
    pr: &PullRequestInfo,
) -> Result<(), JobError> {
    let Some(bytes) = github
        .file_at(installation, repo, CONFIG_PATH, &pr.base_sha)
        .await?
    else {
        tracing::info!(%repo, pr = %pr.number, "no .github/keel.toml on the base commit: nothing to do");
        return Ok(());
    };
    let check_run = github
        .find_or_start_check_run(installation, repo, CHECK_NAME, &pr.head_sha)
        .await?;
    let parsed = String::from_utf8(bytes)
        .map_err(|_| "the file is not UTF-8 text".to_owned())
        .and_then(|text| Config::parse(CONFIG_PATH, &text).map_err(|e| e.to_string()));
    let config = match parsed {
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
            return Ok(github
                .complete_check_run(installation, repo, check_run, &output)
                .await?);
        }
    };
    let files = github
        .pull_request_files(installation, repo, &pr.number)
        .await?;
    let config_change = config_change(github, installation, repo, pr, &files).await?;
    let facts = Facts {
        diff: Some(Diff {
            files,
            diagnostics: Vec::new(),
        }),
        pull_request: Some(PullRequest {
            title: pr.title.clone(),
            body: pr.body.clone(),
            branch: pr.head_ref.clone(),
            labels: pr.labels.clone(),
        }),
        config_change,
        ..Facts::default()
    };
    if needs_reports(&config) {
        let without_reports = Config {
            coverage: None,
            security: None,
            performance: None,
            ..config
        };
        let partial = evaluate(&without_reports, &facts);
        let summary = format!(
            "### ⏳ Waiting for the workflow run's reports\n\nCoverage, security and performance criteria are judged when the reports arrive. The rest so far:\n\n{}",
            markdown::table(&partial.criteria)
        );
        github
            .show_check_run_progress(
                installation,
                repo,
                check_run,
                "Waiting for reports",
                &summary,
            )
            .await?;
        return Ok(());
    }
    let evaluation = evaluate(&config, &facts);
    let title = markdown::title(&evaluation);
    let summary = markdown::summary(&evaluation);
    let output = CheckRunOutput {
        conclusion: evaluation.conclusion,
        title: &title,
        summary: &summary,
        annotations: &evaluation.annotations,
    };
    github
        .complete_check_run(installation, repo, check_run, &output)
        .await?;
    let comment = markdown::comment(&evaluation);
    github
        .upsert_comment(
            installation,
            repo,
            &pr.number,
            markdown::COMMENT_MARKER,
            &comment,
        )
        .await?;
    Ok(())
}

/// When the pull request edits the definition of done, the new file checked at the head
/// commit (the change itself is still judged by the base commit's file).
async fn config_change(
    github: &GitHub,
    installation: &InstallationId,
    repo: &RepoName,
    pr: &PullRequestInfo,
    files: &[keel_core::diff::FileDiff],
) -> Result<Option<ConfigChange>, JobError> {
    let edited = files
        .iter()
        .any(|f| f.path == CONFIG_PATH && f.status != keel_core::diff::FileStatus::Deleted);
    if !edited {
        return Ok(None);
    }
    let Some(bytes) = github
        .file_at(installation, repo, CONFIG_PATH, &pr.head_sha)
        .await?
    else {
        return Ok(None);
    };
    let checked = match String::from_utf8(bytes) {
        Err(_) => ConfigChange::Invalid(keel_core::diagnostic::Diagnostic::at_line(
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
fn needs_reports(config: &Config) -> bool {
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
