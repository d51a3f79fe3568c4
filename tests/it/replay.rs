//! `keel replay`: stored payloads through the App's own pipeline against the dry-run GitHub.

use crate::support::{keel, root};
use std::fs;

/// The README's first command.
const DEMO: &[&str] = &[
    "replay",
    "examples/replay/pull_request.json",
    "examples/replay/workflow_run.json",
    "--repo-dir",
    "examples",
    "--diff",
    "examples/pr.diff",
    "--baseline",
    "examples/baseline.json",
];

#[test]
fn the_readme_replay_waits_for_reports_then_posts_one_check_run_and_one_comment() {
    let run = keel(&root(), DEMO);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    let waiting = out
        .find("── check run 1: in progress · Waiting for reports")
        .expect(out);
    let done = out
        .find("── check run 1: completed, success · Definition of done met, with 2 warnings")
        .expect(out);
    assert!(waiting < done, "the reports arrive with the workflow run");
    assert_eq!(
        out.matches("created, in progress").count(),
        1,
        "one check run"
    );
    assert!(
        out.contains("Coverage drop: 3.12 points (needs ≤ 0.5 points; base 87.50%, -3.12 points)"),
        "the baseline is used: {out}"
    );
    // Printed for a terminal: no markdown escapes, emphasis or HTML.
    for markup in ["\\.", "\\-", "**", "<details>", "<br>", "<!--"] {
        assert!(!out.contains(markup), "{markup} in {out}");
    }
    assert!(
        out.contains(
            "  pkg/gate.py:22 warning Uncovered line: Added line 22 is not covered by tests"
        ),
        "{out}"
    );
    assert!(out.contains("── comment 1 on #7: created"), "{out}");
    assert!(
        out.contains("Definition of done check run\n\n\n── labels on #7: + debt: added"),
        "the comment, then Keel's debt label: {out}"
    );
    assert!(
        out.contains(
            "- R-4 · Review feedback on every line (active) — fixes #5, one of its issues"
        ),
        "{out}"
    );
}

#[test]
fn a_failed_verdict_exits_1_and_keels_labels_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(".github")).unwrap();
    fs::write(
        dir.path().join(".github/keel.toml"),
        "[hygiene]\nmax_changed_lines = 10\n\n[labels]\nnot_done = \"dod: not met\"\n",
    )
    .unwrap();
    let payload = root().join("examples/replay/pull_request.json");
    let diff = root().join("examples/pr.diff");
    let run = keel(
        dir.path(),
        &[
            "replay",
            payload.to_str().unwrap(),
            "--repo-dir",
            ".",
            "--diff",
            diff.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("── check run 1: completed, failure"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("── labels on #7: + dod: not met"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_payload_that_is_not_its_event_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("pull_request.json");
    fs::write(&bad, "{\"action\": \"opened\"}").unwrap();
    let run = keel(dir.path(), &["replay", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("malformed `pull_request` payload"),
        "{}",
        run.stderr
    );
    let run = keel(
        dir.path(),
        &["replay", bad.to_str().unwrap(), "--event", "deployment"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("ignored (event `deployment` is not used)"),
        "{}",
        run.stdout
    );
}
