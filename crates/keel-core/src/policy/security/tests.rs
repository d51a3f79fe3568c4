//! Which findings are new: whole identities, counted, and old baselines not trusted.

use crate::config::Config;
use crate::diff::parse_diff;
use crate::evaluation::Evaluation;
use crate::facts::{Facts, Metrics};
use crate::limits::Limits;
use crate::policy::evaluate;
use crate::report::sarif::{Finding, parse_sarif};

/// A CodeQL-style result: (path, start line, line hash, column fingerprint).
type Result<'a> = (&'a str, u32, &'a str, &'a str);

fn codeql(results: &[Result<'_>]) -> Vec<Finding> {
    let results: Vec<String> = results
        .iter()
        .map(|(path, line, hash, column)| {
            format!(
                r#"{{"ruleId":"js/xss","level":"error","message":{{"text":"xss"}},
                "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{path}"}},"region":{{"startLine":{line}}}}}}}],
                "partialFingerprints":{{"primaryLocationLineHash":"{hash}","primaryLocationStartColumnFingerprint":"{column}"}}}}"#
            )
        })
        .collect();
    let log = format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"CodeQL"}}}},"results":[{}]}}]}}"#,
        results.join(",")
    );
    parse_sarif("codeql.sarif", log.as_bytes(), &Limits::DEFAULT)
        .unwrap()
        .findings
}

/// The metrics an evaluation of `findings` would keep as the next baseline.
fn baseline_of(findings: Vec<Finding>) -> Metrics {
    let facts = Facts {
        findings: Some(findings),
        ..Facts::default()
    };
    evaluate(&Config::default(), &facts).metrics
}

fn judge(head: Vec<Finding>, baseline: Option<Metrics>, diff: Option<&str>) -> Evaluation {
    let config = Config::parse("keel.toml", "[security]\nfail_on = \"high\"\n").unwrap();
    let facts = Facts {
        findings: Some(head),
        baseline,
        diff: diff.map(|d| parse_diff("d", d.as_bytes(), &Limits::DEFAULT).unwrap()),
        ..Facts::default()
    };
    evaluate(&config, &facts)
}

fn new_count(ev: &Evaluation) -> (u64, &'static str) {
    let s = ev.security.as_ref().unwrap();
    (s.new, s.new_by)
}

#[test]
fn results_sharing_only_the_column_fingerprint_are_different_findings() {
    let base = baseline_of(codeql(&[("src/a.js", 10, "aaaa:1", "4")]));
    let head = codeql(&[
        ("src/a.js", 10, "aaaa:1", "4"),
        ("src/b.js", 3, "bbbb:1", "4"),
    ]);
    let ev = judge(head, Some(base), None);
    assert_eq!(new_count(&ev), (1, "baseline"));
    assert_eq!(ev.annotations[0].path, "src/b.js");
}

#[test]
fn a_baseline_identity_absorbs_as_many_findings_as_it_had() {
    let base = baseline_of(codeql(&[("src/a.js", 10, "aaaa:1", "4")]));
    assert_eq!(base.finding_identities().unwrap().values().sum::<u64>(), 1);
    let head = codeql(&[
        ("src/a.js", 12, "aaaa:1", "4"),
        ("src/a.js", 10, "aaaa:1", "4"),
    ]);
    let diff = "--- a/src/a.js\n+++ b/src/a.js\n@@ -11,0 +12 @@\n+again()\n";
    let ev = judge(head.clone(), Some(base.clone()), Some(diff));
    assert_eq!(new_count(&ev), (1, "baseline"));
    assert_eq!(
        ev.annotations[0].start_line, 12,
        "the occurrence on the added line is the new one"
    );
    let twice = baseline_of(head.clone());
    assert_eq!(twice.finding_identities().unwrap().values().sum::<u64>(), 2);
    assert_eq!(new_count(&judge(head, Some(twice), None)), (0, "baseline"));
}

#[test]
fn moved_findings_are_not_new() {
    let base = baseline_of(codeql(&[("src/a.js", 10, "aaaa:1", "4")]));
    let head = codeql(&[("src/a.js", 42, "aaaa:1", "4")]);
    assert_eq!(new_count(&judge(head, Some(base), None)), (0, "baseline"));
}

#[test]
fn an_old_format_baseline_is_read_but_not_used_for_newness() {
    // What an older Keel stored: one key per fingerprint component, no identities.
    let old = r#"{"version":1,"findings":{"count":1,"by_severity":{"high":1},
        "keys":["js/xss\u001fprimaryLocationStartColumnFingerprint=4"]}}"#;
    let old: Metrics = serde_json::from_str(old).unwrap();
    assert_eq!(old.version, 1);
    assert!(old.finding_identities().is_none());
    let unversioned: Metrics = serde_json::from_str(r#"{"findings":{"count":0}}"#).unwrap();
    assert!(unversioned.finding_identities().is_none());

    let head = codeql(&[("src/b.js", 3, "bbbb:1", "4")]);
    let diff = "--- a/src/b.js\n+++ b/src/b.js\n@@ -2,0 +3 @@\n+bad()\n";
    let ev = judge(head, Some(old), Some(diff));
    assert_eq!(new_count(&ev), (1, "added-lines"));
    assert!(
        ev.notes.iter().any(|n| n.contains("older format")),
        "{:?}",
        ev.notes
    );
    assert_eq!(ev.metrics.version, crate::facts::METRICS_VERSION);
}

#[test]
fn results_the_tool_marks_absent_are_not_counted() {
    let log = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"CodeQL"}},"results":[
      {"ruleId":"r","level":"error","message":{"text":"gone"},"baselineState":"absent"},
      {"ruleId":"r","level":"error","message":{"text":"still here"},"baselineState":"unchanged"}]}]}"#;
    let log = parse_sarif("x.sarif", log.as_bytes(), &Limits::DEFAULT).unwrap();
    let ev = judge(log.findings, None, None);
    let s = ev.security.unwrap();
    assert_eq!(
        (s.findings, s.new, s.new_by),
        (1, 0, "sarif-baseline-state")
    );
}

#[test]
fn annotations_leave_the_evaluation_within_githubs_limits() {
    let rule = "r".repeat(400);
    let message = "m".repeat(100_000);
    let log = format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"t"}}}},"results":[
        {{"ruleId":"{rule}","level":"error","message":{{"text":"{message}"}},
        "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"a.py"}},"region":{{"startLine":1}}}}}}]}}]}}]}}"#
    );
    let head = parse_sarif("x.sarif", log.as_bytes(), &Limits::DEFAULT)
        .unwrap()
        .findings;
    let ev = judge(
        head,
        None,
        Some("--- a/a.py\n+++ b/a.py\n@@ -0,0 +1 @@\n+x\n"),
    );
    let a = &ev.annotations[0];
    assert_eq!(a.title.chars().count(), 255);
    assert_eq!(a.message.len(), 65_535);
}
