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

const REPO: &str = "Codertocat/Hello-World";
const SHA: &str = "abcdef1234567";

fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

fn merged_pull_request() -> Vec<u8> {
    let mut p: Value = serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
    p["action"] = json!("closed");
    let pr = &mut p["pull_request"];
    pr["merged_at"] = json!("2026-11-24T12:00:00Z");
    pr["created_at"] = json!("2026-11-23T15:00:00Z");
    pr["merge_commit_sha"] = json!(SHA);
    serde_json::to_vec(&p).unwrap()
}

fn deployment(id: u64, state: &str, when: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "created",
        "deployment": {"id": id, "sha": SHA, "environment": "production"},
        "deployment_status": {"state": state, "created_at": when, "updated_at": when},
        "repository": {"full_name": REPO},
        "installation": {"id": 1}
    }))
    .unwrap()
}

fn incident() -> Vec<u8> {
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

fn summary_job(week: Option<&str>, id: &str, now: i64) -> NewJob {
    let event = Event::WeeklySummary {
        installation: InstallationId(1),
        repo: RepoName(REPO.into()),
        week: week.map(str::to_owned),
    };
    NewJob {
        kind: "event".into(),
        delivery_id: None,
        dedupe_key: Some(id.into()),
        serial_key: Some(event.serial_key()),
        payload: serde_json::to_vec(&event).unwrap(),
        run_at: now,
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
            b"[summary]\nschedule = \"0 9 * * MON\"\n",
        );
        fake.put_pr_commits(REPO, 2, &["2026-11-23T14:00:00Z", "2026-11-24T09:00:00Z"]);
        let server = TestServer::new(&db.store);
        for (event, id, body) in [
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

        // Two runs for the same week: one issue, edited.
        for id in ["s-1", "s-2"] {
            db.store
                .enqueue(&summary_job(Some("2026-W48"), id, now), now)
                .await
                .unwrap();
            worker.run_until_idle(now).await.unwrap();
        }
        let issues = fake.opened_issues();
        assert_eq!(issues.len(), 1, "{}", db.backend);
        assert_eq!(
            issues[0].title,
            "Keel weekly summary · Codertocat/Hello-World · 2026-W48"
        );
        assert_eq!(issues[0].labels, ["keel-summary"]);
        let body = &issues[0].body;
        // Deployed 24 Nov 14:00, first commit 23 Nov 14:00: 24 h; the incident names the
        // deployed commit: 1 of 1 failed; it was closed after 3 h.
        assert!(body.contains("| Deployment frequency | 1 | 0 |"), "{body}");
        assert!(
            body.contains("| Lead time for changes | 24.0 h |"),
            "{body}"
        );
        assert!(body.contains("| Change failure rate | 100% |"), "{body}");
        assert!(body.contains("| Time to restore | 3.0 h |"), "{body}");
        assert!(
            fake.log()
                .await
                .iter()
                .any(|l| l == &format!("PATCH /repos/{REPO}/issues/100")),
            "edited in place"
        );

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
            fake.opened_issues().len(),
            1,
            "W48 was written already: nothing new"
        );
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
        let issues = fake.opened_issues();
        assert_eq!(issues.len(), 2, "{}", db.backend);
        assert_eq!(
            issues[1].title,
            "Keel weekly summary · Codertocat/Hello-World · 2026-W49"
        );
        assert_eq!(
            (issues[0].state.as_str(), issues[1].state.as_str()),
            ("closed", "open")
        );
        db.finish().await;
    }
}
