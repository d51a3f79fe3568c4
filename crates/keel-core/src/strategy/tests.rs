//! Table-driven tests: one `check` helper per question, one row per case.

use super::debt;
use super::roadmap;
use crate::config::Config;
use crate::diff::parse_diff;
use crate::evaluation::debt::Direction;
use crate::evaluation::roadmap::LinkReason;
use crate::facts::{Metrics, PullRequest};
use crate::limits::Limits;

const ITEMS: &str = r#"
[[roadmap.items]]
id = "R-12"
title = "Checkout"
paths = ["src/checkout/**"]
issues = [34]
labels = ["checkout"]
milestone = "Q4"

[[roadmap.items]]
id = "R-1"
title = "Search"
"#;

fn pr(title: &str, body: &str, branch: &str, labels: &[&str]) -> PullRequest {
    PullRequest {
        title: title.into(),
        body: body.into(),
        branch: branch.into(),
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        milestone: None,
        author: None,
    }
}

fn diff_touching(paths: &[&str]) -> crate::diff::Diff {
    let text: String = paths
        .iter()
        .map(|p| format!("diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n@@ -1 +1,2 @@\n a\n+b\n"))
        .collect();
    parse_diff("d", text.as_bytes(), &Limits::DEFAULT).unwrap()
}

/// Links `pr` (with changed `paths`) and compares `(item, reasons)` with `expected`.
fn check_links(pr: &PullRequest, paths: &[&str], expected: &[(&str, Vec<LinkReason>)]) {
    let items = Config::parse("k", ITEMS).unwrap().roadmap.unwrap().items;
    let diff = diff_touching(paths);
    let got: Vec<(String, Vec<LinkReason>)> = roadmap::link(&items, Some(pr), Some(&diff))
        .into_iter()
        .map(|l| (l.item.id.0, l.reasons))
        .collect();
    let expected: Vec<(String, Vec<LinkReason>)> = expected
        .iter()
        .map(|(id, r)| ((*id).to_owned(), r.clone()))
        .collect();
    assert_eq!(got, expected, "{pr:?} {paths:?}");
}

#[test]
fn links_say_how_they_were_found() {
    use LinkReason::*;
    let path = |f: &str, count| Path {
        file: f.into(),
        count,
    };
    check_links(
        &pr("Add R-12 checkout", "", "x", &[]),
        &[],
        &[("R-12", vec![Title])],
    );
    check_links(
        &pr("x", "Part of r-12.", "x", &[]),
        &[],
        &[("R-12", vec![Body])],
    );
    check_links(
        &pr("x", "", "feat/R-12-one-page", &[]),
        &[],
        &[("R-12", vec![Branch])],
    );
    check_links(
        &pr("x", "Text\n\nRoadmap: R-12, R-1", "x", &[]),
        &[],
        &[("R-12", vec![Trailer]), ("R-1", vec![Trailer])],
    );
    check_links(
        &pr("x", "Fixes #34", "x", &[]),
        &[],
        &[("R-12", vec![Issue { number: 34 }])],
    );
    check_links(
        &pr("x", "closes: #34 and fixes #35", "x", &[]),
        &[],
        &[("R-12", vec![Issue { number: 34 }])],
    );
    check_links(
        &pr("x", "", "x", &["checkout"]),
        &[],
        &[(
            "R-12",
            vec![Label {
                name: "checkout".into(),
            }],
        )],
    );
    check_links(
        &pr("x", "", "x", &[]),
        &["src/checkout/a.rs", "src/checkout/b.rs", "README.md"],
        &[("R-12", vec![path("src/checkout/a.rs", 2)])],
    );
    check_links(
        &pr("R-12", "Fixes #34", "r-12", &[]),
        &["src/checkout/a.rs"],
        &[(
            "R-12",
            vec![
                Title,
                Branch,
                Issue { number: 34 },
                path("src/checkout/a.rs", 1),
            ],
        )],
    );
    // Ids are whole tokens: R-123 and XR-12 are not R-12 (nor R-1).
    check_links(
        &pr("R-123 and XR-12", "#34 mentioned, not fixed", "R-120", &[]),
        &["src/other.rs"],
        &[],
    );
    let mut in_q4 = pr("x", "", "x", &[]);
    in_q4.milestone = Some("Q4".into());
    check_links(
        &in_q4,
        &[],
        &[("R-12", vec![Milestone { name: "Q4".into() }])],
    );
}

/// Whether `pr` counts as upkeep.
fn check_upkeep(pr: &PullRequest, expected: Option<&str>) {
    assert_eq!(
        roadmap::marked_as_upkeep(
            pr,
            &["fix", "hotfix", "chore", "debt"],
            &["tech-debt", "bug"]
        )
        .as_deref(),
        expected,
        "{pr:?}"
    );
}

