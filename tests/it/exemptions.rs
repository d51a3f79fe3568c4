//! Keel never blocks the wrong change, through the App against the FakeGitHub on every
//! backend: a Dependabot bump passes, a label re-judges, a docs-only change is "not affected"
//! without waiting for reports, and `[comment] when = "on_failure"` keeps quiet on success
//! and deletes only its own comment.

use crate::evaluate_pr::{BASE, NOW, REPO};
use crate::support::db::{TestDb, backends};
use crate::support::github::{APP_ID, FakeGitHub, app_key};
use crate::support::webhook::{TestServer, payload, signed};
use keel::github::client::GitHub;
use keel::jobs::worker::{Ran, Worker};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::Arc;

/// The fixture pull request (#2) as `action`, at `updated_at`, changed by `edit`.
fn event(action: &str, updated_at: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
    v["action"] = json!(action);
    v["pull_request"]["updated_at"] = json!(updated_at);
    v["pull_request"]["labels"] = json!([]);
    if action == "edited" {
        v["changes"] = json!({"title": {"from": "before"}});
    }
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// Delivers `body` through the intake and runs the worker until idle.
async fn judge(db: &TestDb, fake: &FakeGitHub, delivery: &str, body: Vec<u8>) {
    let server = TestServer::new(&db.store);
    let (status, text) = server.send(signed("pull_request", delivery, body)).await;
    assert_eq!(status, 202, "{text}");
    let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
    let steps = Worker::new(db.store.clone(), Arc::new(github))
        .run_until_idle(NOW)
        .await
        .unwrap();
    assert!(
        steps.iter().all(|s| matches!(s, Ran::Done(_))),
        "{delivery}: {steps:?} {:?}",
        fake.log().await
    );
}

const PAPERWORK: &str = r#"
[hygiene]
require_linked_issue = true
title_pattern = '^(feat|fix)(\(.+\))?: '

[roadmap]
require_link = true

[[roadmap.items]]
id = "R-1"
title = "Search"
"#;

fn bump(fake: &FakeGitHub, number: u64) {
    fake.put_pr_files(
        REPO,
        number,
        &[(
            "requirements.txt",
            "modified",
            Some("@@ -1 +1 @@\n-requests==2.31.0\n+requests==2.32.0"),
        )],
    );
}

fn last_run(fake: &FakeGitHub) -> (String, String) {
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1, "one check run shown per head");
    assert!(fake.stray_check_runs().is_empty(), "none left in progress");
    run_state(&runs[0])
}

