//! Crash test: `keel serve` killed with SIGKILL several times while deliveries stream in.
//! Every acknowledged delivery is processed; every pull request ends with one check run per
//! head commit and one comment; nothing is left in the queue. Bounded: ~100 deliveries.

use crate::serve::{start_replica, try_post};
use crate::support::db::backends;
use crate::support::github::FakeGitHub;
use crate::support::webhook::payload;
use std::collections::{BTreeMap, HashSet};

const REPO: &str = "Codertocat/Hello-World";
const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
const PRS: u64 = 20;
const PUSHES: u64 = 5;
const KILL_EVERY: usize = 30;

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_deliveries_survive_repeated_kills() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.put_file(
            REPO,
            BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 100\n",
        );
        for n in 1..=PRS {
            fake.put_pr_files(
                REPO,
                n,
                &[("README.md", "modified", Some("@@ -1 +1,2 @@\n a\n+b"))],
            );
        }
        let template: serde_json::Value =
            serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
        let mut deliveries = Vec::new();
        for push in 0..PUSHES {
            for n in 1..=PRS {
                let mut p = template.clone();
                p["action"] = serde_json::json!(if push == 0 { "opened" } else { "synchronize" });
                p["pull_request"]["number"] = serde_json::json!(n);
                p["pull_request"]["head"]["sha"] =
                    serde_json::json!(format!("{n:020x}{push:020x}"));
                deliveries.push((format!("c-{n}-{push}"), serde_json::to_vec(&p).unwrap()));
            }
        }
        let (uri, url) = (fake.uri(), db.url.clone());
        let (acked, kills) = tokio::task::spawn_blocking(move || {
            let (mut server, mut addr) = start_replica(&uri, &url, "4");
            let mut acked = HashSet::new();
            let mut kills = 0;
            for (i, (id, body)) in deliveries.iter().enumerate() {
                if i > 0 && i % KILL_EVERY == 0 {
                    server.0.kill().unwrap();
                    server.0.wait().unwrap();
                    kills += 1;
                    (server, addr) = start_replica(&uri, &url, "4");
                }
                // Like GitHub, redeliver until acknowledged.
                for _ in 0..3 {
                    match try_post(&addr, "pull_request", id, body) {
                        Some(status) if status.starts_with("HTTP/1.1 2") => {
                            acked.insert(id.clone());
                            break;
                        }
                        _ => std::thread::sleep(std::time::Duration::from_millis(50)),
                    }
                }
            }
            // Let the last server finish the queue.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
            let rt = tokio::runtime::Runtime::new().unwrap();
            let store = rt.block_on(keel::store::Store::connect(&url)).unwrap();
            while std::time::Instant::now() < deadline {
                let c = rt.block_on(store.job_counts()).unwrap();
                if c.queued == 0 && c.running == 0 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            rt.block_on(store.close());
            drop(server);
            (acked, kills)
        })
        .await
        .unwrap();

        let jobs = db.store.list_jobs(None, 10_000).await.unwrap();
        let done: HashSet<String> = jobs
            .iter()
            .filter(|j| j.state == keel::store::JobState::Done)
            .filter_map(|j| j.delivery_id.clone())
            .collect();
        let missing: Vec<&String> = acked.iter().filter(|id| !done.contains(*id)).collect();
        assert!(
            missing.is_empty(),
            "{}: acknowledged but not processed: {missing:?}",
            db.backend
        );
        let runs = fake.check_runs();
        let mut per_head: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &runs {
            *per_head.entry(r.head_sha.as_str()).or_default() += 1;
        }
        assert!(
            per_head.values().all(|&n| n == 1),
            "one check run per head commit: {per_head:?}"
        );
        assert_eq!(
            per_head.len(),
            acked.len(),
            "every acknowledged head has its check run"
        );
        for n in 1..=PRS {
            assert_eq!(
                fake.comments(REPO, n).len(),
                1,
                "pull request {n}: one comment"
            );
        }
        let counts = db.store.job_counts().await.unwrap();
        assert_eq!(
            (counts.queued, counts.running, counts.dead),
            (0, 0, 0),
            "{counts:?}"
        );
        println!(
            "{}: {} deliveries sent, {} acknowledged, {kills} kills (SIGKILL), {} jobs done, {} check runs, {PRS} comments, 0 duplicates",
            db.backend,
            PRS * PUSHES,
            acked.len(),
            done.len(),
            runs.len()
        );
        db.finish().await;
    }
}
