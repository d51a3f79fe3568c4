//! Exemptions and path scoping, table-driven: who opened the change, what kind of change it
//! says it is, and which files it touches decide which rows apply, never whether a
//! measurement passes.

use crate::config::Config;
use crate::diff::parse_diff;
use crate::evaluation::{Conclusion, Evaluation, SkipReason, Status};
use crate::facts::{Facts, PullRequest};
use crate::limits::Limits;

const GATE: &str = r#"
[coverage]
paths = ["lcov.info"]
min_patch = 80

[hygiene]
require_linked_issue = true
title_pattern = '^(feat|fix|docs|chore|build)(\(.+\))?: '

[roadmap]
require_link = true

[[roadmap.items]]
id = "R-1"
title = "Search"
"#;

/// A diff that adds one line to each of `files` (`old=>new` renames one).
fn diff(files: &[&str]) -> crate::diff::Diff {
    let text: String = files
        .iter()
        .map(|f| match f.split_once("=>") {
            Some((old, new)) => format!(
                "diff --git a/{old} b/{new}\nsimilarity index 90%\nrename from {old}\nrename to {new}\n--- a/{old}\n+++ b/{new}\n@@ -1 +1,2 @@\n a\n+b\n"
            ),
            None => format!("diff --git a/{f} b/{f}\n--- a/{f}\n+++ b/{f}\n@@ -1 +1,2 @@\n a\n+b\n"),
        })
        .collect();
    parse_diff("pr.diff", text.as_bytes(), &Limits::DEFAULT).unwrap()
}

struct Case {
    name: &'static str,
    author: &'static str,
    title: &'static str,
    branch: &'static str,
    labels: &'static [&'static str],
    files: &'static [&'static str],
    /// Status and skip reason of: roadmap.link, hygiene.linked_issue, hygiene.title,
    /// coverage.patch (no coverage report is given: an affected change fails it).
    expected: [(Status, Option<SkipReason>); 4],
}

fn evaluate(config: &str, case: &Case) -> Evaluation {
    let facts = Facts {
        diff: Some(diff(case.files)),
        pull_request: Some(PullRequest {
            title: case.title.into(),
            body: String::new(),
            branch: case.branch.into(),
            labels: case.labels.iter().map(|l| (*l).to_owned()).collect(),
            milestone: None,
            author: Some(case.author.into()),
        }),
        ..Facts::default()
    };
    crate::evaluate(&Config::parse("keel.toml", config).unwrap(), &facts)
}

fn rows(ev: &Evaluation) -> Vec<(Status, Option<SkipReason>)> {
    [
        "roadmap.link",
        "hygiene.linked_issue",
        "hygiene.title",
        "coverage.patch",
    ]
    .iter()
    .map(|id| {
        let row = ev.criteria.iter().find(|c| c.id == *id).unwrap();
        (row.status, row.skip)
    })
    .collect()
}

const PASS: (Status, Option<SkipReason>) = (Status::Pass, None);
const FAIL: (Status, Option<SkipReason>) = (Status::Fail, None);
const EXEMPT: (Status, Option<SkipReason>) = (Status::Skip, Some(SkipReason::Exempt));
const NOT_AFFECTED: (Status, Option<SkipReason>) = (Status::Skip, Some(SkipReason::NotAffected));

#[test]
fn exemptions_and_path_scoping_decide_which_rows_apply() {
    let cases = [
        Case {
            name: "a Dependabot bump: no paperwork, still measured",
            author: "dependabot[bot]",
            title: "Bump serde from 1.0.1 to 1.0.2",
            branch: "dependabot/cargo/serde-1.0.2",
            labels: &[],
            files: &["Cargo.toml", "Cargo.lock"],
            expected: [EXEMPT, EXEMPT, EXEMPT, FAIL],
        },
        Case {
            name: "Renovate, login in another case",
            author: "Renovate[bot]",
            title: "Update dependency vite to v8",
            branch: "renovate/vite-8.x",
            labels: &[],
            files: &["package.json"],
            expected: [EXEMPT, EXEMPT, EXEMPT, FAIL],
        },
        Case {
            name: "a docs-only change: upkeep, and no report criterion applies",
            author: "alice",
            title: "docs: fix a typo",
            branch: "typo",
            labels: &[],
            files: &["README.md", "docs/guide/setup.md"],
            expected: [PASS, EXEMPT, PASS, NOT_AFFECTED],
        },
        Case {
            name: "a refactor: upkeep, but code is still measured and titles still checked",
            author: "alice",
            title: "refactor: split the gate",
            branch: "split",
            labels: &[],
            files: &["src/gate.rs"],
            expected: [PASS, EXEMPT, FAIL, FAIL],
        },
        Case {
            name: "an upkeep label",
            author: "alice",
            title: "chore: bump the toolchain",
            branch: "toolchain",
            labels: &["dependencies"],
            files: &["rust-toolchain.toml"],
            expected: [PASS, EXEMPT, PASS, FAIL],
        },
        Case {
            name: "a feature: everything applies",
            author: "alice",
            title: "feat: search",
            branch: "feat/R-1-search",
            labels: &[],
            files: &["src/search.rs"],
            expected: [PASS, FAIL, PASS, FAIL],
        },
        Case {
            name: "docs and code together: affected",
            author: "alice",
            title: "docs: search",
            branch: "x",
            labels: &[],
            files: &["docs/search.md", "src/search.rs"],
            expected: [PASS, EXEMPT, PASS, FAIL],
        },
        Case {
            name: "code renamed into docs/: the old path counts",
            author: "alice",
            title: "docs: move the example",
            branch: "x",
            labels: &[],
            files: &["src/example.rs=>docs/example.md"],
            expected: [PASS, EXEMPT, PASS, FAIL],
        },
        Case {
            name: "a person whose title looks like a bot's is not a bot",
            author: "mallory",
            title: "Bump serde from 1.0.1 to 1.0.2",
            branch: "dependabot/cargo/serde-1.0.2",
            labels: &[],
            files: &["Cargo.lock"],
            expected: [FAIL, FAIL, FAIL, FAIL],
        },
    ];
    for case in &cases {
        let ev = evaluate(GATE, case);
        assert_eq!(rows(&ev), case.expected, "{}", case.name);
    }
}

