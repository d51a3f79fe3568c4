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
