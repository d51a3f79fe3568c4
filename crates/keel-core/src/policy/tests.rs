//! Evaluation scenarios: config + facts in, rows and annotations out.

use super::*;
use crate::diff::parse_diff;
use crate::evaluation::{AnnotationLevel, Evaluation};
use crate::facts::{CheckRunState, CoverageMetrics, FindingMetrics, PullRequest};
use crate::limits::Limits;
use crate::report::bench::{Interval, Measurement};
use crate::report::cobertura::parse_cobertura;
use crate::report::coverage::Ratio;
use crate::report::lcov::parse_lcov;
use crate::report::sarif::parse_sarif;
use crate::units::Dimension;

const COVDEMO_XML: &str = include_str!("../../../../tests/fixtures/covdemo/coverage.xml");
const COVDEMO_LCOV: &str = include_str!("../../../../tests/fixtures/covdemo/coverage.lcov");
const COVDEMO_DIFF: &str = include_str!("../../../../tests/fixtures/covdemo/pr.diff");

pub(super) fn config(toml: &str) -> Config {
    Config::parse("keel.toml", toml).unwrap()
}

fn covdemo_facts(xml: bool) -> Facts {
    let l = Limits::DEFAULT;
    let coverage = if xml {
        parse_cobertura("coverage.xml", COVDEMO_XML.as_bytes(), &l).unwrap()
    } else {
        parse_lcov("coverage.lcov", COVDEMO_LCOV.as_bytes(), &l).unwrap()
    };
    Facts {
        diff: Some(parse_diff("pr.diff", COVDEMO_DIFF.as_bytes(), &l).unwrap()),
        coverage: Some(coverage),
        ..Facts::default()
    }
}

/// One row of an evaluation, by id.
pub(super) fn row<'a>(ev: &'a Evaluation, id: &str) -> &'a CriterionResult {
    ev.criteria
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no row {id} in {:#?}", ev.criteria))
}

