//! `/keel waive`: a failing required criterion shipped anyway, on the record. A waiver for the
//! judged commit that has not ended turns the row [`Status::Waived`] (the check passes on that
//! basis, and says so); one given for an earlier commit, or ended, leaves the row failing and
//! says why. Each waiver that applies is debt taken on purpose.

use crate::evaluation::{CriterionResult, Status, WaiverShown};
use crate::facts::{Decision, DecisionKind};
use crate::quote::code;

/// Rows no waiver turns: the integrity of the judgement itself (a definition of done that
/// would stop every later change from being judged; a change not seen whole).
pub const NEVER_WAIVED: &[&str] = &["config.change", "diff.complete", "org.policy", "org.change"];

/// Applies `decisions`' waivers to the failing rows; returns the ids of the rows waived, and
/// adds a note for each waiver that names no failing row.
pub(super) fn apply(
    criteria: &mut [CriterionResult],
    decisions: &[Decision],
    unwaivable: &[String],
    today: Option<chrono::NaiveDate>,
    survive_pushes: bool,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let mut waived = Vec::new();
    for decision in decisions {
        let DecisionKind::Waive {
            criterion,
            reason,
            until,
        } = &decision.kind
        else {
            continue;
        };
        let row = criteria
            .iter_mut()
            .find(|row| row.status == Status::Fail && row.id == *criterion);
        let Some(row) = row else {
            notes.push(format!(
                "The waiver of {} by @{} names no failing criterion: nothing is waived.",
                code(criterion),
                decision.by
            ));
            continue;
        };
        let lapsed = if NEVER_WAIVED.contains(&row.id.as_str()) {
            Some("this criterion is never waived".to_owned())
        } else if unwaivable.contains(&row.id) {
            Some("an organisation hard rule governs it: never waived".to_owned())
        } else if !decision.current && !survive_pushes {
            Some(format!(
                "given for an earlier commit `{}`; `/keel waive` again for this one",
                decision.short_commit()
            ))
        } else {
            match (until, today) {
                (Some(end), Some(today)) if end.0 < today => Some(format!(
                    "ended on {}; pay it off or `/keel waive` again",
                    end
                )),
                // An end date that cannot be checked has passed.
                (Some(_), None) => Some("its end date cannot be checked here".to_owned()),
                _ => None,
            }
        };
        if lapsed.is_none() {
            row.status = Status::Waived;
            waived.push(row.id.clone());
        }
        row.waiver = Some(WaiverShown {
            by: decision.by.clone(),
            reason: reason.clone(),
            until: *until,
            commit: decision.short_commit().to_owned(),
            lapsed,
        });
    }
    waived
}

#[cfg(test)]
mod tests;
