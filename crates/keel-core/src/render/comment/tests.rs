use super::*;
use crate::config::Config;
use crate::diff::parse_diff;
use crate::facts::CapacityCounts;
use crate::facts::{Facts, PullRequest};
use crate::limits::Limits;

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
        },
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
        body.contains("slows each feature touching it by \\~2 days; costs 1,200 a month"),
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
    let short = comment(&ev, &Footer::default());
    assert!(
        short.contains("- _and 1480 more linked items_"),
        "at most 20 items are listed"
    );
    assert!(short.chars().count() < 10_000);
    // A change with thousands of criteria rows still fits, with a note.
    let row = ev.criteria[0].clone();
    ev.criteria = (0..3000).map(|_| row.clone()).collect();
    let body = comment(&ev, &Footer::default());
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