#[test]
fn exemptions_can_be_narrowed_and_paths_scoped() {
    let bump = Case {
        name: "",
        author: "dependabot[bot]",
        title: "Bump serde",
        branch: "dependabot/cargo/serde",
        labels: &[],
        files: &["scripts/build.sh"],
        expected: [PASS; 4],
    };
    // No exempt authors, no upkeep types: the bot is asked like anyone.
    let strict = format!("{GATE}\n[exempt]\nauthors = []\nupkeep_types = []\n");
    let ev = evaluate(&strict, &bump);
    assert_eq!(rows(&ev), [FAIL, FAIL, FAIL, FAIL]);
    // Coverage scoped to src/**: a change to a script is not affected, and says why.
    let scoped = GATE.replace("min_patch = 80", "min_patch = 80\naffects = [\"src/**\"]");
    let ev = evaluate(&scoped, &bump);
    let patch = ev
        .criteria
        .iter()
        .find(|c| c.id == "coverage.patch")
        .unwrap();
    assert_eq!((patch.status, patch.skip), NOT_AFFECTED);
    assert_eq!(
        patch.explanation,
        "not affected: the change touches no file under `src/**`"
    );
    assert_eq!(ev.conclusion, Conclusion::Success);
}

#[test]
fn a_change_keel_cannot_see_whole_is_affected_by_everything() {
    let case = Case {
        name: "",
        author: "alice",
        title: "docs: x",
        branch: "x",
        labels: &[],
        files: &["README.md"],
        expected: [PASS; 4],
    };
    let mut facts_diff = diff(case.files);
    facts_diff.incomplete = Some("GitHub listed 3000 of 3500 files".into());
    let config = Config::parse("keel.toml", GATE).unwrap();
    assert_eq!(
        super::affected(
            &crate::glob::PathGlobs::default(),
            config.exempt(),
            Some(&facts_diff)
        ),
        super::Affected::Yes
    );
    assert_eq!(
        super::affected(&crate::glob::PathGlobs::default(), config.exempt(), None),
        super::Affected::Yes
    );
}

#[test]
fn the_shell_waits_for_reports_only_when_a_report_criterion_applies() {
    let config = Config::parse("keel.toml", GATE).unwrap();
    assert!(!super::reports_needed(&config, Some(&diff(&["docs/a.md"]))));
    assert!(super::reports_needed(
        &config,
        Some(&diff(&["docs/a.md", "src/a.rs"]))
    ));
    assert!(super::reports_needed(&config, None));
}

#[test]
fn criteria_turned_off_wait_for_no_report() {
    // What `keel init` writes where it finds no project and no scanner: nothing is measured,
    // so a pull request must not wait for reports that never come.
    let off = "[coverage]\nmax_drop = { threshold = 0.5, level = \"off\" }\n\
               min_patch = { threshold = 80, level = \"off\" }\n\
               [security]\nfail_on = { threshold = \"high\", level = \"off\" }\n\
               [[performance.budget]]\nbenchmark = \"parse\"\nmax = \"1ms\"\nlevel = \"off\"\n";
    let config = Config::parse("keel.toml", off).unwrap();
    assert!(!super::reports_needed(&config, Some(&diff(&["src/a.rs"]))));
    assert!(!super::reports_needed(&config, None));
    // One left on is waited for.
    let on = off.replacen(
        "min_patch = { threshold = 80, level = \"off\" }",
        "min_patch = 80",
        1,
    );
    let config = Config::parse("keel.toml", &on).unwrap();
    assert!(super::reports_needed(&config, Some(&diff(&["src/a.rs"]))));
}

