//! Attacks on the gate: each test reproduces one way a fork contributor, an insider without
//! bypass rights or someone who can only comment could turn Keel's required check green (or
//! make it report on the wrong thing) without meeting the definition of done, against the
//! FakeGitHub, and shows that it no longer works. Each failed on the `main` it was written
//! against (a79a110). Every test runs on every backend.

use crate::reports_flow::{
    BASE, HEAD, NOW, REPO, deliver, json_of, lcov, push_to_master, worker, workflow_run, zip_of,
};
use crate::support::db::{TestDb, backends};
use crate::support::github::{APP_ID, CheckRun, FakeGitHub};
use crate::support::webhook::{TestServer, payload};
use keel::github::CHECK_NAME;
use keel::github::client::GitHub;
use keel::jobs::worker::Worker;
use keel_core::render::comment::COMMENT_MARKER;
use serde_json::{Value, json};

/// The base commit of a second branch, `lax`, whose definition of done asks for little.
const LAX_BASE: &str = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
/// A later head of the fixture pull request.
const NEW_HEAD: &str = "0f0e0d0c0b0a09080706050403020100f0e0d0c0";
/// The fixture's change (hello.rb, 2 lines added, 1 removed).
const README_PATCH: &str = "@@ -1 +1,2 @@\n-Hello\n+Hello World\n+More";

/// A `pull_request` delivery for pull request `number` of the fixture's head into `base_ref`
/// at `base_sha`, as GitHub last changed it at `updated_at`.
fn pr_into(
    action: &str,
    number: u64,
    base_ref: &str,
    base_sha: &str,
    title: &str,
    updated_at: &str,
) -> Vec<u8> {
    let mut p = json_of("pull_request/opened.2.json");
    p["action"] = json!(action);
    p["number"] = json!(number);
    let pr = &mut p["pull_request"];
    pr["number"] = json!(number);
    pr["base"]["ref"] = json!(base_ref);
    pr["base"]["sha"] = json!(base_sha);
    pr["title"] = json!(title);
    pr["updated_at"] = json!(updated_at);
    if action == "edited" {
        p["changes"] = json!({"title": {"from": "Change"}});
    }
    serde_json::to_vec(&p).unwrap()
}

/// Keel's check runs (made by its App), oldest first.
fn keel_runs(fake: &FakeGitHub) -> Vec<CheckRun> {
    fake.check_runs()
        .into_iter()
        .filter(|r| r.app_id == APP_ID && r.name == CHECK_NAME)
        .collect()
}

/// The state and conclusion of Keel's check run on `head` that GitHub shows and branch
/// protection requires: the latest.
fn verdict_on(fake: &FakeGitHub, head: &str) -> (String, Option<String>) {
    let latest = keel_runs(fake)
        .into_iter()
        .filter(|r| r.head_sha == head)
        .max_by_key(|r| r.id)
        .unwrap_or_else(|| panic!("no check run on {head}"));
    (latest.status, latest.conclusion)
}

fn completed(conclusion: &str) -> (String, Option<String>) {
    ("completed".to_owned(), Some(conclusion.to_owned()))
}

/// A FakeGitHub with `config` at the fixture's base commit and pull request 2 (and any
/// `more` pull requests) changing hello.rb.
async fn github(config: &[u8], more: &[u64]) -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(REPO, BASE, ".github/keel.toml", config);
    for number in std::iter::once(&2).chain(more) {
        fake.put_pr_files(
            REPO,
            *number,
            &[("hello.rb", "modified", Some(README_PATCH))],
        );
    }
    fake.put_pull(
        REPO,
        2,
        json_of("pull_request/opened.2.json")["pull_request"].clone(),
    );
    fake
}

/// The fixture pull request is opened.
async fn open(server: &TestServer) {
    deliver(
        server,
        "pull_request",
        "pr",
        payload("pull_request/opened.2.json"),
    )
    .await;
}

/// Workflow run `run_id` of `ci.yml` on the fixture's head finishes with `zip` as its
/// `keel-reports` artifact.
async fn reports_arrive(server: &TestServer, fake: &FakeGitHub, run_id: u64, zip: Vec<u8>) {
    fake.put_artifact(REPO, run_id, "keel-reports", zip);
    deliver(
        server,
        "workflow_run",
        &format!("wr-{run_id}"),
        workflow_run(run_id, "CI", "pull_request", HEAD, "changes", &[2], REPO),
    )
    .await;
}

// 1. A sibling pull request with a laxer base.

