//! The weekly summary job: one issue per repository and week, labelled `keel-summary`, edited
//! in place when the same week is written again, and last week's closed when a new one opens.

pub mod report;
pub mod rollup;

use super::{CONFIG_PATH, Context, JobError};
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use keel_core::Config;
use keel_core::render::summary::{SUMMARY_LABEL, body, title};
use keel_core::week::Week;

/// Writes the summary of `week`, or — without one — of the week before the schedule's last due
/// time, if it was not written yet.
pub async fn write<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    week: Option<&str>,
) -> Result<(), JobError> {
    let scheduled = week.is_none();
    // Until then the hourly check passes this repository by (a push to the default branch,
    // which may change the config, brings the check back sooner).
    let check_again = |at: Option<i64>| async move {
        if scheduled {
            let at = at.unwrap_or(ctx.now.saturating_add(NO_SCHEDULE_RECHECK_MS));
            ctx.store.set_summary_check(&repo.name.0, Some(at)).await?;
        }
        Ok::<(), JobError>(())
    };
    let config = match default_branch_config(ctx.github, repo).await {
        Ok(Some(config)) => config,
        Ok(None) => {
            tracing::info!(repo = %repo.name, "no .github/keel.toml on the default branch: no summary");
            return check_again(None).await;
        }
        Err(JobError::Permanent(error)) => {
            check_again(None).await?;
            return Err(JobError::Permanent(error));
        }
        Err(other) => return Err(other),
    };
    let sc = config.summary.clone().unwrap_or_default();
    if !sc.enabled {
        tracing::info!(repo = %repo.name, "[summary] enabled = false: no summary");
        return check_again(None).await;
    }
    let zone = sc.timezone.0;
    let week = match week {
        Some(name) => Week::named(name, zone).map_err(JobError::Permanent)?,
        None => {
            let Some(due) = sc.schedule.last_due(ctx.now, zone) else {
                return check_again(sc.schedule.next_due(ctx.now, zone)).await;
            };
            let week = report::reported_week(&sc, due);
            if ctx
                .store
                .summary_issue(&repo.name.0, &week.name)
                .await?
                .is_some()
            {
                return check_again(sc.schedule.next_due(ctx.now, zone)).await;
            }
            week
        }
    };
    post(ctx, repo, &config, &week).await?;
    check_again(sc.schedule.next_due(ctx.now, zone)).await
}

/// The default branch's config (`HEAD` resolves to it), as the summary reads it (the
/// dashboard too): `None` without one, a permanent error when it does not parse.
pub async fn default_branch_config<G: GitHubApi>(
    github: &G,
    repo: &Repo,
) -> Result<Option<Config>, JobError> {
    let head = CommitSha("HEAD".into());
    let Some(bytes) = github.file_at(repo, CONFIG_PATH, &head).await? else {
        return Ok(None);
    };
    super::evaluate::parse_config(bytes)
        .map(Some)
        .map_err(JobError::Permanent)
}

/// Without a config (or a schedule that never fires), a repository's summary is checked
/// again after this long, in case a push that changed it went unseen.
const NO_SCHEDULE_RECHECK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

async fn post<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    week: &Week,
) -> Result<(), JobError> {
    let sc = config.summary.clone().unwrap_or_default();
    let mut report = report::gather(ctx.store, &repo.name.0, config, week).await?;
    if let Some(path) = &sc.outcomes_file {
        let head = CommitSha("HEAD".into());
        if let Some(bytes) = ctx.github.file_at(repo, path, &head).await? {
            let measured = parse_outcomes(path, &bytes)?
                .into_iter()
                .map(|(item, value)| {
                    let outcome = keel_core::summary::report::Outcome {
                        value,
                        measured_at: None,
                    };
                    (item, outcome)
                });
            report.outcomes.extend(measured);
        }
    }
    let text = body(&report);
    let name = title(&repo.name.0, &week.name);
    let known = match ctx.store.summary_issue(&repo.name.0, &week.name).await? {
        Some(number) => Some(number),
        // An earlier attempt may have opened it and died before remembering it.
        None => ctx.github.find_issue(repo, SUMMARY_LABEL, &name).await?,
    };
    let number = match known {
        Some(number) => {
            ctx.github
                .update_issue(repo, number, Some(&text), None)
                .await?;
            ctx.store
                .set_summary_issue(&repo.name.0, &week.name, number)
                .await?;
            number
        }
        None => {
            let number = ctx
                .github
                .create_issue(repo, &name, &text, &[SUMMARY_LABEL.to_owned()])
                .await?;
            ctx.store
                .set_summary_issue(&repo.name.0, &week.name, number)
                .await?;
            if sc.close_previous {
                let previous = week.previous(sc.timezone.0);
                if let Some(old) = ctx
                    .store
                    .summary_issue(&repo.name.0, &previous.name)
                    .await?
                {
                    ctx.github
                        .update_issue(repo, old, None, Some("closed"))
                        .await?;
                }
            }
            number
        }
    };
    rollup::keep_line(ctx, repo, config, &report, &week.name, number).await;
    Ok(())
}

/// Enqueues one summary check per installed repository for the hour of `now_ms`, skipping those
/// whose next check is not due (see [`write`]): an hour in which no summary is due costs no
/// API call. The job id
/// names the repository and the hour, so several replicas (and restarts) enqueue each once; a
/// check posts the summary when the schedule came due and it was not written yet, so a run
/// missed while the server was down happens at the first check after start-up, once.
pub async fn enqueue_checks(store: &crate::store::Store, now_ms: i64) -> anyhow::Result<usize> {
    use crate::github::event::Event;
    use crate::github::{InstallationId, RepoName};
    let hour = now_ms.div_euclid(3_600_000);
    let mut inserted = 0;
    for (repo, installation) in store.repos_due_for_summary(now_ms).await? {
        let event = Event::WeeklySummary {
            installation: InstallationId(installation),
            repo: RepoName(repo.clone()),
            week: None,
        };
        let job = super::event_job(&event, None, Some(format!("summary:{repo}:{hour}")), now_ms)?;
        if store.enqueue(&job, now_ms).await?.stored() {
            inserted += 1;
        }
    }
    Ok(inserted)
}

/// `R-12 = 9.5` lines of an outcomes file.
pub fn parse_outcomes(path: &str, bytes: &[u8]) -> Result<Vec<(String, f64)>, JobError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| JobError::Permanent(format!("{path}: not UTF-8 text")))?;
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| JobError::Permanent(format!("{path}: {}", e.message())))?;
    table
        .into_iter()
        .map(|(item, value)| match value {
            toml::Value::Float(v) => Ok((item, v)),
            toml::Value::Integer(v) => Ok((item, v as f64)),
            other => Err(JobError::Permanent(format!(
                "{path}: `{item}` must be a number, not {}",
                other.type_str()
            ))),
        })
        .collect()
}
