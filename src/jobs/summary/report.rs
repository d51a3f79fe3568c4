//! The weekly summary from the store: the history the DORA metrics read, the merged pull
//! requests of the week, the default branch's health, gathered into a `WeeklyReport` that the
//! core renders. Used by the summary job and by `keel summary`.

use crate::store::Store;
use keel_core::Config;
use keel_core::config::{Fallback, SummaryConfig};
use keel_core::facts::Metrics;
use keel_core::summary::dora::{self, Source};
use keel_core::summary::report::{Health, MergedChange, WaiverGiven, WeeklyReport};
use keel_core::week::Week;

/// Weeks of DORA history shown (the chart and the trends).
pub const WEEKS_SHOWN: usize = 8;

/// Gathers the report of `week` for `repo` under `config`.
pub async fn gather(
    store: &Store,
    repo: &str,
    config: &Config,
    week: &Week,
) -> anyhow::Result<WeeklyReport> {
    let sc = config.summary.clone().unwrap_or_default();
    let zone = sc.timezone.0;
    let history = store
        .history(repo, &sc.environments, &sc.incident_label)
        .await?;
    let fallback = match sc.fallback {
        Fallback::Merges => Source::Merges,
        Fallback::Releases => Source::Releases,
    };
    let source = dora::source(&history, fallback);
    let mut weeks = Vec::with_capacity(WEEKS_SHOWN);
    let mut health = Vec::with_capacity(WEEKS_SHOWN);
    let mut w = week.clone();
    for _ in 0..WEEKS_SHOWN {
        weeks.push(dora::week_metrics(&history, &w, source));
        health.push(health_of(store, repo, &w).await?);
        w = w.previous(zone);
    }
    weeks.reverse();
    health.reverse();
    let merged = store
        .merged_pull_requests(repo)
        .await?
        .into_iter()
        .filter(|m| m.merged_at >= week.start && m.merged_at < week.end)
        .map(|m| MergedChange {
            number: m.number,
            title: m.title,
            roadmap_items: m.roadmap_items,
            debt: m.debt,
            dod: m.dod,
            changed_lines: m.changed_lines,
            failed_criteria: m.failed_criteria,
            review_wait_hours: match (m.opened_at, m.first_review_at) {
                (Some(o), Some(r)) if r >= o => Some((r - o) as f64 / 3_600_000.0),
                _ => None,
            },
        })
        .collect();
    let outcomes = store.latest_outcomes(repo, week.end).await?;
    let waivers = store
        .waivers_given(repo, week.start, week.end)
        .await?
        .into_iter()
        .map(|w| WaiverGiven {
            number: w.number,
            criterion: w.subject,
            by: w.by,
            reason: w.reason,
            until: w
                .until
                .and_then(|u| keel_core::config::Day::try_from(u).ok()),
            ended: w.ended_at.is_some(),
        })
        .collect();
    Ok(WeeklyReport {
        repo: repo.to_owned(),
        weeks,
        source,
        merged,
        roadmap: config
            .roadmap
            .as_ref()
            .map(|r| r.items.clone())
            .unwrap_or_default(),
        debt: config.debt.clone(),
        health,
        outcomes,
        waivers,
    })
}

/// The default branch's coverage and findings at the end of `week` (its last baseline).
async fn health_of(store: &Store, repo: &str, week: &Week) -> anyhow::Result<Health> {
    let last = store
        .baselines_between(repo, week.start, week.end)
        .await?
        .pop()
        .and_then(|(_, json)| serde_json::from_slice::<Metrics>(&json).ok());
    Ok(Health {
        week: week.name.clone(),
        coverage: last
            .as_ref()
            .and_then(|m| m.coverage.as_ref())
            .and_then(|c| c.lines.percent()),
        findings: last
            .as_ref()
            .and_then(|m| m.findings.as_ref())
            .map(|f| f.count),
        benchmarks: last.map(|m| m.benchmarks).unwrap_or_default(),
    })
}

/// The week a summary due at `due_ms` reports: the one that ended before it.
pub fn reported_week(sc: &SummaryConfig, due_ms: i64) -> Week {
    Week::containing(due_ms, sc.timezone.0).previous(sc.timezone.0)
}
