//! Security criterion: no new findings at or above a severity.
//!
//! "New" is decided, in order: against the baseline's counted finding identities (see
//! [`crate::report::sarif`]; a baseline identity seen N times absorbs N findings, no more);
//! else by SARIF's own `baselineState`; else, with no usable baseline, a finding counts as new
//! only when it sits on a line the change adds. A baseline written before identities were
//! counted (metrics version 1) is not usable for this. With `new_only = false` every finding
//! counts.

use super::{Dismissed, Outcome, Row, SkipReason, Specific, code, paths};
use crate::config::{Level, SecurityConfig};
use crate::diff::Diff;
use crate::evaluation::MAX_SPECIFICS;
use crate::evaluation::{Annotation, AnnotationLevel, SecurityOutcome};
use crate::facts::{Facts, FindingMetrics};
use crate::report::sarif::{Finding, Severity};
use std::collections::BTreeMap;

pub(super) fn evaluate(
    config: Option<&SecurityConfig>,
    not_affected: Option<String>,
    facts: &Facts,
    out: &mut Outcome,
) {
    // A log that was read is judged even for a documentation-only change: secret and IaC
    // scanners read every file, and a finding in a README is still a finding. Only an
    // explicit `affects` leaves it unread.
    let explicit = config.is_some_and(|c| !c.affects.is_empty());
    let not_affected = not_affected.filter(|_| explicit || facts.findings.is_none());
    if let (Some(why), Some(crit)) = (not_affected, config.and_then(|c| c.fail_on.as_ref())) {
        let row = Row::new(
            "security.new_findings",
            "New security findings",
            crit.level,
            crit.why.as_ref(),
        );
        out.push(row.unjudged(SkipReason::NotAffected, why));
        return;
    }
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

    let newness = Newness::choose(new_only, facts, &findings, out);
    let new_by = newness.name();
    if matches!(newness, Newness::Baseline(_)) {
        out.metrics_compared = true;
    }
    let mut new = newness.select(&findings, facts.diff.as_ref());
    if let Some(c) = config {
        new.retain(|x| !dismissed_by_config(c, x, facts.today, out));
    }
    suppressed_on_the_change(facts, strip, out);
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
        let one = at_or_above == 1;
        let scope = match (new_by, one) {
            ("all", true) => "finding",
            ("all", false) => "findings",
            ("added-lines", true) => "finding on added lines (no baseline)",
            ("added-lines", false) => "findings on added lines (no baseline)",
            (_, true) => "new finding",
            (_, false) => "new findings",
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
        let mut row = row;
        row.specifics = new
            .iter()
            .filter(|x| x.f.severity >= crit.threshold)
            .take(MAX_SPECIFICS)
            .map(|x| Specific {
                path: x.path.map(str::to_owned),
                lines: x
                    .f
                    .start_line
                    .map(|l| (l, x.f.end_line.unwrap_or(l).max(l)))
                    .into_iter()
                    .collect(),
                text: format!("{} ({})", code(&x.f.rule_id), x.f.severity.as_str()),
                note: Some(crate::evaluation::cut_to_chars(x.f.message.trim(), 200)),
            })
            .collect();
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
        identities: count_identities(&findings),
    });
}

/// Whether a `[[security.ignore]]` entry in force today dismisses the new finding `x`; an
/// entry past its end date (or with no date to check it against) says so in a note instead.
fn dismissed_by_config(
    c: &SecurityConfig,
    x: &Located<'_>,
    today: Option<chrono::NaiveDate>,
    out: &mut Outcome,
) -> bool {
    let Some(entry) = c.ignore.iter().find(|e| {
        e.rule == x.f.rule_id && (e.paths.is_empty() || x.path.is_some_and(|p| e.paths.is_match(p)))
    }) else {
        return false;
    };
    let location = x.path.map(|p| match x.f.start_line {
        Some(l) => format!("{p}:{l}"),
        None => p.to_owned(),
    });
    let in_force = today.is_some_and(|t| t <= entry.until.0);
    if !in_force {
        let note = match today {
            Some(_) => format!(
                "the `[[security.ignore]]` entry for {} ended on {}: its findings count again",
                code(&entry.rule),
                entry.until
            ),
            None => format!(
                "the `[[security.ignore]]` entry for {} was not applied: today's date is unknown here",
                code(&entry.rule)
            ),
        };
        if !out.notes.contains(&note) {
            out.notes.push(note);
        }
        return false;
    }
    out.dismissed.push(Dismissed {
        rule: x.f.rule_id.clone(),
        location,
        reason: entry.reason.clone(),
        by: "config".into(),
        until: Some(entry.until.to_string()),
    });
    true
}

