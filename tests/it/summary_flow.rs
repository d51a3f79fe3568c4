//! The weekly summary through the App: delivery facts from webhooks, one issue per week
//! (edited when written again), the scheduler's hourly checks, last week's issue closed.

use crate::support::db::backends;
use crate::support::github::{APP_ID, FakeGitHub, app_key};
use crate::support::webhook::{TestServer, payload, signed};
use keel::github::client::GitHub;
use keel::github::event::Event;
use keel::github::{InstallationId, RepoName};
use keel::jobs::worker::Worker;
use keel::store::NewJob;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) const REPO: &str = "Codertocat/Hello-World";
const SHA: &str = "abcdef1234567";

pub(crate) fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

pub(crate) fn merged_pull_request() -> Vec<u8> {
    let mut p: Value = serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
    p["action"] = json!("closed");
    let pr = &mut p["pull_request"];
    pr["merged_at"] = json!("2026-11-24T12:00:00Z");
    pr["created_at"] = json!("2026-11-23T15:00:00Z");
    pr["merge_commit_sha"] = json!(SHA);
    serde_json::to_vec(&p).unwrap()
}

pub(crate) fn deployment(id: u64, state: &str, when: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "created",
        "deployment": {"id": id, "sha": SHA, "environment": "production"},
        "deployment_status": {"state": state, "created_at": when, "updated_at": when},
        "repository": {"full_name": REPO},
        "installation": {"id": 1}
    }))
    .unwrap()
}

pub(crate) fn incident() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "closed",
        "issue": {
            "number": 9,
            "labels": [{"name": "incident"}],
            "body": "Checkout down.\n\nroot cause: abcdef1234567",
            "created_at": "2026-11-25T10:00:00Z",
            "closed_at": "2026-11-25T13:00:00Z"
        },
        "repository": {"full_name": REPO},
        "installation": {"id": 1}
    }))
    .unwrap()
}

/// The issues Keel opened in `repo`.
fn repo_issues(fake: &FakeGitHub, repo: &str) -> Vec<crate::support::github::OpenedIssue> {
    fake.opened_issues()
        .into_iter()
        .filter(|i| i.repo == repo)
        .collect()
}

pub(crate) fn summary_job(week: Option<&str>, id: &str, now: i64) -> NewJob {
    summary_job_of(REPO, week, id, now)
}

fn summary_job_of(repo: &str, week: Option<&str>, id: &str, now: i64) -> NewJob {
    let event = Event::WeeklySummary {
        installation: InstallationId(1),
        repo: RepoName(repo.into()),
        week: week.map(str::to_owned),
    };
    NewJob {
        kind: "event".into(),
        delivery_id: None,
        dedupe_key: Some(id.into()),
        serial_key: Some(event.serial_key()),
        payload: serde_json::to_vec(&event).unwrap(),
        run_at: now,
        installation: None,
        fair_group: None,
    }
}

