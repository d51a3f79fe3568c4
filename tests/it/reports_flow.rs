//! Reports from the workflow run's artifact: the waiting check completes, fork pull requests
//! are judged from their artifact, missing and hostile artifacts get explicit results,
//! default-branch runs become baselines, Keel's labels follow the verdict, and merge groups,
//! re-requests and installations are handled. Every test runs on every backend.

use crate::support::db::{TestDb, backends};
use crate::support::github::{APP_ID, FakeGitHub, app_key};
use crate::support::webhook::{TestServer, payload, signed};
use keel::github::client::GitHub;
use keel::jobs::worker::{Ran, Worker};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Arc;

// From tests/fixtures/webhooks/pull_request/opened.2.json.
pub(crate) const REPO: &str = "Codertocat/Hello-World";
pub(crate) const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
pub(crate) const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
pub(crate) const NOW: i64 = 10_000;

const CONFIG: &[u8] = b"[coverage]\nmin_total = 40\nmin_patch = 80\n\n[reports]\nworkflow = \"ci.yml\"\n\n[labels]\ndone = \"dod: met\"\nnot_done = \"dod: not met\"\n";

pub(crate) fn worker(db: &TestDb, fake: &FakeGitHub) -> Worker<GitHub> {
    let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
    Worker::new(db.store.clone(), Arc::new(github))
}

pub(crate) fn json_of(rel: &str) -> Value {
    serde_json::from_slice(&payload(rel)).unwrap()
}

/// The fixture pull request, optionally from a fork.
pub(crate) fn pull_request(fork: Option<&str>) -> Value {
    let mut p = json_of("pull_request/opened.2.json");
    if let Some(fork) = fork {
        p["pull_request"]["head"]["repo"]["full_name"] = json!(fork);
    }
    p
}

/// A `workflow_run` `completed` delivery for `head` (GitHub's example, re-pointed).
pub(crate) fn workflow_run(
    run_id: u64,
    name: &str,
    event: &str,
    head: &str,
    branch: &str,
    prs: &[u64],
    head_repo: &str,
) -> Vec<u8> {
    let mut p = json_of("workflow_run/completed.1.json");
    p["action"] = json!("completed");
    p["installation"] = json!({"id": 1});
    p["repository"]["full_name"] = json!(REPO);
    p["repository"]["default_branch"] = json!("master");
    let run = &mut p["workflow_run"];
    run["id"] = json!(run_id);
    run["name"] = json!(name);
    run["event"] = json!(event);
    run["status"] = json!("completed");
    run["conclusion"] = json!("success");
    run["head_sha"] = json!(head);
    run["head_branch"] = json!(branch);
    run["head_repository"]["full_name"] = json!(head_repo);
    run["pull_requests"] = prs.iter().map(|n| json!({"number": n})).collect();
    // The workflow file: `CI` lives in `.github/workflows/ci.yml`.
    run["path"] = json!(format!(".github/workflows/{}.yml", name.to_lowercase()));
    serde_json::to_vec(&p).unwrap()
}

/// A `push` of `after` to the default branch (`master`), from a recorded parent.
pub(crate) fn push_to_master(after: &str) -> Vec<u8> {
    let mut p = json_of("push/none.1.json");
    p["ref"] = json!("refs/heads/master");
    p["before"] = json!("1111111111111111111111111111111111111111");
    p["after"] = json!(after);
    p["installation"] = json!({"id": 1});
    p["repository"]["full_name"] = json!(REPO);
    p["repository"]["default_branch"] = json!("master");
    serde_json::to_vec(&p).unwrap()
}

pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// LCOV for hello.rb: line 1 covered, line 2 as given.
pub(crate) fn lcov(line_2_hits: u32) -> Vec<u8> {
    format!("SF:hello.rb\nDA:1,1\nDA:2,{line_2_hits}\nend_of_record\n").into_bytes()
}