#[test]
fn a_finding_in_a_documentation_only_change_still_counts() {
    let sarif = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gitleaks"}},"results":[
      {"ruleId":"aws-access-token","level":"error","message":{"text":"AWS access key"},
       "locations":[{"physicalLocation":{"artifactLocation":{"uri":"README.md"},"region":{"startLine":2}}}]}]}]}"#;
    let config = "[security]\nfail_on = \"high\"\n";
    let docs = Case {
        name: "",
        author: "mallory",
        title: "docs: setup",
        branch: "x",
        labels: &[],
        files: &["README.md"],
        expected: [PASS; 4],
    };
    let mut facts = Facts {
        diff: Some(diff(docs.files)),
        ..Facts::default()
    };
    let row = |facts: &Facts, config: &str| {
        let ev = crate::evaluate(&Config::parse("keel.toml", config).unwrap(), facts);
        let r = ev
            .criteria
            .iter()
            .find(|c| c.id == "security.new_findings")
            .unwrap();
        (r.status, r.skip)
    };
    // No scan in: not affected, nothing to wait for.
    assert_eq!(row(&facts, config), NOT_AFFECTED);
    // A scan that is in is judged: the key in the README fails the change.
    facts.findings = Some(
        crate::report::sarif::parse_sarif("s.sarif", sarif.as_bytes(), &Limits::DEFAULT)
            .unwrap()
            .findings,
    );
    assert_eq!(row(&facts, config), FAIL);
    // An explicit scope is the team's decision.
    let scoped = "[security]\nfail_on = \"high\"\naffects = [\"src/**\"]\n";
    assert_eq!(row(&facts, scoped), NOT_AFFECTED);
}

#[test]
fn outside_a_pull_request_a_missing_diff_is_not_a_missing_fact() {
    let config = Config::parse("keel.toml", "[hygiene]\nmax_changed_lines = 10\n").unwrap();
    // A push (or `keel check` on a branch): nothing to measure, listed, not failed.
    let ev = crate::evaluate(&config, &Facts::default());
    assert_eq!(
        (ev.criteria[0].status, ev.criteria[0].skip),
        (Status::Skip, Some(SkipReason::NoPullRequest))
    );
    assert_eq!(ev.conclusion, Conclusion::Success);
    // A pull request whose diff Keel does not have cannot pass.
    let facts = Facts {
        pull_request: Some(PullRequest::default()),
        ..Facts::default()
    };
    let ev = crate::evaluate(&config, &facts);
    assert_eq!(ev.criteria[0].status, Status::Fail);
}

#[test]
fn keels_own_labels_never_exempt_a_change() {
    let config = format!(
        "{GATE}\n[debt]\n\n[labels]\ndone = \"chore\"\n\n[exempt]\nupkeep_labels = [\"chore\", \"debt: reduced\", \"upkeep\"]\n"
    );
    let case = |labels: &'static [&'static str]| Case {
        name: "",
        author: "mallory",
        title: "feat: search",
        branch: "x",
        labels,
        files: &["src/search.rs"],
        expected: [PASS; 4],
    };
    // `debt: reduced` and `chore` are Keel's own labels here: they mark nothing.
    let ev = evaluate(&config, &case(&["debt: reduced", "chore"]));
    assert_eq!(rows(&ev)[..2], [FAIL, FAIL]);
    let ev = evaluate(&config, &case(&["upkeep"]));
    assert_eq!(rows(&ev)[..2], [PASS, EXEMPT]);
}

#[test]
fn keels_own_label_never_links_a_roadmap_item() {
    let labelled = Case {
        name: "",
        author: "dev",
        title: "Speed up search",
        branch: "search",
        labels: &["ready"],
        files: &["src/search.rs"],
        expected: [PASS; 4],
    };
    // "ready" is an item's label; a person's "ready" links the change to it.
    let config = GATE.replace(
        "title = \"Search\"",
        "title = \"Search\"\nlabels = [\"ready\"]",
    );
    let link = |ev: &Evaluation| {
        let row = ev.criteria.iter().find(|c| c.id == "roadmap.link").unwrap();
        row.status
    };
    assert_eq!(link(&evaluate(&config, &labelled)), Status::Pass);
    // Keel puts "ready" on changes that meet their definition of done: then its own label
    // would link the change it just judged, and the next verdict would differ from the one
    // the label came from.
    let owned = format!("{config}\n[labels]\ndone = \"ready\"\n");
    assert_eq!(link(&evaluate(&owned, &labelled)), Status::Fail);
}
