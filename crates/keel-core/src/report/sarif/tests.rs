use super::*;
use proptest::prelude::*;

fn parse(text: &str) -> Result<SarifLog, ReportError> {
    parse_sarif("scan.sarif", text.as_bytes(), &Limits::DEFAULT)
}

#[test]
fn ruff_results_are_errors_with_absolute_file_uris() {
    let log = parse(include_str!(
        "../../../../../tests/fixtures/sarif/ruff.sarif"
    ))
    .unwrap();
    assert_eq!(log.findings.len(), 9);
    assert!(
        log.findings
            .iter()
            .all(|f| f.severity == Severity::High && f.level == "error")
    );
    let s602 = log.findings.iter().find(|f| f.rule_id == "S602").unwrap();
    assert_eq!(s602.path.as_deref(), Some("/tmp/sarifdemo/bad.py"));
    assert_eq!((s602.start_line, s602.end_line), (Some(7), Some(7)));
    assert_eq!(s602.tool, "ruff");
}

#[test]
fn bandit_results_without_a_level_default_to_warning() {
    // sarif-tools counts this log as error 1, warning 2 (B301, B307 have no level), note 5.
    let log = parse(include_str!(
        "../../../../../tests/fixtures/sarif/bandit.sarif"
    ))
    .unwrap();
    let count = |s: Severity| log.findings.iter().filter(|f| f.severity == s).count();
    assert_eq!(
        (
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low)
        ),
        (1, 2, 5)
    );
    let b301 = log.findings.iter().find(|f| f.rule_id == "B301").unwrap();
    assert_eq!(
        (b301.level.as_str(), b301.path.as_deref()),
        ("warning", Some("bad.py"))
    );
}

const SYNTHETIC: &str = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"CodeQL","rules":[
  {"id":"js/xss","defaultConfiguration":{"level":"error"},"properties":{"security-severity":"6.1"}},
  {"id":"js/weak","defaultConfiguration":{"level":"note"}},
  {"id":"js/crit","properties":{"security-severity":9.8}}]}},
 "results":[
  {"ruleIndex":0,"message":{"text":"xss"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/a%20b.js"},"region":{"startLine":3}}}],"partialFingerprints":{"primaryLocationLineHash":"abc:1"}},
  {"ruleId":"js/weak","message":{"text":"weak"}},
  {"rule":{"id":"js/crit"},"message":{"text":"crit"}},
  {"ruleId":"js/weak","level":"none","message":{"text":"off"}},
  {"ruleId":"js/weak","kind":"pass","message":{"text":"passed"}},
  {"ruleId":"js/xss","suppressions":[{"kind":"inSource"}],"message":{"text":"suppressed"}},
  {"ruleId":"x","level":42},
  {"ruleId":"x","level":"warning","message":{"text":"  Some   Message "},"baselineState":"unchanged"}
 ]},
 {"tool":{"driver":{"name":"Semgrep"}},"results":[{"ruleId":"r","level":"error","message":{"text":"second run"}}]}]}"#;

#[test]
fn severity_comes_from_the_score_then_the_level_then_the_rule_default() {
    let log = parse(SYNTHETIC).unwrap();
    let got: Vec<(&str, Severity)> = log
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("js/xss", Severity::Medium),
            ("js/weak", Severity::Low),
            ("js/crit", Severity::Critical),
            ("x", Severity::Medium),
            ("r", Severity::High),
        ]
    );
    assert_eq!(log.not_findings, 3, "level none, kind pass, suppressed");
    assert_eq!(
        log.diagnostics.len(),
        1,
        "the result with a numeric level is skipped"
    );
    assert!(
        log.diagnostics[0]
            .message
            .starts_with("runs[0].results[6] skipped")
    );
    assert_eq!(log.findings[0].path.as_deref(), Some("src/a b.js"));
    assert_eq!(
        log.findings[0].identity,
        "partial\u{1f}js/xss\u{1f}src/a b.js\u{1f}primaryLocationLineHash=abc:1"
    );
    assert_eq!(
        log.findings[3].identity,
        "text\u{1f}x\u{1f}\u{1f}some message"
    );
    assert_eq!(log.findings[3].baseline_state.as_deref(), Some("unchanged"));
}

