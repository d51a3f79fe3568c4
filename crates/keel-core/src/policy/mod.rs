//! `evaluate(&Config, &Facts) -> Evaluation`: the one pure decision function.
//!
//! One module per criterion family; each adds its rows, annotations and metrics to an
//! [`Outcome`]. Nothing here reads a clock, a file or the network.

mod checks;
mod coverage;
mod hygiene;
pub mod paths;
mod performance;
pub mod scope;
mod security;
mod strategy;
pub mod waivers;

use crate::config::OnSkip;
use crate::config::{Config, Level};
use crate::evaluation::{
    Annotation, BenchOutcome, Conclusion, CoverageOutcome, CriterionResult, Dismissed, Evaluation,
    SecurityOutcome, SkipReason, Specific, Status,
};
use crate::facts::{Facts, METRICS_VERSION, Metrics};
use crate::quote::code;

/// Evaluates a change against a definition of done.
pub fn evaluate(config: &Config, facts: &Facts) -> Evaluation {
    let mut out = Outcome::default();
    let exempt = config.exempt();
    let scoped = |affects: &crate::glob::PathGlobs| match scope::affected(
        affects,
        exempt,
        facts.diff.as_ref(),
    ) {
        scope::Affected::Yes => None,
        scope::Affected::No(why) => Some(why),
    };
    let coverage_scope = config.coverage.as_ref().and_then(|c| scoped(&c.affects));
    coverage::evaluate(config.coverage.as_ref(), coverage_scope, facts, &mut out);
    let security_scope = config.security.as_ref().and_then(|c| scoped(&c.affects));
    security::evaluate(config.security.as_ref(), security_scope, facts, &mut out);
    let performance_scope = config.performance.as_ref().and_then(|c| scoped(&c.affects));
    performance::evaluate(
        config.performance.as_ref(),
        performance_scope,
        facts,
        &mut out,
    );
    let paperwork = scope::Paperwork::of(config, facts);
    if let Some(h) = &config.hygiene {
        hygiene::evaluate(h, &paperwork, facts, &mut out);
    }
    if let Some(c) = &config.checks {
        checks::evaluate(c, facts, &mut out);
    }
    if let Some(change) = &facts.config_change {
        config_change(change, &mut out);
    }
    if let Some(why) = &facts.org_change_invalid {
        let row = Row::new(
            "org.change",
            "Change to keel-org.toml",
            Level::Required,
            None,
        )
        .threshold("valid")
        .actual("invalid");
        out.push(row.judged(
            false,
            format!("the new organisation policy cannot be used: {why}"),
        ));
    }
    if let Some(why) = &facts.org_unavailable {
        let row = Row::new("org.policy", "Organisation policy", Level::Required, None)
            .threshold("readable")
            .actual("unavailable");
        out.push(row.judged(
            false,
            format!("organisation policy unavailable: {why}; its hard rules cannot be checked, so nothing passes until it is readable again"),
        ));
    }
    if let Some(diff) = &facts.diff {
        out.notes
            .extend(diff.diagnostics.iter().map(|d| format!("diff: {d}")));
        if let Some(why) = &diff.incomplete {
            incomplete_diff(why, &mut out);
        }
    }
    strategy::evaluate(config, &paperwork, facts, &mut out);
    if out.metrics_compared
        && let Some((sha, back)) = &facts.baseline_commit
    {
        let short: String = sha.chars().take(7).collect();
        out.compared_with = Some(match back {
            0 => format!("the base commit `{short}`"),
            1 => format!("`{short}`, the nearest recorded ancestor of the base (1 commit back)"),
            n => format!("`{short}`, the nearest recorded ancestor of the base ({n} commits back)"),
        });
    }
    let survive = config.commands.as_ref().is_some_and(|c| c.survive_pushes);
    out.finish(config.on_skip, facts, survive)
}

