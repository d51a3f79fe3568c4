//! Roadmap links and the debt verdict as criteria: `[roadmap] require_link` and
//! `[debt] blocking`. Both are computed whenever their section exists, for the comment.

use super::scope::Paperwork;
use super::{Outcome, Row, SkipReason, code};
use crate::config::{Config, Level};
use crate::evaluation::debt::{Capacity, Direction};
use crate::evaluation::roadmap::RoadmapOutcome;
use crate::facts::Facts;
use crate::strategy::{debt, roadmap};

pub(super) fn evaluate(config: &Config, paperwork: &Paperwork, facts: &Facts, out: &mut Outcome) {
    if let Some(r) = &config.roadmap {
        let links = roadmap::link(&r.items, facts.pull_request.as_ref(), facts.diff.as_ref());
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
        let verdict = debt::classify(&debt::Inputs {
            config: d,
            pr: facts.pull_request.as_ref(),
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
