//! Why a change exists and what it does to technical debt: roadmap links ([`roadmap`]) and
//! the debt verdict ([`debt`]), both pure functions of the config and the facts. The policy
//! turns them into criteria where the config asks ([`crate::policy`]), the renderers into the
//! sticky comment.

pub mod debt;
pub mod roadmap;

use crate::config::CapacityUnit;

/// `value` as a code span in our own sentences; backticks inside become `'`.
pub(crate) fn code(value: &str) -> String {
    format!("`{}`", value.replace('`', "'"))
}
use serde::{Deserialize, Serialize};

/// The roadmap side of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoadmapOutcome {
    /// Items the change is linked to.
    pub links: Vec<roadmap::Link>,
    /// When no item is linked: what marks the change as upkeep (a fix, a chore, debt work).
    pub upkeep: Option<String>,
}

/// Merged work so far this week, counted by the shell from its store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityCounts {
    /// The ISO week, like `2026-W48`.
    pub week: String,
    /// Merged pull requests (or their changed lines) this week.
    pub merged: u64,
    /// Of those, debt work.
    pub debt: u64,
}

/// The share of merged work that went to debt this week, against the team's target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    /// The counts.
    pub counts: CapacityCounts,
    /// What they count.
    pub unit: CapacityUnit,
    /// `debt / merged`, 0 to 1; `None` with nothing merged yet.
    pub share: Option<f64>,
    /// The target, 0 to 1.
    pub target: Option<f64>,
}

#[cfg(test)]
mod tests;