#[tokio::test]
async fn a_sibling_pull_request_into_a_laxer_base_cannot_turn_the_shared_head_green() {
    for db in backends().await {
        let fake = github(b"[hygiene]\nmax_changed_lines = 1\n", &[3]).await;
        fake.put_file(
            REPO,
            LAX_BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1000\n",
        );
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        let t = "2026-01-01T00:00:0";
        deliver(
            &server,
            "pull_request",
            "strict",
            pr_into("opened", 2, "master", BASE, "Change", &format!("{t}1Z")),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(verdict_on(&fake, HEAD), completed("failure"));

        // The same head commit, into a branch whose definition of done asks for little.
        deliver(
            &server,
            "pull_request",
            "lax",
            pr_into("opened", 3, "lax", LAX_BASE, "Change", &format!("{t}2Z")),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "the worst verdict of the head's pull requests stands: {}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        for part in ["#2", "#3", "`master`", "`lax`"] {
            assert!(summary.contains(part), "{part} named: {summary}");
        }

        // An edit to the lax one (a fresh judgement of it) does not flip the head either.
        deliver(
            &server,
            "pull_request",
            "lax-edit",
            pr_into("edited", 3, "lax", LAX_BASE, "Edited", &format!("{t}3Z")),
        )
        .await;
        worker.run_until_idle(NOW + 2).await.unwrap();
        assert_eq!(verdict_on(&fake, HEAD), completed("failure"));
        db.finish().await;
    }
}

/// GitHub's answer to the next read of the config: a 502, so that a judgement fails at its
/// first request to GitHub and is retried later.
fn config_read_fails_once(fake: &FakeGitHub) {
    fake.fail_next(
        "GET",
        "contents/.github/keel.toml",
        wiremock::ResponseTemplate::new(502).set_body_json(json!({"message": "Bad Gateway"})),
    );
}

/// The fixture's base with a strict definition of done, `lax` with a lax one, and pull
/// requests 2 and 3 changing hello.rb; GitHub lists no pull request at the head until one is
/// opened.
async fn strict_and_lax() -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.put_file(
        REPO,
        BASE,
        ".github/keel.toml",
        b"[hygiene]\nmax_changed_lines = 1\n",
    );
    fake.put_file(
        REPO,
        LAX_BASE,
        ".github/keel.toml",
        b"[hygiene]\nmax_changed_lines = 1000\n",
    );
    for number in [2, 3] {
        fake.put_pr_files(
            REPO,
            number,
            &[("hello.rb", "modified", Some(README_PATCH))],
        );
    }
    fake
}

/// [`strict_and_lax`], with pull request 3 (the fixture's head into `lax`) judged: the head
/// is green.
async fn green_through_lax(db: &TestDb) -> (FakeGitHub, TestServer, Worker<GitHub>) {
    let fake = strict_and_lax().await;
    let server = TestServer::new(&db.store);
    let worker = worker(db, &fake);
    let opened = pr_into(
        "opened",
        3,
        "lax",
        LAX_BASE,
        "Change",
        "2026-01-01T00:00:01Z",
    );
    deliver(&server, "pull_request", "lax", opened).await;
    worker.run_until_idle(NOW).await.unwrap();
    assert_eq!(verdict_on(&fake, HEAD), completed("success"));
    (fake, server, worker)
}

/// Pull request 3 moved from `lax` to `base` (at commit `sha`), delivered at `at`.
async fn moved_from_lax(server: &TestServer, base: &str, sha: &str, at: &str, delivery: &str) {
    let mut moved: Value =
        serde_json::from_slice(&pr_into("edited", 3, base, sha, "Change", at)).unwrap();
    moved["changes"] = json!({"base": {"ref": {"from": "lax"}, "sha": {"from": LAX_BASE}}});
    deliver(
        server,
        "pull_request",
        delivery,
        serde_json::to_vec(&moved).unwrap(),
    )
    .await;
}

/// After a change to the green head whose judgement GitHub failed at once: the head shows in
/// progress (`held`) until the judgement is retried, and then fails.
async fn held_then_failed(db: &TestDb, fake: &FakeGitHub, worker: &Worker<GitHub>, held: &str) {
    worker.run_until_idle(NOW + 1).await.unwrap();
    let in_progress = ("in_progress".to_owned(), None);
    assert_eq!(
        verdict_on(fake, HEAD),
        in_progress,
        "{held}: {}",
        db.backend
    );
    worker.run_until_idle(NOW + 60_000).await.unwrap();
    assert_eq!(verdict_on(fake, HEAD), completed("failure"));
}

