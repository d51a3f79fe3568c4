//! A pull request delivery through the intake and the worker to GitHub, on every backend.

use crate::support::db::{TestDb, backends};
use crate::support::github::{APP_ID, FakeGitHub, app_key};
use crate::support::webhook::{TestServer, payload, signed};
use keel::github::client::GitHub;
use keel::jobs::worker::{Ran, Worker};
use secrecy::SecretString;
use std::sync::Arc;
use wiremock::ResponseTemplate;

// From tests/fixtures/webhooks/pull_request/opened.2.json.
pub(crate) const REPO: &str = "Codertocat/Hello-World";
pub(crate) const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
pub(crate) const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
pub(crate) const NOW: i64 = 10_000;

/// Delivers the fixture PR through the intake and returns a worker for it.
pub(crate) async fn deliver(db: &TestDb, fake: &FakeGitHub) -> Worker<GitHub> {
    let server = TestServer::new(&db.store);
    let (status, _) = server
        .send(signed(
            "pull_request",
            "pr-1",
            payload("pull_request/opened.2.json"),
        ))
        .await;
    assert_eq!(status, 202);
    let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
    Worker::new(db.store.clone(), Arc::new(github))
}

/// A FakeGitHub whose base commit holds `config` as `.github/keel.toml`.
async fn with_base_config(config: &[u8]) -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", config);
    fake
}

pub(crate) fn readme_change(fake: &FakeGitHub) {
    fake.put_pr_files(
        REPO,
        2,
        &[(
            "hello.rb",
            "modified",
            Some("@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More"),
        )],
    );
}

#[tokio::test]
async fn a_pull_request_is_judged_by_the_base_branch_config_with_one_check_run() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 2\ntitle_pattern = \"^Update\"\n",
        );
        // The pull request loosens its own gate; that must not count.
        fake.put_file(
            REPO,
            HEAD,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1000\n",
        );
        readme_change(&fake);
        let worker = deliver(&db, &fake).await;
        let steps = worker.run_until_idle(NOW).await.unwrap();
        let state = (db.store.list_jobs(None, 5).await.unwrap(), fake.log().await);
        assert!(
            matches!(steps[..], [Ran::Done(_)]),
            "{}: {steps:?} {state:?}",
            db.backend
        );
        let runs = fake.check_runs();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(
            (run.name.as_str(), run.head_sha.as_str()),
            ("Keel · Definition of done", HEAD)
        );
        assert_eq!(
            (run.status.as_str(), run.conclusion.as_deref()),
            ("completed", Some("failure"))
        );
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.contains("**Change size**: 3 lines (needs ≤ 2 lines)"),
            "{summary}"
        );
        assert!(summary.contains("| ✅ | Title |"), "{summary}");
        let log = fake.log().await;
        assert!(
            !log.iter()
                .any(|l| l.contains(HEAD) && l.contains("contents")),
            "config read from base only: {log:?}"
        );
        assert_eq!(
            log,
            [
                "POST /app/installations/1/access_tokens",
                "GET /repos/Codertocat/Hello-World/contents/.github/keel.toml",
                "GET /repos/Codertocat/Hello-World/commits/ec26c3e57ca3a959ca5aad62de7213c562f8c821/check-runs",
                "POST /repos/Codertocat/Hello-World/check-runs",
                // The open pull requests that share the head, once per head.
                "GET /repos/Codertocat/Hello-World/commits/ec26c3e57ca3a959ca5aad62de7213c562f8c821/pulls",
                // The organisation's policy, once per ten minutes (absent here).
                "GET /repos/Codertocat/.github/contents/.github/keel-org.toml",
                "GET /repos/Codertocat/Hello-World/pulls/2/files",
                "PATCH /repos/Codertocat/Hello-World/check-runs/1000",
                "GET /repos/Codertocat/Hello-World/issues/2/comments",
                "POST /repos/Codertocat/Hello-World/issues/2/comments",
            ]
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn without_a_config_on_the_base_branch_nothing_is_posted() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let worker = deliver(&db, &fake).await;
        assert!(matches!(
            worker.run_until_idle(NOW).await.unwrap()[..],
            [Ran::Done(_)]
        ));
        assert!(fake.check_runs().is_empty(), "{}", db.backend);
        db.finish().await;
    }
}

