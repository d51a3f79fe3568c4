//! End-to-end latency benchmark (ignored by `cargo test`; `scripts/bench-e2e` runs it in
//! release): signed `pull_request` deliveries sent open-loop at fixed rates to `keel serve`,
//! each a new head commit; the latency of a delivery is from just before it is sent to the
//! moment the FakeGitHub sees that head's check run completed. The fake runs in this
//! process on the same cores, so its own time is in the figures.

use crate::serve::{start_replica, try_post};
use crate::support::db::backends;
use crate::support::github::FakeGitHub;
use crate::support::webhook::payload;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PRS: u64 = 200;
const SENDERS: usize = 32;

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

/// The latency of the value at quantile `q` of `sorted`.
pub(crate) fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: scripts/bench-e2e"]
async fn webhook_to_completed_check_run() {
    let rates: Vec<u64> = setting("KEEL_E2E_RATES", "25 50 100 200")
        .split_whitespace()
        .map(|r| r.parse().unwrap())
        .collect();
    let seconds: u64 = setting("KEEL_E2E_SECONDS", "10").parse().unwrap();
    let workers = setting("KEEL_E2E_WORKERS", "4");
    println!(
        "| backend | offered | completed | achieved | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|---|---|"
    );
    for db in backends().await {
        let fake = FakeGitHub::with_passing_prs(PRS).await;
        let template: serde_json::Value =
            serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
        let (uri, url) = (fake.uri(), db.url.clone());
        let (server, addr) = start_replica(&uri, &url, &workers);
        for (round, &rate) in rates.iter().enumerate() {
            let count = rate * seconds;
            let schedule: Vec<(Duration, String, Vec<u8>)> = (0..count)
                .map(|i| {
                    let n = i % PRS + 1;
                    let head = format!("{round:08x}{i:032x}");
                    let mut p = template.clone();
                    p["action"] = serde_json::json!("synchronize");
                    p["pull_request"]["number"] = serde_json::json!(n);
                    p["pull_request"]["head"]["sha"] = serde_json::json!(head);
                    // Each push dates the pull request a second later than the one before.
                    let second = (round as u64 * count + i) as i64;
                    p["pull_request"]["updated_at"] = serde_json::json!(
                        chrono::DateTime::from_timestamp(1_767_225_600 + second, 0)
                            .unwrap()
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    );
                    let at = Duration::from_secs_f64(i as f64 / rate as f64);
                    (at, head, serde_json::to_vec(&p).unwrap())
                })
                .collect();
            let addr = addr.clone();
            let sent = tokio::task::spawn_blocking(move || send_open_loop(&addr, schedule))
                .await
                .unwrap();
            // Wait for every head's check run, or give up after a minute without progress.
            let mut last = (0, Instant::now());
            let completed = loop {
                let done: HashMap<String, Instant> = fake
                    .check_runs()
                    .into_iter()
                    .filter_map(|r| Some((r.head_sha, r.completed_at?)))
                    .filter(|(head, _)| sent.contains_key(head))
                    .collect();
                if done.len() == sent.len() || last.1.elapsed() > Duration::from_secs(60) {
                    break done;
                }
                if done.len() > last.0 {
                    last = (done.len(), Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let mut latencies: Vec<Duration> = completed
                .iter()
                .map(|(head, at)| at.duration_since(sent[head]))
                .collect();
            latencies.sort_unstable();
            let first = sent.values().min().copied().unwrap();
            let end = completed.values().max().copied().unwrap();
            let achieved = completed.len() as f64 / end.duration_since(first).as_secs_f64();
            println!(
                "| {} | {rate}/s | {}/{} | {achieved:.0}/s | {} | {} | {} | {} |",
                db.backend,
                completed.len(),
                sent.len(),
                ms(quantile(&latencies, 0.50)),
                ms(quantile(&latencies, 0.90)),
                ms(quantile(&latencies, 0.99)),
                ms(*latencies.last().unwrap()),
            );
            assert_eq!(
                completed.len(),
                sent.len(),
                "every head's check run completed"
            );
        }
        drop(server);
        db.finish().await;
    }
}

/// Sends each delivery at its offset from now (open loop: a slow answer does not delay the
/// next send) from `SENDERS` threads; returns when each head was sent.
fn send_open_loop(
    addr: &str,
    schedule: Vec<(Duration, String, Vec<u8>)>,
) -> HashMap<String, Instant> {
    send_and_time(addr, schedule).0
}

/// As [`send_open_loop`], also returning how long each delivery took to be acknowledged.
fn send_and_time(
    addr: &str,
    schedule: Vec<(Duration, String, Vec<u8>)>,
) -> (HashMap<String, Instant>, Vec<Duration>) {
    let acks = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let queue = Arc::new(Mutex::new(schedule.into_iter().rev().collect::<Vec<_>>()));
    let sent = Arc::new(Mutex::new(HashMap::new()));
    let threads: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (queue, sent, acks, addr) =
                (queue.clone(), sent.clone(), acks.clone(), addr.to_owned());
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((at, head, body)) = next else { break };
                    if let Some(wait) = (start + at).checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let t = Instant::now();
                    let status = try_post(&addr, "pull_request", &head, &body);
                    assert!(
                        status
                            .as_deref()
                            .is_some_and(|s| s.starts_with("HTTP/1.1 202")),
                        "{head}: {status:?}"
                    );
                    acks.lock().unwrap().push(t.elapsed());
                    sent.lock().unwrap().insert(head, t);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let acks = std::mem::take(&mut *acks.lock().unwrap());
    (sent, acks)
}

/// Pull requests in the outage benchmark, and pushes (heads) to each.
const OUTAGE_PRS: u64 = 60;
const OUTAGE_HEADS: u64 = 10;

/// GitHub stops answering for 20 s while 60 pull requests get 10 pushes each (issue 13): the
/// intake's p99 during the outage, the time from GitHub's return until every pull request's
/// latest head has a completed check run, the GitHub calls and evaluations per pull request
/// after the return (superseded heads should cost nothing), and the checks left in progress.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: scripts/bench-e2e"]
async fn github_outage_then_recovery() {
    let workers = setting("KEEL_E2E_WORKERS", "4");
    let outage = Duration::from_secs(setting("KEEL_E2E_OUTAGE_SECONDS", "20").parse().unwrap());
    println!(
        "\n| backend | deliveries | intake p99 during the outage | return → every latest head completed | GitHub calls per PR after the return | evaluations per PR (max) | superseded heads with a check run | checks left in progress |\n|---|---|---|---|---|---|---|---|"
    );
    for db in backends().await {
        let fake = FakeGitHub::with_passing_prs(OUTAGE_PRS).await;
        let template: serde_json::Value =
            serde_json::from_slice(&payload("pull_request/opened.2.json")).unwrap();
        let (server, addr) = start_replica(&fake.uri(), &db.url, &workers);
        fake.set_outage(true);
        let down = Instant::now();
        let mut latest = HashMap::new();
        let schedule: Vec<(Duration, String, Vec<u8>)> = (0..OUTAGE_HEADS)
            .flat_map(|h| (1..=OUTAGE_PRS).map(move |n| (h, n)))
            .enumerate()
            .map(|(i, (h, n))| {
                let head = format!("{h:08x}{n:032x}");
                latest.insert(n, head.clone());
                let mut p = template.clone();
                p["action"] = serde_json::json!(if h == 0 { "opened" } else { "synchronize" });
                p["pull_request"]["number"] = serde_json::json!(n);
                p["pull_request"]["head"]["sha"] = serde_json::json!(head);
                p["pull_request"]["updated_at"] = serde_json::json!(
                    chrono::DateTime::from_timestamp(1_767_225_600 + h as i64, 0)
                        .unwrap()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                // 600 deliveries over the first 10 s of the outage.
                let at = Duration::from_secs_f64(i as f64 / 60.0);
                (at, head, serde_json::to_vec(&p).unwrap())
            })
            .collect();
        let deliveries = schedule.len();
        let addr2 = addr.clone();
        let (_, mut acks) = tokio::task::spawn_blocking(move || send_and_time(&addr2, schedule))
            .await
            .unwrap();
        acks.sort_unstable();
        if let Some(left) = outage.checked_sub(down.elapsed()) {
            tokio::time::sleep(left).await;
        }
        let calls_before = fake.log().await.len();
        fake.set_outage(false);
        let back = Instant::now();
        let latest_heads: std::collections::HashSet<String> = latest.values().cloned().collect();
        let recovered = loop {
            let done = fake
                .check_runs()
                .iter()
                .filter(|r| r.status == "completed" && latest_heads.contains(&r.head_sha))
                .count();
            if done == latest_heads.len() {
                break Some(back.elapsed());
            }
            if back.elapsed() > Duration::from_secs(180) {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Settle: anything still queued has had its chance.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let log = fake.log().await;
        let after = &log[calls_before.min(log.len())..];
        let evaluations = (1..=OUTAGE_PRS)
            .map(|n| {
                after
                    .iter()
                    .filter(|l| l.starts_with("GET ") && l.ends_with(&format!("/pulls/{n}/files")))
                    .count()
            })
            .max()
            .unwrap_or(0);
        let runs = fake.check_runs();
        let superseded = runs
            .iter()
            .filter(|r| !latest_heads.contains(&r.head_sha))
            .count();
        let in_progress = runs.iter().filter(|r| r.status != "completed").count();
        println!(
            "| {} | {deliveries} in {:.0} s | {} | {} | {:.1} | {evaluations} | {superseded} | {in_progress} |",
            db.backend,
            outage.as_secs_f64(),
            ms(quantile(&acks, 0.99)),
            recovered.map_or_else(
                || "not within 180 s".to_owned(),
                |d| format!("{:.1} s", d.as_secs_f64())
            ),
            after.len() as f64 / OUTAGE_PRS as f64,
        );
        assert!(
            recovered.is_some(),
            "{}: every latest head completed",
            db.backend
        );
        assert_eq!(in_progress, 0, "{}: no check left in progress", db.backend);
        drop(server);
        db.finish().await;
    }
}
