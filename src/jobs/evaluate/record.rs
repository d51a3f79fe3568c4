//! What the store keeps of an evaluation until the pull request merges: the debt capacity,
//! the weekly summary and `/keel waive` read it.

use crate::github::event::PullRequestInfo;
use crate::store::EvaluationRecord;
use keel_core::evaluation::Evaluation;
use keel_core::facts::Facts;

/// What the store keeps of an evaluation until the pull request merges.
pub(super) fn record(
    pr: &PullRequestInfo,
    facts: &Facts,
    evaluation: &Evaluation,
) -> EvaluationRecord {
    use keel_core::evaluation::debt::Direction;
    let failed: Vec<_> = evaluation
        .criteria
        .iter()
        .filter(|c| c.status == keel_core::evaluation::Status::Fail)
        .collect();
    EvaluationRecord {
        title: pr.title.clone(),
        author: pr.author.clone(),
        changed_lines: facts.diff.as_ref().map_or(0, |d| {
            d.files
                .iter()
                .map(|f| u64::from(f.added) + u64::from(f.removed))
                .sum()
        }),
        roadmap_items: evaluation
            .roadmap
            .iter()
            .flat_map(|r| r.links.iter().map(|l| l.item.id.0.clone()))
            .collect(),
        debt: evaluation.debt.as_ref().map(|v| {
            if v.overridden_by.is_some() {
                "overridden"
            } else {
                match v.direction {
                    Direction::Reduced => "reduced",
                    Direction::Added => "added",
                    Direction::Mixed => "mixed",
                    Direction::Neutral => "neutral",
                }
            }
            .to_owned()
        }),
        dod: evaluation.conclusion.as_str().to_owned(),
        failed_criteria: failed
            .iter()
            // A reason is a sentence or two: what a summary quotes is bounded.
            .map(|c| {
                (
                    c.title.clone(),
                    c.why.as_ref().map(|w| w.chars().take(500).collect()),
                )
            })
            .collect(),
        failed_ids: failed.iter().map(|c| c.id.clone()).collect(),
        head_sha: pr.head_sha.0.clone(),
    }
}
