use super::*;
use crate::config::Config;
use crate::diff::parse_diff;
use crate::facts::{Facts, PullRequest};
use crate::limits::Limits;
use crate::report::cobertura::parse_cobertura;
use crate::report::sarif::parse_sarif;

fn covdemo() -> Facts {
    let l = Limits::DEFAULT;
    let sarif = &include_bytes!("../../../../../tests/fixtures/sarif/bandit.sarif")[..];
    Facts {
        diff: Some(
            parse_diff(
                "pr.diff",
                include_bytes!("../../../../../tests/fixtures/covdemo/pr.diff"),
                &l,
            )
            .unwrap(),
        ),
        coverage: Some(
            parse_cobertura(
                "c.xml",
                &include_bytes!("../../../../../tests/fixtures/covdemo/coverage.xml")[..],
                &l,
            )
            .unwrap(),
        ),
        findings: Some(parse_sarif("b.sarif", sarif, &l).unwrap().findings),
        pull_request: Some(PullRequest {
            title: "feat: batches @octocat | <b> `x".into(),
            body: String::new(),
            branch: "feat/batches".into(),
            labels: vec![],
            milestone: None,
            author: None,
        }),
        ..Facts::default()
    }
}

fn evaluate(toml: &str, facts: &Facts) -> crate::Evaluation {
    crate::evaluate(&Config::parse("k", toml).unwrap(), facts)
}

#[test]
fn summary_of_a_failing_change() {
    let toml = r#"
[coverage]
min_total = 80
min_patch = { threshold = 90, why = "Untested changes caused 3 of our last 5 incidents" }
max_drop = 1
source = ["pkg/**"]
[security]
fail_on = { threshold = "medium", level = "advisory", why = "SOC 2" }
new_only = false
[hygiene]
title_pattern = "^feat: "
require_linked_issue = { threshold = true, why = "Every change links to why" }
"#;
    let ev = evaluate(toml, &covdemo());
    insta::assert_snapshot!(
        "summary_failing",
        summary(&ev, &crate::render::dod::Links::default())
    );
}

#[test]
fn summary_of_a_passing_change() {
    let ev = evaluate(
        "[coverage]\nmin_total = 80\nmin_patch = 80\nsource = [\"pkg/**\"]\n",
        &covdemo(),
    );
    insta::assert_snapshot!(
        "summary_passing",
        summary(&ev, &crate::render::dod::Links::default())
    );
    assert_eq!(title(&ev), "Definition of done met");
}

#[test]
fn summary_without_criteria_says_how_to_add_them() {
    let ev = evaluate("", &Facts::default());
    insta::assert_snapshot!(
        "summary_empty",
        summary(&ev, &crate::render::dod::Links::default())
    );
}

#[test]
fn untrusted_text_cannot_break_the_table_or_ping_people() {
    let ev = evaluate("[hygiene]\ntitle_pattern = \"^fix\"\n", &covdemo());
    let s = summary(&ev, &crate::render::dod::Links::default());
    assert!(
        s.contains("feat: batches @\u{200b}octocat \\| \\<b\\> \\`x"),
        "{s}"
    );
    // Inside a code span GitHub neither links mentions nor reads HTML.
    assert!(
        s.contains("`feat: batches @octocat \\| <b> 'x` does not match"),
        "{s}"
    );
    for line in s.lines().filter(|l| l.starts_with("| ")) {
        let unescaped = line
            .char_indices()
            .filter(|&(i, c)| c == '|' && !line[..i].ends_with('\\'))
            .count();
        assert_eq!(unescaped, 8, "{line}");
    }
}

#[test]
fn a_huge_summary_is_trimmed_under_the_check_run_limit() {
    let mut ev = evaluate("[coverage]\nmin_total = 80\n", &covdemo());
    ev.notes = (0..5000)
        .map(|i| format!("note number {i} about something long enough to matter"))
        .collect();
    let s = summary(&ev, &crate::render::dod::Links::default());
    assert!(s.chars().count() <= crate::render::CHECK_RUN_TEXT_LIMIT);
    assert!(s.ends_with("`keel check --format json` gives everything._"));
    assert!(s.starts_with("### ✅ Definition of done met"));
}

#[test]
fn a_waiting_check_says_what_it_waits_for_and_what_is_known() {
    let config = Config::parse(
        "keel.toml",
        "[hygiene]\nmax_changed_lines = 2\nrequire_linked_issue = true\n",
    )
    .unwrap();
    let ev = crate::evaluate(&config, &covdemo());
    let s = waiting(
        &ev,
        &["the workflow run's reports (artifact `keel-reports`)".to_owned()],
    );
    assert!(
        s.starts_with("### ⏳ Waiting for the workflow run's reports (artifact `keel-reports`)"),
        "{s}"
    );
    insta::assert_snapshot!("waiting", s);
}