/// Evaluates and checks (id, status, actual) of every row.
pub(super) fn check(
    config_toml: &str,
    facts: &Facts,
    expected: &[(&str, Status, &str)],
) -> Evaluation {
    let ev = evaluate(&config(config_toml), facts);
    let got: Vec<(&str, Status, &str)> = ev
        .criteria
        .iter()
        .map(|c| (c.id.as_str(), c.status, c.actual.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(got, expected, "{:#?}", ev.criteria);
    ev
}

/// diff-cover's JSON: (coverable lines, violation lines of pkg/gate.py).
fn diff_cover(json: &str) -> (u64, Vec<u32>) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let lines = v["src_stats"]["pkg/gate.py"]["violation_lines"]
        .as_array()
        .unwrap();
    (
        v["total_num_lines"].as_u64().unwrap(),
        lines.iter().map(|l| l.as_u64().unwrap() as u32).collect(),
    )
}

fn missed_lines(ev: &Evaluation) -> Vec<u32> {
    ev.annotations
        .iter()
        .flat_map(|a| a.start_line..=a.end_line)
        .collect()
}

#[test]
fn patch_coverage_agrees_with_diff_cover_on_cobertura_and_lcov() {
    let (coverable, violations) = diff_cover(include_str!(
        "../../../../tests/fixtures/covdemo/diffcover-xml.json"
    ));
    assert_eq!(
        diff_cover(include_str!(
            "../../../../tests/fixtures/covdemo/diffcover-lcov.json"
        )),
        (coverable, violations.clone())
    );
    for xml in [true, false] {
        // diff-cover counts only files in the report; the test file is not source here.
        let ev = evaluate(
            &config("[coverage]\nmin_patch = 80\nsource = [\"pkg/**\"]\n"),
            &covdemo_facts(xml),
        );
        let patch = ev.coverage.as_ref().unwrap().patch.unwrap();
        assert_eq!(
            (patch.coverable, patch.coverable - patch.covered),
            (coverable, violations.len() as u64)
        );
        assert_eq!(missed_lines(&ev), violations);
        assert_eq!(row(&ev, "coverage.patch").actual.as_deref(), Some("84.21%"));
        assert_eq!(
            ev.annotations[0].path, "pkg/gate.py",
            "absolute source root mapped to the repo path"
        );
    }
}

#[test]
fn partial_lines_as_misses_agrees_with_diff_cover_branch_coverage() {
    let (coverable, violations) = diff_cover(include_str!(
        "../../../../tests/fixtures/covdemo/diffcover-branch.json"
    ));
    let ev = evaluate(
        &config("[coverage]\nmin_patch = 80\npartial_lines = \"miss\"\nsource = [\"pkg/**\"]\n"),
        &covdemo_facts(true),
    );
    let patch = ev.coverage.as_ref().unwrap().patch.unwrap();
    assert_eq!(
        (patch.coverable, patch.coverable - patch.covered),
        (coverable, violations.len() as u64)
    );
    assert_eq!(missed_lines(&ev), violations);
    assert_eq!(row(&ev, "coverage.patch").status, Status::Fail);
}

#[test]
fn total_coverage_equals_the_reports_own_rate() {
    // coverage.xml line-rate 0.8438 = 27/32; coverage.lcov LH/LF = 27/32.
    for xml in [true, false] {
        let ev = check(
            "[coverage]\nmin_total = 85\n",
            &covdemo_facts(xml),
            &[("coverage.total", Status::Fail, "84.37%")],
        );
        assert_eq!(ev.conclusion, Conclusion::Failure);
        let total = ev.coverage.unwrap().total;
        assert_eq!((total.covered, total.coverable), (27, 32));
    }
}

#[test]
fn advisory_failures_warn_but_do_not_fail_the_gate() {
    let ev = check(
        "[coverage]\nmin_total = { threshold = 85, level = \"advisory\", why = \"cheaper fixes\" }\nmin_patch = { threshold = 99, level = \"off\" }\n",
        &covdemo_facts(true),
        &[("coverage.total", Status::Warn, "84.37%")],
    );
    assert_eq!(ev.conclusion, Conclusion::Success);
    assert_eq!(
        row(&ev, "coverage.total").why.as_deref(),
        Some("cheaper fixes")
    );
}

#[test]
fn a_missing_report_fails_required_criteria_and_says_where_it_looked() {
    let facts = Facts {
        coverage: None,
        ..covdemo_facts(true)
    };
    let ev = check(
        "[coverage]\npaths = [\"cov/*.xml\"]\nmin_total = 80\nmin_patch = { threshold = 80, level = \"advisory\" }\n[security]\nfail_on = \"high\"\n",
        &facts,
        &[
            ("coverage.total", Status::Fail, "no report"),
            ("coverage.patch", Status::Warn, "no report"),
            ("security.new_findings", Status::Fail, "no report"),
        ],
    );
    assert!(
        row(&ev, "coverage.total")
            .explanation
            .contains("`cov/*.xml`")
    );
}

#[test]
fn no_baseline_is_an_explicit_skip_and_a_baseline_measures_the_drop() {
    let toml = "[coverage]\nmax_drop = 1\n";
    let ev = check(
        toml,
        &covdemo_facts(true),
        &[("coverage.drop", Status::Skip, "")],
    );
    assert!(
        row(&ev, "coverage.drop")
            .explanation
            .starts_with("no baseline")
    );

    let base = |covered| Metrics {
        coverage: Some(CoverageMetrics {
            lines: Ratio::new(covered, 32),
            ..CoverageMetrics::default()
        }),
        ..Metrics::default()
    };
    let facts = Facts {
        baseline: Some(base(28)),
        ..covdemo_facts(true)
    };
    let ev = check(
        toml,
        &facts,
        &[("coverage.drop", Status::Fail, "3.12 points")],
    );
    assert_eq!(
        row(&ev, "coverage.drop").delta.as_deref(),
        Some("-3.12 points")
    );
    let facts = Facts {
        baseline: Some(base(27)),
        ..covdemo_facts(true)
    };
    check(
        toml,
        &facts,
        &[("coverage.drop", Status::Pass, "0.00 points")],
    );
}

#[test]
fn a_change_without_coverable_lines_is_not_affected() {
    let diff = parse_diff(
        "d",
        b"--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-a\n+b\n",
        &Limits::DEFAULT,
    )
    .unwrap();
    let facts = Facts {
        diff: Some(diff),
        ..covdemo_facts(true)
    };
    let ev = check(
        "[coverage]\nmin_patch = 90\n",
        &facts,
        &[("coverage.patch", Status::Skip, "not affected")],
    );
    assert_eq!(
        row(&ev, "coverage.patch").skip,
        Some(crate::evaluation::SkipReason::NotAffected)
    );
    assert_eq!(ev.conclusion, crate::evaluation::Conclusion::Success);
    assert!(ev.annotations.is_empty());
}

#[test]
fn ignored_files_leave_every_number() {
    let toml = "[coverage]\nmin_total = 1\nignore = [\"pkg/gate.py\", \"tests/**\"]\n";
    let ev = evaluate(&config(toml), &covdemo_facts(true));
    // A report left with nothing coverable cannot be judged: required, that fails by default.
    let total = row(&ev, "coverage.total");
    assert_eq!(
        (total.status, total.actual.as_deref()),
        (Status::Fail, Some("not judged"))
    );
    assert_eq!(ev.coverage.unwrap().patch.unwrap().coverable, 0);
    let ev = evaluate(
        &config(&format!("on_skip = \"pass\"\n{toml}")),
        &covdemo_facts(true),
    );
    assert_eq!(row(&ev, "coverage.total").status, Status::Skip);
}

#[test]
fn metrics_for_the_next_baseline_hold_totals_and_files() {
    let ev = evaluate(&Config::default(), &covdemo_facts(true));
    let m = ev.metrics.coverage.unwrap();
    assert_eq!(m.lines, Ratio::new(27, 32));
    assert_eq!(m.files["pkg/gate.py"], Ratio::new(27, 32));
    assert!(ev.criteria.is_empty());
}

fn ruff_facts() -> Facts {
    let log = parse_sarif(
        "ruff.sarif",
        &include_bytes!("../../../../tests/fixtures/sarif/ruff.sarif")[..],
        &Limits::DEFAULT,
    )
    .unwrap();
    let diff = "diff --git a/bad.py b/bad.py\n--- a/bad.py\n+++ b/bad.py\n@@ -6,0 +7,2 @@\n+    subprocess.call(cmd, shell=True)\n+    data = pickle.loads(cmd.encode())\n";
    Facts {
        findings: Some(log.findings),
        diff: Some(parse_diff("d", diff.as_bytes(), &Limits::DEFAULT).unwrap()),
        ..Facts::default()
    }
}

#[test]
fn without_a_baseline_only_findings_on_added_lines_are_new() {
    let ev = check(
        "[security]\nfail_on = \"high\"\n",
        &ruff_facts(),
        &[("security.new_findings", Status::Fail, "2")],
    );
    let sec = ev.security.as_ref().unwrap();
    assert_eq!((sec.findings, sec.new, sec.new_by), (9, 2, "added-lines"));
    let lines: Vec<(String, u32, AnnotationLevel)> = ev
        .annotations
        .iter()
        .map(|a| (a.path.clone(), a.start_line, a.level))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("bad.py".into(), 7, AnnotationLevel::Failure),
            ("bad.py".into(), 8, AnnotationLevel::Failure)
        ],
        "file:///tmp/sarifdemo/bad.py mapped to the changed file"
    );
}