#[tokio::test]
async fn criteria_that_need_reports_keep_the_check_waiting_and_say_so() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[coverage]\nmin_patch = 80\n[hygiene]\ntitle_pattern = \"^Update\"\n",
        );
        readme_change(&fake);
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let run = &fake.check_runs()[0];
        assert_eq!(
            (run.status.as_str(), run.conclusion.as_deref()),
            ("in_progress", None)
        );
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.starts_with("### ⏳ Waiting for the workflow run's reports"),
            "{summary}"
        );
        assert!(
            summary.contains("| ✅ | Title |") && !summary.contains("Patch coverage"),
            "{summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_failed_update_is_retried_without_a_second_check_run() {
    for db in backends().await {
        let fake = with_base_config(b"[hygiene]\nmax_changed_lines = 100\n").await;
        readme_change(&fake);
        fake.fail_next(
            "PATCH",
            "check-runs",
            ResponseTemplate::new(502).set_body_json(serde_json::json!({"message": "Bad Gateway"})),
        );
        let worker = deliver(&db, &fake).await;
        let first = worker.run_until_idle(NOW).await.unwrap();
        let [Ran::Retried { run_at, .. }] = first[..] else {
            panic!("{}: {first:?}", db.backend)
        };
        assert!(
            (NOW + 1_500..=NOW + 2_500).contains(&run_at),
            "first backoff is about 2 s: {run_at}"
        );
        assert!(
            worker.run_until_idle(run_at - 1).await.unwrap().is_empty(),
            "not before its time"
        );
        assert!(matches!(
            worker.run_until_idle(run_at).await.unwrap()[..],
            [Ran::Done(_)]
        ));
        let runs = fake.check_runs();
        assert_eq!(
            runs.len(),
            1,
            "the retry found the first attempt's check run"
        );
        assert_eq!(runs[0].conclusion.as_deref(), Some("success"));
        db.finish().await;
    }
}

#[tokio::test]
async fn a_secondary_rate_limit_waits_for_retry_after() {
    for db in backends().await {
        let fake = with_base_config(b"[hygiene]\nmax_changed_lines = 100\n").await;
        readme_change(&fake);
        fake.fail_next(
            "GET",
            "contents",
            ResponseTemplate::new(403)
                .insert_header("retry-after", "30")
                .set_body_json(
                    serde_json::json!({"message": "You have exceeded a secondary rate limit"}),
                ),
        );
        let worker = deliver(&db, &fake).await;
        let steps = worker.run_until_idle(NOW).await.unwrap();
        assert!(
            matches!(steps[..], [Ran::Retried { run_at, .. }] if run_at == NOW + 30_000),
            "{steps:?}"
        );
        assert!(matches!(
            worker.run_until_idle(NOW + 30_000).await.unwrap()[..],
            [Ran::Done(_)]
        ));
        assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));
        db.finish().await;
    }
}

#[tokio::test]
async fn changed_files_are_read_page_by_page() {
    for db in backends().await {
        let fake = with_base_config(b"[hygiene]\nmax_changed_lines = 1000\n").await;
        let names: Vec<String> = (0..150).map(|i| format!("src/f{i}.rs")).collect();
        let files: Vec<(&str, &str, Option<&str>)> = names
            .iter()
            .map(|n| (n.as_str(), "added", Some("@@ -0,0 +1 @@\n+x")))
            .collect();
        fake.put_pr_files(REPO, 2, &files);
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let pages = fake
            .log()
            .await
            .iter()
            .filter(|l| l.ends_with("/pulls/2/files"))
            .count();
        assert_eq!(pages, 2);
        let summary = fake.check_runs()[0].summary.clone().unwrap();
        assert!(
            summary.contains("150 lines added or removed in 150 files"),
            "{summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_running_worker_loop_picks_up_a_delivery_as_soon_as_it_is_stored() {
    let db = crate::support::db::sqlite().await;
    let fake = with_base_config(b"[hygiene]\nmax_changed_lines = 100\n").await;
    readme_change(&fake);
    let server = TestServer::new(&db.store);
    let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
    let worker = Worker::new(db.store.clone(), Arc::new(github));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (steps_tx, mut steps) = tokio::sync::mpsc::unbounded_channel();
    let running = tokio::spawn(worker.run_loop(Arc::clone(&server.wake), stopped, Some(steps_tx)));
    let (status, _) = server
        .send(signed(
            "pull_request",
            "loop-1",
            payload("pull_request/opened.2.json"),
        ))
        .await;
    assert_eq!(status, 202);
    let step = tokio::time::timeout(std::time::Duration::from_secs(20), steps.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(step, Ran::Done(_)), "{step:?}");
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));
    stop.send(true).unwrap();
    running.await.unwrap();
    db.finish().await;
}

