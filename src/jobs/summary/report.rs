//! The weekly summary from the store: the history the DORA metrics read, the merged pull
//! requests of the week, the default branch's health, gathered into a `WeeklyReport` that the
//! core renders. Used by the summary job and by `keel summary`.

use crate::store::Store;
use keel_core::Config;
use keel_core::config::{Fallback, SummaryConfig};
use keel_core::facts::Metrics;
use keel_core::summary::dora::{self, Source};
use keel_core::summary::report::{
    CycleTimes, FailedCriterion, Health, MergedChange, Outcome, WaiverGiven, WeeklyReport,
};
use keel_core::summary::rollup::RollupRow;
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
    let all = store.merged_pull_requests(repo).await?;
    // When each roadmap item last had merged work, up to the week's end (stale items).
    let mut roadmap_last_merged = std::collections::BTreeMap::new();
    for m in all.iter().filter(|m| m.merged_at < week.end) {
        for item in &m.roadmap_items {
            let last = roadmap_last_merged
                .entry(item.clone())
                .or_insert(m.merged_at);
            *last = (*last).max(m.merged_at);
        }
    }
    let shipped = match source {
        Source::Deployments => dora::shipped_times(&history, source),
        _ => Default::default(),
    };
    let merged = all
        .into_iter()
        .filter(|m| m.merged_at >= week.start && m.merged_at < week.end)
        .map(|m| MergedChange {
            number: m.number,
            by_bot: m.author.as_deref().is_some_and(|a| a.ends_with("[bot]")),
            title: m.title,
            roadmap_items: m.roadmap_items,
            debt: m.debt,
            dod: m.dod,
            changed_lines: m.changed_lines,
            failed_criteria: m
                .failed_criteria
                .into_iter()
                .map(|(title, why)| FailedCriterion { title, why })
                .collect(),
            times: CycleTimes {
                first_commit: m.first_commit_at,
                opened: m.opened_at,
                first_review: m.first_review_at,
                merged: Some(m.merged_at),
                deployed: shipped.get(&m.number).copied(),
            },
        })
        .collect();
    let outcomes = store
        .latest_outcomes(repo, week.end)
        .await?
        .into_iter()
        .map(|(item, (value, at))| {
            let outcome = Outcome {
                value,
                measured_at: Some(at),
            };
            (item, outcome)
        })
        .collect();
    let shown = |w: crate::store::StoredDecision| WaiverGiven {
        number: w.number,
        criterion: w.subject,
        by: w.by,
        reason: w.reason,
        until: w
            .until
            .and_then(|u| keel_core::config::Day::try_from(u).ok()),
        ended: w.ended_at.is_some_and(|e| e < week.end),
    };
    let waivers = store
        .waivers_given(repo, week.start, week.end)
        .await?
        .into_iter()
        .map(shown)
        .collect();
    // The waivers ending within the week after this one, on pull requests still open.
    let last_day = zone.local_date(week.end - 1);
    let waivers_in_force = store
        .waivers_ending(
            repo,
            week.end,
            &last_day.to_string(),
            &(last_day + chrono::Days::new(7)).to_string(),
        )
        .await?
        .into_iter()
        .map(shown)
        .collect();
    let register_cost_before = store
        .summary_row(repo, &week.previous(zone).name)
        .await?
        .and_then(|line| serde_json::from_str::<RollupRow>(&line).ok())
        .and_then(|row| row.register_cost);
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
        waivers_in_force,
        roadmap_last_merged,
        register_cost_before,
        coverage_target: config
            .coverage
            .as_ref()
            .and_then(|c| c.min_total.as_ref())
            .map(|c| c.threshold.0),
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
