//! Group commit for webhook intake: concurrent deliveries are written by one task, many per
//! transaction, so each acknowledged delivery is durable without paying one fsync per request.
//!
//! A request announces itself with [`Ingest::arriving`] as soon as it comes in, hands its job
//! to [`Ingest::submit`] once it is verified and parsed, and answers 202 only after the commit
//! that holds it. Before each commit the writer waits, briefly, for the deliveries that have
//! arrived but are still being verified (like PostgreSQL's `commit_delay` with
//! `commit_siblings`): without that, a burst splits into a commit of one and a commit of the
//! rest, and every commit after it alternates the same way, halving throughput.

use crate::store::{Enqueued, NewJob, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};

/// Most deliveries committed together.
const MAX_BATCH: usize = 512;

/// Longest a commit waits for deliveries still being verified. A slow client, or one that
/// never finishes its body, delays the others' commit by at most this.
const MAX_LINGER: Duration = Duration::from_millis(2);

type Reply = oneshot::Sender<Result<Enqueued, String>>;

/// The handle requests use to store deliveries.
#[derive(Debug, Clone)]
pub struct Ingest {
    tx: mpsc::Sender<(NewJob, Reply)>,
    preparing: Arc<Preparing>,
}

/// How many deliveries have arrived and not yet been handed to the writer (or turned away).
#[derive(Debug, Default)]
struct Preparing {
    count: AtomicUsize,
    changed: Notify,
}

/// A delivery between its arrival and its hand-over to the writer; dropping it (submitted,
/// rejected or abandoned) tells the writer not to wait for it.
#[derive(Debug)]
pub struct Arrival {
    preparing: Arc<Preparing>,
}

impl Drop for Arrival {
    fn drop(&mut self) {
        self.preparing.count.fetch_sub(1, Ordering::AcqRel);
        self.preparing.changed.notify_one();
    }
}

impl Ingest {
    /// Starts the writer task on `store`; `now` gives unix milliseconds.
    pub fn start(store: Store, now: fn() -> i64) -> Ingest {
        Ingest::with_linger(store, now, MAX_LINGER)
    }

    /// [`Ingest::start`] with another longest wait for arriving deliveries.
    fn with_linger(store: Store, now: fn() -> i64, linger: Duration) -> Ingest {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let preparing = Arc::new(Preparing::default());
        tokio::spawn(write_batches(
            store,
            rx,
            Arc::clone(&preparing),
            now,
            linger,
        ));
        Ingest { tx, preparing }
    }

    /// Marks a delivery as arriving: the next commit waits (up to [`MAX_LINGER`]) until it
    /// is submitted or the returned guard is dropped.
    pub fn arriving(&self) -> Arrival {
        self.preparing.count.fetch_add(1, Ordering::AcqRel);
        Arrival {
            preparing: Arc::clone(&self.preparing),
        }
    }

    /// Stores `job` durably; returns once the transaction holding it has committed.
    pub async fn submit(&self, arrival: Arrival, job: NewJob) -> anyhow::Result<Enqueued> {
        let (reply, answer) = oneshot::channel();
        let sent = self.tx.send((job, reply)).await;
        drop(arrival);
        sent.map_err(|_| anyhow::anyhow!("the ingest writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the ingest writer has stopped"))?
            .map_err(anyhow::Error::msg)
    }
}

/// One writer: takes the next batch, commits it, answers its deliveries.
async fn write_batches(
    store: Store,
    mut rx: mpsc::Receiver<(NewJob, Reply)>,
    preparing: Arc<Preparing>,
    now: fn() -> i64,
    linger: Duration,
) {
    let mut batch: Vec<(NewJob, Reply)> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        gather_arriving(&mut rx, &mut batch, &preparing, linger).await;
        let (jobs, replies): (Vec<NewJob>, Vec<Reply>) = batch.drain(..).unzip();
        match store.enqueue_batch(&jobs, now()).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    jobs = jobs.len(),
                    "could not store deliveries"
                );
                for reply in replies {
                    let _ = reply.send(Err(format!("{e:#}")));
                }
            }
        }
    }
}

/// Adds to `batch` the deliveries that arrive before the ones being verified are all handed
/// over, the batch is full, or `linger` has passed.
async fn gather_arriving(
    rx: &mut mpsc::Receiver<(NewJob, Reply)>,
    batch: &mut Vec<(NewJob, Reply)>,
    preparing: &Preparing,
    linger: Duration,
) {
    let deadline = tokio::time::Instant::now() + linger;
    loop {
        let changed = preparing.changed.notified();
        // Whatever is already queued joins without waiting.
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        if batch.len() >= MAX_BATCH || preparing.count.load(Ordering::Acquire) == 0 {
            return;
        }
        tokio::select! {
            () = changed => {}
            () = tokio::time::sleep_until(deadline) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;

    /// Each call is a later instant, so rows stored by one commit share a `created_at` and
    /// rows of different commits do not.
    fn ticking_clock() -> i64 {
        static NOW: AtomicI64 = AtomicI64::new(1_000);
        NOW.fetch_add(1, Ordering::SeqCst)
    }

    fn job(delivery: &str) -> NewJob {
        NewJob {
            kind: "event".into(),
            delivery_id: Some(delivery.into()),
            dedupe_key: None,
            serial_key: Some(delivery.into()),
            payload: b"{}".to_vec(),
            run_at: 0,
            installation: None,
            fair_group: None,
        }
    }

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("keel.db").display());
        (dir, Store::connect(&url).await.unwrap())
    }

    async fn created_at_of_each(store: &Store, n: usize) -> Vec<i64> {
        let mut stamps = Vec::new();
        for _ in 0..n {
            let job = store.claim(i64::MAX / 2, 1_000).await.unwrap().unwrap();
            stamps.push(job.created_at);
        }
        stamps
    }

    #[tokio::test]
    async fn a_commit_waits_for_a_delivery_still_being_verified() {
        let (_dir, store) = store().await;
        let ingest = Ingest::with_linger(store.clone(), ticking_clock, Duration::from_secs(60));
        let (first, second) = (ingest.arriving(), ingest.arriving());
        let submitting = ingest.clone();
        let mut first_done =
            tokio::spawn(async move { submitting.submit(first, job("first")).await });
        // Without the wait the first delivery would commit alone within milliseconds.
        let early = tokio::time::timeout(Duration::from_millis(200), &mut first_done).await;
        assert!(early.is_err(), "committed before the second delivery came");
        assert_eq!(
            ingest.submit(second, job("second")).await.unwrap(),
            Enqueued::Inserted
        );
        assert_eq!(first_done.await.unwrap().unwrap(), Enqueued::Inserted);
        let stamps = created_at_of_each(&store, 2).await;
        assert_eq!(stamps[0], stamps[1], "both in one commit");
    }

    #[tokio::test]
    async fn a_delivery_turned_away_does_not_hold_the_commit() {
        let (_dir, store) = store().await;
        let ingest = Ingest::with_linger(store.clone(), ticking_clock, Duration::from_secs(60));
        let (first, rejected) = (ingest.arriving(), ingest.arriving());
        let submitting = ingest.clone();
        let first_done = tokio::spawn(async move { submitting.submit(first, job("only")).await });
        drop(rejected);
        let stored = tokio::time::timeout(Duration::from_secs(30), first_done)
            .await
            .expect("the commit did not wait out the linger");
        assert_eq!(stored.unwrap().unwrap(), Enqueued::Inserted);
    }
}
