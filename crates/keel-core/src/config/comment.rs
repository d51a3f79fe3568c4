//! `[comment]`: when Keel posts its sticky pull request comment and which sections it shows.
//! The check run always carries everything; the comment is what every engineer reads.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[comment]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentConfig {
    /// When the comment is posted: `always` (default), `on_failure` (only while the definition
    /// of done is not met; Keel deletes its own comment once it is), or `on_change` (first
    /// posted on a failure, then kept up to date, green included).
    #[serde(default)]
    pub when: CommentWhen,
    /// The sections after the first sentence, in order: `why` (roadmap items and hypotheses),
    /// `criteria` (what failed with its specifics; passing rows folded), `debt`, `capacity`.
    #[serde(default = "default_layout")]
    pub layout: Vec<Section>,
    /// No comment at all; the check run still carries everything.
    #[serde(default)]
    pub off: bool,
}

impl Default for CommentConfig {
    fn default() -> Self {
        CommentConfig {
            when: CommentWhen::default(),
            layout: default_layout(),
            off: false,
        }
    }
}

fn default_layout() -> Vec<Section> {
    vec![
        Section::Why,
        Section::Criteria,
        Section::Debt,
        Section::Capacity,
    ]
}

/// When the comment is posted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommentWhen {
    /// On every evaluation.
    #[default]
    Always,
    /// Only while the definition of done is not met.
    OnFailure,
    /// From the first failure on.
    OnChange,
}

/// A section of the comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The roadmap items the change serves, with their hypotheses.
    Why,
    /// The definition of done: what failed with its specifics, the rest folded.
    Criteria,
    /// The debt verdict and the register items involved.
    Debt,
    /// The week's debt capacity.
    Capacity,
}
