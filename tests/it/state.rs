//! What the store remembers between deliveries, on every backend.

use crate::support::db::backends;
use keel::store::{BASELINE_ANCESTRY, Shown, StoredCheckRun, StoredComment, TrackedPullRequest};

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
        let run = |id, shown| StoredCheckRun { id, shown };
        s.set_check_run("o/r", "h", run(77, Shown::InProgress))
            .await
            .unwrap();
        assert_eq!(
            s.check_run("o/r", "h").await.unwrap(),
            Some(run(77, Shown::InProgress)),
            "{}",
            db.backend
        );
        assert!(
            s.set_check_run("o/r", "h", run(90, Shown::Success))
                .await
                .unwrap()
        );
        assert!(
            !s.set_check_run("o/r", "h", run(77, Shown::Failure))
                .await
                .unwrap(),
            "an older run never replaces the newer one GitHub counts: {}",
            db.backend
        );
        assert_eq!(
            s.check_run("o/r", "h").await.unwrap(),
            Some(run(90, Shown::Success))
        );
        s.track_merge_group("o/r", "mg", "base", 3).await.unwrap();
        assert_eq!(
            s.merge_group("o/r", "mg").await.unwrap(),
            Some(("base".to_owned(), 3))
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_verdict_counts_only_for_the_state_its_pull_request_was_in() {
    use keel::store::{HeadVerdict, VerdictState};
    for db in backends().await {
        let s = &db.store;
        s.track_fresh_pull_request("o/r", 1, "h", 7, Some(1_000), "d1", 0)
            .await
            .unwrap();
        let verdict = |digest: Option<&str>| HeadVerdict {
            number: 1,
            base_ref: "lax".into(),
            state: VerdictState::Success,
            title: "t".into(),
            summary: "s".into(),
            checks: Vec::new(),
            watch: keel::store::Watch::Nothing,
            state_digest: digest.map(Into::into),
            decided: 0,
        };
        s.record_head_verdict("o/r", "h", &verdict(Some("d1")), 0)
            .await
            .unwrap();
        let (counted, unjudged) = s.head_verdicts("o/r", "h").await.unwrap();
        assert_eq!((counted.len(), unjudged.len()), (1, 0), "{}", db.backend);

        // The pull request moved to another base: the verdict made for d1 no longer counts.
        s.track_fresh_pull_request("o/r", 1, "h", 7, Some(2_000), "d2", 1)
            .await
            .unwrap();
        let (counted, unjudged) = s.head_verdicts("o/r", "h").await.unwrap();
        assert!(counted.is_empty(), "{}: {counted:?}", db.backend);
        assert_eq!(unjudged.iter().map(|u| u.number).collect::<Vec<_>>(), [1]);

        // A verdict of unknown state (recorded before states were kept) never counts.
        s.record_head_verdict("o/r", "h", &verdict(None), 2)
            .await
            .unwrap();
        assert!(s.head_verdicts("o/r", "h").await.unwrap().0.is_empty());
        s.record_head_verdict("o/r", "h", &verdict(Some("d2")), 3)
            .await
            .unwrap();
        assert_eq!(s.head_verdicts("o/r", "h").await.unwrap().0.len(), 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_verdict_judged_before_a_decision_changed_does_not_count() {
    use keel::store::{HeadVerdict, NewDecision, VerdictState};
    for db in backends().await {
        let s = &db.store;
        s.track_fresh_pull_request("o/r", 1, "h", 7, Some(1_000), "d1", 0)
            .await
            .unwrap();
        let verdict = |decided: i64| HeadVerdict {
            number: 1,
            base_ref: "main".into(),
            state: VerdictState::Success,
            title: "met with 1 waiver".into(),
            summary: "s".into(),
            checks: Vec::new(),
            watch: keel::store::Watch::Nothing,
            state_digest: Some("d1".into()),
            decided,
        };
        let waiver = NewDecision {
            number: 1,
            comment_id: 81,
            topic: "waiver",
            subject: "hygiene.size".into(),
            verb: "waive",
            reason: "hotfix".into(),
            until: None,
            by: "maintainer".into(),
            head_sha: "h".into(),
            base_ref: "main".into(),
            permission: "write".into(),
            at: 10,
        };
        s.record_decision("o/r", &waiver).await.unwrap();
        assert_eq!(s.decided("o/r", 1).await.unwrap(), 1, "{}", db.backend);
        // The same comment's decision again (a retry) changes nothing.
        s.record_decision("o/r", &waiver).await.unwrap();
        assert_eq!(s.decided("o/r", 1).await.unwrap(), 1);
        // Judged with the waiver: it counts.
        s.record_head_verdict("o/r", "h", &verdict(1), 20)
            .await
            .unwrap();
        assert_eq!(s.head_verdicts("o/r", "h").await.unwrap().0.len(), 1);
        // `/keel unwaive`: the verdict judged with the waiver stops counting at once.
        assert!(
            s.end_decision("o/r", 1, "waiver", "hygiene.size", "maintainer", 30)
                .await
                .unwrap()
        );
        let (counted, unjudged) = s.head_verdicts("o/r", "h").await.unwrap();
        assert!(counted.is_empty(), "{}: {counted:?}", db.backend);
        assert_eq!(unjudged.iter().map(|u| u.number).collect::<Vec<_>>(), [1]);
        // A judgement that read the decisions before the unwaive, recording after it, does
        // not count either; one that read them after does. Nothing ended: no change.
        s.record_head_verdict("o/r", "h", &verdict(1), 40)
            .await
            .unwrap();
        assert!(s.head_verdicts("o/r", "h").await.unwrap().0.is_empty());
        assert!(
            !s.end_decision("o/r", 1, "waiver", "hygiene.size", "maintainer", 50)
                .await
                .unwrap()
        );
        assert_eq!(s.decided("o/r", 1).await.unwrap(), 2);
        s.record_head_verdict("o/r", "h", &verdict(2), 60)
            .await
            .unwrap();
        assert_eq!(s.head_verdicts("o/r", "h").await.unwrap().0.len(), 1);
        // A pull request Keel does not track yet has had no change.
        assert_eq!(s.decided("o/r", 9).await.unwrap(), 0);
        db.finish().await;
    }
}

#[tokio::test]
async fn when_a_pull_request_got_its_head_is_kept_and_learnt_when_unknown() {
    for db in backends().await {
        let s = &db.store;
        // Found at a head through its sibling, before any event of its own: no time known.
        s.track_unknown_pull_request("o/r", 1, "h", 7, 0)
            .await
            .unwrap();
        assert_eq!(
            s.head_since("o/r", 1).await.unwrap(),
            Some(("h".to_owned(), None)),
            "{}",
            db.backend
        );
        // Its first event at that head says when at the latest.
        s.track_fresh_pull_request("o/r", 1, "h", 7, Some(5_000), "d1", 1)
            .await
            .unwrap();
        assert_eq!(
            s.head_since("o/r", 1).await.unwrap(),
            Some(("h".to_owned(), Some(5_000)))
        );
        // A later event at the same head (an edit) keeps it; a new head starts again.
        s.track_fresh_pull_request("o/r", 1, "h", 7, Some(9_000), "d2", 2)
            .await
            .unwrap();
        assert_eq!(
            s.head_since("o/r", 1).await.unwrap().unwrap().1,
            Some(5_000)
        );
        s.track_fresh_pull_request("o/r", 1, "h2", 7, Some(12_000), "d3", 3)
            .await
            .unwrap();
        assert_eq!(
            s.head_since("o/r", 1).await.unwrap(),
            Some(("h2".to_owned(), Some(12_000)))
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn old_data_is_pruned_and_an_uninstall_forgets_the_installations_repositories() {
    use keel::store::{FinishedRun, HeadVerdict, NewJob, Retention, VerdictState};
    const DAY: i64 = 24 * 60 * 60 * 1000;
    for db in backends().await {
        let s = &db.store;
        let job = |delivery: &str, serial: &str| NewJob {
            kind: "event".into(),
            delivery_id: Some(delivery.into()),
            dedupe_key: None,
            serial_key: Some(serial.into()),
            payload: b"{\"title\": \"a private title\"}".to_vec(),
            run_at: 0,
            installation: None,
            fair_group: None,
        };
        // Three finished jobs: 40 days old, 2 days old, and just now.
        for (delivery, at) in [("old", 0), ("recent", 38 * DAY), ("now", 40 * DAY)] {
            s.enqueue(&job(delivery, "o/r#1"), at).await.unwrap();
            let claimed = s.claim(at, 1_000).await.unwrap().unwrap();
            assert!(s.complete(&claimed, at).await.unwrap());
        }
        s.add_installation_repos(7, &["o/r".into()], 0)
            .await
            .unwrap();
        s.add_installation_repos(8, &["o/keep".into()], 0)
            .await
            .unwrap();
        s.track_fresh_pull_request("o/r", 1, "h", 7, None, "d", 0)
            .await
            .unwrap();
        s.close_pull_request("o/r", 1, None).await.unwrap();
        let run = FinishedRun {
            run_id: 5,
            workflow: "CI".into(),
            ..FinishedRun::default()
        };
        s.record_workflow_run("o/r", "h", &run, 0).await.unwrap();
        let verdict = HeadVerdict {
            number: 1,
            base_ref: "main".into(),
            state: VerdictState::Success,
            title: "t".into(),
            summary: "s".into(),
            checks: Vec::new(),
            watch: keel::store::Watch::Nothing,
            state_digest: None,
            decided: 0,
        };
        s.record_head_verdict("o/r", "h", &verdict, 0)
            .await
            .unwrap();
        let run = StoredCheckRun {
            id: 77,
            shown: Shown::Failure,
        };
        s.set_check_run("o/r", "h", run).await.unwrap();
        s.record_baseline("o/r", "base", b"{}", 0).await.unwrap();
        s.record_baseline("o/keep", "base", b"{}", 0).await.unwrap();
        s.set_summary_row("o", "o/keep", "2026-W01", "{}", 0)
            .await
            .unwrap();
        s.set_summary_row("o", "o/keep", "2026-W10", "{}", 60 * DAY)
            .await
            .unwrap();

        let pruned = s.prune(40 * DAY, Retention::days(30)).await.unwrap();
        assert_eq!(
            pruned.payloads, 2,
            "{}: payloads older than a day are emptied, not today's",
            db.backend
        );
        let jobs = s.list_jobs(None, 10).await.unwrap();
        let kept: Vec<&str> = jobs
            .iter()
            .filter_map(|j| j.delivery_id.as_deref())
            .collect();
        assert_eq!(kept, ["now", "recent"], "the 40-day-old job is gone");
        assert!(s.workflow_runs("o/r", "h").await.unwrap().is_empty());
        assert!(s.head_verdicts("o/r", "h").await.unwrap().0.is_empty());
        assert!(
            s.track_unknown_pull_request("o/r", 1, "h2", 7, 40 * DAY)
                .await
                .unwrap(),
            "the closed pull request's row is gone"
        );
        assert_eq!(
            s.check_run("o/r", "h").await.unwrap(),
            Some(run),
            "a check run is first stamped, then pruned a retention later"
        );
        // A run written again (its head still in use) is young again.
        let kept = StoredCheckRun {
            id: 78,
            shown: Shown::Success,
        };
        s.set_check_run("o/r", "h2", StoredCheckRun { id: 1, ..kept })
            .await
            .unwrap();
        s.prune(41 * DAY, Retention::days(30)).await.unwrap();
        s.set_check_run("o/r", "h2", kept).await.unwrap();
        s.prune(72 * DAY, Retention::days(30)).await.unwrap();
        assert_eq!(s.check_run("o/r", "h").await.unwrap(), None);
        assert_eq!(
            s.check_run("o/r", "h2").await.unwrap(),
            Some(kept),
            "stamped at day 41 but written again: stamped anew at day 72, not pruned"
        );
        assert_eq!(
            s.summary_rows("o", "2026-W01").await.unwrap().len(),
            1,
            "roll-up lines are history"
        );
        assert!(
            s.baseline("o/r", "base").await.unwrap().is_some(),
            "history is kept longer"
        );

        // Uninstalling installation 7 forgets o/r entirely, and nothing of o/keep: its queued
        // jobs, and the lanes they held.
        s.enqueue(&job("queued", "o/r#2"), 71 * DAY).await.unwrap();
        let repos = s.installation_repos(7).await.unwrap();
        assert_eq!(repos, ["o/r"]);
        s.forget_repos(&repos).await.unwrap();
        assert_eq!(
            s.enqueue(&job("reinstalled", "o/r#2"), 72 * DAY)
                .await
                .unwrap(),
            keel::store::Enqueued::Inserted,
            "{}: the forgotten job's lane is free again",
            db.backend
        );
        let again = s.claim(72 * DAY, 1_000).await.unwrap().unwrap();
        s.complete(&again, 72 * DAY).await.unwrap();
        s.prune(72 * DAY, Retention::days(30)).await.unwrap();
        assert!(s.baseline("o/r", "base").await.unwrap().is_none());
        assert!(s.baseline("o/keep", "base").await.unwrap().is_some());
        assert_eq!(
            s.list_jobs(None, 10).await.unwrap().len(),
            1,
            "{}: o/r's jobs are gone (but the one enqueued since)",
            db.backend
        );
        assert_eq!(
            s.installed_repos().await.unwrap(),
            [("o/keep".to_owned(), 8)]
        );
        s.prune(91 * DAY, Retention::days(30)).await.unwrap();
        assert!(
            s.summary_rows("o", "2026-W01").await.unwrap().is_empty(),
            "{}: a roll-up line is pruned after the history retention",
            db.backend
        );
        assert_eq!(s.summary_rows("o", "2026-W10").await.unwrap().len(), 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn who_pushed_to_a_pull_request_is_kept_while_it_is_open() {
    use keel::store::{PushedTo, Retention};
    const DAY: i64 = 24 * 60 * 60 * 1000;
    for db in backends().await {
        let s = &db.store;
        for number in [1, 3] {
            s.track_fresh_pull_request("o/r", number, "h", 7, None, "d", 0)
                .await
                .unwrap();
            s.record_pusher("o/r", PushedTo::PullRequest(number), "Boss", 0)
                .await
                .unwrap();
        }
        // A branch pushed before any pull request was opened from it.
        s.record_pusher("o/r", PushedTo::Branch("topic"), "Insider", DAY)
            .await
            .unwrap();
        s.close_pull_request("o/r", 1, None).await.unwrap();
        s.prune(40 * DAY, Retention::days(30)).await.unwrap();
        assert_eq!(
            s.pushers("o/r", 3, Some("topic")).await.unwrap(),
            ["boss", "insider"],
            "{}: pushes 40 days ago to an open pull request and to its branch still count",
            db.backend
        );
        assert_eq!(s.pushers("o/r", 3, None).await.unwrap(), ["boss"]);
        s.prune(100 * DAY, Retention::days(30)).await.unwrap();
        assert_eq!(s.pushers("o/r", 3, None).await.unwrap(), ["boss"]);
        assert!(
            s.pushers("o/r", 1, Some("topic")).await.unwrap().is_empty(),
            "{}: a closed pull request's and a branch's pushers go after the history retention",
            db.backend
        );
        db.finish().await;
    }
}

/// A repository deleted or transferred leaves nothing under its old name (a repository made
/// later under that name, by anyone, starts empty: no history, no summary rows, no tokens);
/// one renamed takes its history with it.
#[tokio::test]
async fn a_repository_deleted_renamed_or_transferred_leaves_nothing_under_its_old_name() {
    use crate::support::github::{APP_ID, FakeGitHub, app_key};
    use crate::support::webhook::{TestServer, signed};
    use serde_json::json;
    for db in backends().await {
        let s = &db.store;
        let fake = FakeGitHub::start().await;
        for repo in ["acme/old-name", "acme/secret", "acme/moved", "acme/victim"] {
            s.add_installation_repos(1, &[repo.into()], 0)
                .await
                .unwrap();
            s.record_baseline(repo, "base", b"{}", 0).await.unwrap();
            s.set_summary_row("acme", repo, "2026-W01", "{}", 0)
                .await
                .unwrap();
        }
        // Another repository of the old owner is called what a transferred one is renamed to.
        fake.put_repo_id("acme/victim", 77);
        fake.put_not_installed("acme/moved");
        let server = TestServer::new(s);
        let repository = |full_name: &str, name: &str| json!({"full_name": full_name, "name": name, "owner": {"login": "acme"}});
        for (id, body) in [
            (
                "r-1",
                json!({"action": "renamed", "installation": {"id": 1},
                       "changes": {"repository": {"name": {"from": "old-name"}}},
                       "repository": repository("acme/new-name", "new-name")}),
            ),
            (
                "r-2",
                json!({"action": "deleted", "installation": {"id": 1},
                       "repository": repository("acme/secret", "secret")}),
            ),
            (
                "r-3",
                json!({"action": "transferred", "installation": {"id": 1},
                       "changes": {"owner": {"from": {"organization": {"login": "acme"}}}},
                       "repository": repository("elsewhere/moved", "moved")}),
            ),
            // Transferred and renamed at once: the payload names only the old owner, so
            // `acme/victim` is made from it; it is another repository, which keeps its own.
            (
                "r-4",
                json!({"action": "transferred", "installation": {"id": 1},
                       "changes": {"owner": {"from": {"organization": {"login": "acme"}}}},
                       "repository": {"id": 5, "full_name": "elsewhere/victim", "name": "victim"}}),
            ),
        ] {
            let (status, text) = server
                .send(signed("repository", id, serde_json::to_vec(&body).unwrap()))
                .await;
            assert_eq!(status, 202, "{text}");
        }
        let github = keel::github::client::GitHub::new(
            APP_ID,
            &secrecy::SecretString::from(app_key()),
            &fake.uri(),
        )
        .unwrap();
        keel::jobs::worker::Worker::new(s.clone(), std::sync::Arc::new(github))
            .run_until_idle(1_000)
            .await
            .unwrap();
        let installed: Vec<String> = s
            .installed_repos()
            .await
            .unwrap()
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(
            installed,
            ["acme/new-name", "acme/victim"],
            "{}",
            db.backend
        );
        assert!(s.baseline("acme/victim", "base").await.unwrap().is_some());
        for gone in ["acme/old-name", "acme/secret", "acme/moved"] {
            assert!(
                s.baseline(gone, "base").await.unwrap().is_none(),
                "{}: {gone}",
                db.backend
            );
        }
        assert!(s.baseline("acme/new-name", "base").await.unwrap().is_some());
        db.finish().await;
    }
}