fn run_state(run: &crate::support::github::CheckRun) -> (String, String) {
    (
        run.conclusion.clone().unwrap_or_else(|| run.status.clone()),
        run.summary.clone().unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_dependabot_bump_passes_and_a_person_with_the_same_change_is_asked_for_links() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(REPO, BASE, ".github/keel.toml", PAPERWORK.as_bytes());
        let cases = [("dependabot[bot]", "success", 2), ("mallory", "failure", 3)];
        for (author, expected, number) in cases {
            let head = format!("{number:0>40}");
            bump(&fake, number);
            let body = event("opened", "2019-05-15T15:20:33Z", |v| {
                v["number"] = json!(number);
                v["pull_request"]["number"] = json!(number);
                v["pull_request"]["head"]["sha"] = json!(head);
                v["pull_request"]["user"]["login"] = json!(author);
                v["pull_request"]["title"] = json!("Bump requests from 2.31.0 to 2.32.0");
                v["pull_request"]["body"] = json!("Bumps requests.");
                v["pull_request"]["head"]["ref"] = json!("dependabot/pip/requests-2.32.0");
            });
            judge(&db, &fake, &format!("bump-{author}"), body).await;
            let runs = fake.check_runs();
            let run = runs.iter().find(|r| r.head_sha == head).unwrap();
            let (conclusion, summary) = run_state(run);
            assert_eq!(conclusion, expected, "{}: {author}: {summary}", db.backend);
            if author == "dependabot[bot]" {
                assert!(
                    summary.contains("exempt: opened by `dependabot[bot]`"),
                    "{summary}"
                );
            }
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn a_label_re_judges_the_pull_request_like_an_edit() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let config = format!("{PAPERWORK}\n[exempt]\nupkeep_labels = [\"upkeep\"]\n");
        fake.put_file(REPO, BASE, ".github/keel.toml", config.as_bytes());
        fake.put_pr_files(
            REPO,
            2,
            &[("src/app.py", "modified", Some("@@ -1 +1 @@\n-a\n+b"))],
        );
        let feature = |v: &mut Value| {
            v["pull_request"]["title"] = json!("feat: a nicer README");
            v["pull_request"]["body"] = json!("");
        };
        judge(
            &db,
            &fake,
            "opened",
            event("opened", "2019-05-15T15:20:33Z", feature),
        )
        .await;
        let (conclusion, summary) = last_run(&fake);
        assert_eq!(conclusion, "failure", "{}: {summary}", db.backend);
        let labeled = event("labeled", "2019-05-15T15:20:40Z", |v| {
            feature(v);
            v["pull_request"]["labels"] = json!([{"name": "upkeep"}]);
            v["label"] = json!({"name": "upkeep"});
        });
        judge(&db, &fake, "labeled", labeled).await;
        let (conclusion, summary) = last_run(&fake);
        assert_eq!(conclusion, "success", "{}: {summary}", db.backend);
        assert!(
            summary.contains("the label `upkeep` marks it as upkeep"),
            "{summary}"
        );
        let comments = fake.comments(REPO, 2);
        assert_eq!(comments.len(), 1, "one sticky comment, edited");
        assert!(comments[0].1.starts_with("### ✅"), "{}", comments[0].1);
        // Taking the label off judges it again.
        let unlabeled = event("unlabeled", "2019-05-15T15:20:50Z", |v| {
            feature(v);
            v["label"] = json!({"name": "upkeep"});
        });
        judge(&db, &fake, "unlabeled", unlabeled).await;
        assert_eq!(last_run(&fake).0, "failure", "{}", db.backend);
        db.finish().await;
    }
}

const COVERAGE: &str = r#"
[coverage]
paths = ["lcov.info"]
min_patch = 80

[reports]
workflow = "ci.yml"
"#;

#[tokio::test]
async fn a_docs_only_change_is_not_affected_and_waits_for_no_report() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(REPO, BASE, ".github/keel.toml", COVERAGE.as_bytes());
        let cases = [
            ("docs/setup.md", "success", 2),
            ("src/app.py", "in_progress", 3),
        ];
        for (file, expected, number) in cases {
            let head = format!("{number:0>40}");
            fake.put_pr_files(
                REPO,
                number,
                &[(file, "modified", Some("@@ -1 +1 @@\n-Instal\n+Install"))],
            );
            // No workflow runs at all: a path filter kept CI from starting.
            let body = event("opened", "2019-05-15T15:20:33Z", |v| {
                v["number"] = json!(number);
                v["pull_request"]["number"] = json!(number);
                v["pull_request"]["head"]["sha"] = json!(head);
            });
            judge(&db, &fake, file, body).await;
            let runs = fake.check_runs();
            let (state, summary) = run_state(runs.iter().find(|r| r.head_sha == head).unwrap());
            assert_eq!(state, expected, "{}: {file}: {summary}", db.backend);
            if file.starts_with("docs/") {
                assert!(
                    summary.contains("not affected: the change touches only `**/*.md`, `**/*.rst`"),
                    "{summary}"
                );
                assert!(!summary.contains("no report"), "{summary}");
            }
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn on_failure_comments_only_while_failing_and_deletes_only_its_own_comment() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 2\n\n[comment]\nwhen = \"on_failure\"\n",
        );
        // Someone pastes Keel's hidden marker into a comment of their own.
        let foreign = fake.put_comment(REPO, 2, "look <!-- keel:definition-of-done --> at this");
        // A one-line change passes: nothing is posted.
        fake.put_pr_files(
            REPO,
            2,
            &[("README.md", "modified", Some("@@ -1 +1 @@\n-a\n+b"))],
        );
        judge(
            &db,
            &fake,
            "small",
            event("opened", "2019-05-15T15:20:33Z", |_| {}),
        )
        .await;
        assert_eq!(last_run(&fake).0, "success");
        assert_eq!(
            fake.comments(REPO, 2).len(),
            1,
            "{}: nothing posted",
            db.backend
        );
        // Three lines fail: Keel comments.
        crate::evaluate_pr::readme_change(&fake);
        judge(
            &db,
            &fake,
            "big",
            event("edited", "2019-05-15T15:20:40Z", |_| {}),
        )
        .await;
        assert_eq!(last_run(&fake).0, "failure");
        let comments = fake.comments(REPO, 2);
        assert_eq!(comments.len(), 2, "{}: {comments:?}", db.backend);
        // Back to one line: Keel deletes its comment, and only its comment.
        fake.put_pr_files(
            REPO,
            2,
            &[("README.md", "modified", Some("@@ -1 +1 @@\n-a\n+b"))],
        );
        judge(
            &db,
            &fake,
            "small-again",
            event("edited", "2019-05-15T15:20:50Z", |_| {}),
        )
        .await;
        assert_eq!(last_run(&fake).0, "success");
        let comments = fake.comments(REPO, 2);
        assert_eq!(
            comments.iter().map(|c| c.0).collect::<Vec<_>>(),
            [foreign],
            "{}: {comments:?}",
            db.backend
        );
        db.finish().await;
    }
}

