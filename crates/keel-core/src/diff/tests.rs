use super::*;
use proptest::prelude::*;

fn parse(text: &str) -> Diff {
    parse_diff("test.diff", text.as_bytes(), &Limits::DEFAULT).unwrap()
}

const GIT_DIFF: &str = "\
diff --git a/src/lib.rs b/src/lib.rs
index 83db48f..bf269f4 100644
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,3 +1,4 @@
 fn a() {}
-fn b() {}
+fn b() { 1 }
+fn c() {}
 fn d() {}
@@ -10,2 +11,3 @@ impl X {
 x
+--- this added line looks like a header
 y
diff --git a/old.rs b/new.rs
similarity index 90%
rename from old.rs
rename to new.rs
index 1..2 100644
--- a/old.rs
+++ b/new.rs
@@ -1 +1 @@
-old
+new
\\ No newline at end of file
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..d3f0b2c
Binary files /dev/null and b/logo.png differ
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
index 4f1e2a3..0000000
--- a/gone.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-a
-b
diff --git a/fresh.py b/fresh.py
new file mode 100644
--- /dev/null
+++ b/fresh.py
@@ -0,0 +1,2 @@
+print(1)
+print(2)
";

#[test]
fn git_diff_lists_files_statuses_and_added_lines() {
    let d = parse(GIT_DIFF);
    let summary: Vec<_> = d
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.status, f.binary, f.added_lines.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("src/lib.rs", FileStatus::Modified, false, vec![2, 3, 12]),
            ("new.rs", FileStatus::Renamed, false, vec![1]),
            ("logo.png", FileStatus::Added, true, vec![]),
            ("gone.txt", FileStatus::Deleted, false, vec![]),
            ("fresh.py", FileStatus::Added, false, vec![1, 2]),
        ]
    );
    assert_eq!(
        d.file("new.rs").unwrap().old_path.as_deref(),
        Some("old.rs")
    );
    assert_eq!(d.file("gone.txt").unwrap().removed, 2);
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(d.changed_lines(), (3 + 1) + (1 + 1) + 2 + 2);
}

#[test]
fn crlf_line_endings_read_the_same() {
    let crlf = GIT_DIFF.replace('\n', "\r\n");
    assert_eq!(parse(&crlf).files, parse(GIT_DIFF).files);
}

#[test]
fn github_patches_have_no_headers() {
    let patch = "@@ -1,2 +1,3 @@\n a\n+b\n c\n@@ -20,0 +21,2 @@\n+x\n+y";
    let f = parse_file_patch(
        "src/a.rs",
        FileStatus::Modified,
        Some(patch.as_bytes()),
        &Limits::DEFAULT,
    )
    .unwrap();
    assert_eq!(f.added_lines, vec![2, 21, 22]);
    assert_eq!((f.added, f.removed), (3, 0));
    let missing =
        parse_file_patch("big.json", FileStatus::Modified, None, &Limits::DEFAULT).unwrap();
    assert!(missing.patch_missing);
}

#[test]
fn plain_unified_diffs_with_timestamps_are_read() {
    let d = parse(
        "--- a/x.c\t2024-01-01 00:00:00\n+++ b/x.c\t2024-01-02 00:00:00\n@@ -1 +1,2 @@\n x\n+y\n--- a/z.c\n+++ b/z.c\n@@ -1 +1 @@\n-q\n+r\n",
    );
    let got: Vec<_> = d
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.added_lines.clone()))
        .collect();
    assert_eq!(got, vec![("x.c", vec![2]), ("z.c", vec![1])]);
}

#[test]
fn quoted_paths_are_unquoted() {
    let d = parse(
        "diff --git \"a/t\\303\\251st file.rs\" \"b/t\\303\\251st file.rs\"\n--- \"a/t\\303\\251st file.rs\"\n+++ \"b/t\\303\\251st file.rs\"\n@@ -0,0 +1 @@\n+x\n",
    );
    assert_eq!(d.files[0].path, "tést file.rs");
}

#[test]
fn a_hunk_shorter_than_its_header_is_noted_and_kept() {
    let d = parse(
        "--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n+only\ndiff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-1\n+2\n",
    );
    assert_eq!(d.files.len(), 2);
    assert_eq!(d.files[0].added_lines, vec![1]);
    assert_eq!(d.diagnostics.len(), 1);
    assert_eq!(d.diagnostics[0].line, 5);
    assert_eq!(
        d.incomplete.as_deref(),
        Some(
            "the diff is damaged at line 5 of `test.diff`: hunk is shorter than its header says (5 old and 4 new lines missing)"
        )
    );
}

#[test]
fn a_diff_stopping_short_of_its_hunk_header_is_incomplete() {
    let d = parse("--- a/x.py\n+++ b/x.py\n@@ -0,0 +1,5 @@\n+a\n+b\n");
    assert_eq!(d.files[0].added_lines, vec![1, 2]);
    assert_eq!(d.diagnostics.len(), 1, "{:?}", d.diagnostics);
    assert!(
        d.incomplete
            .as_deref()
            .is_some_and(|w| w.contains("line 5") && w.contains("(0 old and 3 new lines missing)")),
        "{:?}",
        d.incomplete
    );
}

