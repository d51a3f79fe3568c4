//! Crash test: `keel serve` killed with SIGKILL several times while a load generator streams
//! thousands of signed deliveries for many pull requests. Every acknowledged delivery is
//! processed; every pull request ends with one check run per head commit and one comment;
//! nothing is left in the queue. `KEEL_CRASH_DELIVERIES` (default 2,000) and
//! `KEEL_CRASH_KILLS` (default 4) make it longer outside CI.

use crate::serve::{start_replica, try_post};
use crate::support::db::backends;
use crate::support::github::FakeGitHub;
use crate::support::webhook::payload;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::support::github::EXAMPLE_REPO as REPO;
const PRS: u64 = 100;
/// Concurrent connections of the load generator.
const SENDERS: usize = 8;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `count` deliveries: every pull request opened, then pushed to until the count is reached,
/// each push a new head commit.
fn deliveries(count: usize) -> Vec<(String, Vec<u8>)> {
    let template: serde_json::Value =
        serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
    (0..count)
        .map(|i| {
            let (n, push) = (i as u64 % PRS + 1, i as u64 / PRS);
            let mut p = template.clone();
            p["action"] = serde_json::json!(if push == 0 { "opened" } else { "synchronize" });
            p["pull_request"]["number"] = serde_json::json!(n);
            p["pull_request"]["head"]["sha"] = serde_json::json!(format!("{n:020x}{push:020x}"));
            // Each push changes the pull request a minute later, as GitHub dates it.
            p["pull_request"]["updated_at"] =
                serde_json::json!(format!("2026-01-01T{:02}:{:02}:00Z", push / 60, push % 60));
            (format!("c-{n}-{push}"), serde_json::to_vec(&p).unwrap())
        })
        .collect()
}

/// What the load generator saw.
struct Sent {
    acked: HashSet<String>,
    kills: usize,
    refused: usize,
}

/// Sends every delivery from `SENDERS` threads, each redelivering (as GitHub's redelivery
/// would) until it is acknowledged, while this thread kills the server `kills` times at
/// evenly spaced points and starts a new one on the same database.
fn send_while_killing(
    github: &str,
    database: &str,
    deliveries: Vec<(String, Vec<u8>)>,
    kills: usize,
) -> Sent {
    let total = deliveries.len();
    let (server, addr) = start_replica(github, database, "4");
    let addr = Arc::new(RwLock::new(addr));
    let queue = Arc::new(Mutex::new(deliveries));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let (done, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (addr, queue, acked) = (addr.clone(), queue.clone(), acked.clone());
            let (done, refused) = (done.clone(), refused.clone());
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((id, body)) = next else { break };
                    let give_up = Instant::now() + Duration::from_secs(60);
                    loop {
                        let to = addr.read().unwrap().clone();
                        match try_post(&to, "pull_request", &id, &body) {
                            Some(status) if status.starts_with("HTTP/1.1 2") => break,
                            answer => {
                                assert!(
                                    Instant::now() < give_up,
                                    "{id} not acknowledged for a minute; last answer {answer:?}"
                                );
                                refused.fetch_add(1, Ordering::Relaxed);
                                std::thread::sleep(Duration::from_millis(20));
                            }
                        }
                    }
                    acked.lock().unwrap().insert(id);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut server = server;
    for k in 1..=kills {
        let at = total * k / (kills + 1);
        while done.load(Ordering::Relaxed) < at {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        let (next, next_addr) = start_replica(github, database, "4");
        *addr.write().unwrap() = next_addr;
        server = next;
    }
    for s in senders {
        s.join().unwrap();
    }
    // Generous: a debug build on two cores works through about 40 jobs a second.
    wait_for_empty_queue(database, Duration::from_secs(240.max(total as u64 / 10)));
    drop(server);
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    Sent {
        acked,
        kills,
        refused: refused.load(Ordering::Relaxed),
    }
}

/// Lets the last server finish the queue.
fn wait_for_empty_queue(database: &str, limit: Duration) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(keel::store::Store::connect(database)).unwrap();
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let c = rt.block_on(store.job_counts()).unwrap();
        if c.queued == 0 && c.running == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    rt.block_on(store.close());
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_deliveries_survive_repeated_kills() {
    let count = setting("KEEL_CRASH_DELIVERIES", 2_000);
    let kills = setting("KEEL_CRASH_KILLS", 4);
    for db in backends().await {
        let started = Instant::now();
        let fake = FakeGitHub::with_passing_prs(PRS).await;
        let (uri, url) = (fake.uri(), db.url.clone());
        let sent = tokio::task::spawn_blocking(move || {
            send_while_killing(&uri, &url, deliveries(count), kills)
        })
        .await
        .unwrap();

        let jobs = db
            .store
            .list_jobs(None, count as i64 + 1_000)
            .await
            .unwrap();
        let done: HashSet<String> = jobs
            .iter()
            .filter(|j| j.state == keel::store::JobState::Done)
            .filter_map(|j| j.delivery_id.clone())
            .collect();
        assert_eq!(
            sent.acked.len(),
            count,
            "every delivery was acknowledged in the end"
        );
        let missing: Vec<&String> = sent.acked.iter().filter(|id| !done.contains(*id)).collect();
        let why: Vec<String> = jobs
            .iter()
            .filter(|j| j.delivery_id.as_ref().is_some_and(|d| missing.contains(&d)))
            .take(5)
            .map(|j| {
                format!(
                    "{:?} {} {:?}",
                    j.delivery_id,
                    j.state.as_str(),
                    j.last_error
                )
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{}: {} acknowledged but not processed, e.g. {why:?}",
            db.backend,
            missing.len(),
        );
        let runs = fake.check_runs();
        let mut per_head: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &runs {
            *per_head.entry(r.head_sha.as_str()).or_default() += 1;
        }
        let duplicated: Vec<_> = per_head.iter().filter(|&(_, &n)| n > 1).collect();
        assert!(
            duplicated.is_empty(),
            "one check run per head commit: {duplicated:?}"
        );
        // The senders pop deliveries from the end, so newer pushes mostly arrive first; an
        // older push processed after a newer one is stale and is done without a check run
        // (state never moves backwards). Every pull request's latest head has one, completed.
        for n in 1..=PRS {
            // Delivery i is pull request i % PRS + 1's push i / PRS.
            let push = (count as u64 - n) / PRS;
            let last = format!("{n:020x}{push:020x}");
            let run = runs.iter().find(|r| r.head_sha == last);
            assert_eq!(
                run.map(|r| r.status.as_str()),
                Some("completed"),
                "pull request {n}: its latest head {last} has a completed check run"
            );
        }
        assert!(
            per_head.len() <= count,
            "no check run for a head that was never delivered"
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
        crate::support::report_counts(&format!(
            "{}: {count} deliveries from {SENDERS} connections, {} acknowledged, {} refused while down (redelivered), {} kills (SIGKILL), {} jobs done, {} check runs for {} heads, {PRS} comments, 0 duplicates, {:.1} s",
            db.backend,
            sent.acked.len(),
            sent.refused,
            sent.kills,
            done.len(),
            runs.len(),
            per_head.len(),
            started.elapsed().as_secs_f64()
        ));
        db.finish().await;
    }
}
