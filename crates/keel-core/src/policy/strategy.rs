//! Roadmap links and the debt verdict as criteria: `[roadmap] require_link` and
//! `[debt] blocking`. Both are computed whenever their section exists, for the comment.

use super::scope::{Paperwork, without_owned_labels};
use super::{Outcome, Row, SkipReason, code};
use crate::config::RoadmapItem;
use crate::config::{Config, Level};
use crate::evaluation::debt::{Capacity, Direction};
use crate::evaluation::debt::{Reason, Verdict};
use crate::evaluation::roadmap::RoadmapOutcome;
use crate::evaluation::roadmap::{Link, LinkReason};
use crate::facts::{Decision, DecisionKind, Facts};
use crate::strategy::{debt, roadmap};

/// Whether decisions given for an earlier commit still hold (`[commands] survive_pushes`).
fn survive(config: &Config) -> bool {
    config.commands.as_ref().is_some_and(|c| c.survive_pushes)
}

/// Whether a decision holds for the judged commit; one that does not is noted.
fn holds(d: &Decision, what: &str, survive: bool, notes: &mut Vec<String>) -> bool {
    if d.current || survive {
        return true;
    }
    notes.push(format!(
        "{what} by @{} was given for an earlier commit `{}`: say it again for this one.",
        d.by,
        d.short_commit()
    ));
    false
}

/// `/keel link` and `/keel unlink`: a link the judged commit was given, or one taken away.
fn commanded_links(
    items: &[RoadmapItem],
    links: &mut Vec<Link>,
    facts: &Facts,
    survive: bool,
    notes: &mut Vec<String>,
) {
    for d in &facts.decisions {
        match &d.kind {
            DecisionKind::Link(id) => {
                let Some(item) = items.iter().find(|i| i.id.0 == *id) else {
                    continue;
                };
                if !holds(d, &format!("`/keel link {id}`"), survive, notes) {
                    continue;
                }
                let reason = LinkReason::Command {
                    login: d.by.clone(),
                };
                match links.iter_mut().find(|l| l.item.id.0 == *id) {
                    Some(link) => link.reasons.insert(0, reason),
                    None => links.push(Link {
                        item: item.clone(),
                        reasons: vec![reason],
                    }),
                }
            }
            DecisionKind::Unlink(id)
                if holds(d, &format!("`/keel unlink {id}`"), survive, notes)
                    && links.iter().any(|l| l.item.id.0 == *id) =>
            {
                links.retain(|l| l.item.id.0 != *id);
                notes.push(format!("{} was unlinked by @{}.", code(id), d.by));
            }
            _ => {}
        }
    }
}

/// `/keel debt reduced|added|none`: a person's call wins over Keel's signals (which stay
/// listed).
fn debt_call(verdict: &mut Verdict, facts: &Facts, survive: bool, notes: &mut Vec<String>) {
    use crate::commands::DebtCall;
    let Some((d, call)) = facts.decisions.iter().rev().find_map(|d| match &d.kind {
        DecisionKind::Debt(call) => Some((d, *call)),
        _ => None,
    }) else {
        return;
    };
    let word = match call {
        DebtCall::Reduced => "reduced",
        DebtCall::Added => "added",
        DebtCall::None => "none",
    };
    if !holds(d, &format!("`/keel debt {word}`"), survive, notes) {
        return;
    }
    verdict.direction = match call {
        DebtCall::Reduced => Direction::Reduced,
        DebtCall::Added => Direction::Added,
        DebtCall::None => Direction::Neutral,
    };
    verdict.reasons.insert(
        0,
        Reason {
            reduces: call == DebtCall::Reduced,
            text: format!(
                "@{} called it with `/keel debt {word}`, over the signals below",
                d.by
            ),
        },
    );
}

pub(super) fn evaluate(config: &Config, paperwork: &Paperwork, facts: &Facts, out: &mut Outcome) {
    let pr = facts
        .pull_request
        .as_ref()
        .map(|p| without_owned_labels(config, p));
    if let Some(r) = &config.roadmap {
        let mut links = roadmap::link(&r.items, pr.as_ref(), facts.diff.as_ref());
        commanded_links(&r.items, &mut links, facts, survive(config), &mut out.notes);
        let upkeep = match paperwork {
            Paperwork::Upkeep(why) => Some(why.clone()),
            Paperwork::ExemptAuthor(who) => Some(format!("{who}, an exempt author")),
            Paperwork::Asked => None,
        };
        if let Some(c) = &r.require_link
            && c.threshold
        {
            let row = Row::new("roadmap.link", "Roadmap link", c.level, c.why.as_ref())
                .threshold("an item, or marked as upkeep");
            let row = if let Some(first) = links.first() {
                let ids: Vec<String> = links.iter().map(|l| l.item.id.to_string()).collect();
                row.actual(ids.join(", ")).judged(
                    true,
                    format!(
                        "linked to {} ({})",
                        code(&first.item.id.0),
                        first.reasons[0].describe()
                    ),
                )
            } else if let Paperwork::ExemptAuthor(who) = paperwork {
                row.unjudged(SkipReason::Exempt, format!("exempt: {who}"))
            } else if let Some(why) = &upkeep {
                row.actual("upkeep")
                    .judged(true, format!("no roadmap item, but {why}"))
            } else {
                row.actual("none").judged(
                    false,
                    "no roadmap item is linked, and nothing marks the change as upkeep (a `fix:`, `docs:` or `chore:` title, an upkeep label)",
                )
            };
            out.push(row);
        }
        out.roadmap = Some(RoadmapOutcome { links, upkeep });
    }
    if let Some(d) = &config.debt {
        let mut verdict = debt::classify(&debt::Inputs {
            config: d,
            pr: pr.as_ref(),
            diff: facts.diff.as_ref(),
            debt_issues: &facts.debt_issues,
            baseline: facts.baseline.as_ref(),
            current: &out.metrics,
            performance: &out.performance,
        });
        if d.blocking {
            let adds = verdict.overridden_by.is_none()
                && matches!(verdict.direction, Direction::Added | Direction::Mixed);
            let row = Row::new("debt.added", "Technical debt", Level::Required, None)
                .threshold("none added");
            let row = if adds {
                let why: Vec<&str> = verdict
                    .reasons
                    .iter()
                    .filter(|r| !r.reduces)
                    .map(|r| r.text.as_str())
                    .collect();
                row.actual("added").judged(false, why.join("; "))
            } else if let Some(label) = &verdict.overridden_by {
                row.actual("overridden").judged(
                    true,
                    format!("the label {} says there is no debt call", code(label)),
                )
            } else {
                row.actual("none added")
                    .judged(true, "no signal of added debt")
            };
            out.push(row);
        }
        // After the gate's row: a person's call labels and counts the change, but never
        // turns a blocking debt row green (only a waiver does, on the record).
        debt_call(&mut verdict, facts, survive(config), &mut out.notes);
        if let Some(counts) = &facts.capacity {
            out.capacity = Some(Capacity {
                counts: counts.clone(),
                unit: d.capacity_unit,
                share: (counts.merged > 0).then(|| counts.debt as f64 / counts.merged as f64),
                target: d.capacity_target,
            });
        }
        out.debt = Some(verdict);
    }
}
