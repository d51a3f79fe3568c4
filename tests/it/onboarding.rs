//! Turning Keel on without locking anyone out: the pull request that adds the first config
//! gets a preview that never blocks, and one that fixes a broken base config is judged by its
//! own — through the intake, the worker and the FakeGitHub, on every backend.

use crate::evaluate_pr::{BASE, HEAD, NOW, REPO, deliver, readme_change};
use crate::support::db::backends;
use crate::support::github::FakeGitHub;
use keel::jobs::worker::Ran;
use serde_json::{Value, json};

/// The pull request's files: `.github/keel.toml` added with `config`'s lines (and, with
/// `also_code`, a change to hello.rb).
fn adds_config(fake: &FakeGitHub, config: &str, also_code: bool) {
    let lines: Vec<String> = config.lines().map(|l| format!("+{l}")).collect();
    let patch = format!("@@ -0,0 +1,{} @@\n{}", lines.len(), lines.join("\n"));
    let mut files = vec![(".github/keel.toml", "added", Some(patch.as_str()))];
    if also_code {
        files.push((
            "hello.rb",
            "modified",
            Some("@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More"),
        ));
    }
    fake.put_pr_files(REPO, 2, &files);
}

/// The first config of the preview tests (5 lines).
const FIRST: &str =
    "[hygiene]\nmax_changed_lines = 2\ntitle_pattern = \"^Update\"\n[coverage]\nmin_patch = 80\n";
/// A first config with two problems.
const BROKEN: &str = "[hygiene]\nmax_chnged = 3\n[coverage]\nmin_total = \"lots\"\n";

#[tokio::test]
async fn the_pull_request_adding_the_first_config_gets_a_preview_that_never_blocks() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(REPO, HEAD, ".github/keel.toml", FIRST.as_bytes());
        adds_config(&fake, FIRST, false);
        let worker = deliver(&db, &fake).await;
        let steps = worker.run_until_idle(NOW).await.unwrap();
        assert!(
            matches!(steps[..], [Ran::Done(_)]),
            "{}: {steps:?}",
            db.backend
        );
        let runs = fake.check_runs();
        assert_eq!(runs.len(), 1, "{}", db.backend);
        let run = &runs[0];
        assert_eq!(
            (run.status.as_str(), run.conclusion.as_deref()),
            ("completed", Some("success")),
            "a preview never blocks"
        );
        let title = run.title.clone().unwrap();
        assert_eq!(
            title,
            "Preview: with this config, this change would fail (not enforced yet)"
        );
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.contains("**With this config, this change would: ❌ fail**"),
            "{summary}"
        );
        assert!(
            summary.contains("| ❌ | Change size | 5 lines | ≤ 2 lines |"),
            "{summary}"
        );
        assert!(summary.contains("| ✅ | Title |"), "{summary}");
        assert!(
            summary.contains("Judged from CI once the file is on the base branch: coverage."),
            "{summary}"
        );
        // The preview is the check run alone: no comment, no labels.
        assert!(fake.comments(REPO, 2).is_empty());
        db.finish().await;
    }
}

