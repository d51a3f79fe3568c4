//! What the store remembers between deliveries, on every backend.

use crate::support::db::backends;
use keel::store::{BASELINE_ANCESTRY, StoredComment, TrackedPullRequest};

#[tokio::test]
async fn a_base_without_metrics_takes_its_nearest_recorded_ancestors() {
    for db in backends().await {
        let s = &db.store;
        s.record_baseline("o/r", "c1", br#"{"v":1}"#, 1)
            .await
            .unwrap();
        s.record_commit("o/r", "c2", "c1").await.unwrap();
        s.record_commit("o/r", "c3", "c2").await.unwrap();
        let found = s.baseline("o/r", "c3").await.unwrap().unwrap();
        assert_eq!(
            (found.sha.as_str(), &found.metrics[..]),
            ("c1", &br#"{"v":1}"#[..])
        );
        s.record_baseline("o/r", "c2", br#"{"v":2}"#, 2)
            .await
            .unwrap();
        assert_eq!(s.baseline("o/r", "c3").await.unwrap().unwrap().sha, "c2");
        assert!(s.baseline("o/r", "unknown").await.unwrap().is_none());
        assert!(
            s.baseline("other/repo", "c3").await.unwrap().is_none(),
            "{}",
            db.backend
        );
        // The walk is bounded: a long chain with metrics only at its root finds nothing.
        for i in 0..=BASELINE_ANCESTRY {
            s.record_commit("o/long", &format!("l{}", i + 1), &format!("l{i}"))
                .await
                .unwrap();
        }
        s.record_baseline("o/long", "l0", b"{}", 1).await.unwrap();
        assert!(
            s.baseline("o/long", &format!("l{}", BASELINE_ANCESTRY + 1))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.baseline("o/long", &format!("l{BASELINE_ANCESTRY}"))
                .await
                .unwrap()
                .is_some()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn pull_requests_are_found_by_head_and_keep_their_comment_across_pushes() {
    for db in backends().await {
        let s = &db.store;
        s.track_pull_request("o/r", 7, "h1", 42, 1).await.unwrap();
        assert!(s.comment("o/r", 7).await.unwrap().is_none());
        let comment = StoredComment {
            id: 9001,
            digest: "abc".into(),
        };
        s.set_comment("o/r", 7, Some(&comment)).await.unwrap();
        s.track_pull_request("o/r", 7, "h2", 42, 2).await.unwrap();
        assert!(s.pull_requests_at("o/r", "h1").await.unwrap().is_empty());
        assert_eq!(
            s.pull_requests_at("o/r", "h2").await.unwrap(),
            [TrackedPullRequest {
                number: 7,
                installation_id: 42
            }]
        );
        assert_eq!(
            s.comment("o/r", 7).await.unwrap(),
            Some(comment),
            "{}",
            db.backend
        );
        s.set_comment("o/r", 7, None).await.unwrap();
        assert!(s.comment("o/r", 7).await.unwrap().is_none());
        db.finish().await;
    }
}

#[tokio::test]
async fn installations_follow_added_and_removed_repositories() {
    for db in backends().await {
        let s = &db.store;
        s.add_installation_repos(1, &["o/a".into(), "o/b".into()], 1)
            .await
            .unwrap();
        s.add_installation_repos(2, &["p/c".into()], 1)
            .await
            .unwrap();
        s.remove_installation_repos(&["o/b".into()]).await.unwrap();
        assert_eq!(
            s.installed_repos().await.unwrap(),
            [("o/a".to_owned(), 1), ("p/c".to_owned(), 2)]
        );
        s.remove_installation(1).await.unwrap();
        assert_eq!(
            s.installed_repos().await.unwrap(),
            [("p/c".to_owned(), 2)],
            "{}",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn workflow_runs_and_check_runs_are_remembered_per_commit() {
    for db in backends().await {
        let s = &db.store;
        let run = |run_id: u64, workflow: &str, path: &str| keel::store::FinishedRun {
            run_id,
            workflow: workflow.into(),
            event: "pull_request".into(),
            path: path.into(),
            head_repo: "fork/r".into(),
            conclusion: "success".into(),
        };
        let ci = run(11, "CI", ".github/workflows/ci.yml");
        s.record_workflow_run("o/r", "h", &ci, 5).await.unwrap();
        s.record_workflow_run(
            "o/r",
            "h",
            &run(12, "Lint", ".github/workflows/lint.yml"),
            9,
        )
        .await
        .unwrap();
        s.record_workflow_run("o/r", "h", &ci, 5).await.unwrap();
        let runs = s.workflow_runs("o/r", "h").await.unwrap();
        assert_eq!(runs.iter().map(|r| r.run_id).collect::<Vec<_>>(), [12, 11]);
        assert_eq!(
            runs[1], ci,
            "where the run came from is kept: {}",
            db.backend
        );
        assert!(s.check_run("o/r", "h").await.unwrap().is_none());
        s.set_check_run("o/r", "h", 77).await.unwrap();
        assert_eq!(
            s.check_run("o/r", "h").await.unwrap(),
            Some(77),
            "{}",
            db.backend
        );
        s.track_merge_group("o/r", "mg", "base", 3).await.unwrap();
        assert_eq!(
            s.merge_group("o/r", "mg").await.unwrap(),
            Some(("base".to_owned(), 3))
        );
        db.finish().await;
    }
}
