//! Files the coverage report does not list, and files whose patch is missing.

use crate::diff::{Diff, FileDiff, FileStatus, parse_diff, parse_file_patch};
use crate::evaluation::{AnnotationLevel, Evaluation, Status};
use crate::facts::Facts;
use crate::limits::Limits;
use crate::policy::tests::{check, row};
use crate::report::lcov::parse_lcov;

const LCOV: &str = include_str!("../../../../../tests/fixtures/covdemo/coverage.lcov");

/// A new file with these lines, as `git diff` shows it.
fn new_file(path: &str, lines: &[&str]) -> String {
    let body: String = lines.iter().map(|l| format!("+{l}\n")).collect();
    format!(
        "diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{} @@\n{body}",
        lines.len()
    )
}

/// The covdemo report (only `.py` files under `pkg/`) and a diff.
fn facts(diff: Diff) -> Facts {
    Facts {
        diff: Some(diff),
        coverage: Some(parse_lcov("coverage.lcov", LCOV.as_bytes(), &Limits::DEFAULT).unwrap()),
        ..Facts::default()
    }
}

fn diff(text: &str) -> Diff {
    parse_diff("pr.diff", text.as_bytes(), &Limits::DEFAULT).unwrap()
}

const MODULE: &[&str] = &["import os", "", "def f():", "   ", "    return os.sep"];

fn patch_of(ev: &Evaluation) -> (u64, u64) {
    let p = ev.coverage.as_ref().unwrap().patch.unwrap();
    (p.covered, p.coverable)
}

#[test]
fn a_source_file_the_report_does_not_list_is_uncovered() {
    let ev = check(
        "[coverage]\nmin_patch = 80\n",
        &facts(diff(&new_file("pkg/new.py", MODULE))),
        &[("coverage.patch", Status::Fail, "0.00%")],
    );
    assert_eq!(patch_of(&ev), (0, 3), "blank added lines do not count");
    assert!(
        row(&ev, "coverage.patch")
            .explanation
            .contains("not in the coverage report, so counted as uncovered: `pkg/new.py`")
    );
    let a: Vec<_> = ev
        .annotations
        .iter()
        .map(|a| {
            (
                a.path.as_str(),
                a.start_line,
                a.end_line,
                a.level,
                a.title.as_str(),
            )
        })
        .collect();
    assert_eq!(
        a,
        [(
            "pkg/new.py",
            1,
            5,
            AnnotationLevel::Failure,
            "Not in the coverage report"
        )]
    );
    let advisory = check(
        "[coverage]\nmin_patch = { threshold = 80, level = \"advisory\" }\n",
        &facts(diff(&new_file("pkg/new.py", MODULE))),
        &[("coverage.patch", Status::Warn, "0.00%")],
    );
    assert_eq!(advisory.annotations[0].level, AnnotationLevel::Warning);
}

#[test]
fn by_default_source_is_what_has_an_extension_the_report_has() {
    let text = new_file("src/main.rs", MODULE) + &new_file("Makefile", MODULE);
    let ev = check(
        "[coverage]\nmin_patch = 80\n",
        &facts(diff(&text)),
        &[("coverage.patch", Status::Pass, "not affected")],
    );
    assert!(ev.annotations.is_empty());
}

#[test]
fn tests_are_not_source_by_default() {
    let text = [
        "tests/test_gate.py",
        "pkg/gate_test.py",
        "pkg/test_util.py",
        "pkg/__tests__/x.py",
    ]
    .iter()
    .map(|p| new_file(p, MODULE))
    .collect::<String>();
    check(
        "[coverage]\nmin_patch = 80\n",
        &facts(diff(&text)),
        &[("coverage.patch", Status::Pass, "not affected")],
    );
    // Configured globs decide for themselves.
    check(
        "[coverage]\nmin_patch = 80\nsource = [\"tests/**\"]\n",
        &facts(diff(&new_file("tests/test_gate.py", MODULE))),
        &[("coverage.patch", Status::Fail, "0.00%")],
    );
}

#[test]
fn configured_source_globs_decide_what_is_source() {
    let text = new_file("scripts/tool.py", MODULE) + &new_file("pkg/native.rs", &["fn x() {}"]);
    let ev = check(
        "[coverage]\nmin_patch = 80\nsource = [\"pkg/**\"]\n",
        &facts(diff(&text)),
        &[("coverage.patch", Status::Fail, "0.00%")],
    );
    assert_eq!(patch_of(&ev), (0, 1));
    assert_eq!(ev.annotations[0].path, "pkg/native.rs");
}

#[test]
fn ignored_files_are_not_counted_even_when_unreported() {
    check(
        "[coverage]\nmin_patch = 80\nignore = [\"pkg/new.py\"]\n",
        &facts(diff(&new_file("pkg/new.py", MODULE))),
        &[("coverage.patch", Status::Pass, "not affected")],
    );
}

fn without_patch(path: &str, binary: bool) -> FileDiff {
    let mut f = parse_file_patch(path, FileStatus::Modified, None, &Limits::DEFAULT).unwrap();
    f.binary = binary;
    f.added = 30_000;
    f
}

#[test]
fn a_coverable_file_without_a_patch_makes_patch_coverage_unknown() {
    for path in ["pkg/gate.py", "pkg/unlisted.py"] {
        let facts = facts(Diff {
            files: vec![without_patch(path, false)],
            ..Diff::default()
        });
        let ev = check(
            "[coverage]\nmin_patch = 80\n",
            &facts,
            &[("coverage.patch", Status::Fail, "unknown")],
        );
        assert_eq!(
            row(&ev, "coverage.patch").explanation,
            format!(
                "GitHub sent no patch for `{path}` (too large); its added lines cannot be checked"
            )
        );
        check(
            "[coverage]\nmin_patch = { threshold = 80, level = \"advisory\" }\n",
            &facts,
            &[("coverage.patch", Status::Warn, "unknown")],
        );
    }
}

#[test]
fn a_file_without_a_patch_that_is_not_source_or_is_binary_leaves_patch_coverage_alone() {
    let facts = facts(Diff {
        files: vec![
            without_patch("data/big.json", false),
            without_patch("pkg/blob.py", true),
        ],
        ..Diff::default()
    });
    check(
        "[coverage]\nmin_patch = 80\n",
        &facts,
        &[("coverage.patch", Status::Pass, "not affected")],
    );
}

#[test]
fn a_file_without_a_patch_still_counts_toward_change_size() {
    let facts = facts(Diff {
        files: vec![without_patch("data/big.json", false)],
        ..Diff::default()
    });
    check(
        "[hygiene]\nmax_changed_lines = 1000\n",
        &facts,
        &[("hygiene.size", Status::Fail, "30000 lines")],
    );
}

#[test]
fn a_hunk_that_disagrees_with_its_header_fails_the_change() {
    // The header promises five added lines; the body has two. Without the failing row the
    // file would look "not affected" to every diff-based criterion.
    let text = "diff --git a/pkg/new.py b/pkg/new.py\n--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1,5 @@\n+import os\n+";
    let ev = check(
        "",
        &facts(diff(text)),
        &[("diff.complete", Status::Fail, "incomplete")],
    );
    assert!(
        row(&ev, "diff.complete")
            .explanation
            .starts_with("the diff is damaged at line 6 of `pr.diff`: the diff ends inside a hunk"),
        "{}",
        row(&ev, "diff.complete").explanation
    );
    assert_eq!(ev.conclusion, crate::evaluation::Conclusion::Failure);
}
