use super::*;
use crate::config::Config;
use crate::diff::parse_diff;
use crate::facts::CapacityCounts;
use crate::facts::{Facts, PullRequest};
use crate::limits::Limits;

const LAYOUT: [crate::config::Section; 4] = [
    crate::config::Section::Why,
    crate::config::Section::Criteria,
    crate::config::Section::Debt,
    crate::config::Section::Capacity,
];

const CONFIG: &str = r#"
[hygiene]
max_changed_lines = 400

[roadmap]
require_link = true

[[roadmap.items]]
id = "R-12"
title = "One-page checkout"
hypothesis = "We believe a one-page checkout will reduce cart abandonment by 15%"
metric = "cart abandonment"
target = "-15%"
owner = "@alice"
paths = ["src/checkout/**"]
issues = [34]

[[roadmap.items]]
id = "R-3"
title = "Faster search"
status = "planned"
labels = ["search"]

[debt]
capacity_target = 0.2

[[debt.items]]
id = "DEBT-7"
title = "Legacy payment adapter"
slows_delivery_days = 2
cost_per_month = 1200
paths = ["src/payments/legacy/**"]
"#;

fn facts(title: &str, branch: &str, body: &str, labels: &[&str], diff: &str) -> Facts {
    Facts {
        diff: Some(parse_diff("pr.diff", diff.as_bytes(), &Limits::DEFAULT).unwrap()),
        pull_request: Some(PullRequest {
            title: title.into(),
            body: body.into(),
            branch: branch.into(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            milestone: None,
            author: None,
        }),
        capacity: Some(CapacityCounts {
            week: "2026-W48".into(),
            merged: 12,
            debt: 3,
        }),
        ..Facts::default()
    }
}

fn render(config: &str, facts: &Facts) -> String {
    let config = Config::parse("keel.toml", config).unwrap();
    let ev = crate::evaluate(&config, facts);
    comment(
        &ev,
        &Footer {
            check_run_url: Some("https://github.com/acme/shop/runs/1000".into()),
            config_url: Some("https://github.com/acme/shop/blob/f95f852/.github/keel.toml".into()),
            files: crate::render::dod::Links {
                blob: Some("https://github.com/acme/shop/blob/aab479b".into()),
            },
        },
        &LAYOUT,
    )
}

const FEATURE: &str = "diff --git a/src/checkout/cart.rs b/src/checkout/cart.rs
--- a/src/checkout/cart.rs
+++ b/src/checkout/cart.rs
@@ -1,2 +1,3 @@
 fn cart() {}
+fn one_page() {}
 fn total() {}
";

const PAYS_DEBT: &str =
    "diff --git a/src/payments/legacy/adapter.rs b/src/payments/legacy/adapter.rs
--- a/src/payments/legacy/adapter.rs
+++ b/src/payments/legacy/adapter.rs
@@ -1,4 +1,2 @@
-// TODO: remove this adapter once the new API is live
-#[allow(dead_code)]
 fn charge() {}
 fn refund() {}
";

const ADDS_DEBT: &str = "diff --git a/src/checkout/pay.js b/src/checkout/pay.js
--- a/src/checkout/pay.js
+++ b/src/checkout/pay.js
@@ -1,1 +1,3 @@
 export function pay() {}
+// eslint-disable-next-line no-unused-vars
+const retry = 3; // TODO: make configurable
";

#[test]
fn a_feature_linked_by_branch_issue_and_path() {
    let body = render(
        CONFIG,
        &facts(
            "Add the one-page checkout",
            "feat/R-12-one-page",
            "Fixes #34",
            &[],
            FEATURE,
        ),
    );
    assert!(body.contains("**R\\-12 · One\\-page checkout** (active) — named in the branch; fixes #34, one of its issues; changes `src/checkout/cart.rs`"), "{body}");
    insta::assert_snapshot!("linked_feature", body);
}

#[test]
fn an_unlinked_change_fails_require_link_and_says_how_to_link() {
    let body = render(
        CONFIG,
        &facts(
            "Add a banner",
            "banner",
            "",
            &[],
            "diff --git a/src/ui/banner.rs b/src/ui/banner.rs\n--- a/src/ui/banner.rs\n+++ b/src/ui/banner.rs\n@@ -1 +1,2 @@\n fn a() {}\n+fn b() {}\n",
        ),
    );
    assert!(body.starts_with("### ❌"), "{body}");
    assert!(
        body.contains("**Not linked to any roadmap item**"),
        "{body}"
    );
    insta::assert_snapshot!("unlinked_required", body);
}

#[test]
fn a_debt_reducing_change_names_its_reasons_and_the_items_cost() {
    let body = render(
        CONFIG,
        &facts(
            "debt: retire the legacy adapter (DEBT-7)",
            "debt/legacy",
            "",
            &[],
            PAYS_DEBT,
        ),
    );
    assert!(body.contains("#### Technical debt: ⬇️ reduced"), "{body}");
    assert!(
        body.contains("slows each feature touching it by \\~2 days; costs 1,200 a month \\(currency not set\\)"),
        "{body}"
    );
    insta::assert_snapshot!("debt_reduced", body);
}

#[test]
fn a_debt_adding_change_says_what_it_adds() {
    let body = render(
        CONFIG,
        &facts("Retry payments", "feat/R-12-retry", "", &[], ADDS_DEBT),
    );
    assert!(body.contains("#### Technical debt: ⬆️ added"), "{body}");
    assert!(
        body.contains("➕ adds 1 TODO/FIXME/HACK/XXX marker (net)"),
        "{body}"
    );
    assert!(
        body.contains("➕ adds 1 warning suppression (net)"),
        "{body}"
    );
    insta::assert_snapshot!("debt_added", body);
    // On a week with nothing merged yet, the share is said in words, not "0 of 0 (—)".
    let mut first = facts("Retry payments", "feat/R-12-retry", "", &[], ADDS_DEBT);
    first.capacity = Some(CapacityCounts {
        week: "2026-W49".into(),
        merged: 0,
        debt: 0,
    });
    let body = render(CONFIG, &first);
    assert!(
        body.contains(
            "Debt capacity in 2026\\-W49: no pull request merged yet this week; the target is 20%."
        ),
        "{body}"
    );
}

#[test]
fn the_override_label_wins_and_is_reported() {
    let body = render(
        CONFIG,
        &facts(
            "Retry payments",
            "feat/R-12-retry",
            "",
            &["debt: none"],
            ADDS_DEBT,
        ),
    );
    assert!(
        body.contains("#### Technical debt: no call: the label `debt: none` overrides it"),
        "{body}"
    );
    insta::assert_snapshot!("debt_overridden", body);
}

#[test]
fn a_huge_comment_is_trimmed_under_githubs_limit_with_a_note() {
    let mut config = String::from("[hygiene]\nmax_changed_lines = 10\n\n[roadmap]\n");
    for i in 0..1500 {
        config.push_str(&format!(
            "[[roadmap.items]]\nid = \"R-{i}\"\ntitle = \"Item number {i} with a long enough title\"\nhypothesis = \"We believe item {i} will reduce churn by {i}%\"\npaths = [\"src/**\"]\n"
        ));
    }
    let config = Config::parse("keel.toml", &config).unwrap();
    let mut ev = crate::evaluate(&config, &facts("x", "y", "", &[], FEATURE));
    let short = comment(&ev, &Footer::default(), &LAYOUT);
    assert!(
        short.contains("- _and 1480 more linked items_"),
        "at most 20 items are listed"
    );
    assert!(short.chars().count() < 10_000);
    // A change with thousands of criteria rows still fits, with a note.
    let row = ev.criteria[0].clone();
    ev.criteria = (0..3000).map(|_| row.clone()).collect();
    let body = comment(&ev, &Footer::default(), &LAYOUT);
    assert!(
        body.chars().count() <= crate::render::COMMENT_LIMIT,
        "{}",
        body.chars().count()
    );
    assert!(body.ends_with(COMMENT_MARKER));
    assert!(body.contains("_Trimmed to fit GitHub's comment limit"));
    let tail: String = body.chars().skip(body.chars().count() - 400).collect();
    insta::assert_snapshot!("huge_trimmed_tail", tail);
}

// The comment as engineers meet it, one scenario each (issue 16's acceptance list).

mod scenarios {
    use super::*;
    use crate::facts::{CoverageMetrics, FindingMetrics, Metrics};
    use crate::report::bench::{Interval, Measurement};
    use crate::report::coverage::Ratio;
    use crate::units::Dimension;

    const COVDEMO_LCOV: &str = include_str!("../../../../../tests/fixtures/covdemo/coverage.lcov");
    const COVDEMO_DIFF: &str = include_str!("../../../../../tests/fixtures/covdemo/pr.diff");

    const GATE: &str = r#"
[coverage]
paths = ["coverage.lcov"]
min_patch = { threshold = 90, why = "Untested changes caused 3 of our last 5 incidents" }
max_drop = 1

[security]
paths = ["scan.sarif"]
fail_on = { threshold = "high", why = "SOC 2: no known high-severity flaw ships" }

[[performance.budget]]
benchmark = "parse/*"
max_regression = "5%"
why = "Checkout latency drives conversion"

[hygiene]
require_linked_issue = true

[roadmap]
require_link = true

[[roadmap.items]]
id = "R-12"
title = "One-page checkout"
hypothesis = "We believe a one-page checkout will reduce cart abandonment by 15%"
paths = ["pkg/**"]
"#;

    fn pr(title: &str, author: &str) -> PullRequest {
        PullRequest {
            title: title.into(),
            body: "Fixes #34".into(),
            branch: "feat/R-12-batches".into(),
            labels: Vec::new(),
            milestone: None,
            author: Some(author.into()),
        }
    }

    fn bench(name: &str, value: f64, half: f64) -> Measurement {
        Measurement {
            name: name.into(),
            value,
            dimension: Dimension::Time,
            interval: Some(Interval {
                lower: value - half,
                upper: value + half,
            }),
        }
    }

    /// The covdemo change with its report, a clean scan, benchmarks as good as the base, and
    /// a baseline one commit back.
    fn green() -> Facts {
        let l = Limits::DEFAULT;
        let coverage =
            crate::report::lcov::parse_lcov("coverage.lcov", COVDEMO_LCOV.as_bytes(), &l).unwrap();
        Facts {
            diff: Some(parse_diff("pr.diff", COVDEMO_DIFF.as_bytes(), &l).unwrap()),
            coverage: Some(coverage),
            findings: Some(Vec::new()),
            benchmarks: Some(vec![bench("parse/small", 100_000.0, 1_000.0)]),
            pull_request: Some(pr("feat: batches (R-12)", "alice")),
            baseline: Some(Metrics {
                coverage: Some(CoverageMetrics {
                    lines: Ratio::new(27, 32),
                    ..CoverageMetrics::default()
                }),
                findings: Some(FindingMetrics::default()),
                benchmarks: vec![bench("parse/small", 100_000.0, 1_000.0)],
                ..Metrics::default()
            }),
            baseline_commit: Some(("70bf2ae9c1d4".into(), 1)),
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 2),
            ..Facts::default()
        }
    }

    /// One new high finding (bandit's B602) on an added line of `pkg/gate.py`.
    fn high_finding() -> Vec<crate::report::sarif::Finding> {
        let sarif = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"bandit"}},"results":[
          {"ruleId":"B602","level":"error","message":{"text":"subprocess call with shell=True"},
           "locations":[{"physicalLocation":{"artifactLocation":{"uri":"pkg/gate.py"},"region":{"startLine":22}}}]}]}]}"#;
        crate::report::sarif::parse_sarif("scan.sarif", sarif.as_bytes(), &Limits::DEFAULT)
            .unwrap()
            .findings
    }

    fn render_with(config: &str, facts: &Facts) -> String {
        super::render(config, facts)
    }

    /// Passes when patch coverage is met: the covdemo change covers 16 of 19 added lines.
    const LENIENT: &str = "threshold = 80, why";

    #[test]
    fn all_green_is_short() {
        let body = render_with(&GATE.replacen("threshold = 90, why", LENIENT, 1), &green());
        assert!(
            body.starts_with("### ✅ Definition of done met\n\n6 criteria"),
            "{body}"
        );
        assert!(!body.contains("#### Technical debt"), "{body}");
        insta::assert_snapshot!("scenario_all_green", body);
    }

    #[test]
    fn one_coverage_failure_lists_files_and_lines() {
        let body = render_with(GATE, &green());
        assert!(
            body.contains("- `pkg/gate.py` — 3 lines: lines [22](https://github.com/acme/shop/blob/aab479b/pkg/gate.py#L22), [31]("),
            "{body}"
        );
        assert!(
            body.contains("Untested changes caused 3 of our last 5 incidents"),
            "{body}"
        );
        insta::assert_snapshot!("scenario_coverage_failure", body);
    }

    #[test]
    fn a_new_high_finding_names_rule_severity_and_line() {
        let mut facts = green();
        facts.findings = Some(high_finding());
        let body = render_with(&GATE.replacen("threshold = 90, why", LENIENT, 1), &facts);
        assert!(body.contains("`B602` (high): [line 22](https://github.com/acme/shop/blob/aab479b/pkg/gate.py#L22) — subprocess call"), "{body}");
        insta::assert_snapshot!("scenario_new_high_finding", body);
    }

    #[test]
    fn benchmark_regressions_within_and_beyond_noise() {
        let mut facts = green();
        facts.benchmarks = Some(vec![
            bench("parse/small", 112_000.0, 1_000.0),
            bench("parse/large", 1_070_000.0, 60_000.0),
        ]);
        if let Some(b) = facts.baseline.as_mut() {
            b.benchmarks = vec![
                bench("parse/small", 100_000.0, 1_000.0),
                bench("parse/large", 1_000_000.0, 60_000.0),
            ];
        }
        let body = render_with(&GATE.replacen("threshold = 90, why", LENIENT, 1), &facts);
        assert!(
            body.contains("`parse/small` 100 µs → 112 µs (+12.0%, beyond noise)"),
            "{body}"
        );
        assert!(body.contains("(+7.0%, within noise)"), "{body}");
        insta::assert_snapshot!("scenario_benchmark_regression", body);
    }

    #[test]
    fn a_missing_baseline_is_said_once_with_its_reason() {
        let mut facts = green();
        facts.baseline = None;
        facts.baseline_commit = None;
        let body = render_with(GATE, &facts);
        // Two rows compare with the base: each says once, in the first sentence, why it was
        // not judged; no second sentence repeats it.
        assert_eq!(body.matches("no baseline").count(), 2, "{body}");
        assert!(!body.contains("No baseline"), "{body}");
    }

    #[test]
    fn a_row_without_its_report_says_to_bring_the_report_not_to_write_tests() {
        let mut facts = green();
        facts.coverage = None;
        facts.findings = None;
        let body = render_with(GATE, &facts);
        assert!(body.starts_with("### ❌"), "{body}");
        assert!(body.contains("no report"), "{body}");
        assert!(body.contains("Next: make CI write the report"), "{body}");
        // Advice for a row that was judged: there are no lines or findings below to act on.
        assert!(
            !body.contains("add tests that run the added lines"),
            "{body}"
        );
        assert!(!body.contains("fix the findings below"), "{body}");
    }

    #[test]
    fn a_bots_dependency_bump_passes_without_paperwork() {
        let mut facts = green();
        facts.diff = Some(
            parse_diff(
                "pr.diff",
                b"diff --git a/requirements.txt b/requirements.txt\n--- a/requirements.txt\n+++ b/requirements.txt\n@@ -1 +1 @@\n-requests==2.31.0\n+requests==2.32.0\n",
                &Limits::DEFAULT,
            )
            .unwrap(),
        );
        facts.pull_request = Some(PullRequest {
            body: String::new(),
            branch: "dependabot/pip/requests-2.32.0".into(),
            ..pr("Bump requests from 2.31.0 to 2.32.0", "dependabot[bot]")
        });
        let config = Config::parse("keel.toml", GATE).unwrap();
        let ev = crate::evaluate(&config, &facts);
        assert_eq!(
            ev.conclusion,
            crate::evaluation::Conclusion::Success,
            "{:#?}",
            ev.criteria
        );
        insta::assert_snapshot!("scenario_dependency_bump", render_with(GATE, &facts));
    }

    #[test]
    fn a_docs_only_change_is_not_affected() {
        let mut facts = green();
        facts.diff = Some(
            parse_diff(
                "pr.diff",
                b"diff --git a/docs/setup.md b/docs/setup.md\n--- a/docs/setup.md\n+++ b/docs/setup.md\n@@ -1 +1 @@\n-Instal\n+Install\n",
                &Limits::DEFAULT,
            )
            .unwrap(),
        );
        facts.coverage = None;
        facts.findings = None;
        facts.benchmarks = None;
        facts.pull_request = Some(PullRequest {
            body: String::new(),
            ..pr("docs: fix a typo", "alice")
        });
        let body = render_with(GATE, &facts);
        assert!(body.starts_with("### ✅ Definition of done met"), "{body}");
        assert!(body.contains("not affected"), "{body}");
        assert!(!body.contains("no report"), "{body}");
        insta::assert_snapshot!("scenario_docs_only", body);
    }

    #[test]
    fn a_dismissed_finding_is_shown_with_its_reason_and_end_date() {
        let mut facts = green();
        facts.findings = Some(high_finding());
        let config = format!(
            "{}\n[[security.ignore]]\nrule = \"B602\"\npaths = [\"pkg/**\"]\nreason = \"False positive: the command is a constant\"\nuntil = \"2026-12-31\"\n",
            GATE.replacen("threshold = 90, why", LENIENT, 1)
        );
        let body = render_with(&config, &facts);
        assert!(body.starts_with("### ✅"), "{body}");
        assert!(
            body.contains("- `B602` at `pkg/gate.py:22` — `[[security.ignore]]` until 2026\\-12\\-31: False positive: the command is a constant"),
            "{body}"
        );
        // The day after its end date, the finding counts again.
        facts.today = chrono::NaiveDate::from_ymd_opt(2027, 1, 1);
        let ev = crate::evaluate(&Config::parse("keel.toml", &config).unwrap(), &facts);
        assert_eq!(ev.conclusion, crate::evaluation::Conclusion::Failure);
        assert!(
            ev.notes.iter().any(|n| n.contains("ended on 2026-12-31")),
            "{:?}",
            ev.notes
        );
        // Without a date to check it against, it does not apply.
        facts.today = None;
        let ev = crate::evaluate(&Config::parse("keel.toml", &config).unwrap(), &facts);
        assert_eq!(ev.conclusion, crate::evaluation::Conclusion::Failure);
    }
}