#[test]
fn a_baseline_decides_which_findings_are_new() {
    let mut facts = ruff_facts();
    let all = evaluate(&Config::default(), &facts)
        .metrics
        .findings
        .unwrap();
    facts.baseline = Some(Metrics {
        findings: Some(all.clone()),
        ..Metrics::default()
    });
    check(
        "[security]\nfail_on = \"high\"\n",
        &facts,
        &[("security.new_findings", Status::Pass, "0")],
    );
    let mut fewer = all;
    fewer
        .identities
        .retain(|k, _| !k.starts_with("text\u{1f}S602\u{1f}"));
    facts.baseline = Some(Metrics {
        findings: Some(FindingMetrics { ..fewer }),
        ..Metrics::default()
    });
    let ev = check(
        "[security]\nfail_on = \"high\"\nignore_rules = [\"E711\"]\n",
        &facts,
        &[("security.new_findings", Status::Fail, "1")],
    );
    assert_eq!(
        ev.security.unwrap().findings,
        8,
        "ignored rules are not counted"
    );
}

#[test]
fn new_only_false_counts_every_finding_and_severity_filters() {
    check(
        "[security]\nfail_on = \"critical\"\nnew_only = false\n",
        &ruff_facts(),
        &[("security.new_findings", Status::Pass, "0")],
    );
    check(
        "[security]\nfail_on = \"high\"\nnew_only = false\n",
        &ruff_facts(),
        &[("security.new_findings", Status::Fail, "9")],
    );
}