#[test]
fn labels_and_milestones_are_events_keel_acts_on() {
    use keel::github::event::{Parsed, parse_event};
    for action in ["labeled", "unlabeled", "milestoned", "demilestoned"] {
        let body = event(action, "2019-05-15T15:20:40Z", |_| {});
        let parsed = parse_event("pull_request", &body).unwrap();
        assert!(matches!(parsed, Parsed::Event(_)), "{action}: {parsed:?}");
    }
    let body = event("assigned", "2019-05-15T15:20:40Z", |_| {});
    assert!(matches!(
        parse_event("pull_request", &body).unwrap(),
        Parsed::Ignored(_)
    ));
}

#[tokio::test]
async fn on_change_comments_from_the_first_failure_on_and_keeps_it_up_to_date() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 2\n\n[comment]\nwhen = \"on_change\"\nlayout = [\"criteria\"]\n",
        );
        let small = |fake: &FakeGitHub| {
            fake.put_pr_files(
                REPO,
                2,
                &[("hello.rb", "modified", Some("@@ -1 +1 @@\n-a\n+b"))],
            );
        };
        small(&fake);
        judge(
            &db,
            &fake,
            "small",
            event("opened", "2019-05-15T15:20:33Z", |_| {}),
        )
        .await;
        assert!(
            fake.comments(REPO, 2).is_empty(),
            "{}: green from the start: quiet",
            db.backend
        );
        crate::evaluate_pr::readme_change(&fake);
        judge(
            &db,
            &fake,
            "big",
            event("edited", "2019-05-15T15:20:40Z", |_| {}),
        )
        .await;
        small(&fake);
        judge(
            &db,
            &fake,
            "small-again",
            event("edited", "2019-05-15T15:20:50Z", |_| {}),
        )
        .await;
        let comments = fake.comments(REPO, 2);
        assert_eq!(comments.len(), 1, "{}: {comments:?}", db.backend);
        assert!(
            comments[0].1.starts_with("### ✅"),
            "kept up to date: {}",
            comments[0].1
        );
        assert!(
            !comments[0].1.contains("Why this change"),
            "layout: {}",
            comments[0].1
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn keels_own_label_changes_judge_nothing_again_while_another_bots_do() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let config = format!("{PAPERWORK}\n[labels]\nnot_done = \"dod: not met\"\n");
        fake.put_file(REPO, BASE, ".github/keel.toml", config.as_bytes());
        fake.put_pr_files(
            REPO,
            2,
            &[("src/app.py", "modified", Some("@@ -1 +1 @@\n-a\n+b"))],
        );
        judge(
            &db,
            &fake,
            "opened",
            event("opened", "2019-05-15T15:20:33Z", |_| {}),
        )
        .await;
        let judged = |log: &[String]| log.iter().filter(|l| l.contains("/pulls/2/files")).count();
        let before = judged(&fake.log().await);
        assert_eq!(before, 1, "{}", db.backend);
        // Keel's label sync comes back as a `labeled` event sent by a bot: one config read.
        let own = event("labeled", "2019-05-15T15:20:40Z", |v| {
            v["pull_request"]["labels"] = json!([{"name": "dod: not met"}]);
            v["label"] = json!({"name": "dod: not met"});
            v["sender"] = json!({"login": "keel-dev[bot]", "type": "Bot"});
        });
        judge(&db, &fake, "own-label", own).await;
        assert_eq!(
            judged(&fake.log().await),
            1,
            "{}: not judged again",
            db.backend
        );
        // Another app's label (a path labeler) does judge again.
        let other = event("labeled", "2019-05-15T15:20:50Z", |v| {
            v["pull_request"]["labels"] = json!([{"name": "dod: not met"}, {"name": "area: api"}]);
            v["label"] = json!({"name": "area: api"});
            v["sender"] = json!({"login": "github-actions[bot]", "type": "Bot"});
        });
        judge(&db, &fake, "other-label", other).await;
        assert_eq!(judged(&fake.log().await), 2, "{}", db.backend);
        db.finish().await;
    }
}
