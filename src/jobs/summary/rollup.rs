//! The organisation roll-up: when a repository's weekly summary is written, its line is kept
//! (`summary_rows`) and a roll-up job renders every line of the week into one issue in the
//! organisation's `.github` repository, edited in place, never duplicated: roll-up jobs of one
//! organisation share a serial key, so they never run at once. Without Keel installed on
//! `.github` (a 404 or 403 there), there is no roll-up, and nothing fails.

use super::{Context, JobError};
use crate::github::CommitSha;
use crate::github::RepoName;
use crate::github::api::{ApiError, GitHubApi, Repo};
use crate::github::event::Event;
use keel_core::Config;
use keel_core::render::summary::SUMMARY_LABEL;
use keel_core::render::summary::rollup::{body, row, title};
use keel_core::summary::report::WeeklyReport;
use keel_core::summary::rollup::{RollupRow, codeowners_team};

/// Where CODEOWNERS may live, in GitHub's order.
const CODEOWNERS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// The week key the roll-up issue is remembered under (beside the repository summaries).
fn key(week: &str) -> String {
    format!("org:{week}")
}

/// Keeps `repo`'s line of `report`'s week and enqueues the roll-up of its organisation.
pub async fn keep_line<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    report: &WeeklyReport,
    week: &str,
    issue: u64,
) -> Result<(), JobError> {
    let owner = repo.name.0.split('/').next().unwrap_or_default().to_owned();
    let team = match config.summary.as_ref().and_then(|s| s.team.clone()) {
        Some(team) => Some(team),
        None => team_from_codeowners(ctx, repo).await?,
    };
    // Unknown counts as private: a public roll-up never names it.
    let private = ctx.github.repo_private(repo).await?.unwrap_or(true);
    let line = row(report, team, Some(issue), private);
    let json = serde_json::to_string(&line).map_err(|e| JobError::Permanent(e.to_string()))?;
    ctx.store
        .set_summary_row(&owner, &repo.name.0, week, &json)
        .await?;
    let event = Event::OrgRollup {
        installation: repo.installation.clone(),
        repo: RepoName(format!("{owner}/.github")),
        week: week.to_owned(),
    };
    let job = super::super::event_job(&event, None, None, ctx.now)
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    ctx.store.enqueue(&job, ctx.now).await?;
    Ok(())
}

/// The first owner of `*` in the repository's CODEOWNERS, if it has one.
async fn team_from_codeowners<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
) -> Result<Option<String>, JobError> {
    let head = CommitSha("HEAD".into());
    for path in CODEOWNERS {
        if let Some(bytes) = ctx.github.file_at(repo, path, &head).await? {
            return Ok(codeowners_team(&String::from_utf8_lossy(&bytes)));
        }
    }
    Ok(None)
}

/// Writes (or edits) the roll-up issue of `week` in `org_repo` (`owner/.github`).
pub async fn write<G: GitHubApi>(
    ctx: &Context<'_, G>,
    org_repo: &Repo,
    week: &str,
) -> Result<(), JobError> {
    let owner = org_repo.name.0.split('/').next().unwrap_or_default();
    let rows: Vec<RollupRow> = ctx
        .store
        .summary_rows(owner, week)
        .await?
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // A public `.github` shows public repositories only; without access, no roll-up.
    let org_private = match ctx.github.repo_private(org_repo).await {
        Ok(Some(private)) => private,
        Ok(None) => {
            tracing::info!(
                org = owner,
                "Keel is not installed on {}: no organisation roll-up",
                org_repo.name
            );
            return Ok(());
        }
        Err(e) if e.is_not_found() || e.is_forbidden() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let shown: Vec<RollupRow> = rows
        .iter()
        .filter(|r| org_private || !r.private)
        .cloned()
        .collect();
    let text = body(owner, week, &shown, rows.len() - shown.len());
    let name = title(owner, week);
    match publish(ctx, org_repo, week, &name, &text).await {
        Err(e) if e.is_not_found() || e.is_forbidden() => {
            tracing::info!(
                org = owner,
                "Keel cannot write issues in {}: no organisation roll-up",
                org_repo.name
            );
            Ok(())
        }
        other => other.map_err(JobError::from),
    }
}

async fn publish<G: GitHubApi>(
    ctx: &Context<'_, G>,
    org_repo: &Repo,
    week: &str,
    name: &str,
    text: &str,
) -> Result<(), ApiError> {
    let store_err = |e: anyhow::Error| ApiError::Transient(format!("{e:#}"));
    let known = match ctx
        .store
        .summary_issue(&org_repo.name.0, &key(week))
        .await
        .map_err(store_err)?
    {
        Some(number) => Some(number),
        // An earlier attempt may have opened it and died before remembering it.
        None => ctx.github.find_issue(org_repo, SUMMARY_LABEL, name).await?,
    };
    let number = match known {
        Some(number) => {
            ctx.github
                .update_issue(org_repo, number, Some(text), None)
                .await?;
            number
        }
        None => {
            let number = ctx
                .github
                .create_issue(org_repo, name, text, &[SUMMARY_LABEL.to_owned()])
                .await?;
            // Last week's roll-up is done: close it, as the repository summaries do.
            let zone = keel_core::week::Zone::UTC;
            if let Ok(this) = keel_core::week::Week::named(week, zone)
                && let Some(old) = ctx
                    .store
                    .summary_issue(&org_repo.name.0, &key(&this.previous(zone).name))
                    .await
                    .map_err(store_err)?
            {
                ctx.github
                    .update_issue(org_repo, old, None, Some("closed"))
                    .await?;
            }
            number
        }
    };
    ctx.store
        .set_summary_issue(&org_repo.name.0, &key(week), number)
        .await
        .map_err(store_err)
}