/// A FakeGitHub with the config on the base commit, the pull request's one changed file
/// (hello.rb, lines 1 and 2 added) and the pull request itself.
async fn github_with(config: &[u8], fork: Option<&str>) -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", config);
    fake.put_pr_files(
        REPO,
        2,
        &[(
            "hello.rb",
            "modified",
            Some("@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More"),
        )],
    );
    fake.put_pull(REPO, 2, pull_request(fork)["pull_request"].clone());
    fake
}

pub(crate) async fn deliver(server: &TestServer, event: &str, id: &str, body: Vec<u8>) {
    let (status, text) = server.send(signed(event, id, body)).await;
    assert_eq!(status, 202, "{event} {id}: {text}");
}

#[tokio::test]
async fn the_waiting_check_completes_from_the_workflow_runs_artifact() {
    for db in backends().await {
        let fake = github_with(CONFIG, None).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "pr-1",
            payload("pull_request/opened.2.json"),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = fake.check_runs()[0].clone();
        assert_eq!(run.status, "in_progress", "{}", db.backend);
        assert!(
            run.summary
                .unwrap()
                .contains("Waiting for the workflow run's reports")
        );
        assert!(
            fake.comments(REPO, 2).is_empty(),
            "no comment before the verdict"
        );

        fake.put_artifact(REPO, 77, "keel-reports", zip_of(&[("lcov.info", &lcov(0))]));
        deliver(
            &server,
            "workflow_run",
            "wr-1",
            workflow_run(77, "CI", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        let steps = worker.run_until_idle(NOW + 1).await.unwrap();
        assert!(
            matches!(steps[..], [Ran::Done(_), Ran::Done(_)]),
            "the run, then the evaluation it enqueued: {steps:?}"
        );

        let runs = fake.check_runs();
        assert_eq!(runs.len(), 1, "the same check run throughout");
        let run = &runs[0];
        assert_eq!(
            (run.status.as_str(), run.conclusion.as_deref()),
            ("completed", Some("failure"))
        );
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.contains("| ✅ | Total coverage | 50\\.00% |"),
            "{summary}"
        );
        assert!(
            summary.contains("**Patch coverage**: 50\\.00%"),
            "{summary}"
        );
        assert!(summary.contains("of workflow run 77 \\("), "{summary}");
        assert_eq!(run.annotations.len(), 1);
        assert_eq!(
            (
                run.annotations[0]["path"].as_str(),
                run.annotations[0]["start_line"].as_u64()
            ),
            (Some("hello.rb"), Some(2))
        );
        assert_eq!(fake.comments(REPO, 2).len(), 1);
        assert_eq!(
            fake.labels(REPO, 2),
            ["bug", "dod: not met"],
            "Keel's label added, the others kept"
        );
        assert_eq!(
            fake.blob_log().await,
            ["GET /artifacts/9000.zip auth=no"],
            "the redirect to blob storage carries no token"
        );

        // A re-run uploads better coverage: the verdict and Keel's labels flip, nothing else moves.
        fake.put_artifact(REPO, 78, "keel-reports", zip_of(&[("lcov.info", &lcov(3))]));
        deliver(
            &server,
            "workflow_run",
            "wr-2",
            workflow_run(78, "CI", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW + 2).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(
            run.conclusion.as_deref(),
            Some("success"),
            "{:?}",
            run.summary
        );
        assert_eq!(fake.labels(REPO, 2), ["bug", "dod: met"]);
        let comments = fake.comments(REPO, 2);
        assert_eq!(comments.len(), 1, "one sticky comment, edited");
        assert!(
            comments[0].1.contains("Definition of done met"),
            "{}",
            comments[0].1
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_fork_pull_request_is_judged_from_its_artifact() {
    for db in backends().await {
        let fork = "forker/Hello-World";
        let fake = github_with(CONFIG, Some(fork)).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "pr-1",
            serde_json::to_vec(&pull_request(Some(fork))).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        // A fork's run names no pull request; Keel knows it by its head commit.
        fake.put_artifact(
            REPO,
            90,
            "keel-reports",
            zip_of(&[("coverage/lcov.info", &lcov(1))]),
        );
        deliver(
            &server,
            "workflow_run",
            "wr-1",
            workflow_run(90, "CI", "pull_request", HEAD, "changes", &[], fork),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(
            (run.status.as_str(), run.conclusion.as_deref()),
            ("completed", Some("success")),
            "{}: {:?}",
            db.backend,
            run.summary
        );
        assert_eq!(fake.comments(REPO, 2).len(), 1);
        assert!(
            db.store.baseline(REPO, HEAD).await.unwrap().is_none(),
            "a fork's run never becomes a baseline"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_workflow_that_finished_without_the_artifact_means_no_report() {
    for db in backends().await {
        let fake = github_with(CONFIG, None).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "pr-1",
            payload("pull_request/opened.2.json"),
        )
        .await;
        // Another workflow finishing says nothing about the reports: still waiting.
        deliver(
            &server,
            "workflow_run",
            "wr-lint",
            workflow_run(5, "Lint", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.check_runs()[0].status, "in_progress");
        deliver(
            &server,
            "workflow_run",
            "wr-ci",
            workflow_run(6, "CI", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(
            (run.status.as_str(), run.conclusion.as_deref()),
            ("completed", Some("failure")),
            "{}",
            db.backend
        );
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.contains("**Total coverage**: no report"),
            "{summary}"
        );
        assert!(
            summary.contains("finished without uploading the artifact"),
            "{summary}"
        );
        assert!(summary.contains("no coverage report was read"), "{summary}");
        db.finish().await;
    }
}

#[tokio::test]
async fn without_a_named_workflow_keel_waits_for_every_run_of_the_commit() {
    for db in backends().await {
        let config = b"[coverage]\nmin_total = 40\n";
        let fake = github_with(config, None).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "pr-1",
            payload("pull_request/opened.2.json"),
        )
        .await;
        fake.put_workflow_runs(REPO, HEAD, &[(5, "completed"), (6, "in_progress")]);
        deliver(
            &server,
            "workflow_run",
            "wr-1",
            workflow_run(5, "Lint", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            fake.check_runs()[0].status,
            "in_progress",
            "run 6 may still upload it"
        );
        fake.put_workflow_runs(REPO, HEAD, &[(5, "completed"), (6, "completed")]);
        deliver(
            &server,
            "workflow_run",
            "wr-2",
            workflow_run(6, "Test", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(run.status, "completed", "{}", db.backend);
        assert!(
            run.summary.as_deref().unwrap().contains(
                "every workflow run of this commit finished and none uploaded the artifact"
            )
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn an_artifact_with_an_unsafe_path_fails_the_check_with_the_reason() {
    for db in backends().await {
        let fake = github_with(CONFIG, None).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "pr-1",
            payload("pull_request/opened.2.json"),
        )
        .await;
        fake.put_artifact(
            REPO,
            77,
            "keel-reports",
            zip_of(&[("lcov.info", &lcov(1)), ("../../etc/passwd", b"x")]),
        );
        deliver(
            &server,
            "workflow_run",
            "wr-1",
            workflow_run(77, "CI", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        let steps = worker.run_until_idle(NOW).await.unwrap();
        assert!(
            steps.iter().all(|s| matches!(s, Ran::Done(_))),
            "not retried, not buried: {steps:?}"
        );
        let run = &fake.check_runs()[0];
        assert_eq!(
            (run.status.as_str(), run.conclusion.as_deref()),
            ("completed", Some("failure")),
            "{}",
            db.backend
        );
        let summary = run.summary.clone().unwrap();
        assert!(summary.contains("The reports cannot be read"), "{summary}");
        assert!(
            summary.contains("`../../etc/passwd` has an unsafe path"),
            "{summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_default_branch_run_becomes_the_baseline_a_pull_request_is_compared_with() {
    for db in backends().await {
        let config = b"[coverage]\nmax_drop = 1\n\n[reports]\nworkflow = \"ci.yml\"\n";
        let fake = github_with(config, None).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        // The summary check was put off until next week...
        db.store
            .add_installation_repos(1, &[REPO.into()], 0)
            .await
            .unwrap();
        db.store
            .set_summary_check(REPO, Some(NOW + 7 * 86_400_000))
            .await
            .unwrap();
        assert!(
            db.store
                .repos_due_for_summary(NOW)
                .await
                .unwrap()
                .is_empty()
        );
        // A push makes BASE the default branch's head; its own CI run is 100% covered.
        deliver(&server, "push", "push-main", push_to_master(BASE)).await;
        fake.put_artifact(REPO, 50, "keel-reports", zip_of(&[("lcov.info", &lcov(1))]));
        deliver(
            &server,
            "workflow_run",
            "wr-main",
            workflow_run(50, "CI", "push", BASE, "master", &[], REPO),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let baseline = db
            .store
            .baseline(REPO, BASE)
            .await
            .unwrap()
            .expect("baseline recorded");
        assert_eq!(baseline.sha, BASE);
        // ...and the push, which may change the summary's schedule, brings it back.
        assert_eq!(
            db.store.repos_due_for_summary(NOW).await.unwrap(),
            [(REPO.to_owned(), 1)],
            "{}",
            db.backend
        );
        // The pull request drops coverage to 50%.
        deliver(
            &server,
            "pull_request",
            "pr-1",
            payload("pull_request/opened.2.json"),
        )
        .await;
        fake.put_artifact(REPO, 77, "keel-reports", zip_of(&[("lcov.info", &lcov(0))]));
        deliver(
            &server,
            "workflow_run",
            "wr-1",
            workflow_run(77, "CI", "pull_request", HEAD, "changes", &[2], REPO),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", db.backend);
        let summary = run.summary.clone().unwrap();
        assert!(summary.contains("**Coverage drop**"), "{summary}");
        assert!(
            summary.contains("(needs ≤ 1 point; base 100\\.00%, \\-50\\.00 points)"),
            "the baseline's figure is shown: {summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_merge_group_is_judged_on_its_combined_changes_without_a_comment() {
    for db in backends().await {
        let fixture = json_of("merge_group/checks_requested.1.json");
        let (repo, head, base) = (
            fixture["repository"]["full_name"]
                .as_str()
                .unwrap()
                .to_owned(),
            fixture["merge_group"]["head_sha"]
                .as_str()
                .unwrap()
                .to_owned(),
            fixture["merge_group"]["base_sha"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let fake = FakeGitHub::start().await;
        fake.put_file(
            &repo,
            &base,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 2\n",
        );
        fake.put_compare(
            &repo,
            &base,
            &head,
            &[("a.rs", "modified", Some("@@ -1 +1,3 @@\n-a\n+b\n+c\n+d"))],
        );
        let server = TestServer::new(&db.store);
        deliver(
            &server,
            "merge_group",
            "mg-1",
            payload("merge_group/checks_requested.1.json"),
        )
        .await;
        worker(&db, &fake).run_until_idle(NOW).await.unwrap();
        let runs = fake.check_runs();
        assert_eq!(runs.len(), 1, "{}", db.backend);
        assert_eq!(
            (runs[0].head_sha.as_str(), runs[0].conclusion.as_deref()),
            (head.as_str(), Some("failure"))
        );
        assert!(
            runs[0]
                .summary
                .as_deref()
                .unwrap()
                .contains("**Change size**: 4 lines (needs ≤ 2 lines)")
        );
        assert!(
            !fake
                .log()
                .await
                .iter()
                .any(|l| l.contains("comments") || l.contains("labels"))
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_rerequested_check_suite_judges_its_pull_request_again() {
    for db in backends().await {
        let fake = github_with(b"[hygiene]\nmax_changed_lines = 100\n", None).await;
        let server = TestServer::new(&db.store);
        deliver(
            &server,
            "check_suite",
            "cs-1",
            payload("check_suite/rerequested.1.json"),
        )
        .await;
        worker(&db, &fake).run_until_idle(NOW).await.unwrap();
        let runs = fake.check_runs();
        assert_eq!(runs.len(), 1, "{}", db.backend);
        assert_eq!(
            (runs[0].head_sha.as_str(), runs[0].conclusion.as_deref()),
            (HEAD, Some("success"))
        );
        let log = fake.log().await;
        assert!(
            log.contains(&format!("GET /repos/{REPO}/pulls/2")),
            "read fresh: {log:?}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn installations_keep_a_table_of_repositories() {
    for db in backends().await {
        let server = TestServer::new(&db.store);
        deliver(
            &server,
            "installation",
            "in-1",
            payload("installation/created.1.json"),
        )
        .await;
        let fake = FakeGitHub::start().await;
        worker(&db, &fake).run_until_idle(NOW).await.unwrap();
        assert_eq!(
            db.store.installed_repos().await.unwrap(),
            [("Codertocat/Hello-World".to_owned(), 957_387)],
            "{}",
            db.backend
        );
        assert!(
            fake.log()
                .await
                .contains(&"GET /repos/Codertocat/Hello-World/pulls".to_owned()),
            "a backfill of the new repository followed"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_push_to_a_new_head_costs_at_most_seven_github_calls() {
    for db in backends().await {
        let fake = github_with(b"[hygiene]\nmax_changed_lines = 100\n", None).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        deliver(
            &server,
            "pull_request",
            "pr-1",
            payload("pull_request/opened.2.json"),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        let before = fake.log().await.len();
        // The author pushes: a new head, a bigger change, so the comment changes too.
        let new_head = "abcdef0123456789abcdef0123456789abcdef01";
        let mut p = pull_request(None);
        p["action"] = json!("synchronize");
        p["pull_request"]["head"]["sha"] = json!(new_head);
        p["pull_request"]["updated_at"] = json!("2019-05-15T15:21:00Z");
        fake.put_pr_files(
            REPO,
            2,
            &[(
                "hello.rb",
                "modified",
                Some("@@ -1 +1,3 @@\n-Hello\n+Hello World\n+More\n+Even more"),
            )],
        );
        deliver(
            &server,
            "pull_request",
            "pr-2",
            serde_json::to_vec(&p).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        let calls: Vec<String> = fake.log().await[before..].to_vec();
        assert_eq!(
            calls,
            [
                format!("GET /repos/{REPO}/contents/.github/keel.toml"),
                format!("GET /repos/{REPO}/commits/{new_head}/check-runs"),
                format!("POST /repos/{REPO}/check-runs"),
                // Which open pull requests share the new head (once per head).
                format!("GET /repos/{REPO}/commits/{new_head}/pulls"),
                format!("GET /repos/{REPO}/pulls/2/files"),
                format!("PATCH /repos/{REPO}/check-runs/1001"),
                format!("PATCH /repos/{REPO}/issues/comments/5000"),
            ],
            "{}",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn metrics_show_job_latency_github_calls_by_status_and_the_rate_limit() {
    for db in backends().await {
        let fake = github_with(b"[hygiene]\nmax_changed_lines = 100\n", None).await;
        let server = TestServer::new(&db.store);
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri())
            .unwrap()
            .with_metrics(Arc::clone(&server.metrics));
        let worker = Worker::new(db.store.clone(), Arc::new(github))
            .with_metrics(Arc::clone(&server.metrics));
        fake.fail_next("GET", "pulls/2/files", wiremock::ResponseTemplate::new(502));
        deliver(
            &server,
            "pull_request",
            "pr-1",
            payload("pull_request/opened.2.json"),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        worker.run_until_idle(NOW + 60_000).await.unwrap();
        let (_, text) = server.get("/metrics").await;
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has("keel_job_latency_seconds_count 1"),
            "{}: {text}",
            db.backend
        );
        assert!(
            has("keel_github_api_calls_total{status=\"502\"} 1"),
            "{text}"
        );
        // Config, check-run lookup and create, the head's open pull requests, files (502); on
        // retry config, files, the completion and the comment (list, create). Token mints are
        // octocrab's own.
        assert!(
            has("keel_github_api_calls_total{status=\"200\"} 7"),
            "{text}"
        );
        assert!(
            has("keel_github_api_calls_total{status=\"201\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("keel_github_rate_limit_remaining 49"),
            "{text}"
        );
        db.finish().await;
    }
}
