//! Group commit for webhook intake: concurrent deliveries are written by one task, many per
//! transaction, so each acknowledged delivery is durable without paying one fsync per request.
//!
//! A request hands its job to [`Ingest::submit`] and waits for the commit that holds it; only
//! then does the handler answer 202.

use crate::store::{Enqueued, NewJob, Store};
use tokio::sync::{mpsc, oneshot};

/// Most deliveries committed together.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<Enqueued, String>>;

/// The handle requests use to store deliveries.
#[derive(Debug, Clone)]
pub struct Ingest {
    tx: mpsc::Sender<(NewJob, Reply)>,
}

impl Ingest {
    /// Starts the writer task on `store`; `now` gives unix milliseconds.
    pub fn start(store: Store, now: fn() -> i64) -> Ingest {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(store, rx, now));
        Ingest { tx }
    }

    /// Stores `job` durably; returns once the transaction holding it has committed.
    pub async fn submit(&self, job: NewJob) -> anyhow::Result<Enqueued> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((job, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the ingest writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the ingest writer has stopped"))?
            .map_err(anyhow::Error::msg)
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<(NewJob, Reply)>, now: fn() -> i64) {
    let mut batch: Vec<(NewJob, Reply)> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
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
