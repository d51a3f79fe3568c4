//! The roadmap side of an evaluation: the items a change serves and how each link was found.
//! Values only; `strategy::roadmap` finds them.

use crate::config::RoadmapItem;
use crate::quote::code;
use serde::Serialize;

/// How a change was linked to an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum LinkReason {
    /// The id appears in the title.
    Title,
    /// A `Roadmap: R-12` trailer in the description.
    Trailer,
    /// The id appears in the description.
    Body,
    /// The id appears in the branch name.
    Branch,
    /// The change fixes or closes one of the item's issues.
    Issue {
        /// The issue.
        number: u64,
    },
    /// The change carries one of the item's labels.
    Label {
        /// The label.
        name: String,
    },
    /// The change is in the item's milestone.
    Milestone {
        /// The milestone.
        name: String,
    },
    /// Someone said so with `/keel link` on the judged commit.
    Command {
        /// Who.
        login: String,
    },
    /// A changed file is under the item's paths.
    Path {
        /// The first such file.
        file: String,
        /// How many changed files are.
        count: usize,
    },
}

impl LinkReason {
    /// How it reads in a comment.
    pub fn describe(&self) -> String {
        match self {
            LinkReason::Title => "named in the title".into(),
            LinkReason::Trailer => "`Roadmap:` trailer".into(),
            LinkReason::Body => "named in the description".into(),
            LinkReason::Branch => "named in the branch".into(),
            LinkReason::Issue { number } => format!("fixes #{number}, one of its issues"),
            LinkReason::Label { name } => format!("label {}", code(name)),
            LinkReason::Milestone { name } => format!("milestone {}", code(name)),
            LinkReason::Command { login } => format!("`/keel link` by @{login}"),
            LinkReason::Path { file, count: 1 } => format!("changes {}", code(file)),
            LinkReason::Path { file, count } => {
                format!("changes {} and {} more of its files", code(file), count - 1)
            }
        }
    }
}

/// A roadmap item the change is linked to, with every way it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The item.
    pub item: RoadmapItem,
    /// How, strongest first.
    pub reasons: Vec<LinkReason>,
}

/// The roadmap side of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoadmapOutcome {
    /// Items the change is linked to.
    pub links: Vec<Link>,
    /// When no item is linked: what marks the change as upkeep (a fix, a chore, debt work).
    pub upkeep: Option<String>,
}
