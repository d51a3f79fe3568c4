//! Coalescing (issue 13): a finished workflow run costs an evaluation only when it can change
//! a verdict, and a commit's artifact is asked for and read once, however many pull requests
//! and evaluations share it. Every test runs on every backend.

use crate::reports_flow::{
    BASE, HEAD, NOW, REPO, deliver, lcov, pull_request, worker, workflow_run, zip_of,
};
use crate::support::db::backends;
use crate::support::github::FakeGitHub;
use crate::support::webhook::TestServer;
use keel::jobs::worker::Ran;

/// A FakeGitHub with `config` on the base commit and pull requests 2 and 3, both at the
/// fixture's head, each changing hello.rb.
async fn two_pull_requests(config: &[u8]) -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", config);
    for n in [2, 3] {
        fake.put_pr_files(
            REPO,
            n,
            &[(
                "hello.rb",
                "modified",
                Some("@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More"),
            )],
        );
        let mut pr = pull_request(None)["pull_request"].clone();
        pr["number"] = serde_json::json!(n);
        fake.put_pull(REPO, n, pr);
    }
    fake
}

fn opened(number: u64) -> Vec<u8> {
    let mut p = pull_request(None);
    p["number"] = serde_json::json!(number);
    p["pull_request"]["number"] = serde_json::json!(number);
    serde_json::to_vec(&p).unwrap()
}

fn done(steps: &[Ran]) -> usize {
    steps.iter().filter(|s| matches!(s, Ran::Done(_))).count()
}

#[tokio::test]
async fn only_the_configured_workflow_judges_again_and_its_artifact_is_read_once() {
    const CONFIG: &[u8] = b"[coverage]\nmin_total = 40\n\n[reports]\nworkflow = \"ci.yml\"\n";
    for db in backends().await {
        let fake = two_pull_requests(CONFIG).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(&server, "pull_request", "pr-2", opened(2)).await;
        deliver(&server, "pull_request", "pr-3", opened(3)).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.check_runs()[0].status, "in_progress");

        // Another workflow finishing changes nothing: no evaluation, no API call for it.
        let before = fake.log().await.len();
        deliver(
            &server,
            "workflow_run",
            "lint",
            workflow_run(70, "Lint", "pull_request", HEAD, "changes", &[2, 3], REPO),
        )
        .await;
        let steps = worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(done(&steps), 1, "{}: the run alone: {steps:?}", db.backend);
        assert_eq!(fake.log().await.len(), before, "{}", db.backend);

        // The configured workflow's run: both pull requests are judged, from one download.
        fake.put_artifact(REPO, 77, "keel-reports", zip_of(&[("lcov.info", &lcov(3))]));
        deliver(
            &server,
            "workflow_run",
            "ci",
            workflow_run(77, "CI", "pull_request", HEAD, "changes", &[2, 3], REPO),
        )
        .await;
        let steps = worker.run_until_idle(NOW + 2).await.unwrap();
        assert_eq!(done(&steps), 3, "{}: {steps:?}", db.backend);
        let run = &fake.check_runs()[0];
        assert_eq!(run.conclusion.as_deref(), Some("success"), "{run:?}");
        assert_eq!(
            fake.blob_log().await.len(),
            1,
            "{}: the pull requests of one head share one download",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn without_a_configured_workflow_a_commit_is_judged_again_until_its_reports_are_read() {
    const CONFIG: &[u8] = b"[coverage]\nmin_total = 40\n";
    for db in backends().await {
        let fake = two_pull_requests(CONFIG).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(&server, "pull_request", "pr-2", opened(2)).await;
        fake.put_workflow_runs(REPO, HEAD, &[(5, "completed"), (6, "in_progress")]);
        // Run 5 uploaded no artifact; run 6 is still going.
        deliver(
            &server,
            "workflow_run",
            "wr-5",
            workflow_run(5, "Lint", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.check_runs()[0].status, "in_progress");
        fake.put_workflow_runs(REPO, HEAD, &[(5, "completed"), (6, "completed")]);
        fake.put_artifact(REPO, 6, "keel-reports", zip_of(&[("lcov.info", &lcov(3))]));
        deliver(
            &server,
            "workflow_run",
            "wr-6",
            workflow_run(6, "Test", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            fake.check_runs()[0].conclusion.as_deref(),
            Some("success"),
            "{}",
            db.backend
        );
        let asked = |log: &[String], run: u64| {
            log.iter()
                .filter(|l| l.ends_with(&format!("/actions/runs/{run}/artifacts")))
                .count()
        };
        assert_eq!(
            asked(&fake.log().await, 5),
            1,
            "{}: run 5 has no artifact: asked once, remembered",
            db.backend
        );

        // The reports are read: a later run of the commit costs nothing.
        fake.put_workflow_runs(
            REPO,
            HEAD,
            &[(5, "completed"), (6, "completed"), (7, "completed")],
        );
        let before = fake.log().await.len();
        deliver(
            &server,
            "workflow_run",
            "wr-7",
            workflow_run(7, "Docs", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        let steps = worker.run_until_idle(NOW + 2).await.unwrap();
        assert_eq!(done(&steps), 1, "{}: {steps:?}", db.backend);
        assert_eq!(fake.log().await.len(), before, "{}", db.backend);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_rerun_that_uploads_what_its_first_attempt_lacked_is_read() {
    const CONFIG: &[u8] = b"[coverage]\nmin_total = 40\n";
    for db in backends().await {
        let fake = two_pull_requests(CONFIG).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(&server, "pull_request", "pr-2", opened(2)).await;
        // The only run finishes without the artifact: judged without reports.
        fake.put_workflow_runs(REPO, HEAD, &[(5, "completed")]);
        deliver(
            &server,
            "workflow_run",
            "wr-5",
            workflow_run(5, "Test", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let summary = fake.check_runs()[0].summary.clone().unwrap();
        assert!(summary.contains("none uploaded the artifact"), "{summary}");
        // Its re-run (the same run id) uploads it: the verdict reads it.
        fake.put_artifact(REPO, 5, "keel-reports", zip_of(&[("lcov.info", &lcov(3))]));
        deliver(
            &server,
            "workflow_run",
            "wr-5-again",
            workflow_run(5, "Test", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(
            run.conclusion.as_deref(),
            Some("success"),
            "{}: {:?}",
            db.backend,
            run.summary
        );
        db.finish().await;
    }
}
