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
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
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
    let start = Instant::now();
    let queue = Arc::new(Mutex::new(schedule.into_iter().rev().collect::<Vec<_>>()));
    let sent = Arc::new(Mutex::new(HashMap::new()));
    let threads: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (queue, sent, addr) = (queue.clone(), sent.clone(), addr.to_owned());
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
                    sent.lock().unwrap().insert(head, t);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    std::mem::take(&mut *sent.lock().unwrap())
}