fn bench(name: &str, value: f64, interval: Option<(f64, f64)>) -> Measurement {
    Measurement {
        name: name.into(),
        value,
        dimension: Dimension::Time,
        interval: interval.map(|(lower, upper)| Interval { lower, upper }),
    }
}

fn bench_facts(head: Vec<Measurement>, base: Vec<Measurement>) -> Facts {
    Facts {
        benchmarks: Some(head),
        baseline: Some(Metrics {
            benchmarks: base,
            ..Metrics::default()
        }),
        ..Facts::default()
    }
}

const BUDGET: &str =
    "[[performance.budget]]\nbenchmark = \"parse/*\"\nmax = \"1ms\"\nmax_regression = \"5%\"\n";

#[test]
fn regressions_count_only_beyond_noise() {
    let id = "performance.parse/*";
    // 10% worse, intervals overlap: within noise → warning.
    let f = bench_facts(
        vec![bench("parse/a", 110e3, Some((95e3, 125e3)))],
        vec![bench("parse/a", 100e3, Some((90e3, 110e3)))],
    );
    let ev = check(BUDGET, &f, &[(id, Status::Warn, "110 µs")]);
    assert!(
        row(&ev, id).explanation.contains("within noise"),
        "{}",
        row(&ev, id).explanation
    );
    assert_eq!(ev.conclusion, Conclusion::Success);
    // 10% worse, intervals apart: fails.
    let f = bench_facts(
        vec![bench("parse/a", 110e3, Some((108e3, 112e3)))],
        vec![bench("parse/a", 100e3, Some((99e3, 101e3)))],
    );
    let ev = check(BUDGET, &f, &[(id, Status::Fail, "110 µs")]);
    assert!(row(&ev, id).explanation.contains("beyond noise"));
    assert_eq!(ev.performance[0].beyond_noise, Some(true));
    // No intervals: judged on the point values, and said so.
    let f = bench_facts(
        vec![bench("parse/a", 110e3, None)],
        vec![bench("parse/a", 100e3, None)],
    );
    let ev = check(BUDGET, &f, &[(id, Status::Fail, "110 µs")]);
    assert!(row(&ev, id).explanation.contains("no interval"));
    // 3% worse: fine.
    let f = bench_facts(
        vec![bench("parse/a", 103e3, None)],
        vec![bench("parse/a", 100e3, None)],
    );
    check(BUDGET, &f, &[(id, Status::Pass, "103 µs")]);
}

#[test]
fn absolute_budgets_and_missing_benchmarks() {
    let f = bench_facts(
        vec![bench("parse/a", 2e6, None), bench("other", 1.0, None)],
        vec![],
    );
    let ev = check(
        BUDGET,
        &f,
        &[("performance.parse/*", Status::Fail, "1 measured")],
    );
    assert!(
        row(&ev, "performance.parse/*")
            .explanation
            .contains("over the limit of 1 ms")
    );
    let f = bench_facts(vec![bench("other", 1.0, None)], vec![]);
    check(
        BUDGET,
        &f,
        &[("performance.parse/*", Status::Fail, "no report")],
    );
    let bigger = "[[performance.budget]]\nbenchmark = \"tput\"\nmin = 100\nmax_regression = 10\ndirection = \"bigger\"\n";
    let plain = |v| Measurement {
        dimension: Dimension::Plain,
        ..bench("tput", v, None)
    };
    check(
        bigger,
        &bench_facts(vec![plain(50.0)], vec![]),
        &[("performance.tput", Status::Fail, "1 measured")],
    );
    check(
        bigger,
        &bench_facts(vec![plain(150.0)], vec![plain(200.0)]),
        &[("performance.tput", Status::Fail, "150")],
    );
    check(
        bigger,
        &bench_facts(vec![plain(250.0)], vec![plain(200.0)]),
        &[("performance.tput", Status::Pass, "250")],
    );
}