#[tokio::test]
async fn a_pull_request_opened_at_a_green_head_holds_it_until_it_is_judged() {
    for db in backends().await {
        let (fake, server, worker) = green_through_lax(&db).await;
        let t = "2026-01-01T00:00:0";

        // The same head, into the strict branch: until it is judged, the head must not stay
        // green, or it could be merged on the lax branch's verdict.
        config_read_fails_once(&fake);
        deliver(
            &server,
            "pull_request",
            "strict",
            pr_into("opened", 2, "master", BASE, "Change", &format!("{t}2Z")),
        )
        .await;
        held_then_failed(&db, &fake, &worker, "held while #2 is judged").await;
        db.finish().await;
    }
}

#[tokio::test]
async fn a_green_pull_request_moved_to_a_stricter_base_is_held_until_judged_again() {
    for db in backends().await {
        let (fake, server, worker) = green_through_lax(&db).await;
        let t = "2026-01-01T00:00:0";

        // Its base switched to the strict branch: the lax verdict no longer counts.
        config_read_fails_once(&fake);
        moved_from_lax(&server, "master", BASE, &format!("{t}2Z"), "moved").await;
        held_then_failed(
            &db,
            &fake,
            &worker,
            "held while #3 is judged against its new base",
        )
        .await;
        db.finish().await;
    }
}

#[tokio::test]
async fn a_retarget_queued_ahead_of_keels_own_label_event_is_still_judged() {
    for db in backends().await {
        let (fake, server, worker) = green_through_lax(&db).await;
        // The strict branch owns the debt labels.
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1\n[debt]\n",
        );
        // #3 moved to the strict branch, and Keel's own label change (from a judgement that
        // was running meanwhile) queued behind it, dated later. The label event judges
        // nothing; it must not stand in for the retarget either.
        moved_from_lax(&server, "master", BASE, "2026-01-01T00:00:02Z", "moved").await;
        let mut labelled: Value = serde_json::from_slice(&pr_into(
            "labeled",
            3,
            "master",
            BASE,
            "Change",
            "2026-01-01T00:00:03Z",
        ))
        .unwrap();
        labelled["label"] = json!({"name": "debt: added"});
        labelled["sender"] = json!({"login": "keel-dev[bot]", "type": "Bot"});
        deliver(
            &server,
            "pull_request",
            "labelled",
            serde_json::to_vec(&labelled).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}: judged against its new base",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_verdict_on_a_head_the_pull_request_left_never_counts_again() {
    for db in backends().await {
        let (fake, server, worker) = green_through_lax(&db).await;
        // #3 moves to a new head, then is force-pushed back to HEAD: whatever the verdict on
        // HEAD was made of (GitHub lists the files of the pull request's head when asked, which
        // a push may have moved), HEAD is judged again, and until then it is not green.
        let other = "cd".repeat(20);
        for (head, at, delivery) in [
            (other.as_str(), "2026-01-01T00:00:02Z", "push"),
            (HEAD, "2026-01-01T00:00:03Z", "back"),
        ] {
            let mut pushed: Value =
                serde_json::from_slice(&pr_into("synchronize", 3, "lax", LAX_BASE, "Change", at))
                    .unwrap();
            pushed["pull_request"]["head"]["sha"] = json!(head);
            if head == HEAD {
                config_read_fails_once(&fake);
            }
            deliver(
                &server,
                "pull_request",
                delivery,
                serde_json::to_vec(&pushed).unwrap(),
            )
            .await;
            if head != HEAD {
                worker.run_until_idle(NOW + 1).await.unwrap();
            }
        }
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            ("in_progress".to_owned(), None),
            "{}: held until judged again",
            db.backend
        );
        worker.run_until_idle(NOW + 60_000).await.unwrap();
        assert_eq!(verdict_on(&fake, HEAD), completed("success"));
        db.finish().await;
    }
}