/// A skipped row under `on_skip`: decisions (exempt, not affected) stay skipped; a missing
/// fact fails a required row (warns an advisory one) when `on_skip = "fail"`, or by default
/// where the fact should have been there.
fn apply_on_skip(row: &mut CriterionResult, on_skip: Option<OnSkip>) {
    let Some(reason) = row.skip.filter(|r| !r.is_decision()) else {
        return;
    };
    if row.status != Status::Skip {
        return;
    }
    let fails = match on_skip {
        Some(OnSkip::Fail) => true,
        Some(OnSkip::Pass) => false,
        None => reason.fails_by_default(),
    };
    if fails {
        row.status = Status::judge(false, row.level);
        row.actual.get_or_insert_with(|| "not judged".to_owned());
        row.explanation.push_str(
            "; a criterion that cannot be judged does not pass (`on_skip` in keel.toml decides)",
        );
    }
}

/// A change to the definition of done must leave a valid file behind: an invalid one would
/// stop every later change from being judged. It is a required row, with an annotation on
/// the offending line.
fn config_change(change: &crate::facts::ConfigChange, out: &mut Outcome) {
    use crate::facts::ConfigChange;
    let row = Row::new(
        "config.change",
        "Change to keel.toml",
        Level::Required,
        None,
    )
    .threshold("valid");
    match change {
        ConfigChange::Valid => out.push(
            row.actual("valid")
                .judged(true, "the new file is valid; this change is judged by the base branch's file, the next ones by the new one"),
        ),
        ConfigChange::Invalid(d) => {
            out.annotations.push(crate::evaluation::Annotation {
                path: d.path.clone(),
                start_line: d.line.max(1),
                end_line: d.line.max(1),
                level: crate::evaluation::AnnotationLevel::Failure,
                title: "Invalid keel.toml".into(),
                message: format!("{}:{}: {}", d.line, d.column, d.message),
            });
            out.push(row.actual("invalid").judged(
                false,
                format!("line {}, column {}: {}; this change is judged by the base branch's file", d.line, d.column, d.message),
            ));
        }
        ConfigChange::Removed => out.push(row.actual("removed").judged(
            false,
            "this change removes `.github/keel.toml`: once merged, no pull request into this branch is judged. Turning Keel off is for whoever keeps the rulesets: take Keel's check out of them first, and this row no longer blocks",
        )),
    }
}

/// A change Keel cannot see whole cannot pass: every diff-based criterion would be judged on
/// a part of it. Always required, whatever the config says.
fn incomplete_diff(why: &str, out: &mut Outcome) {
    let row = Row::new("diff.complete", "Changed files", Level::Required, None)
        .threshold("every changed file listed")
        .actual("incomplete");
    out.push(row.judged(
        false,
        format!("{why}; the change cannot be judged whole (split it into smaller pull requests)"),
    ));
}

/// Most annotations an evaluation carries: each 50 cost GitHub a request, and a change with
/// thousands of findings would spend the installation's budget on them.
pub const MAX_ANNOTATIONS: usize = 500;

/// Keeps at most [`MAX_ANNOTATIONS`], failures first (then warnings, then notices, each in
/// their order); returns how many were left out. Fewer are left as they are.
fn cap_annotations(annotations: &mut Vec<Annotation>) -> usize {
    if annotations.len() <= MAX_ANNOTATIONS {
        return 0;
    }
    annotations.sort_by_key(|a| a.level);
    let left_out = annotations.len() - MAX_ANNOTATIONS;
    annotations.truncate(MAX_ANNOTATIONS);
    left_out
}

/// What the policy modules build up.
#[derive(Default)]
struct Outcome {
    criteria: Vec<CriterionResult>,
    annotations: Vec<Annotation>,
    coverage: Option<CoverageOutcome>,
    security: Option<SecurityOutcome>,
    performance: Vec<BenchOutcome>,
    notes: Vec<String>,
    metrics: Metrics,
    roadmap: Option<crate::evaluation::roadmap::RoadmapOutcome>,
    debt: Option<crate::evaluation::debt::Verdict>,
    capacity: Option<crate::evaluation::debt::Capacity>,
    dismissed: Vec<Dismissed>,
    compared_with: Option<String>,
    /// A criterion compared a value against the baseline's.
    metrics_compared: bool,
}