#[test]
fn hygiene_rules_read_the_diff_and_the_pull_request() {
    let toml = r#"[hygiene]
max_changed_lines = 20
require_linked_issue = true
title_pattern = "^feat: "
branch_pattern = { threshold = "^feat/", level = "advisory" }
[hygiene.tests_with_src]
src = ["pkg/**"]
tests = ["tests/**"]
"#;
    let mut facts = covdemo_facts(true);
    facts.pull_request = Some(PullRequest {
        title: "feat: annotate in batches".into(),
        body: "Splits annotations.\n\nFixes #42".into(),
        branch: "gate-batches".into(),
        labels: vec![],
        milestone: None,
        author: None,
    });
    let ev = check(
        toml,
        &facts,
        &[
            ("hygiene.size", Status::Fail, "34 lines"),
            ("hygiene.linked_issue", Status::Pass, "#42"),
            ("hygiene.tests_with_src", Status::Pass, "1 test file"),
            ("hygiene.branch", Status::Warn, "gate-batches"),
            ("hygiene.title", Status::Pass, "feat: annotate in batches"),
        ],
    );
    assert!(row(&ev, "hygiene.size").explanation.contains("2 files"));
    facts
        .diff
        .as_mut()
        .unwrap()
        .files
        .retain(|f| f.path.starts_with("pkg/"));
    facts.pull_request.as_mut().unwrap().body = "no link, see commit 123abc".into();
    let ev = evaluate(&config(toml), &facts);
    assert_eq!(row(&ev, "hygiene.linked_issue").status, Status::Fail);
    assert_eq!(row(&ev, "hygiene.tests_with_src").status, Status::Fail);
    assert!(
        row(&ev, "hygiene.tests_with_src")
            .explanation
            .contains("`pkg/gate.py`")
    );
    facts.pull_request = None;
    let ev = evaluate(&config(toml), &facts);
    assert_eq!(row(&ev, "hygiene.title").status, Status::Skip);
}

#[test]
fn other_checks_must_have_succeeded() {
    let toml = "[checks]\nrequired = [\"build\", \"lint\", \"e2e\", \"docs\"]\n";
    // Check runs that cannot be seen (the CLI) fail a required row: never skipped into a pass.
    let unseen = check(
        toml,
        &Facts::default(),
        &[
            ("checks.build", Status::Fail, "unknown"),
            ("checks.lint", Status::Fail, "unknown"),
            ("checks.e2e", Status::Fail, "unknown"),
            ("checks.docs", Status::Fail, "unknown"),
        ],
    );
    assert_eq!(unseen.conclusion, crate::evaluation::Conclusion::Failure);
    check(
        "[checks]\nrequired = [\"build\"]\nlevel = \"advisory\"\n",
        &Facts::default(),
        &[("checks.build", Status::Warn, "unknown")],
    );
    let run = |n: &str, c: Option<&str>| CheckRunState {
        name: n.into(),
        conclusion: c.map(Into::into),
        app: None,
    };
    let facts = Facts {
        check_runs: Some(vec![
            run("build", Some("success")),
            run("lint", Some("failure")),
            run("e2e", None),
        ]),
        ..Facts::default()
    };
    check(
        toml,
        &facts,
        &[
            ("checks.build", Status::Pass, "success"),
            ("checks.lint", Status::Fail, "failure"),
            ("checks.e2e", Status::Fail, "in progress"),
            ("checks.docs", Status::Fail, "not reported"),
        ],
    );
}

#[test]
fn a_required_check_is_never_passed_when_some_runs_were_not_read() {
    let run = |n: &str, c: Option<&str>| CheckRunState {
        name: n.into(),
        conclusion: c.map(Into::into),
        app: None,
    };
    let toml = "[checks]\nrequired = [\"build\", \"lint\", \"docs\"]\n";
    let runs = vec![run("build", Some("success")), run("lint", Some("failure"))];
    let facts = |cut| Facts {
        check_runs: Some(runs.clone()),
        check_runs_cut: cut,
        ..Facts::default()
    };
    check(
        toml,
        &facts(None),
        &[
            ("checks.build", Status::Pass, "success"),
            ("checks.lint", Status::Fail, "failure"),
            ("checks.docs", Status::Fail, "not reported"),
        ],
    );
    let ev = check(
        toml,
        &facts(Some((1000, 1234))),
        &[
            ("checks.build", Status::Fail, "unknown"),
            ("checks.lint", Status::Fail, "failure"),
            ("checks.docs", Status::Fail, "not reported"),
        ],
    );
    assert!(
        ev.criteria[0]
            .explanation
            .contains("read 1,000 of the commit's 1,234 check runs"),
        "{}",
        ev.criteria[0].explanation
    );
}

