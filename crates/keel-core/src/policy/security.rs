//! Security criterion: no new findings at or above a severity.
//!
//! "New" is decided, in order: against the baseline's finding identities (fingerprints, else
//! rule + path + normalised snippet or message); else by SARIF's own `baselineState`; else,
//! with no baseline at all, a finding counts as new only when it sits on a line the change adds.
//! With `new_only = false` every finding counts.

use super::{Outcome, Row, paths};
use crate::config::{Level, SecurityConfig};
use crate::evaluation::{Annotation, AnnotationLevel, SecurityOutcome};
use crate::facts::{Facts, FindingMetrics};
use crate::report::sarif::{Finding, Severity};
use std::collections::BTreeMap;

pub(super) fn evaluate(config: Option<&SecurityConfig>, facts: &Facts, out: &mut Outcome) {
    let Some(all) = &facts.findings else {
        if let Some(crit) = config.and_then(|c| c.fail_on.as_ref()) {
            let row = Row::new(
                "security.new_findings",
                "New security findings",
                crit.level,
                crit.why.as_ref(),
            );
            out.push(row.no_report(
                "SARIF log",
                &config.map(|c| c.paths.clone()).unwrap_or_default(),
            ));
        }
        return;
    };
    let (ignore, strip, new_only) = match config {
        Some(c) => (
            c.ignore_rules.as_slice(),
            c.strip_prefix.as_slice(),
            c.new_only,
        ),
        None => (&[][..], &[][..], true),
    };
    let table = path_table(all, strip, facts);
    let findings: Vec<Located<'_>> = all
        .iter()
        .filter(|f| !ignore.contains(&f.rule_id))
        .map(|f| Located {
            path: f
                .path
                .as_deref()
                .map(|p| table.get(p).map_or(p, String::as_str)),
            f,
        })
        .collect();

    let baseline_keys = facts
        .baseline
        .as_ref()
        .and_then(|b| b.findings.as_ref())
        .map(|f| &f.keys);
    let newness = if !new_only {
        Newness::All
    } else if let Some(keys) = baseline_keys {
        Newness::Baseline(keys)
    } else if findings.iter().any(|x| x.f.baseline_state.is_some()) {
        Newness::SarifState
    } else {
        Newness::OnAddedLines(facts.diff.as_ref())
    };
    let new_by = newness.name();
    let new: Vec<&Located<'_>> = findings.iter().filter(|x| newness.is_new(x)).collect();
    let mut new_by_severity = BTreeMap::new();
    for f in &new {
        *new_by_severity.entry(f.f.severity).or_insert(0u64) += 1;
    }

    let threshold = config.and_then(|c| c.fail_on.as_ref());
    if let Some(crit) = threshold {
        let at_or_above = new
            .iter()
            .filter(|x| x.f.severity >= crit.threshold)
            .count();
        let scope = match new_by {
            "all" => "findings",
            "added-lines" => "findings on added lines (no baseline)",
            _ => "new findings",
        };
        let row = Row::new(
            "security.new_findings",
            "New security findings",
            crit.level,
            crit.why.as_ref(),
        )
        .actual(at_or_above.to_string())
        .threshold(format!("0 at or above {}", crit.threshold.as_str()))
        .judged(
            at_or_above == 0,
            format!(
                "{at_or_above} {scope} at or above {}; {} in total",
                crit.threshold.as_str(),
                findings.len()
            ),
        );
        out.push(row);
    }
    for f in &new {
        annotate(f, threshold.map(|c| (c.threshold, c.level)), out);
    }

    let mut by_severity = BTreeMap::new();
    for f in &findings {
        *by_severity.entry(f.f.severity).or_insert(0u64) += 1;
    }
    out.security = Some(SecurityOutcome {
        findings: findings.len() as u64,
        new: new.len() as u64,
        new_by_severity,
        new_by,
    });
    out.metrics.findings = Some(FindingMetrics {
        count: findings.len() as u64,
        by_severity,
        keys: findings
            .iter()
            .flat_map(|x| x.f.keys.iter().cloned())
            .collect(),
    });
}

/// How "new" is decided for this evaluation.
enum Newness<'a> {
    All,
    Baseline(&'a std::collections::BTreeSet<String>),
    SarifState,
    OnAddedLines(Option<&'a crate::diff::Diff>),
}

impl Newness<'_> {
    fn name(&self) -> &'static str {
        match self {
            Newness::All => "all",
            Newness::Baseline(_) => "baseline",
            Newness::SarifState => "sarif-baseline-state",
            Newness::OnAddedLines(_) => "added-lines",
        }
    }

    fn is_new(&self, x: &Located<'_>) -> bool {
        let f = x.f;
        match self {
            Newness::All => true,
            Newness::Baseline(keys) => !f.keys.iter().any(|k| keys.contains(k)),
            Newness::SarifState => f.baseline_state.as_deref().is_none_or(|s| s == "new"),
            Newness::OnAddedLines(diff) => {
                let (Some(path), Some(line), Some(diff)) = (x.path, f.start_line, diff) else {
                    return false;
                };
                diff.file(path)
                    .is_some_and(|d| d.added_lines.binary_search(&line).is_ok())
            }
        }
    }
}

/// A finding and its repository path.
struct Located<'a> {
    f: &'a Finding,
    path: Option<&'a str>,
}

/// Report paths → repository paths for all findings at once.
fn path_table(
    all: &[Finding],
    strip: &[String],
    facts: &Facts,
) -> std::collections::HashMap<String, String> {
    let changed: Vec<&str> = facts
        .diff
        .iter()
        .flat_map(|d| d.files.iter().map(|f| f.path.as_str()))
        .collect();
    paths::map_paths(
        all.iter().filter_map(|f| f.path.as_deref()),
        &[],
        strip,
        &changed,
    )
}

fn annotate(x: &Located<'_>, threshold: Option<(Severity, Level)>, out: &mut Outcome) {
    let f = x.f;
    let (Some(path), Some(start)) = (x.path, f.start_line) else {
        return;
    };
    let blocking = threshold.is_some_and(|(t, level)| f.severity >= t && level == Level::Required);
    let level = match (blocking, f.severity) {
        (true, _) => AnnotationLevel::Failure,
        (false, Severity::Low) => AnnotationLevel::Notice,
        (false, _) => AnnotationLevel::Warning,
    };
    out.annotations.push(Annotation {
        path: path.to_owned(),
        start_line: start,
        end_line: f.end_line.unwrap_or(start).max(start),
        level,
        title: format!("{} {} ({})", f.tool, f.rule_id, f.severity.as_str())
            .trim()
            .to_owned(),
        message: f.message.clone(),
    });
}
