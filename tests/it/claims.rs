//! Claims whatever the backlog's shape (issue 13): lanes, fair order across installations and
//! repositories, and rate-limit parks, on every backend.

use crate::support::db::{TestDb, backends};
use keel::store::{Enqueued, JobState, NewJob, Store};

const LEASE: i64 = 30_000;

/// A job of pull request `pr` of `repo` in `installation`.
fn pr_job(id: &str, installation: i64, repo: &str, pr: u32) -> NewJob {
    NewJob {
        kind: "webhook".into(),
        delivery_id: Some(id.into()),
        dedupe_key: None,
        serial_key: Some(format!("{repo}#{pr}")),
        payload: id.as_bytes().to_vec(),
        run_at: 0,
        installation: Some(installation),
        fair_group: Some(repo.into()),
    }
}

async fn claim_id(db: &TestDb, now: i64) -> Option<String> {
    db.store
        .claim(now, LEASE)
        .await
        .unwrap()
        .map(|j| j.delivery_id.unwrap())
}

/// Statistics for the planner, so PostgreSQL plans for the backlog, not for an empty table.
async fn analyze(store: &Store) {
    if let Store::Postgres(pool) = store {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    }
}

#[tokio::test]
async fn a_claim_reads_the_first_claimable_row_whatever_the_backlog_shape() {
    for db in backends().await {
        let s = &db.store;
        // 2,000 deliveries of one pull request whose first job is running...
        let one_pr: Vec<NewJob> = (0..2_000)
            .map(|i| pr_job(&format!("busy-{i}"), 1, "o/busy", 1))
            .collect();
        let stored = s.enqueue_batch(&one_pr, 0).await.unwrap();
        assert_eq!(stored[0], Enqueued::Inserted, "{}", db.backend);
        assert!(
            stored[1..].iter().all(|e| *e == Enqueued::Waiting),
            "{}: the rest wait behind their lane's head",
            db.backend
        );
        let running = s.claim(0, LEASE).await.unwrap().unwrap();
        assert_eq!(running.delivery_id.as_deref(), Some("busy-0"));
        // ...and 4,000 more over 1,000 pull requests of another repository.
        let many: Vec<NewJob> = (0..4_000)
            .map(|i| pr_job(&format!("many-{i}"), 2, "o/many", i % 1_000))
            .collect();
        s.enqueue_batch(&many, 1).await.unwrap();
        analyze(s).await;
        assert_eq!(claim_id(&db, 2).await.as_deref(), Some("many-0"));

        // The claim's plan reads the head of an index: never the jobs behind a running one,
        // never a sort of the backlog, never a scan of the table.
        for (name, plan) in s.claim_plans().await.unwrap() {
            assert!(!plan.contains("Seq Scan"), "{}: {name}: {plan}", db.backend);
            assert!(!plan.contains("Sort"), "{}: {name}: {plan}", db.backend);
            assert!(
                !plan.contains("TEMP B-TREE"),
                "{}: {name}: {plan}",
                db.backend
            );
            if name == "claimable" || name == "claim" {
                assert!(
                    plan.contains("jobs_claimable"),
                    "{}: {name}: {plan}",
                    db.backend
                );
            }
        }
        // The lane moves on when its head is done.
        s.complete(&running, 3).await.unwrap();
        let mut next = Vec::new();
        while let Some(id) = claim_id(&db, 4).await {
            next.push(id);
            if next.len() == 1_001 {
                break;
            }
        }
        assert!(
            next.contains(&"busy-1".to_owned()),
            "{}: the next job of the lane became claimable",
            db.backend
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_noisy_repository_does_not_delay_another_repository_or_installation() {
    for db in backends().await {
        let s = &db.store;
        let noisy: Vec<NewJob> = (0..300)
            .map(|i| pr_job(&format!("noisy-{i}"), 1, "o/noisy", i))
            .collect();
        s.enqueue_batch(&noisy, 0).await.unwrap();
        assert_eq!(claim_id(&db, 1).await.as_deref(), Some("noisy-0"));
        // Another repository of the same installation, and another installation, arrive
        // behind 299 claimable jobs of the noisy repository.
        s.enqueue(&pr_job("quiet-same-installation", 1, "o/quiet", 1), 2)
            .await
            .unwrap();
        s.enqueue(&pr_job("other-installation", 2, "x/small", 1), 3)
            .await
            .unwrap();
        let mut first: Vec<String> = Vec::new();
        for _ in 0..5 {
            first.push(claim_id(&db, 4).await.unwrap());
        }
        for quiet in ["quiet-same-installation", "other-installation"] {
            assert!(
                first.contains(&quiet.to_owned()),
                "{}: {quiet} waited behind the noisy repository: {first:?}",
                db.backend
            );
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn a_parked_installation_waits_for_its_reset_while_another_is_served() {
    for db in backends().await {
        let s = &db.store;
        let jobs: Vec<NewJob> = (0..3)
            .flat_map(|i| {
                [
                    pr_job(&format!("spent-{i}"), 1, "o/spent", i),
                    pr_job(&format!("fresh-{i}"), 2, "o/fresh", i),
                ]
            })
            .collect();
        s.enqueue_batch(&jobs, 0).await.unwrap();
        let first = s.claim(1, LEASE).await.unwrap().unwrap();
        assert_eq!(first.delivery_id.as_deref(), Some("spent-0"));
        // GitHub says installation 1's budget is spent until t = 60,000.
        assert!(
            s.park(&first, Some(1), 60_000, "rate limited", 2)
                .await
                .unwrap()
        );
        // A new head of the parked installation waits for the reset too.
        s.enqueue(&pr_job("spent-late", 1, "o/spent", 9), 3)
            .await
            .unwrap();
        let mut before_reset = Vec::new();
        while let Some(job) = s.claim(10, LEASE).await.unwrap() {
            before_reset.push(job.delivery_id.clone().unwrap());
            s.complete(&job, 11).await.unwrap();
        }
        assert_eq!(
            before_reset,
            ["fresh-0", "fresh-1", "fresh-2"],
            "{}: only the other installation is served while one waits",
            db.backend
        );
        let mut after_reset = Vec::new();
        while let Some(job) = s.claim(60_000, LEASE).await.unwrap() {
            if job.delivery_id.as_deref() == Some("spent-0") {
                assert_eq!(job.attempts, 1, "{}: waiting is not an attempt", db.backend);
            }
            after_reset.push(job.delivery_id.clone().unwrap());
            s.complete(&job, 60_001).await.unwrap();
        }
        after_reset.sort();
        assert_eq!(
            after_reset,
            ["spent-0", "spent-1", "spent-2", "spent-late"],
            "{}",
            db.backend
        );
        assert!(
            s.list_jobs(Some(JobState::Dead), 10)
                .await
                .unwrap()
                .is_empty()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_lane_moves_on_when_its_head_is_buried_cancelled_or_retried_later() {
    for db in backends().await {
        let s = &db.store;
        for i in 0..4 {
            s.enqueue(&pr_job(&format!("j{i}"), 1, "o/r", 1), 0)
                .await
                .unwrap();
        }
        let j0 = s.claim(0, LEASE).await.unwrap().unwrap();
        s.bury(&j0, "broken", 1).await.unwrap();
        let j1 = s.claim(2, LEASE).await.unwrap().unwrap();
        assert_eq!(j1.delivery_id.as_deref(), Some("j1"), "{}", db.backend);
        assert!(s.cancel_job(j1.id, "cancelled", 3).await.unwrap());
        let j2 = s.claim(4, LEASE).await.unwrap().unwrap();
        assert_eq!(j2.delivery_id.as_deref(), Some("j2"), "{}", db.backend);
        // A retry keeps its lane: j3 waits for it.
        s.retry_later(&j2, 100, "GitHub is down", 5).await.unwrap();
        assert!(
            s.claim(50, LEASE).await.unwrap().is_none(),
            "{}",
            db.backend
        );
        let again = s.claim(100, LEASE).await.unwrap().unwrap();
        assert_eq!(again.delivery_id.as_deref(), Some("j2"));
        s.complete(&again, 101).await.unwrap();
        assert_eq!(claim_id(&db, 102).await.as_deref(), Some("j3"));
        // A requeued dead job joins the back of its lane.
        assert!(s.requeue_dead(j0.id, 103).await.unwrap());
        assert!(
            s.claim(104, LEASE).await.unwrap().is_none(),
            "{}",
            db.backend
        );
        db.finish().await;
    }
}

/// A rolling deploy runs an older replica beside the new one for a while: it completes jobs
/// without passing their lanes on, and stores jobs without lanes. The workers' periodic repair
/// puts both right: nothing is stranded.
#[tokio::test]
async fn lanes_left_behind_by_an_older_replica_are_repaired() {
    for db in backends().await {
        let s = &db.store;
        s.enqueue(&pr_job("first", 1, "o/r", 1), 0).await.unwrap();
        assert_eq!(
            s.enqueue(&pr_job("second", 1, "o/r", 1), 0).await.unwrap(),
            Enqueued::Waiting
        );
        // The older replica takes and finishes the lane's head its own way, and stores a job
        // of another pull request without a lane.
        let old_sql = [
            "UPDATE jobs SET state = 'done' WHERE delivery_id = 'first'",
            "INSERT INTO jobs (kind, delivery_id, serial_key, payload, run_at, created_at, updated_at) \
             VALUES ('webhook', 'orphan', 'o/r#2', '', 0, 0, 0)",
        ];
        for sql in old_sql {
            match s {
                Store::Sqlite(pool) => {
                    sqlx::query(sql).execute(pool).await.unwrap();
                }
                Store::Postgres(pool) => {
                    sqlx::query(sql).execute(pool).await.unwrap();
                }
            }
        }
        assert!(
            s.claim(1, LEASE).await.unwrap().is_none(),
            "{}: stranded before the repair",
            db.backend
        );
        assert_eq!(s.repair_lanes(2).await.unwrap(), 2, "{}", db.backend);
        let mut claimed = Vec::new();
        while let Some(id) = claim_id(&db, 3).await {
            claimed.push(id);
        }
        claimed.sort();
        assert_eq!(claimed, ["orphan", "second"], "{}", db.backend);
        db.finish().await;
    }
}