#[tokio::test]
async fn a_first_config_with_problems_is_shown_all_at_once_without_blocking() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(REPO, HEAD, ".github/keel.toml", BROKEN.as_bytes());
        adds_config(&fake, BROKEN, false);
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(run.conclusion.as_deref(), Some("success"), "{}", db.backend);
        assert_eq!(
            run.title.as_deref(),
            Some("Preview: the new keel.toml cannot be used yet (2 problems)")
        );
        let lines: Vec<(u64, &str)> = run
            .annotations
            .iter()
            .map(|a| {
                (
                    a["start_line"].as_u64().unwrap(),
                    a["annotation_level"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(lines, [(2, "warning"), (4, "warning")]);
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.contains("did you mean `max_changed_lines`?"),
            "{summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_pull_request_fixing_a_broken_base_config_is_judged_by_its_own_and_says_so() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_chnged = 3\n",
        );
        fake.put_file(
            REPO,
            HEAD,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1\n",
        );
        fake.put_pr_files(
            REPO,
            2,
            &[(
                ".github/keel.toml",
                "modified",
                Some("@@ -1,2 +1,2 @@\n [hygiene]\n-max_chnged = 3\n+max_changed_lines = 1"),
            )],
        );
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.contains("**Change size**: 2 lines (needs ≤ 1 line)"),
            "judged by the pull request's file: {summary}"
        );
        assert!(
            summary.contains("Judged by this pull request's own `.github/keel.toml`"),
            "{summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn with_a_broken_base_config_every_other_pull_request_fails_with_the_reason() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let broken = b"[hygiene]\nmax_chnged = 3\n";
        fake.put_file(REPO, BASE, ".github/keel.toml", broken);
        fake.put_file(REPO, HEAD, ".github/keel.toml", broken);
        readme_change(&fake);
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        assert_eq!(
            run.title.as_deref(),
            Some("Invalid definition of done on the base branch")
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_first_config_that_comes_with_code_is_not_previewed_green() {
    // A success here would let the code through a required check on a branch Keel never
    // judged: the pull request stays exempt, as every one into a base without a config.
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let config = "[hygiene]\nmax_changed_lines = 100000\n";
        fake.put_file(REPO, HEAD, ".github/keel.toml", config.as_bytes());
        adds_config(&fake, config, true);
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert!(fake.check_runs().is_empty(), "{}", db.backend);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_broken_base_config_cannot_be_used_to_pick_a_laxer_judge_for_code() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_chnged = 3\n",
        );
        // A valid, lax config at the head, together with a code change.
        fake.put_file(REPO, HEAD, ".github/keel.toml", b"[labels]\n");
        readme_change(&fake);
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        assert_eq!(
            run.title.as_deref(),
            Some("Invalid definition of done on the base branch")
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_change_that_breaks_an_items_file_fails_before_it_can_break_the_base() {
    // Merged, a broken roadmap file would make the base config unreadable and fail every
    // later pull request: the change that breaks it fails its own "Change to keel.toml" row.
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let config =
            b"[hygiene]\nmax_changed_lines = 100\n[roadmap]\nfile = \".github/roadmap.toml\"\n";
        fake.put_file(REPO, BASE, ".github/keel.toml", config);
        fake.put_file(REPO, HEAD, ".github/keel.toml", config);
        fake.put_file(
            REPO,
            BASE,
            ".github/roadmap.toml",
            b"[[items]]\nid = \"R-1\"\ntitle = \"Checkout\"\n",
        );
        fake.put_file(
            REPO,
            HEAD,
            ".github/roadmap.toml",
            b"[[items]]\nid = 5\ntitle = \"Checkout\"\n",
        );
        fake.put_pr_files(
            REPO,
            2,
            &[(
                ".github/roadmap.toml",
                "modified",
                Some("@@ -1,3 +1,3 @@\n [[items]]\n-id = \"R-1\"\n+id = 5\n title = \"Checkout\""),
            )],
        );
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.contains("**Change to keel.toml**: invalid"),
            "{summary}"
        );
        let a = &run.annotations[0];
        assert_eq!(
            (a["path"].as_str(), a["start_line"].as_u64()),
            (Some(".github/roadmap.toml"), Some(2)),
            "{a}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_change_that_deletes_moves_or_breaks_an_items_file_anywhere_fails_its_own_row() {
    // Merged, each would leave the base config naming an items file it cannot read: every
    // later pull request would fail, and a "fix" would be judged by its own config.
    let moved = json!([{"filename": ".github/plan.toml", "previous_filename": ".github/roadmap.toml",
                        "status": "renamed", "additions": 0, "deletions": 0, "changes": 0}]);
    let cases: [(&str, &str, Option<&[u8]>, Value); 3] = [
        (
            "deleted",
            ".github/roadmap.toml",
            None,
            json!([{"filename": ".github/roadmap.toml", "status": "removed",
                    "patch": "@@ -1,3 +0,0 @@\n-[[items]]\n-id = \"R-1\"\n-title = \"Checkout\"",
                    "additions": 0, "deletions": 3}]),
        ),
        ("moved", ".github/roadmap.toml", None, moved),
        (
            "broken outside .github/",
            "plan/roadmap.toml",
            Some(b"[[items]]\nid = 5\n"),
            json!([{"filename": "plan/roadmap.toml", "status": "modified",
                    "patch": "@@ -1,2 +1,2 @@\n [[items]]\n-id = \"R-1\"\n+id = 5",
                    "additions": 1, "deletions": 1}]),
        ),
    ];
    for (case, items, at_head, entries) in cases {
        for db in backends().await {
            let fake = FakeGitHub::start().await;
            let config =
                format!("[hygiene]\nmax_changed_lines = 100\n[roadmap]\nfile = \"{items}\"\n");
            fake.put_file(REPO, BASE, ".github/keel.toml", config.as_bytes());
            fake.put_file(REPO, HEAD, ".github/keel.toml", config.as_bytes());
            fake.put_file(
                REPO,
                BASE,
                items,
                b"[[items]]\nid = \"R-1\"\ntitle = \"Checkout\"\n",
            );
            if let Some(bytes) = at_head {
                fake.put_file(REPO, HEAD, items, bytes);
            }
            let entries = entries.as_array().unwrap().clone();
            fake.put_pr_file_entries(REPO, 2, entries);
            let worker = deliver(&db, &fake).await;
            worker.run_until_idle(NOW).await.unwrap();
            let run = &fake.check_runs()[0];
            let summary = run.summary.clone().unwrap_or_default();
            assert_eq!(
                run.conclusion.as_deref(),
                Some("failure"),
                "{case}: {}: {summary}",
                db.backend
            );
            assert!(
                summary.contains("**Change to keel.toml**: invalid"),
                "{case}: {summary}"
            );
            db.finish().await;
        }
    }
}

#[tokio::test]
async fn a_pull_request_fixing_a_broken_base_config_cannot_bring_workflow_changes_with_it() {
    // Judged by its own config, it would skip the base's rules for whatever else it changes.
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_chnged = 3\n",
        );
        fake.put_file(REPO, HEAD, ".github/keel.toml", b"[labels]\n");
        fake.put_pr_files(
            REPO,
            2,
            &[
                (
                    ".github/keel.toml",
                    "modified",
                    Some("@@ -1,2 +1,1 @@\n-[hygiene]\n-max_chnged = 3\n+[labels]"),
                ),
                (
                    ".github/workflows/release.yml",
                    "modified",
                    Some("@@ -1,1 +1,1 @@\n-on: push\n+on: pull_request_target"),
                ),
            ],
        );
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        assert_eq!(
            run.title.as_deref(),
            Some("Invalid definition of done on the base branch")
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_broken_base_fix_cannot_empty_a_workflow_or_a_manifest_named_as_its_items_file() {
    // The head's config names a workflow, or a file outside `.github/`, as its items file and
    // empties it: an empty file holds no items and reads fine.
    for (items, path) in [
        (
            "[roadmap]\nfile = \".github/workflows/codeql.yml\"\n",
            ".github/workflows/codeql.yml",
        ),
        ("[debt]\nfile = \"pyproject.toml\"\n", "pyproject.toml"),
    ] {
        for db in backends().await {
            let fake = FakeGitHub::start().await;
            fake.put_file(
                REPO,
                BASE,
                ".github/keel.toml",
                b"[hygiene]\nmax_chnged = 3\n",
            );
            fake.put_file(REPO, HEAD, ".github/keel.toml", items.as_bytes());
            fake.put_file(REPO, HEAD, path, b"# nothing here\n");
            fake.put_pr_files(
                REPO,
                2,
                &[
                    (
                        ".github/keel.toml",
                        "modified",
                        Some("@@ -1,2 +1,2 @@\n-[hygiene]\n-max_chnged = 3\n+[roadmap]\n+file = \"x\""),
                    ),
                    (path, "modified", Some("@@ -1,1 +1,1 @@\n-on: push\n+# nothing here")),
                ],
            );
            let worker = deliver(&db, &fake).await;
            worker.run_until_idle(NOW).await.unwrap();
            let run = &fake.check_runs()[0];
            assert_eq!(
                run.conclusion.as_deref(),
                Some("failure"),
                "{path}: {}",
                db.backend
            );
            assert_eq!(
                run.title.as_deref(),
                Some("Invalid definition of done on the base branch"),
                "{path}"
            );
            db.finish().await;
        }
    }
}

#[tokio::test]
async fn a_change_that_deletes_or_moves_keel_toml_fails_its_own_row() {
    let moved = json!([{"filename": ".github/old-keel.toml", "previous_filename": ".github/keel.toml",
                        "status": "renamed", "additions": 0, "deletions": 0, "changes": 0}]);
    let deleted = json!([{"filename": ".github/keel.toml", "status": "removed",
                          "patch": "@@ -1,2 +0,0 @@\n-[hygiene]\n-max_changed_lines = 100",
                          "additions": 0, "deletions": 2}]);
    for (case, entries) in [("deleted", deleted), ("moved", moved)] {
        for db in backends().await {
            let fake = FakeGitHub::start().await;
            fake.put_file(
                REPO,
                BASE,
                ".github/keel.toml",
                b"[hygiene]\nmax_changed_lines = 100\n",
            );
            fake.put_pr_file_entries(REPO, 2, entries.as_array().unwrap().clone());
            let worker = deliver(&db, &fake).await;
            worker.run_until_idle(NOW).await.unwrap();
            let run = &fake.check_runs()[0];
            let summary = run.summary.clone().unwrap_or_default();
            assert_eq!(
                run.conclusion.as_deref(),
                Some("failure"),
                "{case}: {}: {summary}",
                db.backend
            );
            assert!(
                summary.contains("**Change to keel.toml**: removed"),
                "{case}: {summary}"
            );
            db.finish().await;
        }
    }
}
