//! What an operator sees of the queue and does to it (`keel jobs`, `/metrics`): jobs listed,
//! shown and counted per state, a job cancelled, a dead one queued again.

use super::jobs::JobState;
use super::tx::Arg;
use super::{Store, on_pool};
use anyhow::Context;
use sqlx::Row;

/// A job as `keel jobs` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    /// Row id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// State.
    pub state: JobState,
    /// Claims so far.
    pub attempts: i32,
    /// Delivery id.
    pub delivery_id: Option<String>,
    /// Serial key.
    pub serial_key: Option<String>,
    /// Earliest next run, unix ms.
    pub run_at: i64,
    /// The last failure.
    pub last_error: Option<String>,
}

/// Jobs per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Waiting.
    pub queued: i64,
    /// Claimed.
    pub running: i64,
    /// Finished.
    pub done: i64,
    /// Dead letters.
    pub dead: i64,
}

const CANCEL: &str = "UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = $1, updated_at = $2 \
     WHERE id = $3 AND state IN ('queued', 'running') RETURNING serial_key";
const REQUEUE_DEAD: &str = "UPDATE jobs SET state = 'queued', ready = 0, attempts = 0, crashes = 0, run_at = $1, updated_at = $1 \
     WHERE id = $2 AND state = 'dead' RETURNING serial_key";
const COUNTS: &str = "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state";

impl Store {
    /// Ends a queued or running job as dead with `reason` (`keel jobs cancel`); a running
    /// one stops at its next lease renewal. `false` when it is neither.
    pub async fn cancel_job(&self, id: i64, reason: &str, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let cancelled: Vec<(Option<String>,)> = tx
            .rows(CANCEL, &[Arg::Text(reason), Arg::Int(now), Arg::Int(id)])
            .await
            .context("cancel a job")?;
        if let Some((Some(key),)) = cancelled.first() {
            tx.release_lane(key, id, now).await?;
        }
        tx.commit().await.context("commit a cancel")?;
        Ok(!cancelled.is_empty())
    }

    /// Queues a dead job again with a fresh attempt count (`keel jobs retry`), at the back of
    /// its lane.
    pub async fn requeue_dead(&self, id: i64, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let requeued: Vec<(Option<String>,)> = tx
            .rows(REQUEUE_DEAD, &[Arg::Int(now), Arg::Int(id)])
            .await
            .context("requeue a dead job")?;
        let Some((key,)) = requeued.first() else {
            return Ok(false);
        };
        let head = match key {
            Some(key) => tx.take_lanes(vec![(key.clone(), id)]).await?.contains(&id),
            None => true,
        };
        if head {
            tx.schedule(&[id], now).await?;
        }
        tx.commit().await.context("commit a requeue")?;
        Ok(true)
    }

    /// Jobs, newest first, optionally in one state.
    pub async fn list_jobs(
        &self,
        state: Option<JobState>,
        limit: i64,
    ) -> anyhow::Result<Vec<JobRow>> {
        const ALL: &str = "SELECT id, kind, state, attempts, delivery_id, serial_key, run_at, last_error FROM jobs ORDER BY id DESC LIMIT $1";
        const IN_STATE: &str = "SELECT id, kind, state, attempts, delivery_id, serial_key, run_at, last_error FROM jobs WHERE state = $1 ORDER BY id DESC LIMIT $2";
        on_pool!(self, pool => {
            let rows = match state {
                None => sqlx::query(ALL).bind(limit).fetch_all(pool).await,
                Some(s) => sqlx::query(IN_STATE).bind(s.as_str()).bind(limit).fetch_all(pool).await,
            }
            .context("list jobs")?;
            rows.iter().map(|row| job_row!(row)).collect()
        })
    }

    /// One job.
    pub async fn job(&self, id: i64) -> anyhow::Result<Option<JobRow>> {
        const ONE: &str = "SELECT id, kind, state, attempts, delivery_id, serial_key, run_at, last_error FROM jobs WHERE id = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(ONE).bind(id).fetch_optional(pool).await.context("read a job")?;
            row.as_ref().map(|row| job_row!(row)).transpose()
        })
    }

    /// Jobs per state (queue depth for `/metrics`).
    pub async fn job_counts(&self) -> anyhow::Result<JobCounts> {
        on_pool!(self, pool => {
            let rows = sqlx::query(COUNTS).fetch_all(pool).await.context("count jobs")?;
            let mut counts = JobCounts::default();
            for row in rows {
                let n: i64 = row.try_get("n")?;
                let state: String = row.try_get("state")?;
                match JobState::parse(&state)? {
                    JobState::Queued => counts.queued = n,
                    JobState::Running => counts.running = n,
                    JobState::Done => counts.done = n,
                    JobState::Dead => counts.dead = n,
                }
            }
            Ok(counts)
        })
    }
}

/// Decodes a `JobRow` from a row of either backend.
macro_rules! job_row {
    ($row:expr) => {
        (|| -> anyhow::Result<JobRow> {
            let state: String = $row.try_get("state")?;
            Ok(JobRow {
                id: $row.try_get("id")?,
                kind: $row.try_get("kind")?,
                state: JobState::parse(&state)?,
                attempts: $row.try_get("attempts")?,
                delivery_id: $row.try_get("delivery_id")?,
                serial_key: $row.try_get("serial_key")?,
                run_at: $row.try_get("run_at")?,
                last_error: $row.try_get("last_error")?,
            })
        })()
    };
}
use job_row;