#[test]
fn a_path_that_climbs_out_of_the_tree_is_never_linked() {
    use crate::evaluation::Specific;
    use crate::render::dod::Links;
    let config = Config::parse("keel.toml", "[hygiene]\nmax_changed_lines = 1\n").unwrap();
    let mut ev = crate::evaluate(&config, &facts("x", "x", "", &[], FEATURE));
    ev.criteria[0].status = crate::evaluation::Status::Fail;
    ev.criteria[0].why = Some("w".into());
    ev.criteria[0].specifics = vec![
        Specific {
            path: Some("../../../../attacker/repo/blob/main/x".into()),
            lines: vec![(3, 3)],
            text: "a finding".into(),
            note: None,
        },
        Specific {
            path: Some("src/a (1).py".into()),
            lines: vec![(3, 4)],
            text: "a finding".into(),
            note: None,
        },
    ];
    let links = Links {
        blob: Some("https://github.com/acme/shop/blob/aab479b".into()),
    };
    let body = crate::render::dod::to_fix(&ev, &links);
    assert!(
        body.contains("`../../../../attacker/repo/blob/main/x` — a finding: line 3\n"),
        "{body}"
    );
    assert!(
        body.contains(
            "[lines 3–4](https://github.com/acme/shop/blob/aab479b/src/a%20%281%29.py#L3-L4)"
        ),
        "{body}"
    );
}