#[tokio::test]
async fn an_invalid_config_edit_is_annotated_on_its_line_while_the_base_config_judges() {
    for db in backends().await {
        let fake = with_base_config(b"[hygiene]\nmax_changed_lines = 100\n").await;
        fake.put_file(
            REPO,
            HEAD,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 100\nmax_chnged = 3\n",
        );
        fake.put_pr_files(
            REPO,
            2,
            &[(
                ".github/keel.toml",
                "modified",
                Some("@@ -1,2 +1,3 @@\n [hygiene]\n max_changed_lines = 100\n+max_chnged = 3"),
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
        assert!(
            summary.contains("| ✅ | Change size |"),
            "judged by the base file: {summary}"
        );
        let a = &run.annotations[0];
        assert_eq!(
            (
                a["path"].as_str(),
                a["start_line"].as_u64(),
                a["annotation_level"].as_str()
            ),
            (Some(".github/keel.toml"), Some(3), Some("failure"))
        );
        assert!(
            a["message"]
                .as_str()
                .unwrap()
                .contains("did you mean `max_changed_lines`?"),
            "{a}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn keels_own_labels_are_no_change_of_the_pull_request() {
    for db in backends().await {
        let fake = with_base_config(
            b"[hygiene]\nmax_changed_lines = 100\n\n[labels]\ndone = \"dod: met\"\nnot_done = \"dod: not met\"\n",
        )
        .await;
        readme_change(&fake);
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.labels(REPO, 2), ["dod: met"]);
        // The same pull request, as GitHub now has it (Keel's label on it), judged again.
        let mut p: serde_json::Value =
            serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
        p["action"] = serde_json::json!("edited");
        p["changes"] = serde_json::json!({"body": {"from": "A draft."}});
        p["pull_request"]["updated_at"] = serde_json::json!("2019-05-15T15:21:00Z");
        p["pull_request"]["labels"] = serde_json::json!([{"name": "bug"}, {"name": "dod: met"}]);
        let server = TestServer::new(&db.store);
        let again = signed("pull_request", "pr-2", serde_json::to_vec(&p).unwrap());
        assert_eq!(server.send(again).await.0, 202);
        worker.run_until_idle(NOW + 1).await.unwrap();
        let runs = fake.all_check_runs();
        assert_eq!(
            runs.len(),
            1,
            "{}: the check was not withdrawn for Keel's own label: {runs:?}",
            db.backend
        );
        assert_eq!(runs[0].conclusion.as_deref(), Some("success"));
        db.finish().await;
    }
}

#[tokio::test]
async fn one_sticky_comment_is_edited_only_when_its_content_changes() {
    for db in backends().await {
        let fake = with_base_config(b"[hygiene]\nmax_changed_lines = 100\n").await;
        readme_change(&fake);
        fake.put_comment(REPO, 2, "Looks good to me!");
        let worker = deliver(&db, &fake).await;
        worker.run_until_idle(NOW).await.unwrap();
        let server = TestServer::new(&db.store);
        let again =
            |id: &'static str| signed("pull_request", id, payload("pull_request/opened.2.json"));
        // Same head, same config: the evaluation is the same, so the comment is not touched.
        assert_eq!(server.send(again("pr-2")).await.0, 202);
        worker.run_until_idle(NOW + 1).await.unwrap();
        let writes = |log: &[String]| {
            log.iter()
                .filter(|l| l.contains("/comments") && !l.starts_with("GET"))
                .count()
        };
        assert_eq!(
            writes(&fake.log().await),
            1,
            "{}: created once, not edited",
            db.backend
        );
        // The base config changes, so the verdict does: the comment is edited in place.
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1\n",
        );
        assert_eq!(server.send(again("pr-3")).await.0, 202);
        worker.run_until_idle(NOW + 2).await.unwrap();
        let log = fake.log().await;
        assert_eq!(writes(&log), 2);
        assert!(
            log.iter()
                .any(|l| l.starts_with("PATCH /repos/Codertocat/Hello-World/issues/comments/"))
        );
        let comments = fake.comments(REPO, 2);
        assert_eq!(comments.len(), 2, "someone's comment and Keel's one");
        assert_eq!(comments[0].1, "Looks good to me!");
        assert!(
            comments[1]
                .1
                .starts_with("### ❌ Definition of done not met"),
            "{}",
            comments[1].1
        );
        assert!(comments[1].1.ends_with("<!-- keel:definition-of-done -->"));
        assert_eq!(
            fake.check_runs().len(),
            1,
            "one check run for the head commit throughout"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn pushes_queued_behind_each_other_are_judged_once_at_the_newest_head() {
    for db in backends().await {
        let fake = with_base_config(b"[hygiene]\nmax_changed_lines = 100\n").await;
        readme_change(&fake);
        let server = TestServer::new(&db.store);
        // Five pushes arrive while no worker runs (GitHub was slow, or the workers busy).
        let heads: Vec<String> = (1..=5).map(|n| format!("{n:040x}")).collect();
        for (n, head) in heads.iter().enumerate() {
            let mut p: serde_json::Value =
                serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
            p["action"] = serde_json::json!("synchronize");
            p["pull_request"]["head"]["sha"] = serde_json::json!(head);
            p["pull_request"]["updated_at"] = serde_json::json!(format!("2026-01-01T00:00:0{n}Z"));
            let body = serde_json::to_vec(&p).unwrap();
            let (status, _) = server
                .send(signed("pull_request", &format!("push-{n}"), body))
                .await;
            assert_eq!(status, 202);
        }
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        let steps = worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(steps.len(), 5, "every delivery's job is done: {steps:?}");
        let runs = fake.check_runs();
        assert_eq!(
            runs.iter().map(|r| r.head_sha.as_str()).collect::<Vec<_>>(),
            [heads[4].as_str()],
            "{}: one evaluation, at the newest head; the superseded pushes cost no GitHub call",
            db.backend
        );
        let calls = fake.log().await;
        assert_eq!(
            calls
                .iter()
                .filter(|c| c.contains("/contents/") && !c.contains("keel-org.toml"))
                .count(),
            1,
            "{calls:?}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_push_is_not_skipped_for_an_evaluation_of_an_older_head_queued_behind_it() {
    use keel::github::event::{Event, Target};
    use keel::github::{CommitSha, InstallationId, PrNumber, RepoName};
    for db in backends().await {
        let fake = with_base_config(b"[hygiene]\nmax_changed_lines = 100\n").await;
        readme_change(&fake);
        let new_head = format!("{:040x}", 2);
        let mut p: serde_json::Value =
            serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
        p["action"] = serde_json::json!("synchronize");
        p["pull_request"]["head"]["sha"] = serde_json::json!(new_head);
        p["pull_request"]["updated_at"] = serde_json::json!("2026-01-01T00:00:02Z");
        fake.put_pull(REPO, 2, p["pull_request"].clone());
        let server = TestServer::new(&db.store);
        let body = serde_json::to_vec(&p).unwrap();
        assert_eq!(
            server.send(signed("pull_request", "push", body)).await.0,
            202
        );
        // The old head's workflow run finished meanwhile: its follow-up queues behind the push.
        let old = Event::Evaluate {
            installation: InstallationId(1),
            repo: RepoName(REPO.into()),
            head_sha: CommitSha(HEAD.into()),
            target: Target::PullRequest(PrNumber(2)),
        };
        let job = keel::store::NewJob {
            kind: keel::jobs::EVENT_JOB.into(),
            delivery_id: None,
            dedupe_key: Some("old-run/pr-2".into()),
            serial_key: Some(old.serial_key()),
            payload: serde_json::to_vec(&old).unwrap(),
            run_at: 0,
            installation: None,
            fair_group: None,
        };
        db.store.enqueue(&job, 1).await.unwrap();
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        worker.run_until_idle(NOW).await.unwrap();
        let heads: Vec<String> = fake.check_runs().into_iter().map(|r| r.head_sha).collect();
        assert_eq!(heads, [new_head], "{}: the new head is judged", db.backend);
        db.finish().await;
    }
}