#[tokio::test]
async fn delivery_facts_become_one_weekly_issue_that_is_edited_and_closed_when_the_next_opens() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            "HEAD",
            ".github/keel.toml",
            b"[summary]\nschedule = \"0 9 * * MON\"\noutcomes_file = \".github/outcomes.toml\"\n\n[[roadmap.items]]\nid = \"R-12\"\ntitle = \"Checkout\"\ntarget = \"15%\"\n",
        );
        fake.put_pr_commits(REPO, 2, &["2026-11-23T14:00:00Z", "2026-11-24T09:00:00Z"]);
        fake.put_file(REPO, "HEAD", ".github/outcomes.toml", b"R-12 = 9.5\n");
        let server = TestServer::new(&db.store);
        let opened = payload("pull_request/opened.2.json");
        let review = serde_json::to_vec(&json!({
            "action": "submitted",
            "review": {"submitted_at": "2026-11-23T18:00:00Z"},
            "pull_request": {"number": 2},
            "repository": {"full_name": REPO}
        }))
        .unwrap();
        for (event, id, body) in [
            ("pull_request", "d-0", opened),
            ("pull_request_review", "d-r", review),
            ("pull_request", "d-1", merged_pull_request()),
            (
                "deployment_status",
                "d-2",
                deployment(1, "in_progress", "2026-11-24T13:50:00Z"),
            ),
            (
                "deployment_status",
                "d-3",
                deployment(1, "success", "2026-11-24T14:00:00Z"),
            ),
            ("issues", "d-4", incident()),
        ] {
            let (status, text) = server.send(signed(event, id, body)).await;
            assert_eq!(status, 202, "{event}: {text}");
        }
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        let now = at("2026-11-30T10:00:00Z");
        worker.run_until_idle(now).await.unwrap();
        let history = db
            .store
            .history(REPO, &["production".into()], "incident")
            .await
            .unwrap();
        assert_eq!(
            (
                history.changes.len(),
                history.deployments.len(),
                history.incidents.len()
            ),
            (1, 1, 1),
            "{}: {history:?}",
            db.backend
        );
        assert_eq!(
            history.changes[0].first_commit_at,
            Some(at("2026-11-23T14:00:00Z"))
        );
        let merged = db.store.merged_pull_requests(REPO).await.unwrap();
        assert_eq!(
            (merged[0].opened_at, merged[0].first_review_at),
            (
                Some(at("2026-11-23T15:00:00Z")),
                Some(at("2026-11-23T18:00:00Z"))
            )
        );

        // Two runs for the same week: one issue, edited.
        for id in ["s-1", "s-2"] {
            db.store
                .enqueue(&summary_job(Some("2026-W48"), id, now), now)
                .await
                .unwrap();
            worker.run_until_idle(now).await.unwrap();
        }
        let issues = repo_issues(&fake, REPO);
        assert_eq!(issues.len(), 1, "{}", db.backend);
        assert_eq!(
            issues[0].title,
            "Keel weekly summary · Codertocat/Hello-World · 23–29 Nov 2026 (2026-W48)"
        );
        assert_eq!(issues[0].labels, ["keel-summary"]);
        let body = &issues[0].body;
        // Deployed 24 Nov 14:00, first commit 23 Nov 14:00: 24 h; the incident names the
        // deployed commit: 1 of 1 failed; it was closed after 3 h.
        // The week before had nothing recorded: no data, not a zero.
        assert!(
            body.contains("| Deployment frequency | 1 | no data |"),
            "{body}"
        );
        assert!(
            body.contains("| Lead time for changes | 24.0 h |"),
            "{body}"
        );
        assert!(body.contains("| Change failure rate | 100% |"), "{body}");
        assert!(body.contains("| Time to restore | 3.0 h |"), "{body}");
        assert!(
            body.contains("outcome +9.5% so far, target +15%: not yet (from the outcomes file)"),
            "the outcomes file is read: {body}"
        );
        assert!(
            body.contains("| Opened → first review | 3.0 h | 1 of 1 |"),
            "{body}"
        );
        assert!(
            body.contains("incident #9 names a commit it shipped as the root cause"),
            "the failure behind the rate, linked: {body}"
        );
        assert!(
            fake.log()
                .await
                .iter()
                .any(|l| l == &format!("PATCH /repos/{REPO}/issues/100")),
            "edited in place"
        );

        // The organisation roll-up runs when its five-minute slot ends.
        worker.run_until_idle(now + 6 * 60_000).await.unwrap();
        // The scheduler: one check per repository and hour, however often it runs.
        db.store
            .add_installation_repos(1, &[REPO.into()], 0)
            .await
            .unwrap();
        assert_eq!(
            keel::jobs::summary::enqueue_checks(&db.store, now)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            keel::jobs::summary::enqueue_checks(&db.store, now + 60_000)
                .await
                .unwrap(),
            0
        );
        worker.run_until_idle(now).await.unwrap();
        assert_eq!(
            repo_issues(&fake, REPO).len(),
            1,
            "W48 was written already: nothing new"
        );
        // Until the schedule's next firing, the hourly checks pass the repository by: no job,
        // no API call.
        let calls = fake.log().await.len();
        for hour in 1..=24 {
            let at = now + hour * 3_600_000;
            assert_eq!(
                keel::jobs::summary::enqueue_checks(&db.store, at)
                    .await
                    .unwrap(),
                0,
                "{}: hour {hour}",
                db.backend
            );
            worker.run_until_idle(at).await.unwrap();
        }
        assert_eq!(fake.log().await.len(), calls, "{}", db.backend);
        // A push to the default branch may change the schedule: the next check reads it.
        db.store.set_summary_check(REPO, None).await.unwrap();
        assert_eq!(
            keel::jobs::summary::enqueue_checks(&db.store, now + 25 * 3_600_000)
                .await
                .unwrap(),
            1
        );
        worker.run_until_idle(now + 25 * 3_600_000).await.unwrap();
        // A week later (the server was down at 09:00): the first check writes W49, once, and
        // closes W48's issue.
        let later = at("2026-12-07T11:30:00Z");
        assert_eq!(
            keel::jobs::summary::enqueue_checks(&db.store, later)
                .await
                .unwrap(),
            1
        );
        worker.run_until_idle(later).await.unwrap();
        let issues = repo_issues(&fake, REPO);
        assert_eq!(issues.len(), 2, "{}", db.backend);
        assert_eq!(
            issues[1].title,
            "Keel weekly summary · Codertocat/Hello-World · 30 Nov – 6 Dec 2026 (2026-W49)"
        );
        assert_eq!(
            (issues[0].state.as_str(), issues[1].state.as_str()),
            ("closed", "open")
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn an_installation_backfills_recent_history_from_the_api() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            "HEAD",
            ".github/keel.toml",
            b"[summary]\nincident_label = \"incident\"\n",
        );
        let pull = |number: u64, title: &str, body: &str, updated: &str, merged: Option<&str>| {
            json!({"number": number, "title": title, "body": body, "created_at": "2026-11-20T10:00:00Z",
                   "updated_at": updated, "merged_at": merged, "merge_commit_sha": format!("abc{number}def0")})
        };
        fake.put_history(
            REPO,
            vec![
                pull(5, "Revert \"Add search\"", "Reverts Codertocat/Hello-World#4", "2026-11-27T10:00:00Z", Some("2026-11-27T09:00:00Z")),
                pull(4, "Add search", "", "2026-11-26T10:00:00Z", Some("2026-11-25T09:00:00Z")),
                pull(3, "Abandoned", "", "2026-11-24T10:00:00Z", None),
                // Older than the 8 weeks: the listing stops here.
                pull(1, "Ancient", "", "2026-01-01T10:00:00Z", Some("2026-01-01T09:00:00Z")),
            ],
            vec![(
                json!({"id": 11, "sha": "abc4def0", "environment": "production", "created_at": "2026-11-25T12:00:00Z"}),
                vec![
                    json!({"state": "success", "created_at": "2026-11-25T12:10:00Z"}),
                    json!({"state": "in_progress", "created_at": "2026-11-25T12:01:00Z"}),
                ],
            )],
            vec![
                json!({"number": 9, "labels": [{"name": "incident"}], "body": "root cause: abc4def0",
                       "created_at": "2026-11-26T08:00:00Z", "closed_at": "2026-11-26T10:00:00Z"}),
                json!({"number": 10, "labels": [{"name": "incident"}], "pull_request": {},
                       "created_at": "2026-11-26T08:00:00Z", "closed_at": null}),
            ],
            vec![json!({"id": 77, "published_at": "2026-11-26T15:00:00Z"})],
        );
        fake.put_pr_commits(REPO, 4, &["2026-11-24T09:00:00Z"]);
        fake.put_pr_commits(REPO, 5, &["2026-11-27T08:00:00Z"]);
        let server = TestServer::new(&db.store);
        let (status, _) = server
            .send(signed(
                "installation",
                "in-1",
                payload("installation/created.1.json"),
            ))
            .await;
        assert_eq!(status, 202);
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        let steps = worker
            .run_until_idle(at("2026-11-30T10:00:00Z"))
            .await
            .unwrap();
        assert_eq!(
            steps.len(),
            2,
            "{}: the installation, then its backfill: {steps:?}",
            db.backend
        );
        let mut h = db
            .store
            .history(REPO, &["production".into()], "incident")
            .await
            .unwrap();
        h.changes.sort_by_key(|c| c.number);
        let numbers: Vec<u64> = h.changes.iter().map(|c| c.number).collect();
        assert_eq!(numbers, [4, 5], "merged within 8 weeks only");
        assert_eq!(h.changes[1].reverts, Some(4));
        assert_eq!(
            h.changes[0].first_commit_at,
            Some(at("2026-11-24T09:00:00Z"))
        );
        assert_eq!(h.deployments.len(), 1);
        assert!(h.deployments[0].succeeded);
        assert_eq!(h.deployments[0].finished_at, at("2026-11-25T12:10:00Z"));
        assert_eq!(
            h.incidents.len(),
            1,
            "a pull request with the label is not an incident"
        );
        assert_eq!(h.incidents[0].root_cause.as_deref(), Some("abc4def0"));
        assert_eq!(h.releases, [at("2026-11-26T15:00:00Z")]);
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keel_backfill_reads_history_as_the_app_and_says_what_it_stored() {
    let fake = FakeGitHub::start().await;
    fake.put_history(
        REPO,
        vec![json!({"number": 4, "title": "Add search", "body": "", "created_at": "2026-11-20T10:00:00Z",
                    "updated_at": "2026-11-26T10:00:00Z", "merged_at": "2026-11-25T09:00:00Z", "merge_commit_sha": "abc4def0"})],
        vec![],
        vec![],
        vec![],
    );
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keel.db").display());
    let key = crate::support::fixture("github/test-app-key.pem");
    let uri = fake.uri();
    let run = move |args: Vec<String>| {
        let uri = uri.clone();
        let db = db.clone();
        let key = key.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
                .args(&args)
                .env("KEEL_APP_ID", APP_ID.to_string())
                .env("KEEL_PRIVATE_KEY_PATH", key)
                .env("KEEL_GITHUB_API_URL", uri)
                .env("DATABASE_URL", db)
                .env_remove("KEEL_PRIVATE_KEY")
                .output()
                .unwrap()
        })
    };
    let out = run(vec![
        "backfill".into(),
        "--repo".into(),
        REPO.into(),
        "--weeks".into(),
        "52".into(),
    ])
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --installation ID"));
    let out = run(vec![
        "backfill".into(),
        "--repo".into(),
        REPO.into(),
        "--weeks".into(),
        "520".into(),
        "--installation".into(),
        "1".into(),
    ])
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "backfilled 520 weeks of Codertocat/Hello-World: 1 merged pull requests, 0 deployments, 0 issues, 0 releases in the store\n"
    );
}