/// The logs' own suppressions of findings on lines the change adds: they never count, but a
/// change that silences a finding is shown doing so.
fn suppressed_on_the_change(facts: &Facts, strip: &[String], out: &mut Outcome) {
    let Some(diff) = &facts.diff else { return };
    let changed: Vec<&str> = diff.files.iter().map(|f| f.path.as_str()).collect();
    // Mapped like the counted findings: absolute CI paths and `file://` URIs included.
    let table = paths::map_paths(
        facts
            .suppressed
            .iter()
            .filter_map(|s| s.finding.path.as_deref()),
        &[],
        strip,
        &changed,
    );
    for s in &facts.suppressed {
        let f = &s.finding;
        let path = f
            .path
            .as_deref()
            .map(|p| table.get(p).map_or(p, String::as_str));
        let on_added = path
            .and_then(|p| diff.file(p))
            .zip(f.start_line)
            .is_some_and(|(d, l)| d.added_lines.binary_search(&l).is_ok());
        if on_added && out.dismissed.len() < MAX_SPECIFICS * 5 {
            out.dismissed.push(Dismissed {
                rule: f.rule_id.clone(),
                location: path.zip(f.start_line).map(|(p, l)| format!("{p}:{l}")),
                reason: s
                    .justification
                    .clone()
                    .unwrap_or_else(|| "no justification given".to_owned()),
                by: "suppression".into(),
                until: None,
            });
        }
    }
}

/// How many findings have each identity.
fn count_identities(findings: &[Located<'_>]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for x in findings {
        *counts.entry(x.f.identity.clone()).or_insert(0) += 1;
    }
    counts
}

/// Says so when the base commit has findings that cannot be matched (an older format).
fn note_old_baseline(facts: &Facts, newness: &Newness<'_>, out: &mut Outcome) {
    let old = facts
        .baseline
        .as_ref()
        .is_some_and(|b| b.findings.is_some() && b.finding_identities().is_none());
    if old {
        let by = match newness {
            Newness::SarifState => "by the logs' own `baselineState`",
            _ => "by the lines the change adds",
        };
        out.notes.push(format!(
            "the base commit's findings were recorded in an older format that cannot tell new findings from old; new findings are decided {by} until the base branch is evaluated again"
        ));
    }
}

/// How "new" is decided for this evaluation.
enum Newness<'a> {
    All,
    /// Identity → how many findings of the base commit had it.
    Baseline(&'a BTreeMap<String, u64>),
    SarifState,
    OnAddedLines,
}

impl<'a> Newness<'a> {
    /// The first method that applies (module docs); says so when an old baseline is passed by.
    fn choose(
        new_only: bool,
        facts: &'a Facts,
        findings: &[Located<'_>],
        out: &mut Outcome,
    ) -> Newness<'a> {
        if !new_only {
            return Newness::All;
        }
        if let Some(identities) = facts.baseline.as_ref().and_then(|b| b.finding_identities()) {
            return Newness::Baseline(identities);
        }
        let newness = if findings.iter().any(|x| x.f.baseline_state.is_some()) {
            Newness::SarifState
        } else {
            Newness::OnAddedLines
        };
        note_old_baseline(facts, &newness, out);
        newness
    }

    fn name(&self) -> &'static str {
        match self {
            Newness::All => "all",
            Newness::Baseline(_) => "baseline",
            Newness::SarifState => "sarif-baseline-state",
            Newness::OnAddedLines => "added-lines",
        }
    }

    /// The new findings, in log order.
    fn select<'f, 'g>(
        &self,
        findings: &'f [Located<'g>],
        diff: Option<&Diff>,
    ) -> Vec<&'f Located<'g>> {
        match self {
            Newness::All => findings.iter().collect(),
            Newness::Baseline(base) => not_in_baseline(base, findings, diff),
            Newness::SarifState => findings
                .iter()
                .filter(|x| x.f.baseline_state.as_deref().is_none_or(|s| s == "new"))
                .collect(),
            Newness::OnAddedLines => findings.iter().filter(|x| on_added_line(x, diff)).collect(),
        }
    }
}

/// Findings the baseline cannot account for: each baseline identity absorbs as many findings
/// as the base commit had of it. Findings off the added lines are matched first, so when the
/// change adds one more occurrence, the one on its added lines is the one reported.
fn not_in_baseline<'f, 'a>(
    base: &BTreeMap<String, u64>,
    findings: &'f [Located<'a>],
    diff: Option<&Diff>,
) -> Vec<&'f Located<'a>> {
    let mut left: BTreeMap<&str, u64> = base.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| on_added_line(&findings[i], diff));
    let mut new = vec![false; findings.len()];
    for i in order {
        match left.get_mut(findings[i].f.identity.as_str()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => new[i] = true,
        }
    }
    findings
        .iter()
        .zip(new)
        .filter_map(|(x, is_new)| is_new.then_some(x))
        .collect()
}

/// The finding starts on a line the change adds.
fn on_added_line(x: &Located<'_>, diff: Option<&Diff>) -> bool {
    let (Some(path), Some(line), Some(diff)) = (x.path, x.f.start_line, diff) else {
        return false;
    };
    diff.file(path)
        .is_some_and(|d| d.added_lines.binary_search(&line).is_ok())
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

#[cfg(test)]
mod tests;
