//! The durable job queue, on every backend: dedupe, leases, serial keys, retries, dead letters.

use crate::support::db::backends;
use keel::store::{Enqueued, JobState, NewJob};

fn job(delivery: &str, serial: Option<&str>, run_at: i64) -> NewJob {
    NewJob {
        kind: "webhook".into(),
        delivery_id: Some(delivery.into()),
        dedupe_key: None,
        serial_key: serial.map(Into::into),
        payload: format!("payload of {delivery}").into_bytes(),
        run_at,
        installation: None,
        fair_group: None,
    }
}

const LEASE: i64 = 30_000;

#[tokio::test]
async fn a_duplicate_delivery_id_is_stored_once() {
    for db in backends().await {
        let s = &db.store;
        assert_eq!(
            s.enqueue(&job("d-1", None, 0), 0).await.unwrap(),
            Enqueued::Inserted
        );
        assert_eq!(
            s.enqueue(&job("d-1", None, 0), 5).await.unwrap(),
            Enqueued::Duplicate,
            "{}",
            db.backend
        );
        let batch = [
            job("d-2", None, 0),
            job("d-1", None, 0),
            job("d-2", None, 0),
            job("d-3", None, 0),
        ];
        let got = s.enqueue_batch(&batch, 10).await.unwrap();
        assert_eq!(
            got,
            [
                Enqueued::Inserted,
                Enqueued::Duplicate,
                Enqueued::Duplicate,
                Enqueued::Inserted
            ]
        );
        assert_eq!(s.job_counts().await.unwrap().queued, 3, "{}", db.backend);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_intake_writer_stores_into_the_database_the_workers_claim_from() {
    for db in backends().await {
        let intake = db.store.intake_writer().await.unwrap();
        let batch = [
            job("in-1", None, 0),
            job("in-2", None, 0),
            job("in-1", None, 0),
        ];
        assert_eq!(
            intake.enqueue_batch(&batch, 0).await.unwrap(),
            [Enqueued::Inserted, Enqueued::Inserted, Enqueued::Duplicate],
            "{}",
            db.backend
        );
        // A delivery the shared pool stored is a duplicate for the intake writer too.
        db.store.enqueue(&job("shared", None, 0), 0).await.unwrap();
        assert_eq!(
            intake.enqueue(&job("shared", None, 0), 0).await.unwrap(),
            Enqueued::Duplicate
        );
        let claimed = db.store.claim(0, LEASE).await.unwrap().unwrap();
        assert_eq!(
            claimed.delivery_id.as_deref(),
            Some("in-1"),
            "{}",
            db.backend
        );
        if db.backend == "sqlite" {
            // Its own connection: closing the shared pool leaves intake running.
            db.store.close().await;
            assert_eq!(
                intake
                    .enqueue(&job("after-close", None, 0), 0)
                    .await
                    .unwrap(),
                Enqueued::Inserted
            );
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn jobs_are_claimed_oldest_first_and_not_before_their_time() {
    for db in backends().await {
        let s = &db.store;
        s.enqueue(&job("late", None, 1_000), 0).await.unwrap();
        s.enqueue(&job("early", None, 0), 0).await.unwrap();
        let first = s.claim(0, LEASE).await.unwrap().unwrap();
        assert_eq!(
            (first.delivery_id.as_deref(), first.attempts),
            (Some("early"), 1)
        );
        assert_eq!(first.payload, b"payload of early");
        assert!(
            s.claim(999, LEASE).await.unwrap().is_none(),
            "{}: `late` is not due",
            db.backend
        );
        assert_eq!(
            s.claim(1_000, LEASE)
                .await
                .unwrap()
                .unwrap()
                .delivery_id
                .as_deref(),
            Some("late")
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_job_whose_worker_died_is_claimed_again_when_its_lease_expires() {
    for db in backends().await {
        let s = &db.store;
        s.enqueue(&job("d", None, 0), 0).await.unwrap();
        let dead_worker = s.claim(0, LEASE).await.unwrap().unwrap();
        assert!(
            s.claim(LEASE - 1, LEASE).await.unwrap().is_none(),
            "{}: lease still held",
            db.backend
        );
        let second = s.claim(LEASE, LEASE).await.unwrap().unwrap();
        assert_eq!((second.id, second.attempts), (dead_worker.id, 2));
        assert!(
            !s.complete(&dead_worker, LEASE + 1).await.unwrap(),
            "{}: a lost lease cannot complete",
            db.backend
        );
        assert!(s.complete(&second, LEASE + 2).await.unwrap());
        let counts = s.job_counts().await.unwrap();
        assert_eq!((counts.done, counts.running, counts.queued), (1, 0, 0));
        assert!(
            s.claim(10 * LEASE, LEASE).await.unwrap().is_none(),
            "done jobs are never claimed"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn jobs_with_the_same_serial_key_never_run_at_once() {
    for db in backends().await {
        let s = &db.store;
        s.enqueue(&job("pr1-a", Some("o/r#1"), 0), 0).await.unwrap();
        s.enqueue(&job("pr1-b", Some("o/r#1"), 0), 0).await.unwrap();
        s.enqueue(&job("pr2-a", Some("o/r#2"), 0), 0).await.unwrap();
        let a = s.claim(0, LEASE).await.unwrap().unwrap();
        let other = s.claim(0, LEASE).await.unwrap().unwrap();
        assert_eq!(
            (a.delivery_id.as_deref(), other.delivery_id.as_deref()),
            (Some("pr1-a"), Some("pr2-a")),
            "{}: pr1-b waits for pr1-a",
            db.backend
        );
        assert!(s.claim(1, LEASE).await.unwrap().is_none());
        s.complete(&a, 2).await.unwrap();
        assert_eq!(
            s.claim(3, LEASE)
                .await
                .unwrap()
                .unwrap()
                .delivery_id
                .as_deref(),
            Some("pr1-b")
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn failed_jobs_retry_later_then_go_to_the_dead_letters_and_can_be_requeued() {
    for db in backends().await {
        let s = &db.store;
        s.enqueue(&job("d", None, 0), 0).await.unwrap();
        let first = s.claim(0, LEASE).await.unwrap().unwrap();
        assert!(
            s.retry_later(&first, 5_000, "GitHub answered 502", 1)
                .await
                .unwrap()
        );
        assert!(
            s.claim(4_999, LEASE).await.unwrap().is_none(),
            "{}: backoff respected",
            db.backend
        );
        let second = s.claim(5_000, LEASE).await.unwrap().unwrap();
        assert_eq!(second.attempts, 2);
        assert!(
            s.bury(&second, "GitHub answered 502 five times", 5_001)
                .await
                .unwrap()
        );
        let dead = s.list_jobs(Some(JobState::Dead), 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some("GitHub answered 502 five times")
        );
        assert!(
            s.claim(1_000_000, LEASE).await.unwrap().is_none(),
            "dead letters stay put"
        );
        assert!(s.requeue_dead(dead[0].id, 6_000).await.unwrap());
        let again = s.claim(6_000, LEASE).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (dead[0].id, 1));
        assert_eq!(
            s.job(again.id).await.unwrap().unwrap().state,
            JobState::Running
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_job() {
    for db in backends().await {
        let s = &db.store;
        let jobs: Vec<NewJob> = (0..40)
            .map(|i| job(&format!("d-{i}"), Some(&format!("o/r#{i}")), 0))
            .collect();
        s.enqueue_batch(&jobs, 0).await.unwrap();
        let mut workers = Vec::new();
        for _ in 0..4 {
            let s = s.clone();
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(j) = s.claim(1, LEASE).await.unwrap() {
                    mine.push(j.id);
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.unwrap());
        }
        all.sort_unstable();
        let before = all.len();
        all.dedup();
        assert_eq!(
            (before, all.len()),
            (40, 40),
            "{}: every job claimed exactly once",
            db.backend
        );
        db.finish().await;
    }
}

#[test]
fn keel_jobs_lists_shows_a_dead_jobs_error_and_retries_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keel.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let id = rt.block_on(async {
        let s = keel::store::Store::connect(&url).await.unwrap();
        s.enqueue(&job("d-dead", Some("o/r#7"), 0), 0)
            .await
            .unwrap();
        let j = s.claim(0, LEASE).await.unwrap().unwrap();
        s.bury(&j, "GitHub answered 502 five times", 1)
            .await
            .unwrap();
        s.close().await;
        j.id
    });
    let jobs = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
            .arg("jobs")
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, list, _) = jobs(&["list", "--state", "dead"]);
    assert_eq!(code, 0);
    assert!(
        list.lines().nth(1).unwrap().contains("dead")
            && list.contains("o/r#7")
            && list.contains("d-dead"),
        "{list}"
    );
    let (_, show, _) = jobs(&["show", &id.to_string()]);
    assert!(
        show.contains("last error: GitHub answered 502 five times"),
        "{show}"
    );
    assert_eq!(
        jobs(&["retry", &id.to_string()]).1,
        format!("job {id} queued again\n")
    );
    let (code, _, err) = jobs(&["retry", &id.to_string()]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("job {id} is not a dead job")),
        "{err}"
    );
    assert!(jobs(&["list", "--state", "queued"]).1.contains("d-dead"));
    assert_eq!(jobs(&["list", "--state", "zombie"]).0, 2);
}

#[tokio::test]
async fn a_job_that_kills_its_process_three_times_is_buried_and_new_work_goes_on() {
    for db in backends().await {
        let s = &db.store;
        s.enqueue(&job("poison", Some("o/r#1"), 0), 0)
            .await
            .unwrap();
        s.enqueue(&job("next", Some("o/r#2"), 1), 1).await.unwrap();
        // Each claim of the poison job kills its process: the job never completes, its lease
        // expires, and the next worker takes it over.
        let mut claimed = Vec::new();
        let mut last = None;
        for kill in 0..4 {
            let now = 10 + kill * LEASE;
            s.bury_crashed(now).await.unwrap();
            let job = s.claim(now, LEASE).await.unwrap().unwrap();
            claimed.push(job.delivery_id.clone().unwrap());
            last = Some(job);
        }
        assert!(s.complete(&last.unwrap(), 4 * LEASE).await.unwrap());
        assert_eq!(
            claimed,
            ["poison", "poison", "poison", "next"],
            "{}: after three crashes the poison job is not claimed again; new work goes on",
            db.backend
        );
        let poison = s.list_jobs(Some(JobState::Dead), 10).await.unwrap();
        assert_eq!(poison.len(), 1, "{}: buried", db.backend);
        let why = poison[0].last_error.clone().unwrap_or_default();
        assert!(why.contains("crashed or timed out 3 times"), "{why}");
        // `keel jobs retry` gives it a fresh start.
        assert!(s.requeue_dead(poison[0].id, 5 * LEASE).await.unwrap());
        let again = s.claim(5 * LEASE, LEASE).await.unwrap().unwrap();
        assert_eq!(again.delivery_id.as_deref(), Some("poison"));
        db.finish().await;
    }
}

#[tokio::test]
async fn a_renewed_lease_is_not_taken_over_and_a_cancelled_job_cannot_finish() {
    for db in backends().await {
        let s = &db.store;
        s.enqueue(&job("long", None, 0), 0).await.unwrap();
        let running = s.claim(0, LEASE).await.unwrap().unwrap();
        assert!(s.renew_lease(&running, 3 * LEASE).await.unwrap());
        assert!(
            s.claim(2 * LEASE, LEASE).await.unwrap().is_none(),
            "{}: the renewed lease holds past the first one",
            db.backend
        );
        assert!(s.cancel_job(running.id, "cancelled", LEASE).await.unwrap());
        assert!(
            !s.renew_lease(&running, 4 * LEASE).await.unwrap(),
            "the worker learns it no longer owns the job"
        );
        assert!(!s.complete(&running, LEASE).await.unwrap());
        assert!(s.claim(10 * LEASE, LEASE).await.unwrap().is_none());
        let dead = s.job(running.id).await.unwrap().unwrap();
        assert_eq!(
            (dead.state, dead.last_error.as_deref()),
            (JobState::Dead, Some("cancelled"))
        );
        assert!(
            !s.cancel_job(running.id, "again", LEASE).await.unwrap(),
            "a dead job is not cancelled again"
        );
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_stops_a_job_cancelled_while_it_waits_on_github() {
    use crate::support::github::{APP_ID, EXAMPLE_REPO, FakeGitHub, app_key};
    use crate::support::webhook::{TestServer, payload, signed};
    use keel::jobs::worker::{Ran, Worker};
    use std::sync::Arc;
    for db in backends().await {
        let fake = FakeGitHub::with_passing_prs(2).await;
        // GitHub hangs on the first call of the job (as during an outage).
        fake.fail_next(
            "GET",
            "contents",
            wiremock::ResponseTemplate::new(404).set_delay(std::time::Duration::from_secs(30)),
        );
        let server = TestServer::new(&db.store);
        let body = payload("pull_request/opened.2.json");
        assert_eq!(
            server.send(signed("pull_request", "slow", body)).await.0,
            202
        );
        let github = keel::github::client::GitHub::with_read_timeout(
            APP_ID,
            &secrecy::SecretString::from(app_key()),
            &fake.uri(),
            std::time::Duration::from_secs(60),
        )
        .unwrap();
        let worker = Worker::new(db.store.clone(), Arc::new(github)).with_lease_ms(300);
        let running = tokio::spawn(async move { worker.run_one(1_000).await.unwrap() });
        let id = loop {
            let jobs = db
                .store
                .list_jobs(Some(JobState::Running), 1)
                .await
                .unwrap();
            if let Some(job) = jobs.first() {
                break job.id;
            }
            tokio::task::yield_now().await;
        };
        assert!(db.store.cancel_job(id, "cancelled", 1_001).await.unwrap());
        let ran = tokio::time::timeout(std::time::Duration::from_secs(20), running)
            .await
            .expect("the job stops at its next lease renewal, not when GitHub answers")
            .unwrap();
        assert_eq!(ran, Ran::LeaseLost(id), "{}", db.backend);
        assert!(
            fake.check_runs().is_empty(),
            "nothing was posted for {EXAMPLE_REPO}"
        );
        db.finish().await;
    }
}