#[tokio::test]
async fn a_repository_that_turns_the_summary_off_gets_no_issue() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            "HEAD",
            ".github/keel.toml",
            b"[summary]\nenabled = false\n[hygiene]\nmax_changed_lines = 400\n",
        );
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        let now = at("2026-11-30T10:00:00Z");
        for (week, id) in [(Some("2026-W48"), "off-1"), (None, "off-2")] {
            db.store
                .enqueue(&summary_job(week, id, now), now)
                .await
                .unwrap();
        }
        worker.run_until_idle(now).await.unwrap();
        assert!(fake.opened_issues().is_empty(), "{}", db.backend);
        // Turned off, not broken: both jobs ended well (an unknown key would bury them).
        let counts = db.store.job_counts().await.unwrap();
        assert_eq!((counts.done, counts.dead), (2, 0), "{counts:?}");
        db.finish().await;
    }
}

/// The organisation roll-up (issue 19): two repositories' summaries of one week make one issue
/// in `owner/.github`, a line each with its team (from `[summary] team`, else CODEOWNERS);
/// writing a summary again edits it, never a second one; the next week opens a new one and
/// closes the last. A public `.github` never shows a private repository, name or figures.
#[tokio::test]
async fn the_organisation_rollup_is_one_issue_a_week_across_repositories() {
    const SHOP: &str = "Codertocat/shop";
    const SECRET: &str = "Codertocat/secret-acquisition";
    const ORG: &str = "Codertocat/.github";
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            SECRET,
            "HEAD",
            ".github/keel.toml",
            b"[summary]\nrollup_when_private = true\n",
        );
        fake.put_private(SECRET);
        fake.put_file(
            REPO,
            "HEAD",
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 400\n",
        );
        fake.put_file(REPO, "HEAD", ".github/CODEOWNERS", b"* @Codertocat/web\n");
        fake.put_file(
            SHOP,
            "HEAD",
            ".github/keel.toml",
            b"[summary]\nteam = \"payments\"\n\n[debt]\ncapacity_target = 0.2\ncurrency = \"EUR\"\n\n[[debt.items]]\nid = \"DEBT-1\"\ntitle = \"Old adapter\"\ncost_per_month = 900\n",
        );
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        // Each summary is written ten minutes after the last; its roll-up job runs when its
        // five-minute slot ends.
        let start = at("2026-11-30T10:00:00Z");
        let mut step = 0;
        let mut write = |repo: &'static str, week: &'static str, id: &'static str| {
            step += 1;
            let now = start + step * 10 * 60_000;
            let (store, worker) = (db.store.clone(), &worker);
            async move {
                store
                    .enqueue(&summary_job_of(repo, Some(week), id, now), now)
                    .await
                    .unwrap();
                worker.run_until_idle(now).await.unwrap();
                worker.run_until_idle(now + 6 * 60_000).await.unwrap();
            }
        };
        for (repo, id) in [(REPO, "r-1"), (SHOP, "r-2"), (SECRET, "r-s"), (SHOP, "r-3")] {
            write(repo, "2026-W48", id).await;
        }
        let rollups = repo_issues(&fake, ORG);
        assert_eq!(rollups.len(), 1, "{}: one roll-up, edited", db.backend);
        let rollup = &rollups[0];
        assert_eq!(
            rollup.title,
            "Keel organisation summary · Codertocat · 23–29 Nov 2026 (2026-W48)"
        );
        assert_eq!(rollup.labels, ["keel-summary"]);
        let hello = repo_issues(&fake, REPO)[0].number;
        let shop = repo_issues(&fake, SHOP)[0].number;
        assert!(
            rollup
                .body
                .contains(&format!("| Codertocat/web | {REPO}#{hello} |")),
            "team from CODEOWNERS, linked to the repository's summary: {}",
            rollup.body
        );
        assert!(
            rollup
                .body
                .contains(&format!("| payments | {SHOP}#{shop} |")),
            "team from [summary] team: {}",
            rollup.body
        );
        assert!(rollup.body.contains("900 EUR"), "{}", rollup.body);
        assert!(
            !rollup.body.contains("secret")
                && rollup.body.contains("_1 private repository is left out"),
            "a public .github names no private repository, even one that opts in: {}",
            rollup.body
        );
        let number = rollup.number;
        let patches = |log: Vec<String>| {
            log.iter()
                .filter(|l| *l == &format!("PATCH /repos/{ORG}/issues/{number}"))
                .count()
        };
        assert_eq!(
            patches(fake.log().await),
            3,
            "{}: edited in place",
            db.backend
        );
        // In a private .github, a private repository that opts in has its line; one that
        // became private since its line was kept, and did not opt in, does not.
        fake.put_private(ORG);
        fake.put_private(REPO);
        write(SECRET, "2026-W48", "r-s2").await;
        let rollups = repo_issues(&fake, ORG);
        assert_eq!(rollups.len(), 1, "{}", db.backend);
        let text = &rollups[0].body;
        assert!(text.contains(SECRET), "{text}");
        assert!(
            !text.contains(REPO) && text.contains("_1 private repository is left out"),
            "{text}"
        );

        // The next week: a new roll-up; last week's is closed.
        write(SHOP, "2026-W49", "r-4").await;
        let rollups = repo_issues(&fake, ORG);
        assert_eq!(rollups.len(), 2, "{}", db.backend);
        assert_eq!(
            (rollups[0].state.as_str(), rollups[1].state.as_str()),
            ("closed", "open")
        );
        assert!(rollups[1].body.contains(SHOP) && !rollups[1].body.contains(SECRET));
        let counts = db.store.job_counts().await.unwrap();
        assert_eq!(counts.dead, 0, "{counts:?}");
        db.finish().await;
    }
}

#[tokio::test]
async fn without_keel_on_the_org_repository_there_is_no_rollup_and_nothing_fails() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            "HEAD",
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 400\n",
        );
        fake.put_not_installed("Codertocat/.github");
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        let now = at("2026-11-30T10:00:00Z");
        db.store
            .enqueue(&summary_job(Some("2026-W48"), "n-1", now), now)
            .await
            .unwrap();
        worker.run_until_idle(now).await.unwrap();
        worker.run_until_idle(now + 6 * 60_000).await.unwrap();
        assert_eq!(repo_issues(&fake, REPO).len(), 1, "{}", db.backend);
        assert!(repo_issues(&fake, "Codertocat/.github").is_empty());
        let counts = db.store.job_counts().await.unwrap();
        assert_eq!((counts.done, counts.dead), (2, 0), "{counts:?}");
        db.finish().await;
    }
}
