//! `[security] source = "code-scanning"`: the pull request's findings are its open GitHub
//! code scanning alerts (on `refs/pull/N/merge`), and the base branch's open alerts are the
//! baseline they are compared with, by alert number. No analysis for the pull request means
//! the criterion cannot be judged (`no report`), never "no findings".

use super::{Context, JobError};
use crate::github::api::{ApiError, CodeScanning, GitHubApi, Repo};
use crate::github::event::PullRequestInfo;
use keel_core::config::FindingSource;
use keel_core::facts::Facts;
use keel_core::{Config, evaluate};

/// Whether `config` takes its findings from code scanning.
pub fn wanted(config: &Config) -> bool {
    config
        .security
        .as_ref()
        .is_some_and(|s| s.source == FindingSource::CodeScanning)
}

/// Replaces the findings in `facts` with the pull request's code scanning alerts and the
/// baseline's findings with the base branch's; says in `notes` what was read.
pub async fn apply<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    pr: Option<&PullRequestInfo>,
    facts: &mut Facts,
    notes: &mut Vec<String>,
) -> Result<(), JobError> {
    facts.findings = None;
    facts.suppressed = Vec::new();
    let Some(pr) = pr else {
        notes.push(
            "Code scanning alerts are read for pull requests; a merge group's security row has no report.".to_owned(),
        );
        return Ok(());
    };
    let pr_ref = format!("refs/pull/{}/merge", pr.number);
    let found = match ctx
        .github
        .code_scanning_findings(repo, &pr_ref, Some(&pr.head_sha))
        .await
    {
        Ok(found) => found,
        Err(ApiError::Rejected {
            status: 403,
            message,
        }) => {
            notes.push(format!(
                "Code scanning alerts cannot be read ({message}): give the Keel App the \"Code scanning alerts\" read permission."
            ));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let found = match found {
        CodeScanning::Alerts(found) => found,
        CodeScanning::NoAnalysis => {
            notes.push(format!(
                "No reports: code scanning has no analysis of this pull request (`{pr_ref}`) yet; add the scanning workflow to `[reports] wait_for` so Keel waits for it."
            ));
            return Ok(());
        }
        CodeScanning::Stale(analysed) => {
            notes.push(format!(
                "No reports: the newest code scanning analysis of `{pr_ref}` is of commit {analysed}, not of this head ({}); it is judged again when the scan of this head finishes.",
                pr.head_sha
            ));
            return Ok(());
        }
        CodeScanning::TooMany(n) => {
            notes.push(format!(
                "No reports: `{pr_ref}` has more than {n} open code scanning alerts, more than Keel reads."
            ));
            return Ok(());
        }
    };
    notes.push(format!(
        "Findings: {} open code scanning alert(s) on `{pr_ref}`.",
        found.len()
    ));
    facts.findings = Some(found);
    let base_ref = format!("refs/heads/{}", pr.base_ref);
    match ctx
        .github
        .code_scanning_findings(repo, &base_ref, None)
        .await?
    {
        CodeScanning::Alerts(base) => {
            let security_only = Config {
                security: config.security.clone(),
                ..Config::default()
            };
            let base_facts = Facts {
                findings: Some(base),
                ..Facts::default()
            };
            let measured = evaluate(&security_only, &base_facts).metrics.findings;
            let mut baseline = facts.baseline.take().unwrap_or_default();
            baseline.findings = measured;
            facts.baseline = Some(baseline);
            if facts.baseline_commit.is_none() {
                facts.baseline_commit = Some((pr.base_sha.0.clone(), 0));
            }
            notes.push(format!("New alerts are those not open on `{base_ref}`."));
        }
        _ => notes.push(format!(
            "Code scanning has no usable analysis of `{base_ref}`: alerts on added lines count as new."
        )),
    }
    Ok(())
}