impl Outcome {
    fn finish(mut self, on_skip: Option<OnSkip>, facts: &Facts, survive: bool) -> Evaluation {
        for row in &mut self.criteria {
            apply_on_skip(row, on_skip);
        }
        let waived = waivers::apply(
            &mut self.criteria,
            &facts.decisions,
            &facts.unwaivable,
            facts.today,
            survive,
            &mut self.notes,
        );
        if let Some(debt) = &mut self.debt {
            for id in &waived {
                debt.take_on_purpose(format!("{} is waived: debt taken on purpose", code(id)));
            }
        }
        let failed = self.criteria.iter().any(|c| c.status == Status::Fail);
        let left_out = cap_annotations(&mut self.annotations);
        if left_out > 0 {
            self.notes.push(format!(
                "{left_out} more annotations are not shown: at most {MAX_ANNOTATIONS} are sent, failures first"
            ));
        }
        Evaluation {
            conclusion: if failed {
                Conclusion::Failure
            } else {
                Conclusion::Success
            },
            criteria: self.criteria,
            annotations: self
                .annotations
                .into_iter()
                .map(Annotation::within_github_limits)
                .collect(),
            coverage: self.coverage,
            security: self.security,
            performance: self.performance,
            notes: self.notes,
            dismissed: self.dismissed,
            compared_with: self.compared_with,
            roadmap: self.roadmap,
            debt: self.debt,
            capacity: self.capacity,
            metrics: Metrics {
                version: METRICS_VERSION,
                ..self.metrics
            },
        }
    }

    fn push(&mut self, row: Row) {
        if row.level != Level::Off {
            self.criteria.push(row.into_result());
        }
    }
}

/// A row under construction.
struct Row {
    id: String,
    title: String,
    level: Level,
    why: Option<String>,
    status: Status,
    actual: Option<String>,
    threshold: Option<String>,
    baseline: Option<String>,
    delta: Option<String>,
    explanation: String,
    skip: Option<SkipReason>,
    specifics: Vec<Specific>,
}

impl Row {
    fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        level: Level,
        why: Option<&String>,
    ) -> Row {
        Row {
            id: id.into(),
            title: title.into(),
            level,
            why: why.cloned(),
            status: Status::Skip,
            actual: None,
            threshold: None,
            baseline: None,
            delta: None,
            explanation: String::new(),
            skip: None,
            specifics: Vec::new(),
        }
    }

    /// Not judged for `reason`; `actual` says so in the table.
    fn unjudged(mut self, reason: SkipReason, explanation: impl Into<String>) -> Row {
        self.status = Status::Skip;
        self.skip = Some(reason);
        self.explanation = explanation.into();
        if reason == SkipReason::NotAffected {
            self.actual = Some("not affected".into());
        } else if reason == SkipReason::Exempt {
            self.actual = Some("exempt".into());
        }
        self
    }

    fn judged(mut self, met: bool, explanation: impl Into<String>) -> Row {
        self.status = Status::judge(met, self.level);
        self.explanation = explanation.into();
        self
    }

    /// A required input is missing: that fails a required criterion, so a change cannot pass
    /// its gate by not producing a report.
    fn no_report(self, what: &str, patterns: &[String]) -> Row {
        let explanation = if patterns.is_empty() {
            format!("no {what} was read")
        } else {
            format!(
                "no {what} found: looked for {}",
                patterns
                    .iter()
                    .map(|p| code(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut row = self.judged(false, explanation);
        row.actual = Some("no report".into());
        row
    }

    fn actual(mut self, v: impl Into<String>) -> Row {
        self.actual = Some(v.into());
        self
    }

    fn threshold(mut self, v: impl Into<String>) -> Row {
        self.threshold = Some(v.into());
        self
    }

    fn into_result(self) -> CriterionResult {
        CriterionResult {
            id: self.id,
            title: self.title,
            level: self.level,
            status: self.status,
            actual: self.actual,
            threshold: self.threshold,
            baseline: self.baseline,
            delta: self.delta,
            explanation: self.explanation,
            why: self.why,
            skip: self.skip,
            specifics: self.specifics,
            waiver: None,
        }
    }
}

#[cfg(test)]
mod tests;
