//! Fault injection: a share of GitHub's answers are 500s, 502s after the work was done,
//! secondary rate limits, expired tokens, truncated bodies and answers slower than the client
//! waits. The same end state is reached within the retry policy, with no duplicated side
//! effects.

use crate::support::db::backends;
use crate::support::github::{APP_ID, FakeGitHub, app_key};
use crate::support::webhook::{TestServer, payload, signed};
use keel::github::client::GitHub;
use keel::jobs::worker::Worker;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

use crate::support::github::EXAMPLE_REPO as REPO;
const PRS: u64 = 8;

#[tokio::test(flavor = "multi_thread")]
async fn every_pull_request_ends_with_one_check_run_and_one_comment_despite_faults() {
    for db in backends().await {
        let fake = FakeGitHub::with_passing_prs(PRS).await;
        let server = TestServer::new(&db.store);
        for n in 1..=PRS {
            let mut p: serde_json::Value =
                serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
            p["pull_request"]["number"] = serde_json::json!(n);
            p["pull_request"]["head"]["sha"] = serde_json::json!(format!("{n:040x}"));
            let body = serde_json::to_vec(&p).unwrap();
            assert_eq!(
                server
                    .send(signed("pull_request", &format!("f-{n}"), body))
                    .await
                    .0,
                202
            );
        }
        fake.set_chaos(7, 20);
        let github = GitHub::with_read_timeout(
            APP_ID,
            &SecretString::from(app_key()),
            &fake.uri(),
            Duration::from_secs(1),
        )
        .unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        // Time moves on in 15-minute steps so that backoffs and rate limits come due.
        let mut now = 10_000;
        for _ in 0..40 {
            worker.run_until_idle(now).await.unwrap();
            let counts = db.store.job_counts().await.unwrap();
            if counts.queued == 0 && counts.running == 0 {
                break;
            }
            now += 15 * 60 * 1000;
        }
        let faults = fake.stop_chaos();
        let counts = db.store.job_counts().await.unwrap();
        crate::support::report_counts(&format!(
            "{}: faults injected {faults:?}; jobs {counts:?}",
            db.backend
        ));
        assert_eq!(
            faults.len(),
            6,
            "every kind of fault was exercised: {faults:?}"
        );
        assert_eq!(
            (counts.done, counts.dead),
            (PRS as i64, 0),
            "{}: {counts:?}",
            db.backend
        );
        let runs = fake.check_runs();
        assert!(
            fake.stray_check_runs().is_empty(),
            "no run left in progress behind the one shown: {:?}",
            fake.stray_check_runs()
        );
        let mut heads: Vec<&str> = runs.iter().map(|r| r.head_sha.as_str()).collect();
        heads.sort_unstable();
        heads.dedup();
        assert_eq!(
            (runs.len(), heads.len()),
            (PRS as usize, PRS as usize),
            "no duplicated check run"
        );
        assert!(
            runs.iter()
                .all(|r| r.status == "completed" && r.conclusion.as_deref() == Some("success"))
        );
        for n in 1..=PRS {
            assert_eq!(
                fake.comments(REPO, n).len(),
                1,
                "pull request {n}: exactly one comment"
            );
        }
        db.finish().await;
    }
}

/// The rate limit is a budget (issue 13): when one installation's is spent, its jobs wait for
/// GitHub's reset without counting attempts or calling again, and the other installation's
/// pull requests are judged meanwhile. Nothing ends as a dead letter.
#[tokio::test(flavor = "multi_thread")]
async fn a_spent_installation_waits_for_its_reset_while_another_is_served() {
    for db in backends().await {
        let fake = FakeGitHub::with_passing_prs(4).await;
        let server = TestServer::new(&db.store);
        // Pull requests 1 and 2 come through installation 111, 3 and 4 through 222.
        for n in 1..=4u64 {
            let mut p: serde_json::Value =
                serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
            p["pull_request"]["number"] = serde_json::json!(n);
            p["pull_request"]["head"]["sha"] = serde_json::json!(format!("{n:040x}"));
            p["installation"]["id"] = serde_json::json!(if n <= 2 { 111 } else { 222 });
            let body = serde_json::to_vec(&p).unwrap();
            let sent = server.send(signed("pull_request", &format!("b-{n}"), body));
            assert_eq!(sent.await.0, 202);
        }
        let reset = keel::clock::now_ms() / 1000 + 2;
        fake.spend_budget(111, Some(reset as u64));
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        let now = keel::clock::now_ms();
        worker.run_until_idle(now).await.unwrap();
        let judged = |fake: &FakeGitHub| {
            let mut heads: Vec<String> = fake
                .check_runs()
                .iter()
                .filter(|r| r.status == "completed")
                .map(|r| r.head_sha.clone())
                .collect();
            heads.sort();
            heads.dedup();
            heads
        };
        assert_eq!(
            judged(&fake),
            [format!("{:040x}", 3), format!("{:040x}", 4)],
            "{}: installation 222 was served while 111 waits",
            db.backend
        );
        assert_eq!(
            fake.refused_for_budget(111),
            1,
            "{}: once GitHub said the budget is spent, Keel stopped calling",
            db.backend
        );
        let counts = db.store.job_counts().await.unwrap();
        assert_eq!((counts.queued, counts.dead), (2, 0), "{}", db.backend);

        // GitHub's window resets.
        fake.spend_budget(111, None);
        while keel::clock::now_ms() / 1000 <= reset {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        worker.run_until_idle(now + 3_000).await.unwrap();
        assert_eq!(judged(&fake).len(), 4, "{}", db.backend);
        let counts = db.store.job_counts().await.unwrap();
        assert_eq!((counts.done, counts.dead), (4, 0), "{}", db.backend);
        let first = db.store.list_jobs(None, 10).await.unwrap();
        assert!(
            first.iter().all(|j| j.attempts == 1),
            "{}: waiting for the reset cost no attempt: {first:?}",
            db.backend
        );
        db.finish().await;
    }
}

/// A bogus reset far in the future parks an installation for one window at most.
#[tokio::test(flavor = "multi_thread")]
async fn a_bogus_rate_limit_reset_parks_for_one_window_at_most() {
    for db in backends().await {
        let fake = FakeGitHub::with_passing_prs(1).await;
        let server = TestServer::new(&db.store);
        let body = payload("pull_request/opened.2.json");
        assert_eq!(
            server.send(signed("pull_request", "bogus", body)).await.0,
            202
        );
        let ten_years = keel::clock::now_ms() / 1000 + 10 * 365 * 86_400;
        fake.spend_budget(1, Some(ten_years as u64));
        let github = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github));
        let now = keel::clock::now_ms();
        worker.run_until_idle(now).await.unwrap();
        let jobs = db.store.list_jobs(None, 10).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert!(
            jobs[0].run_at > now && jobs[0].run_at <= now + keel::jobs::worker::MAX_PARK_MS,
            "{}: parked until {} (now {now})",
            db.backend,
            jobs[0].run_at
        );
        db.finish().await;
    }
}
