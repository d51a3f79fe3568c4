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
    pub failed_criteria: Vec<String>,
    /// Hours from opening to the first review.
    pub review_wait_hours: Option<f64>,
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
    pub outcomes: std::collections::BTreeMap<String, f64>,
    /// Waivers given in the week (`/keel waive`): debt taken on purpose.
    #[serde(default)]
    pub waivers: Vec<WaiverGiven>,
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