#[test]
fn every_apps_run_of_a_required_name_must_succeed() {
    let from = |app: &str, c: Option<&str>| CheckRunState {
        name: "CodeQL".into(),
        conclusion: c.map(Into::into),
        app: Some(app.into()),
    };
    let toml = "[checks]\nrequired = [\"CodeQL\"]\n";
    let facts = |runs| Facts {
        check_runs: Some(runs),
        ..Facts::default()
    };
    // A workflow job named like the real check, passing, does not hide the real one failing.
    let ev = check(
        toml,
        &facts(vec![
            from("github-advanced-security", Some("failure")),
            from("github-actions", Some("success")),
        ]),
        &[("checks.CodeQL", Status::Fail, "failure")],
    );
    assert!(
        ev.criteria[0]
            .explanation
            .contains("github-advanced-security")
    );
    check(
        toml,
        &facts(vec![
            from("github-advanced-security", None),
            from("github-actions", Some("success")),
        ]),
        &[("checks.CodeQL", Status::Fail, "in progress")],
    );
    check(
        toml,
        &facts(vec![
            from("github-advanced-security", Some("success")),
            from("github-actions", Some("neutral")),
        ]),
        &[("checks.CodeQL", Status::Pass, "success")],
    );
}

#[test]
fn an_edited_config_must_stay_valid_and_is_annotated_where_it_is_not() {
    use crate::facts::ConfigChange;
    let facts = Facts {
        config_change: Some(ConfigChange::Valid),
        ..Facts::default()
    };
    check("", &facts, &[("config.change", Status::Pass, "valid")]);
    let bad = Config::parse(".github/keel.toml", "[coverage]\nmin_total = 180\n")
        .unwrap_err()
        .0;
    let facts = Facts {
        config_change: Some(ConfigChange::Invalid(bad)),
        ..Facts::default()
    };
    let ev = check("", &facts, &[("config.change", Status::Fail, "invalid")]);
    assert_eq!(ev.conclusion, Conclusion::Failure);
    let a = &ev.annotations[0];
    assert_eq!(
        (a.path.as_str(), a.start_line, a.level),
        (".github/keel.toml", 2, AnnotationLevel::Failure)
    );
    assert!(
        a.message.starts_with("2:13: 180 is not a percentage"),
        "{}",
        a.message
    );
}

#[test]
fn annotations_are_capped_failures_first_and_the_rest_counted() {
    use crate::report::sarif::{Finding, Severity};
    let finding = |i: u32, severity: Severity| Finding {
        tool: "T".into(),
        rule_id: format!("r{i}"),
        severity,
        level: "error".into(),
        message: "m".into(),
        path: Some("a.py".into()),
        start_line: Some(i + 1),
        end_line: None,
        identity: format!("text\u{1f}r{i}"),
        baseline_state: None,
    };
    // 900 warnings first, then 300 failures: the failures must all survive the cap.
    let mut findings: Vec<Finding> = (0..900).map(|i| finding(i, Severity::Medium)).collect();
    findings.extend((900..1_200).map(|i| finding(i, Severity::High)));
    let facts = Facts {
        findings: Some(findings),
        ..Facts::default()
    };
    let ev = evaluate(
        &config("[security]\nfail_on = \"high\"\nnew_only = false\n"),
        &facts,
    );
    assert_eq!(ev.annotations.len(), MAX_ANNOTATIONS);
    let failures = ev
        .annotations
        .iter()
        .filter(|a| a.level == AnnotationLevel::Failure)
        .count();
    assert_eq!(failures, 300, "every failure is kept");
    assert!(
        ev.annotations[..300]
            .iter()
            .all(|a| a.level == AnnotationLevel::Failure)
    );
    assert!(
        ev.notes
            .iter()
            .any(|n| n.starts_with("700 more annotations are not shown")),
        "{:?}",
        ev.notes
    );
}