#[test]
fn a_hunk_longer_than_its_header_is_incomplete() {
    let d = parse("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n+hidden()\n+more()\n");
    assert_eq!(d.files[0].added_lines, vec![1]);
    assert_eq!(d.diagnostics[0].line, 6);
    assert!(
        d.incomplete
            .as_deref()
            .is_some_and(|w| w.contains("line 6") && w.contains("longer than its header")),
        "{:?}",
        d.incomplete
    );
    let one_context_line_short = parse("--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a\n");
    assert!(
        one_context_line_short
            .incomplete
            .is_some_and(|w| w.contains("ends inside a hunk (1 old and 1 new lines missing)"))
    );
    let unreadable = parse("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @ broken\n+a\n");
    assert!(unreadable.incomplete.is_some());
}

#[test]
fn well_formed_diffs_are_complete() {
    assert_eq!(parse(GIT_DIFF).incomplete, None);
    let format_patch = "From 1 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\n---\n x | 1 +\n\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n a\n+b\n-- \n2.43.0\n\n";
    assert_eq!(parse(format_patch).incomplete, None);
}

#[test]
fn a_github_patch_that_disagrees_with_its_header_is_an_error() {
    let patch = |p: &str| {
        parse_file_patch(
            "src/a.py",
            FileStatus::Modified,
            Some(p.as_bytes()),
            &Limits::DEFAULT,
        )
    };
    assert_eq!(
        patch("@@ -1,2 +1,5 @@\n a\n+b\n c").unwrap_err(),
        DiffError::HunkMismatch {
            line: 4,
            problem: "the diff ends inside a hunk (0 old and 2 new lines missing)".into()
        }
    );
    let err = patch("@@ -1 +1 @@\n-a\n+b\n+c").unwrap_err();
    assert_eq!(
        err.to_string(),
        "patch line 4: hunk is longer than its header says"
    );
    assert!(patch("@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file").is_ok());
}

#[test]
fn text_that_is_not_a_diff_is_an_error_and_empty_is_not() {
    let err = parse_diff("x", b"hello world\n", &Limits::DEFAULT).unwrap_err();
    assert_eq!(err, DiffError::NotADiff);
    assert!(
        parse_diff("x", b"\n\n", &Limits::DEFAULT)
            .unwrap()
            .files
            .is_empty()
    );
}

#[test]
fn diffs_over_the_limit_are_refused() {
    let limits = Limits {
        diff_bytes: 10,
        ..Limits::DEFAULT
    };
    let err = parse_diff("x", GIT_DIFF.as_bytes(), &limits).unwrap_err();
    assert!(matches!(err, DiffError::TooLarge { limit: 10, .. }));
}

#[test]
fn the_coverage_demo_diff_matches_git() {
    let text = include_str!("../../../../tests/fixtures/covdemo/pr.diff");
    let d = parse(text);
    let gate = d.file("pkg/gate.py").unwrap();
    // `git diff --numstat main...feature` counts: 24 added, 1 removed in gate.py; 9 added in tests.
    assert_eq!((gate.added, gate.removed), (24, 1));
    assert_eq!(gate.added_lines.first(), Some(&22));
    assert_eq!(d.file("tests/test_gate.py").unwrap().added, 9);
}

proptest! {
    #[test]
    fn a_hunk_is_trusted_only_when_its_header_matches_its_body(
        body in proptest::collection::vec(prop_oneof![Just('+'), Just('-'), Just(' ')], 1..12),
        delta in prop_oneof![-2i64..0, 1i64..3],
        on_old_side in any::<bool>(),
        trailing_newline in any::<bool>(),
    ) {
        let old = body.iter().filter(|&&c| c != '+').count() as i64;
        let new = body.iter().filter(|&&c| c != '-').count() as i64;
        let lines: Vec<String> = body.iter().map(|c| format!("{c}x")).collect();
        let hunk = |old: i64, new: i64| {
            let end = if trailing_newline { "\n" } else { "" };
            format!("@@ -1,{old} +1,{new} @@\n{}{end}", lines.join("\n"))
        };
        let patch = |text: &str| {
            parse_file_patch("a.py", FileStatus::Modified, Some(text.as_bytes()), &Limits::DEFAULT)
        };
        let whole = |text: &str| parse(&format!("--- a/a.py\n+++ b/a.py\n{text}")).incomplete;
        let good = hunk(old, new);
        prop_assert!(patch(&good).is_ok());
        prop_assert_eq!(whole(&good), None);
        let (bad_old, bad_new) = if on_old_side { (old + delta, new) } else { (old, new + delta) };
        prop_assume!(bad_old >= 0 && bad_new >= 0);
        let bad = hunk(bad_old, bad_new);
        prop_assert!(
            matches!(patch(&bad), Err(DiffError::HunkMismatch { .. })),
            "{:?}",
            bad
        );
        prop_assert!(whole(&bad).is_some(), "{:?}", bad);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse_diff("fuzz", &bytes, &Limits::DEFAULT);
    }

    #[test]
    fn never_panics_on_diff_like_text(lines in proptest::collection::vec(
        prop_oneof![
            Just("diff --git a/x b/x".to_owned()), Just("--- a/x".to_owned()), Just("+++ b/x".to_owned()),
            "@@ -[0-9]{1,3},[0-9]{1,2} \\+[0-9]{1,3},[0-9]{1,2} @@".prop_map(|s| s),
            "[ +-][a-z]{0,5}".prop_map(|s| s), Just("\\ No newline at end of file".to_owned()),
            Just("rename to y".to_owned()), Just("Binary files a/x and b/x differ".to_owned()),
        ], 0..60)) {
        let text = lines.join("\n");
        if let Ok(d) = parse_diff("fuzz", text.as_bytes(), &Limits::DEFAULT) {
            for f in d.files {
                prop_assert!(f.added_lines.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(f.added_lines.len() <= f.added as usize);
            }
        }
    }
}
