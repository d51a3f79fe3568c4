//! The debt side of an evaluation: which way a change moves technical debt and why, the
//! register items it touches, and the week's capacity share. Values only; `strategy::debt`
//! decides them.

use crate::config::{CapacityUnit, DebtConfig, ItemId};
use crate::facts::CapacityCounts;
use serde::Serialize;

/// Which way a change moves debt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Only reducing signals.
    Reduced,
    /// Only adding signals.
    Added,
    /// Both.
    Mixed,
    /// Neither.
    Neutral,
}

/// One signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `true`: reduces debt; `false`: adds it.
    pub reduces: bool,
    /// What a person reads.
    pub text: String,
}

/// A register item the change references or touches, with its business impact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TouchedItem {
    /// Its id.
    pub id: ItemId,
    /// Its title.
    pub title: String,
    /// Referenced by id (work on it) rather than only touched through its paths.
    pub referenced: bool,
    /// Its cost in a business lead's words ("slows each feature touching it by ~2 days").
    pub impact: String,
}

/// The debt verdict of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Which way it moves debt (before any override).
    pub direction: Direction,
    /// The label a person put on to say "no debt call"; it wins.
    pub overridden_by: Option<String>,
    /// Every signal, reducing ones first.
    pub reasons: Vec<Reason>,
    /// Register items involved.
    pub items: Vec<TouchedItem>,
}

impl Verdict {
    /// The labels the verdict asks for (none when overridden or neutral).
    pub fn labels<'a>(&self, config: &'a DebtConfig) -> Vec<&'a str> {
        if self.overridden_by.is_some() {
            return Vec::new();
        }
        match self.direction {
            Direction::Reduced => vec![config.labels.reduced.as_str()],
            Direction::Added => vec![config.labels.added.as_str()],
            Direction::Mixed => vec![config.labels.reduced.as_str(), config.labels.added.as_str()],
            Direction::Neutral => Vec::new(),
        }
    }

    /// Records debt taken on purpose (a waiver): a reason that adds debt, so the change counts
    /// as adding it (mixed when it also pays some down).
    pub fn take_on_purpose(&mut self, text: String) {
        self.reasons.push(Reason {
            reduces: false,
            text,
        });
        self.direction = match self.direction {
            Direction::Reduced | Direction::Mixed => Direction::Mixed,
            Direction::Added | Direction::Neutral => Direction::Added,
        };
    }

    /// Whether the change counts as debt work for the capacity share.
    pub fn is_debt_work(&self) -> bool {
        self.overridden_by.is_none()
            && matches!(self.direction, Direction::Reduced | Direction::Mixed)
    }
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
