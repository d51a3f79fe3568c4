//! Other check runs that must have succeeded, folded into Keel's one gate. Where they cannot
//! be read (the CLI), a required one fails its row rather than being skipped.

use super::{Outcome, Row, code};
use crate::config::ChecksConfig;
use crate::facts::Facts;

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
        // The latest run of that name counts (GitHub lists newest first).
        out.push(match runs.iter().find(|r| &r.name == name) {
            None => row.actual("not reported").judged(
                false,
                format!("no check run named {} on this commit", code(name)),
            ),
            Some(run) => match run.conclusion.as_deref() {
                None => row.actual("in progress").judged(false, "still running"),
                Some(c @ ("success" | "neutral" | "skipped")) => row
                    .actual(c.to_owned())
                    .judged(true, format!("concluded {c}")),
                Some(c) => row
                    .actual(c.to_owned())
                    .judged(false, format!("concluded {c}")),
            },
        });
    }
}