#[tokio::test]
async fn a_green_pull_request_moved_to_a_base_without_a_definition_of_done_says_so() {
    for db in backends().await {
        let (fake, server, worker) = green_through_lax(&db).await;
        // `docs` has no keel.toml: #3 is no longer judged, and its old verdict stops counting.
        let docs_base = "2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
        moved_from_lax(&server, "docs", docs_base, "2026-01-01T00:00:02Z", "docs").await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            ("in_progress".to_owned(), None),
            "{}: never green on the lax verdict",
            db.backend
        );
        let latest = keel_runs(&fake).into_iter().max_by_key(|r| r.id).unwrap();
        assert_eq!(
            latest.title.as_deref(),
            Some("No definition of done applies"),
            "{}: not left saying it judges",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_completion_github_kept_as_it_was_is_not_taken_for_done() {
    for db in backends().await {
        let (fake, server, worker) = green_through_lax(&db).await;
        let t = "2026-01-01T00:00:0";
        // Keel lost GitHub's answer to that completion: its store still has the run in
        // progress, so the next verdict is written on a run GitHub keeps as it is.
        let run = db.store.check_run(REPO, HEAD).await.unwrap().unwrap();
        let lost = keel::store::StoredCheckRun {
            shown: keel::store::Shown::InProgress,
            ..run
        };
        db.store.set_check_run(REPO, HEAD, lost).await.unwrap();

        deliver(
            &server,
            "pull_request",
            "strict",
            pr_into("opened", 2, "master", BASE, "Change", &format!("{t}2Z")),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "GitHub's answer showed the run kept its success: the failure went on a new run ({})",
            db.backend
        );
        db.finish().await;
    }
}

// 2. `[checks] required` is enforced.

/// A `check_run` `completed` delivery for another app's check `name` on the fixture's head.
fn check_run_completed(name: &str, conclusion: &str) -> Vec<u8> {
    let mut p = json_of("check_run/rerequested.1.json");
    p["action"] = json!("completed");
    p["installation"] = json!({"id": 1});
    p["repository"]["full_name"] = json!(REPO);
    let run = &mut p["check_run"];
    run["name"] = json!(name);
    run["head_sha"] = json!(HEAD);
    run["status"] = json!("completed");
    run["conclusion"] = json!(conclusion);
    run["app"] = json!({"id": 777, "slug": "other-ci"});
    serde_json::to_vec(&p).unwrap()
}

#[tokio::test]
async fn a_failed_required_check_fails_the_gate_and_a_running_one_keeps_it_waiting() {
    for db in backends().await {
        let fake = github(b"[checks]\nrequired = [\"build\"]\n", &[]).await;
        let build = fake.put_check_run(HEAD, "build", "in_progress", None, 777);
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            ("in_progress".to_owned(), None),
            "waits while `build` runs: {}",
            db.backend
        );

        fake.set_check_run(build, "completed", Some("failure"));
        deliver(
            &server,
            "check_run",
            "build-done",
            check_run_completed("build", "failure"),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(verdict_on(&fake, HEAD), completed("failure"));
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(summary.contains("**Check `build`**: failure"), "{summary}");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_required_check_that_never_ran_fails_once_the_workflows_have_finished() {
    for db in backends().await {
        let fake = github(b"[checks]\nrequired = [\"build\"]\n", &[]).await;
        // A same-named check from Keel's own App does not count as `build` either.
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(summary.contains("not reported"), "{summary}");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_same_named_check_from_another_app_cannot_stand_in_for_a_required_one() {
    for db in backends().await {
        let fake = github(b"[checks]\nrequired = [\"CodeQL\"]\n", &[]).await;
        // The code scanning app's CodeQL failed; a workflow job the pull request added, also
        // called CodeQL, passed later.
        fake.put_check_run(HEAD, "CodeQL", "completed", Some("failure"), 57_789);
        fake.put_check_run(HEAD, "CodeQL", "completed", Some("success"), 15_368);
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_required_check_past_the_runs_keel_reads_is_never_taken_as_passed() {
    for db in backends().await {
        let fake = github(b"[checks]\nrequired = [\"build\"]\n", &[]).await;
        // The real `build` failed. Then a thousand other runs, then a same-named `build`
        // from another app that passed: GitHub lists the failure past the thousand runs Keel
        // reads.
        fake.put_check_run(HEAD, "build", "completed", Some("failure"), 777);
        for i in 0..1000 {
            fake.put_check_run(
                HEAD,
                &format!("matrix ({i})"),
                "completed",
                Some("success"),
                888,
            );
        }
        fake.put_check_run(HEAD, "build", "completed", Some("success"), 999);
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(summary.contains("read 1,000 of the commit's"), "{summary}");
        db.finish().await;
    }
}

// 3. New security findings hidden behind old ones.

/// A CodeQL-style SARIF log: (rule, path, line, line hash) per result; every result has the
/// same column fingerprint, as CodeQL's `primaryLocationStartColumnFingerprint` often does.
fn codeql(results: &[(&str, &str, u32, &str)]) -> Vec<u8> {
    let results: Vec<Value> = results
        .iter()
        .map(|(rule, path, line, hash)| {
            json!({
                "ruleId": rule, "level": "error",
                "message": {"text": "This query depends on a user-provided value."},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": path},
                    "region": {"startLine": line}}}],
                "partialFingerprints": {
                    "primaryLocationLineHash": hash,
                    "primaryLocationStartColumnFingerprint": "4"
                }
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": results}]
    }))
    .unwrap()
}

#[tokio::test]
async fn a_new_finding_is_not_hidden_behind_a_baseline_finding_that_shares_one_fingerprint() {
    for db in backends().await {
        let config = b"[security]\nfail_on = \"high\"\n";
        let fake = github(config, &[]).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        // The default branch has one SQL injection, in a.js.
        let old = ("js/sql-injection", "src/a.js", 10, "aaaa:1");
        deliver(&server, "push", "push-main", push_to_master(BASE)).await;
        fake.put_artifact(
            REPO,
            50,
            "keel-reports",
            zip_of(&[("codeql.sarif", &codeql(&[old]))]),
        );
        deliver(
            &server,
            "workflow_run",
            "wr-main",
            workflow_run(50, "CI", "push", BASE, "master", &[], REPO),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert!(db.store.baseline(REPO, BASE).await.unwrap().is_some());

        // The pull request keeps it (moved down two lines) and adds another in b.js.
        let moved = ("js/sql-injection", "src/a.js", 12, "aaaa:1");
        let new = ("js/sql-injection", "src/b.js", 3, "bbbb:1");
        open(&server).await;
        reports_arrive(
            &server,
            &fake,
            77,
            zip_of(&[("codeql.sarif", &codeql(&[moved, new]))]),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(
            summary.contains("**New security findings**: 1"),
            "one new finding (the moved one is not new): {summary}"
        );
        db.finish().await;
    }
}

// 4. Big changes escape size and patch coverage.

#[tokio::test]
async fn a_file_whose_patch_github_left_out_still_counts_its_lines() {
    for db in backends().await {
        let fake = github(b"[hygiene]\nmax_changed_lines = 400\n", &[]).await;
        // GitHub leaves `patch` out of very large files but still counts their lines.
        fake.put_pr_file_entries(
            REPO,
            2,
            vec![json!({"filename": "data/huge.sql", "status": "added",
                        "additions": 30_000, "deletions": 0, "changes": 30_000})],
        );
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(
            summary.contains("**Change size**: 30000 lines"),
            "{summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_file_list_github_cut_short_fails_closed() {
    for db in backends().await {
        let fake = github(b"[hygiene]\nmax_changed_lines = 400\n", &[]).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        // GitHub lists at most 3,000 files; the pull request says it changes 3,500.
        let mut p = json_of("pull_request/opened.2.json");
        p["pull_request"]["changed_files"] = json!(3_500);
        deliver(
            &server,
            "pull_request",
            "pr",
            serde_json::to_vec(&p).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(
            summary.contains("**Changed files**: incomplete"),
            "{summary}"
        );
        assert!(summary.contains("1 of the 3500 files"), "{summary}");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_large_file_without_a_patch_makes_patch_coverage_unknown_not_passed() {
    for db in backends().await {
        let config = b"[coverage]\nmin_patch = 80\n";
        let fake = github(config, &[]).await;
        // hello.rb is in the report and fully covered; src/big.py is too large for a patch.
        fake.put_pr_file_entries(
            REPO,
            2,
            vec![
                json!({"filename": "hello.rb", "status": "modified", "patch": README_PATCH,
                       "additions": 2, "deletions": 1}),
                json!({"filename": "src/big.py", "status": "modified",
                       "additions": 5_000, "deletions": 10}),
            ],
        );
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        let report =
            b"SF:hello.rb\nDA:1,1\nDA:2,1\nend_of_record\nSF:src/big.py\nDA:1,0\nend_of_record\n";
        reports_arrive(&server, &fake, 77, zip_of(&[("lcov.info", report)])).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(summary.contains("**Patch coverage**: unknown"), "{summary}");
        db.finish().await;
    }
}

#[tokio::test]
async fn a_damaged_patch_fails_closed_instead_of_not_affected() {
    for db in backends().await {
        let fake = github(b"[hygiene]\nmax_changed_lines = 400\n", &[]).await;
        // The hunk header promises 5 new lines; the body has 2.
        fake.put_pr_files(
            REPO,
            2,
            &[(
                "hello.rb",
                "modified",
                Some("@@ -1 +1,5 @@\n-Hello\n+Hello World\n+More"),
            )],
        );
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(
            summary.contains("**Changed files**: incomplete"),
            "{summary}"
        );
        assert!(summary.contains("damaged"), "{summary}");
        db.finish().await;
    }
}

// 5. Files missing from the coverage report.

#[tokio::test]
async fn a_source_file_missing_from_the_coverage_report_counts_as_uncovered() {
    for db in backends().await {
        let config = b"[coverage]\nmin_patch = 80\n";
        let fake = github(config, &[]).await;
        // The pull request changes a tested module and adds one that no test imports.
        fake.put_pr_files(
            REPO,
            2,
            &[
                (
                    "src/app.py",
                    "modified",
                    Some("@@ -1 +1,2 @@\n x = 1\n+y = 2"),
                ),
                (
                    "src/refund.py",
                    "added",
                    Some("@@ -0,0 +1,3 @@\n+def refund(order):\n+\n+    return order.total"),
                ),
                (
                    "tests/test_app.py",
                    "modified",
                    Some("@@ -1 +1,2 @@\n a = 1\n+b = 2"),
                ),
            ],
        );
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        // coverage.py lists only the modules the tests imported.
        let report = b"SF:src/app.py\nDA:1,1\nDA:2,1\nend_of_record\n";
        reports_arrive(&server, &fake, 77, zip_of(&[("lcov.info", report)])).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let run = &keel_runs(&fake)[0];
        let summary = run.summary.clone().unwrap();
        assert!(
            summary.contains("**Patch coverage**: 33\\.33%"),
            "1 of 3 added code lines covered (the test file is not source): {summary}"
        );
        let flagged: Vec<(&str, &str)> = run
            .annotations
            .iter()
            .map(|a| (a["path"].as_str().unwrap(), a["title"].as_str().unwrap()))
            .collect();
        assert_eq!(flagged, [("src/refund.py", "Not in the coverage report")]);
        db.finish().await;
    }
}

// 6. Adopting what someone else made.

#[tokio::test]
async fn a_comment_carrying_keels_marker_is_not_adopted() {
    for db in backends().await {
        let fake = github(b"[hygiene]\nmax_changed_lines = 1\n", &[]).await;
        let planted = format!("{COMMENT_MARKER}\n### ✅ Definition of done met");
        let theirs = fake.put_comment(REPO, 2, &planted);
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        let comments = fake.comments(REPO, 2);
        assert_eq!(comments.len(), 2, "Keel posts its own: {}", db.backend);
        assert_eq!(comments[0], (theirs, planted), "theirs is left alone");
        assert!(comments[1].1.contains("not met"), "{}", comments[1].1);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_check_run_named_like_keels_from_another_app_is_not_adopted() {
    for db in backends().await {
        let fake = github(b"[hygiene]\nmax_changed_lines = 1\n", &[]).await;
        // A workflow job can be given any name; its check run belongs to another app.
        let fake_run = fake.put_check_run(HEAD, CHECK_NAME, "completed", Some("success"), 15368);
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let other = fake
            .check_runs()
            .into_iter()
            .find(|r| r.id == fake_run)
            .unwrap();
        assert_eq!(other.summary, None, "the other app's run is not touched");
        db.finish().await;
    }
}

// 7. Where reports and baselines come from.

#[tokio::test]
async fn reports_come_only_from_the_configured_workflow_file() {
    for db in backends().await {
        // A config naming the workflow by its display name, which any pull request can copy,
        // is refused where it is written.
        let config = b"[coverage]\nmin_patch = 80\n\n[reports]\nworkflow = \"CI\"\n";
        let fake = github(config, &[]).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(
            summary.contains("is a display name") && summary.contains("`ci.yml`"),
            "a display name is refused: {summary}"
        );
        db.finish().await;
    }
    for db in backends().await {
        // Named by its file, only the workflow's own run is used: the real CI fails
        // coverage; a workflow the pull request added, also named "CI", uploads a perfect
        // report and finishes last.
        let config = b"[coverage]\nmin_patch = 80\n\n[reports]\nworkflow = \"ci.yml\"\n";
        let fake = github(config, &[]).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        reports_arrive(&server, &fake, 77, zip_of(&[("lcov.info", &lcov(0))])).await;
        fake.put_artifact(REPO, 78, "keel-reports", zip_of(&[("lcov.info", &lcov(5))]));
        let mut evil: Value = serde_json::from_slice(&workflow_run(
            78,
            "CI",
            "pull_request",
            HEAD,
            "changes",
            &[2],
            REPO,
        ))
        .unwrap();
        evil["workflow_run"]["path"] = json!(".github/workflows/evil.yml");
        deliver(
            &server,
            "workflow_run",
            "wr-evil",
            serde_json::to_vec(&evil).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(
            summary.contains("workflow run 77") && !summary.contains("workflow run 78"),
            "{summary}"
        );

        // A re-run of the workflow brings new reports, and the check says which run and file
        // produced them, and that this pull request changes that file.
        fake.put_pr_files(
            REPO,
            2,
            &[
                ("hello.rb", "modified", Some(README_PATCH)),
                (
                    ".github/workflows/ci.yml",
                    "modified",
                    Some("@@ -1 +1 @@\n-a\n+b"),
                ),
            ],
        );
        reports_arrive(&server, &fake, 79, zip_of(&[("lcov.info", &lcov(5))])).await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(verdict_on(&fake, HEAD), completed("success"));
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(
            summary.contains("workflow run 79") && summary.contains("ci\\.yml"),
            "{summary}"
        );
        assert!(
            summary.contains("This pull request changes"),
            "the changed workflow is flagged: {summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_baseline_comes_only_from_the_push_run_of_the_default_branch() {
    for db in backends().await {
        let fake = github(b"[coverage]\nmax_drop = 1\n", &[]).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        // A tag named like the default branch: a push run with head_branch "master", but no
        // push to the branch ever made BASE its head.
        fake.put_artifact(REPO, 40, "keel-reports", zip_of(&[("lcov.info", &lcov(0))]));
        deliver(
            &server,
            "workflow_run",
            "wr-tag",
            workflow_run(40, "CI", "push", BASE, "master", &[], REPO),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert!(
            db.store.baseline(REPO, BASE).await.unwrap().is_none(),
            "no baseline from a tag: {}",
            db.backend
        );

        // Now BASE is pushed to master. Another run of the same commit (a pull request's
        // workflow) uploads a poisoned artifact; the push run itself uploads none.
        deliver(&server, "push", "push-main", push_to_master(BASE)).await;
        fake.put_artifact(REPO, 60, "keel-reports", zip_of(&[("lcov.info", &lcov(0))]));
        deliver(
            &server,
            "workflow_run",
            "wr-other",
            workflow_run(
                60,
                "CI",
                "pull_request",
                BASE,
                "master",
                &[],
                "fork/Hello-World",
            ),
        )
        .await;
        deliver(
            &server,
            "workflow_run",
            "wr-push",
            workflow_run(61, "CI", "push", BASE, "master", &[], REPO),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert!(
            db.store.baseline(REPO, BASE).await.unwrap().is_none(),
            "no baseline from another run's artifact: {}",
            db.backend
        );
        db.finish().await;
    }
}

// 8. Stale and replayed events.

#[tokio::test]
async fn a_replayed_older_delivery_does_not_move_the_pull_request_back() {
    for db in backends().await {
        let config = b"[hygiene]\ntitle_pattern = \"^feat\"\n\n[labels]\ndone = \"dod: met\"\nnot_done = \"dod: not met\"\n";
        let fake = github(config, &[]).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        let old = pr_into("opened", 2, "master", BASE, "wip", "2026-01-01T00:00:01Z");
        deliver(&server, "pull_request", "old", old.clone()).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(fake.labels(REPO, 2), ["bug", "dod: not met"]);

        // A push to a new head with a fixed title: the gate is met.
        let mut newer: Value = serde_json::from_slice(&pr_into(
            "synchronize",
            2,
            "master",
            BASE,
            "feat: done",
            "2026-01-01T00:00:02Z",
        ))
        .unwrap();
        newer["pull_request"]["head"]["sha"] = json!(NEW_HEAD);
        deliver(
            &server,
            "pull_request",
            "new",
            serde_json::to_vec(&newer).unwrap(),
        )
        .await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(verdict_on(&fake, NEW_HEAD), completed("success"));
        let labels = fake.labels(REPO, 2);
        let comment = fake.comments(REPO, 2);

        // The old body again, under a new delivery id (GitHub's "redeliver", or a capture).
        deliver(&server, "pull_request", "old-again", old).await;
        worker.run_until_idle(NOW + 2).await.unwrap();
        assert_eq!(fake.labels(REPO, 2), labels, "labels stay: {}", db.backend);
        assert_eq!(fake.comments(REPO, 2), comment, "the comment stays");
        assert_eq!(verdict_on(&fake, NEW_HEAD), completed("success"));
        db.finish().await;
    }
}

#[tokio::test]
async fn a_same_second_delivery_is_checked_against_github() {
    for db in backends().await {
        let fake = github(b"[hygiene]\nmax_changed_lines = 1\n", &[3]).await;
        fake.put_file(
            REPO,
            LAX_BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 1000\n",
        );
        let lax = pr_into(
            "opened",
            3,
            "lax",
            LAX_BASE,
            "Change",
            "2026-01-01T00:00:02Z",
        );
        let lax_now: Value = serde_json::from_slice(&lax).unwrap();
        fake.put_pull(REPO, 3, lax_now["pull_request"].clone());
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        let strict = pr_into(
            "opened",
            2,
            "master",
            BASE,
            "Change",
            "2026-01-01T00:00:01Z",
        );
        let strict_now: Value = serde_json::from_slice(&strict).unwrap();
        fake.put_pull(REPO, 2, strict_now["pull_request"].clone());
        deliver(&server, "pull_request", "strict", strict).await;
        deliver(&server, "pull_request", "lax", lax).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(verdict_on(&fake, HEAD), completed("failure"));

        // A `closed` from the same second as the state Keel knows (say it was reopened in
        // that second, and the deliveries crossed): GitHub says the pull request is open.
        let closed = pr_into(
            "closed",
            2,
            "master",
            BASE,
            "Change",
            "2026-01-01T00:00:01Z",
        );
        deliver(&server, "pull_request", "closed-tie", closed).await;
        worker.run_until_idle(NOW + 1).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "still open on GitHub, still counted: {}",
            db.backend
        );

        // Closed for real, later: it stops counting and the other pull request is judged again.
        let mut gone = strict_now["pull_request"].clone();
        gone["state"] = json!("closed");
        fake.put_pull(REPO, 2, gone);
        let closed = pr_into(
            "closed",
            2,
            "master",
            BASE,
            "Change",
            "2026-01-01T00:00:09Z",
        );
        deliver(&server, "pull_request", "closed", closed).await;
        worker.run_until_idle(NOW + 2).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("success"),
            "{}",
            db.backend
        );
        db.finish().await;
    }
}

// 9. Text that breaks out.

/// Whether `needle` stands inside a fenced code block of `markdown` (CommonMark: a fence
/// closes only on a line of at least as many backticks).
fn inside_fence(markdown: &str, needle: &str) -> bool {
    let mut open: Option<usize> = None;
    for line in markdown.lines() {
        let ticks = line.trim_start().chars().take_while(|&c| c == '`').count();
        match open {
            None if ticks >= 3 => open = Some(ticks),
            Some(n) if ticks >= n && line.trim().chars().all(|c| c == '`') => open = None,
            _ => {
                if line.contains(needle) {
                    return open.is_some();
                }
            }
        }
    }
    false
}

#[tokio::test]
async fn an_artifact_entry_name_cannot_write_markdown_into_the_check_run() {
    for db in backends().await {
        let config = b"[coverage]\nmin_patch = 80\n";
        let fake = github(config, &[]).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        let name = "../\n```\n## ✅ All criteria met\n```\n";
        reports_arrive(&server, &fake, 77, zip_of(&[(name, b"x")])).await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let summary = keel_runs(&fake)[0].summary.clone().unwrap();
        assert!(
            inside_fence(&summary, "All criteria met"),
            "the entry name stays inside its code block: {summary}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn an_oversized_finding_cannot_leave_the_check_in_progress() {
    for db in backends().await {
        let config = b"[security]\nfail_on = \"high\"\nnew_only = false\n";
        let fake = github(config, &[]).await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        open(&server).await;
        // A rule id of 300 characters and a 100 KB message: over GitHub's annotation limits.
        let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}},
            "results": [{"ruleId": "r".repeat(300), "level": "error",
                "message": {"text": "m".repeat(100_000)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "hello.rb"},
                    "region": {"startLine": 2}}}]}]}]});
        reports_arrive(
            &server,
            &fake,
            77,
            zip_of(&[("t.sarif", &serde_json::to_vec(&sarif).unwrap())]),
        )
        .await;
        worker.run_until_idle(NOW).await.unwrap();
        assert_eq!(
            verdict_on(&fake, HEAD),
            completed("failure"),
            "{}",
            db.backend
        );
        let run = &keel_runs(&fake)[0];
        assert_eq!(run.annotations.len(), 1, "the annotation, trimmed, is sent");
        db.finish().await;
    }
}

// 10. The Action.

#[tokio::test(flavor = "multi_thread")]
async fn the_action_reads_the_base_config_for_every_pull_request_action() {
    let fake = crate::action::fake().await;
    // The pull request's workspace (its head) carries a definition of done asking nothing.
    let mut event = json_of("pull_request/opened.2.json");
    event["action"] = json!("labeled");
    let step = crate::action::run_event(
        &fake,
        "ghs_workflow_rw",
        "pull_request",
        &event,
        &[(".github/keel.toml", "")],
    )
    .await;
    assert_eq!(
        step.code,
        Some(1),
        "judged by the base commit's file, whatever the action: {}",
        step.stdout
    );
    assert!(step.summary.contains("Patch coverage"), "{}", step.summary);
}

#[test]
fn the_action_runs_a_prebuilt_image_as_root() {
    let root = crate::support::root();
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let image = format!(
        "image: docker://ghcr.io/keel-dev/keel-action:{}",
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        action.lines().any(|l| l.trim() == image),
        "the action pulls the release's prebuilt image, never builds the Dockerfile: {action}"
    );
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let stage = dockerfile
        .split("\nFROM ")
        .find(|s| s.lines().next().unwrap_or_default().ends_with(" AS action"))
        .expect("an `action` stage");
    assert!(
        !stage.lines().any(|l| l.trim_start().starts_with("USER")),
        "GitHub runs Docker actions as root: {stage}"
    );
}
