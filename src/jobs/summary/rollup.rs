//! The organisation roll-up: when a repository's weekly summary is written, its line is kept
//! (`summary_rows`) and a roll-up job renders every line of the week into one issue in the
//! organisation's `.github` repository, edited in place, never duplicated: roll-up jobs of one
//! organisation share a serial key, so they never run at once, and the summaries of one
//! five-minute slot share one job that runs after them.
//!
//! Visibility is read when the roll-up is written, for every line: a repository Keel can no
//! longer read (removed, renamed, transferred) drops out; a private one appears only when it
//! says `[summary] rollup_when_private` and `.github` is private too; in a public `.github`
//! never. Without Keel on `.github`, there is no roll-up, and nothing fails.

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

/// Summaries written in one slot this long share one roll-up job, run at the slot's end.
const SLOT_MS: i64 = 5 * 60 * 1000;

/// The week key the roll-up issue is remembered under (beside the repository summaries).
fn key(week: &str) -> String {
    format!("org:{week}")
}

/// The organisation of `repo`, as the roll-up keys it: GitHub's names ignore case.
fn owner_of(repo: &str) -> String {
    repo.split('/').next().unwrap_or_default().to_lowercase()
}

/// Keeps `repo`'s line of `report`'s week and enqueues the roll-up of its organisation. The
/// repository's summary is written already: what fails here is logged, never its failure.
pub async fn keep_line<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    report: &WeeklyReport,
    week: &str,
    issue: u64,
) {
    if let Err(error) = try_keep_line(ctx, repo, config, report, week, issue).await {
        tracing::warn!(repo = %repo.name, week, %error, "the organisation roll-up line was not kept");
    }
}

async fn try_keep_line<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    report: &WeeklyReport,
    week: &str,
    issue: u64,
) -> Result<(), JobError> {
    let owner = owner_of(&repo.name.0);
    let owner_as_written = repo.name.0.split('/').next().unwrap_or_default();
    let sc = config.summary.clone().unwrap_or_default();
    let team = match sc.team {
        Some(team) => Some(team),
        None => team_from_codeowners(ctx, repo).await,
    };
    // Private until the roll-up job reads its visibility.
    let line = row(report, team, Some(issue), true, sc.rollup_when_private);
    let json = serde_json::to_string(&line).map_err(|e| JobError::Permanent(e.to_string()))?;
    ctx.store
        .set_summary_row(&owner, &repo.name.0, week, &json, ctx.now)
        .await?;
    let event = Event::OrgRollup {
        installation: repo.installation.clone(),
        repo: RepoName(format!("{owner_as_written}/.github")),
        week: week.to_owned(),
    };
    let slot_end = (ctx.now.div_euclid(SLOT_MS) + 1) * SLOT_MS;
    let dedupe = format!("rollup:{owner}:{week}:{slot_end}");
    let job = super::super::event_job(&event, None, Some(dedupe), slot_end)
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    ctx.store.enqueue(&job, ctx.now).await?;
    Ok(())
}

/// The first owner of `*` in the repository's CODEOWNERS; `None` when it has none or it
/// cannot be read (a team is a label: its absence fails nothing).
async fn team_from_codeowners<G: GitHubApi>(ctx: &Context<'_, G>, repo: &Repo) -> Option<String> {
    let head = CommitSha("HEAD".into());
    for path in CODEOWNERS {
        match ctx.github.file_at(repo, path, &head).await {
            Ok(Some(bytes)) => return codeowners_team(&String::from_utf8_lossy(&bytes)),
            Ok(None) => {}
            Err(error) => {
                tracing::info!(repo = %repo.name, path, %error, "CODEOWNERS not read: no team");
                return None;
            }
        }
    }
    None
}

/// Writes (or edits) the roll-up issue of `week` in `org_repo` (`owner/.github`).
pub async fn write<G: GitHubApi>(
    ctx: &Context<'_, G>,
    org_repo: &Repo,
    week: &str,
) -> Result<(), JobError> {
    let owner = owner_of(&org_repo.name.0);
    let stored: Vec<RollupRow> = ctx
        .store
        .summary_rows(&owner, week)
        .await?
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    if stored.is_empty() {
        return Ok(());
    }
    // Without access to `.github` (not installed there), no roll-up.
    let Some(org_private) = ctx.github.repo_private(org_repo).await? else {
        tracing::info!(
            org = owner,
            "Keel cannot read {}: no organisation roll-up",
            org_repo.name
        );
        return Ok(());
    };
    let mut shown = Vec::with_capacity(stored.len());
    let mut hidden = 0;
    for mut line in stored {
        let target = Repo {
            installation: org_repo.installation.clone(),
            name: RepoName(line.repo.clone()),
        };
        // Read now, not when the line was kept: visibility changes.
        match ctx.github.repo_private(&target).await? {
            // Gone from the installation, renamed or transferred: not this roll-up's.
            None => continue,
            Some(private) => line.private = private,
        }
        if !line.private || (org_private && line.shared_when_private) {
            shown.push(line);
        } else {
            hidden += 1;
        }
    }
    // Shown as the organisation writes its name (the triggering repository's spelling).
    let display = org_repo.name.0.split('/').next().unwrap_or_default();
    let text = body(display, week, &shown, hidden);
    let name = title(display, week);
    match publish(ctx, org_repo, &owner, week, &name, &text).await {
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
    owner: &str,
    week: &str,
    name: &str,
    text: &str,
) -> Result<(), ApiError> {
    let store_err = |e: anyhow::Error| ApiError::Transient(format!("{e:#}"));
    // Remembered under the lowercased name: `Acme` and `acme` are one organisation.
    let org_key = format!("{owner}/.github");
    let known = match ctx
        .store
        .summary_issue(&org_key, &key(week))
        .await
        .map_err(store_err)?
    {
        Some(number) => Some(number),
        // An earlier attempt may have opened it and died before remembering it.
        None => ctx.github.find_issue(org_repo, SUMMARY_LABEL, name).await?,
    };
    if let Some(number) = known {
        ctx.github
            .update_issue(org_repo, number, Some(text), None)
            .await?;
        return ctx
            .store
            .set_summary_issue(&org_key, &key(week), number)
            .await
            .map_err(store_err);
    }
    let number = ctx
        .github
        .create_issue(org_repo, name, text, &[SUMMARY_LABEL.to_owned()])
        .await?;
    // Remembered before anything else can fail: a retry edits it.
    ctx.store
        .set_summary_issue(&org_key, &key(week), number)
        .await
        .map_err(store_err)?;
    // Last week's roll-up is done: close it, as the repository summaries do.
    let zone = keel_core::week::Zone::UTC;
    if let Ok(this) = keel_core::week::Week::named(week, zone)
        && let Some(old) = ctx
            .store
            .summary_issue(&org_key, &key(&this.previous(zone).name))
            .await
            .map_err(store_err)?
    {
        ctx.github
            .update_issue(org_repo, old, None, Some("closed"))
            .await?;
    }
    Ok(())
}
