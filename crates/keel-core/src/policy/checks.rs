//! Other check runs that must have succeeded, folded into Keel's one gate. Where they cannot
//! be read (the CLI), a required one fails its row rather than being skipped.

use super::{Outcome, Row, code};
use crate::config::ChecksConfig;
use crate::facts::{CheckRunState, Facts};
use crate::units::thousands;

pub(super) fn evaluate(c: &ChecksConfig, facts: &Facts, out: &mut Outcome) {
    for name in &c.required {
        let row = Row::new(
            format!("checks.{name}"),
            format!("Check {}", code(name)),
            c.level,
            c.why.as_ref(),
        )
        .threshold("success");
        // A required check that cannot be seen is not met: the gate never passes on what it
        // could not check.
        let Some(runs) = &facts.check_runs else {
            out.push(row.actual("unknown").judged(
                false,
                "other check runs are known only on GitHub, where the App and the Action read them",
            ));
            continue;
        };
        // The latest run of that name from each app counts, and every one must succeed: a
        // run of the same name from another app (a workflow job can be called anything)
        // cannot stand in for the real one.
        let named: Vec<&CheckRunState> = runs.iter().filter(|r| &r.name == name).collect();
        let by = |r: &CheckRunState| match &r.app {
            Some(app) => format!(" (by {})", code(app)),
            None => String::new(),
        };
        let running = named.iter().find(|r| r.conclusion.is_none());
        let failed = named.iter().find(|r| {
            !matches!(
                r.conclusion.as_deref(),
                None | Some("success" | "neutral" | "skipped")
            )
        });
        // Past the runs the shell read, a failure of this name cannot be ruled out.
        let unread = facts.check_runs_cut.map(|(read, total)| {
            format!(
                "Keel read {} of the commit's {} check runs, and a later run of this name may have failed",
                thousands(read as f64),
                thousands(total as f64)
            )
        });
        out.push(match (named.first(), failed, running) {
            (None, _, _) => row.actual("not reported").judged(
                false,
                match &unread {
                    Some(why) => format!("no check run named {} found: {why}", code(name)),
                    None => format!("no check run named {} on this commit", code(name)),
                },
            ),
            (_, Some(run), _) => {
                let c = run.conclusion.clone().unwrap_or_default();
                let explanation = format!("concluded {c}{}", by(run));
                row.actual(c).judged(false, explanation)
            }
            (_, None, Some(run)) => row
                .actual("in progress")
                .judged(false, format!("still running{}", by(run))),
            (Some(run), None, None) => {
                let c = run.conclusion.clone().unwrap_or_default();
                match &unread {
                    Some(why) => row
                        .actual("unknown")
                        .judged(false, format!("concluded {c}, but {why}")),
                    None => row.actual(c.clone()).judged(true, format!("concluded {c}")),
                }
            }
        });
    }
}