#[test]
fn fixes_chores_and_debt_work_need_no_roadmap_item() {
    check_upkeep(
        &pr("fix: crash on empty cart", "", "x", &[]),
        Some("the title marks it as `fix`"),
    );
    check_upkeep(
        &pr("chore(deps): bump serde", "", "x", &[]),
        Some("the title marks it as `chore`"),
    );
    check_upkeep(
        &pr("Debt!: drop the adapter", "", "x", &[]),
        Some("the title marks it as `debt`"),
    );
    check_upkeep(
        &pr("x", "", "hotfix/login", &[]),
        Some("the branch marks it as `hotfix`"),
    );
    check_upkeep(
        &pr("x", "", "x", &["tech-debt"]),
        Some("the label `tech-debt` marks it as upkeep"),
    );
    check_upkeep(
        &pr("x", "", "x", &["Bug"]),
        Some("the label `Bug` marks it as upkeep"),
    );
    check_upkeep(&pr("fixture data", "", "fixtures", &["feature"]), None);
    check_upkeep(&pr("feat: new thing", "", "feat/new", &[]), None);
}

const DEBT: &str = r#"
[debt]
markers = ["TODO", "FIXME"]

[[debt.items]]
id = "DEBT-7"
title = "Legacy adapter"
slows_delivery_days = 1
paths = ["legacy/**"]
"#;

fn patch(path: &str, lines: &[&str]) -> String {
    let added = lines.iter().filter(|l| l.starts_with('+')).count();
    let removed = lines.iter().filter(|l| l.starts_with('-')).count();
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    format!(
        "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1,{} +1,{} @@\n{body}",
        removed + 1,
        added + 1
    ) + " keep\n"
}

/// Classifies a change and compares the direction and reason texts with `expected`.
fn check_debt(pr: &PullRequest, diff: &str, debt_issues: &[u64], expected: (Direction, &[&str])) {
    let config = Config::parse("k", DEBT).unwrap().debt.unwrap();
    let diff = parse_diff("d", diff.as_bytes(), &Limits::DEFAULT).unwrap();
    let verdict = debt::classify(&debt::Inputs {
        config: &config,
        pr: Some(pr),
        diff: Some(&diff),
        debt_issues,
        baseline: None,
        current: &Metrics::default(),
        performance: &[],
    });
    let reasons: Vec<&str> = verdict.reasons.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        (verdict.direction, reasons.as_slice()),
        expected,
        "{diff:?}"
    );
}

#[test]
fn debt_signals_are_named_and_netted() {
    let plain = pr("x", "", "x", &[]);
    check_debt(
        &plain,
        &patch("a.rs", &["+fn a() {}"]),
        &[],
        (Direction::Neutral, &[]),
    );
    check_debt(
        &plain,
        &patch("a.rs", &["-// TODO: x", "-// FIXME y", "+// TODO: z"]),
        &[],
        (Direction::Reduced, &["removes 1 TODO/FIXME marker (net)"]),
    );
    check_debt(
        &plain,
        &patch("a.rs", &["+// TODO x", "+let todo_list = 1; // TODOS"]),
        &[],
        (Direction::Added, &["adds 1 TODO/FIXME marker (net)"]),
    );
    check_debt(
        &plain,
        &patch("a.py", &["-import os  # noqa", "+import os"]),
        &[],
        (Direction::Reduced, &["removes 1 warning suppression (net)"]),
    );
    check_debt(
        &plain,
        &patch("a.ts", &["+// @ts-ignore", "+x()"]),
        &[],
        (Direction::Added, &["adds 1 warning suppression (net)"]),
    );
    check_debt(
        &plain,
        &(patch("Cargo.toml", &["-serde = \"1.0.1\"", "+serde = \"1.0.2\""])
            + &patch("Cargo.lock", &["+x"])),
        &[],
        (
            Direction::Reduced,
            &["upgrades dependencies (only manifests and lockfiles change)"],
        ),
    );
    check_debt(
        &plain,
        &patch("a.rs", &["+x"]),
        &[41],
        (Direction::Reduced, &["fixes #41, labelled `tech-debt`"]),
    );
    check_debt(
        &pr("Retire DEBT-7", "", "x", &[]),
        &patch("legacy/a.rs", &["+// TODO later"]),
        &[],
        (
            Direction::Mixed,
            &[
                "works on DEBT-7 (Legacy adapter)",
                "adds 1 TODO/FIXME marker (net)",
            ],
        ),
    );
}