#[test]
fn logs_that_cannot_be_used_are_clear_errors() {
    assert!(
        parse("{\"version\":\"2.1.0\"}")
            .unwrap_err()
            .to_string()
            .contains("no `runs`")
    );
    let err = parse("{\"runs\": [").unwrap_err().to_string();
    assert!(err.contains("line 1"), "{err}");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse(&deep).is_err());
    let nested = format!(
        r#"{{"runs":[{{"tool":{{"driver":{{"name":"x"}}}},"results":[{}{}]}}]}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let log = parse(&nested).unwrap();
    assert!(log.findings.is_empty());
    assert!(
        log.diagnostics[0]
            .message
            .starts_with("runs[0].results[0] skipped")
    );
}

#[test]
fn too_many_results_are_refused() {
    let limits = Limits {
        max_findings: 2,
        ..Limits::DEFAULT
    };
    let err = parse_sarif("x", SYNTHETIC.as_bytes(), &limits).unwrap_err();
    assert!(err.to_string().contains("more than 2 results"));
}

#[test]
fn findings_are_capped_over_all_logs_of_an_evaluation_not_per_log() {
    let limits = Limits {
        max_findings_total: 12,
        ..Limits::DEFAULT
    };
    let mut all = Vec::new();
    for _ in 0..2 {
        let log = parse_sarif("x", SYNTHETIC.as_bytes(), &limits).unwrap();
        assert_eq!(log.findings.len(), 5, "each log is under the per-log limit");
        merge_findings(&mut all, log.findings, &limits).unwrap();
    }
    let third = parse_sarif("x", SYNTHETIC.as_bytes(), &limits).unwrap();
    let err = merge_findings(&mut all, third.findings, &limits).unwrap_err();
    assert_eq!(err, FindingsExceeded { limit: 12 });
    assert!(
        err.to_string().contains("more than 12 findings together"),
        "{err}"
    );
    assert_eq!(all.len(), 10, "the refused log adds nothing");
    let two = one_result(
        r#"{"ruleId":"r","message":{"text":"m"}},{"ruleId":"s","message":{"text":"n"}}"#,
    );
    merge_findings(&mut all, two.findings, &limits).unwrap();
    assert_eq!(all.len(), 12, "up to the limit is kept");
}

#[test]
fn uris_are_normalised() {
    assert_eq!(normalise_uri("file:///C:/src/x.cs"), "C:/src/x.cs");
    assert_eq!(normalise_uri("file:///home/a%2Bb.py"), "/home/a+b.py");
    assert_eq!(normalise_uri("./src\\x.py"), "src/x.py");
    assert_eq!(normalise_uri("%"), "%");
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse_sarif("fuzz", &bytes[..], &Limits::DEFAULT);
    }

    #[test]
    fn never_panics_on_odd_uris(s in ".{0,40}") {
        let _ = normalise_uri(&s);
    }
}

fn one_result(result: &str) -> SarifLog {
    let log = format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"t"}}}},"results":[{result}]}}]}}"#
    );
    parse(&log).unwrap()
}

#[test]
fn a_finding_has_one_whole_identity() {
    let both = one_result(
        r#"{"ruleId":"r","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.py"}}}],
        "fingerprints":{"b/v1":"BBB","a/v1":"AAA","c/v1":""},
        "partialFingerprints":{"primaryLocationLineHash":"h:1"}}"#,
    );
    assert_eq!(
        both.findings[0].identity, "fingerprint\u{1f}r\u{1f}b/v1=BBB",
        "the last named non-empty fingerprint; partial ones are not mixed in"
    );
    let partial = one_result(
        r#"{"ruleId":"r","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.py"},"region":{"startLine":9}}}],
        "partialFingerprints":{"primaryLocationStartColumnFingerprint":"4","primaryLocationLineHash":"h:1"}}"#,
    );
    assert_eq!(
        partial.findings[0].identity,
        "partial\u{1f}r\u{1f}a.py\u{1f}primaryLocationLineHash=h:1\u{1f}primaryLocationStartColumnFingerprint=4",
        "all partial fingerprints, sorted, with the path; no line number"
    );
}

#[test]
fn results_absent_since_the_tools_baseline_are_not_findings() {
    let log = one_result(r#"{"ruleId":"r","message":{"text":"gone"},"baselineState":"absent"}"#);
    assert!(log.findings.is_empty());
    assert_eq!(log.not_findings, 1);
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let with_bom = format!("\u{feff}{SYNTHETIC}");
    assert_eq!(parse(&with_bom).unwrap(), parse(SYNTHETIC).unwrap());
}
