//! Webhooks Keel never took (an outage, a deploy, a full intake) are asked for again from
//! the App's delivery log on GitHub, which never redelivers on its own.

use crate::reports_flow::{deliver, json_of, worker};
use crate::support::db::backends;
use crate::support::github::FakeGitHub;
use crate::support::webhook::TestServer;
use keel::jobs::redeliver::{EVERY_MS, enqueue};

#[tokio::test]
async fn deliveries_keel_never_took_are_asked_for_again_and_only_those() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let server = TestServer::new(&db.store);
        let worker = worker(&db, &fake);
        // Stored by Keel, though GitHub logged no answer (it came after GitHub gave up).
        deliver(
            &server,
            "pull_request",
            "g-stored",
            serde_json::to_vec(&json_of("pull_request/opened.2.json")).unwrap(),
        )
        .await;
        let now = chrono::Utc::now();
        let ago = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
        fake.put_hook_delivery(1, "g-old", 503, &ago(24 * 60));
        fake.put_hook_delivery(2, "g-ok", 202, &ago(50));
        fake.put_hook_delivery(3, "g-stored", 0, &ago(40));
        fake.put_hook_delivery(4, "g-lost", 503, &ago(30));
        fake.put_hook_delivery(5, "g-malformed", 400, &ago(25));
        // Failed four times by hand: Keel has not asked for it yet, so it does (its latest).
        for id in 6..10 {
            fake.put_hook_delivery(id, "g-tried", 502, &ago(20));
        }
        // The lost delivery's redelivery by hand timed out too: the latest attempt is asked.
        fake.put_hook_delivery(10, "g-lost", 0, &ago(10));
        fake.put_hook_delivery(11, "g-taken-later", 503, &ago(9));
        fake.put_hook_delivery(12, "g-taken-later", 202, &ago(8));
        // Enough taken deliveries after them that the log takes several pages.
        for i in 0..250 {
            fake.put_hook_delivery(100 + i, &format!("g-fine-{i}"), 202, &ago(5));
        }
        let now_ms = now.timestamp_millis();
        assert!(enqueue(&db.store, now_ms).await.unwrap(), "{}", db.backend);
        assert!(
            !enqueue(&db.store, now_ms + 1).await.unwrap(),
            "one read per slot, whatever the replicas"
        );
        worker.run_until_idle(now_ms).await.unwrap();
        // Oldest first.
        assert_eq!(fake.redelivered(), [9, 10], "{}", db.backend);
        // The next slot: the redelivery was taken; nothing is asked twice.
        assert!(enqueue(&db.store, now_ms + EVERY_MS).await.unwrap());
        worker.run_until_idle(now_ms + EVERY_MS).await.unwrap();
        assert_eq!(fake.redelivered(), [9, 10]);
        db.finish().await;
    }
}

/// How often one delivery whose every attempt Keel answers with `status` is asked for again
/// over 8 reads, 10 minutes apart (each ask's outcome logged a minute before the next read),
/// on each backend.
async fn asks_over_eight_reads(status: u16) -> Vec<(String, usize)> {
    let mut asks = Vec::new();
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.leave_redeliveries_unlogged();
        let worker = worker(&db, &fake);
        let now = chrono::Utc::now().timestamp_millis();
        let at = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339()
        };
        fake.put_hook_delivery(1, "g-failing", status, &at(now - 60_000));
        for read in 0..8 {
            let read_at = now + read * EVERY_MS;
            if read > 0 {
                // What became of the last ask, a minute before this read.
                fake.put_hook_delivery(
                    100 + read as u64,
                    "g-failing",
                    status,
                    &at(read_at - 60_000),
                );
            }
            enqueue(&db.store, read_at).await.unwrap();
            worker.run_until_idle(read_at).await.unwrap();
        }
        asks.push((db.backend.to_string(), fake.redelivered().len()));
        db.finish().await;
    }
    asks
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_asked_for_three_times_whatever_the_windows() {
    // Keel's secret is wrong: the delivery and every redelivery of it get 401.
    for (backend, asks) in asks_over_eight_reads(401).await {
        assert_eq!(asks, 3, "{backend}");
    }
}

#[tokio::test]
async fn a_delivery_refused_by_a_full_intake_is_asked_for_again_for_as_long_as_github_keeps_it() {
    // A flood that keeps the intake full through three asks must not make Keel give up a
    // delivery for good: a 503 is Keel shedding load, not the delivery failing.
    for (backend, asks) in asks_over_eight_reads(503).await {
        assert_eq!(asks, 8, "{backend}");
    }
}

#[tokio::test]
async fn a_delivery_github_will_not_deliver_again_does_not_hold_up_the_others() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        let worker = worker(&db, &fake);
        let now = chrono::Utc::now().timestamp_millis();
        let at = chrono::DateTime::from_timestamp_millis(now - 60_000)
            .unwrap()
            .to_rfc3339();
        fake.put_hook_delivery(1, "a-refused", 500, &at);
        fake.put_hook_delivery(2, "b-missed", 500, &at);
        fake.refuse_redelivery(1);
        enqueue(&db.store, now).await.unwrap();
        worker.run_until_idle(now).await.unwrap();
        assert_eq!(fake.redelivered(), [2], "{}", db.backend);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_long_flood_reaches_every_failed_delivery_and_a_read_asks_at_most_its_cap() {
    for db in backends().await {
        let fake = FakeGitHub::start().await;
        fake.leave_redeliveries_unlogged();
        let worker = worker(&db, &fake);
        let now = chrono::Utc::now().timestamp_millis();
        let at = chrono::DateTime::from_timestamp_millis(now - 60_000)
            .unwrap()
            .to_rfc3339();
        // 150 deliveries met a full intake; GitHub refuses to send 30 of them again.
        for i in 0..150u64 {
            fake.put_hook_delivery(1 + i, &format!("g-{i:03}"), 503, &at);
            if i % 10 == 0 || i % 10 == 5 {
                fake.refuse_redelivery(1 + i);
            }
        }
        let posts = |log: &[String]| {
            log.iter()
                .filter(|l| l.starts_with("POST /app/hook/deliveries/"))
                .count()
        };
        enqueue(&db.store, now).await.unwrap();
        worker.run_until_idle(now).await.unwrap();
        assert_eq!(
            posts(&fake.log().await),
            100,
            "{}: refused asks count",
            db.backend
        );
        let later = now + EVERY_MS;
        enqueue(&db.store, later).await.unwrap();
        worker.run_until_idle(later).await.unwrap();
        // The second read goes first to the 50 the first did not reach.
        let mut asked = fake.redelivered();
        asked.sort_unstable();
        asked.dedup();
        assert_eq!(
            asked.len(),
            120,
            "{}: every one GitHub takes was asked for",
            db.backend
        );
        db.finish().await;
    }
}