#[test]
fn register_items_touched_are_listed_with_their_impact_and_the_override_wins() {
    let config = Config::parse("k", DEBT).unwrap().debt.unwrap();
    let diff = parse_diff(
        "d",
        patch("legacy/a.rs", &["+// TODO"]).as_bytes(),
        &Limits::DEFAULT,
    )
    .unwrap();
    let run = |labels: &[&str]| {
        debt::classify(&debt::Inputs {
            config: &config,
            pr: Some(&pr("x", "", "x", labels)),
            diff: Some(&diff),
            debt_issues: &[],
            baseline: None,
            current: &Metrics::default(),
            performance: &[],
        })
    };
    let v = run(&[]);
    assert_eq!(v.items.len(), 1);
    assert_eq!(
        (v.items[0].referenced, v.items[0].impact.as_str()),
        (false, "slows each feature touching it by ~1 day")
    );
    assert_eq!(v.labels(&config), ["debt: added"]);
    let v = run(&["debt: none"]);
    assert_eq!(v.overridden_by.as_deref(), Some("debt: none"));
    assert!(v.labels(&config).is_empty());
    assert!(!v.is_debt_work());
}

#[test]
fn findings_fixed_and_added_are_counted_by_identity_and_old_baselines_are_left_out() {
    use crate::facts::FindingMetrics;
    let config = Config::parse("k", DEBT).unwrap().debt.unwrap();
    let metrics = |version: u32, ids: &[(&str, u64)]| Metrics {
        version,
        findings: Some(FindingMetrics {
            identities: ids.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect(),
            ..FindingMetrics::default()
        }),
        ..Metrics::default()
    };
    let reasons = |base: &Metrics, now: &Metrics| -> Vec<String> {
        debt::classify(&debt::Inputs {
            config: &config,
            pr: Some(&pr("x", "", "x", &[])),
            diff: None,
            debt_issues: &[],
            baseline: Some(base),
            current: now,
            performance: &[],
        })
        .reasons
        .into_iter()
        .map(|r| r.text)
        .collect()
    };
    let now = metrics(2, &[("a", 1), ("b", 2)]);
    assert_eq!(
        reasons(&metrics(2, &[("a", 3), ("b", 1)]), &now),
        [
            "fixes 2 security findings the base branch had",
            "adds 1 security finding"
        ]
    );
    assert!(reasons(&metrics(1, &[("a", 3)]), &now).is_empty());
}

#[test]
fn suppressions_and_the_coverage_noise_floor_are_configured() {
    use crate::facts::CoverageMetrics;
    use crate::report::coverage::Ratio;
    let classify = |toml: &str, diff: &str, base: Option<(u64, u64)>, now: (u64, u64)| {
        let config = Config::parse("k", toml).unwrap().debt.unwrap();
        let diff = parse_diff("d", diff.as_bytes(), &Limits::DEFAULT).unwrap();
        let metrics = |(covered, coverable): (u64, u64)| Metrics {
            coverage: Some(CoverageMetrics {
                files: [("a.rs".to_owned(), Ratio::new(covered, coverable))].into(),
                ..CoverageMetrics::default()
            }),
            ..Metrics::default()
        };
        let baseline = base.map(metrics);
        let verdict = debt::classify(&debt::Inputs {
            config: &config,
            pr: None,
            diff: Some(&diff),
            debt_issues: &[],
            baseline: baseline.as_ref(),
            current: &metrics(now),
            performance: &[],
        });
        let reasons: Vec<String> = verdict.reasons.into_iter().map(|r| r.text).collect();
        (verdict.direction, reasons)
    };
    let allow = patch("a.rs", &["+#[allow(dead_code)]", "+fn a() {}"]);
    // The default list counts `#[allow(`; a team that allows it takes it off the list.
    assert_eq!(
        classify("[debt]\n", &allow, None, (0, 0)).0,
        Direction::Added
    );
    assert_eq!(
        classify(
            "[debt]\nsuppressions = [\"eslint-disable\"]\n",
            &allow,
            None,
            (0, 0)
        ),
        (Direction::Neutral, Vec::new())
    );
    // Changed files' coverage from 90% to 89.5%: noise under the default 1 point; a signal
    // under a 0.25-point floor.
    let change = patch("a.rs", &["+fn b() {}"]);
    assert_eq!(
        classify("[debt]\n", &change, Some((900, 1000)), (895, 1000)),
        (Direction::Neutral, Vec::new())
    );
    assert_eq!(
        classify(
            "[debt]\ncoverage_dip = 0.25\n",
            &change,
            Some((900, 1000)),
            (895, 1000)
        ),
        (
            Direction::Added,
            vec!["coverage of the changed files falls from 90.0% to 89.5%".to_owned()]
        )
    );
}
