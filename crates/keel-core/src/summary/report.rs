//! What the weekly summary shows, gathered into one value the renderer formats.

use super::dora::{Source, WeekMetrics};
use crate::config::{DebtConfig, RoadmapItem};
use serde::Serialize;

/// A pull request merged in the week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedChange {
    /// Number.
    pub number: u64,
    /// Title, when Keel evaluated it.
    pub title: Option<String>,
    /// Linked roadmap items.
    pub roadmap_items: Vec<String>,
    /// Debt verdict (`reduced`, `added`, `mixed`, `neutral`, `overridden`).
    pub debt: Option<String>,
    /// Definition-of-done conclusion at its last evaluation.
    pub dod: Option<String>,
    /// Changed lines.
    pub changed_lines: Option<u64>,
    /// Criteria that failed at its last evaluation.
    pub failed_criteria: Vec<FailedCriterion>,
    /// When its work went through each step: the cycle-time breakdown.
    #[serde(default)]
    pub times: CycleTimes,
    /// The author is a bot (Dependabot, Renovate, …): its work is upkeep.
    #[serde(default)]
    pub by_bot: bool,
}

/// A criterion that failed, with the business reason the config gives for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedCriterion {
    /// Its title ("Patch coverage").
    pub title: String,
    /// Its `why` from the config, when one was written.
    pub why: Option<String>,
}

/// The steps of a merged pull request, unix ms; each where known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CycleTimes {
    /// Its first commit.
    pub first_commit: Option<i64>,
    /// Opened.
    pub opened: Option<i64>,
    /// Its first review.
    pub first_review: Option<i64>,
    /// Merged.
    pub merged: Option<i64>,
    /// Shipped: the deployment that contains its merge (as the lead time pairs them).
    pub deployed: Option<i64>,
}

/// What a merged pull request was spent on (the investment balance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Investment {
    /// Linked to a roadmap item.
    Feature,
    /// Reduced debt (and served no roadmap item).
    Debt,
    /// A bot's change (dependency updates and the like).
    Upkeep,
    /// None of these: work the roadmap does not explain.
    Unlinked,
}

impl MergedChange {
    /// Whether it paid debt down (alone or with some added).
    pub fn reduced_debt(&self) -> bool {
        matches!(self.debt.as_deref(), Some("reduced" | "mixed"))
    }

    /// What it was spent on: a roadmap item first, then debt paid down, then a bot's upkeep.
    pub fn investment(&self) -> Investment {
        if !self.roadmap_items.is_empty() {
            Investment::Feature
        } else if self.reduced_debt() {
            Investment::Debt
        } else if self.by_bot {
            Investment::Upkeep
        } else {
            Investment::Unlinked
        }
    }
}

/// A measured outcome of a roadmap item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outcome {
    /// The measured value (`keel outcome R-12 -11.5`).
    pub value: f64,
    /// When it was measured, unix ms (`None`: from the outcomes file, undated).
    pub measured_at: Option<i64>,
}

/// Non-functional health at the end of a week (the default branch's last baseline).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// The week.
    pub week: String,
    /// Total line coverage, percent.
    pub coverage: Option<f64>,
    /// Open findings.
    pub findings: Option<u64>,
    /// Benchmark results.
    #[serde(default)]
    pub benchmarks: Vec<crate::report::bench::Measurement>,
}

/// Everything one weekly summary issue says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyReport {
    /// `owner/name`.
    pub repo: String,
    /// DORA metrics, oldest first; the last is the summarised week (up to 8).
    pub weeks: Vec<WeekMetrics>,
    /// What counted as a deployment.
    pub source: Source,
    /// Pull requests merged in the week.
    pub merged: Vec<MergedChange>,
    /// Roadmap items.
    pub roadmap: Vec<RoadmapItem>,
    /// The debt config (register, capacity target).
    pub debt: Option<DebtConfig>,
    /// Coverage and findings per week, oldest first.
    pub health: Vec<Health>,
    /// The latest measured outcome per roadmap item (`keel outcome`).
    pub outcomes: std::collections::BTreeMap<String, Outcome>,
    /// Waivers given in the week (`/keel waive`): debt taken on purpose.
    #[serde(default)]
    pub waivers: Vec<WaiverGiven>,
    /// Waivers in force on pull requests still open that end within the week after this one.
    #[serde(default)]
    pub waivers_in_force: Vec<WaiverGiven>,
    /// When each roadmap item last had a merged pull request, unix ms (stale items).
    #[serde(default)]
    pub roadmap_last_merged: std::collections::BTreeMap<String, i64>,
    /// The register's monthly cost as last week's summary recorded it (the trend).
    #[serde(default)]
    pub register_cost_before: Option<f64>,
    /// The team's coverage target: `[coverage] min_total`, when set.
    #[serde(default)]
    pub coverage_target: Option<f64>,
}

impl WeeklyReport {
    /// The share of merged pull requests that reduced debt (0 without merges).
    pub fn debt_share(&self) -> f64 {
        let reduced = self.merged.iter().filter(|m| m.reduced_debt()).count();
        reduced as f64 / self.merged.len().max(1) as f64
    }

    /// The share of judged merged pull requests that met their definition of done, with how
    /// many were judged; `None` when none was.
    pub fn dod_pass_rate(&self) -> Option<(f64, usize)> {
        let judged: Vec<_> = self.merged.iter().filter(|m| m.dod.is_some()).collect();
        let passed = judged
            .iter()
            .filter(|m| m.dod.as_deref() == Some("success"))
            .count();
        (!judged.is_empty()).then(|| (passed as f64 / judged.len() as f64, judged.len()))
    }

    /// Deployments a week, averaged over up to four of the latest weeks with data (the
    /// deployment frequency band's measure).
    pub fn deployments_per_week(&self) -> f64 {
        let observed: Vec<u64> = self
            .weeks
            .iter()
            .rev()
            .filter(|w| w.observed)
            .take(4)
            .map(|w| w.deployments)
            .collect();
        observed.iter().sum::<u64>() as f64 / observed.len().max(1) as f64
    }

    /// The register's total monthly cost, when any item has one.
    pub fn register_cost(&self) -> Option<f64> {
        let items = self.debt.as_ref()?.items.iter();
        let costs: Vec<f64> = items.filter_map(|i| i.cost_per_month).collect();
        (!costs.is_empty()).then(|| costs.iter().sum())
    }
}

/// A waiver given in the week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaiverGiven {
    /// The pull request.
    pub number: u64,
    /// The criterion's id (`coverage.patch`).
    pub criterion: String,
    /// Who gave it.
    pub by: String,
    /// Why (the commenter's words).
    pub reason: String,
    /// Its last day.
    pub until: Option<crate::config::Day>,
    /// Ended early (`/keel unwaive`, or given again).
    pub ended: bool,
}
