//! The durable job queue: enqueue (deduplicated), claim with a lease, complete, retry, bury.
//!
//! A claimed job carries its `attempts` count, which doubles as a fencing token: a worker whose
//! lease expired and whose job was claimed again cannot complete or retry it any more. Jobs
//! with the same `serial_key` never run at the same time (a partial unique index backs this).

use super::{Store, on_pool};
use anyhow::Context;
use sqlx::Row;
use std::fmt::Write as _;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What kind of job (`webhook`, `weekly_summary`, …).
    pub kind: String,
    /// GitHub's `X-GitHub-Delivery`: a second job with the same id is a no-op.
    pub delivery_id: Option<String>,
    /// Any other idempotency key (e.g. one weekly summary per slot).
    pub dedupe_key: Option<String>,
    /// Jobs with the same key run one at a time (e.g. `owner/repo#12`).
    pub serial_key: Option<String>,
    /// The job's input (for webhooks: the event name and the raw body).
    pub payload: Vec<u8>,
    /// Earliest time to run, unix ms.
    pub run_at: i64,
}

/// Whether an enqueue stored a new job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored.
    Inserted,
    /// A job with the same delivery id or dedupe key already exists; nothing changed.
    Duplicate,
}

/// A job claimed by a worker, with the lease it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// Row id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Input.
    pub payload: Vec<u8>,
    /// Claims so far, this one included; the fencing token for complete/retry/bury.
    pub attempts: i32,
    /// Delivery id, for webhook jobs.
    pub delivery_id: Option<String>,
    /// Serial key.
    pub serial_key: Option<String>,
    /// When it was stored, unix ms.
    pub created_at: i64,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed; `locked_until` is the lease.
    Running,
    /// Finished.
    Done,
    /// Gave up after too many attempts (dead letter); `last_error` says why.
    Dead,
}

impl JobState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    fn parse(s: &str) -> anyhow::Result<JobState> {
        Ok(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            other => anyhow::bail!("unknown job state `{other}` in the database"),
        })
    }
}

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

/// Rows per multi-row insert (8 parameters each, well under both databases' limits).
const MAX_ROWS_PER_INSERT: usize = 256;

/// `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING delivery_id, dedupe_key` for
/// `rows` jobs, 8 parameters a row in column order. SQLite gets positional `?` placeholders:
/// it looks a numbered one up by walking the statement's list of names, so binding `$1…$N`
/// costs O(N²) per statement, a visible share of a large batch's commit.
fn multi_row_insert(store: &Store, rows: usize) -> String {
    let numbered = matches!(store, Store::Postgres(_));
    let mut sql = String::from(
        "INSERT INTO jobs (kind, delivery_id, dedupe_key, serial_key, payload, run_at, created_at, updated_at) VALUES ",
    );
    for n in 1..=rows * 8 {
        sql.push_str(match n % 8 {
            1 if n == 1 => "(",
            1 => "), (",
            _ => ", ",
        });
        if numbered {
            let _ = write!(sql, "${n}");
        } else {
            sql.push('?');
        }
    }
    sql.push(')');
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING delivery_id, dedupe_key");
    sql
}

/// Which jobs of `chunk` were stored, given the keys of the rows the insert returned. A job
/// with no key cannot conflict, so it was stored; a job with a key was stored if a returned row
/// has that key and no earlier job of the chunk claimed it.
fn inserted_or_duplicate(
    chunk: &[NewJob],
    returned: &[(Option<String>, Option<String>)],
) -> Vec<Enqueued> {
    let mut delivered: std::collections::HashSet<&str> =
        returned.iter().filter_map(|r| r.0.as_deref()).collect();
    let mut deduped: std::collections::HashSet<&str> =
        returned.iter().filter_map(|r| r.1.as_deref()).collect();
    chunk
        .iter()
        .map(|job| {
            let stored = match (job.delivery_id.as_deref(), job.dedupe_key.as_deref()) {
                (None, None) => true,
                (Some(d), _) => delivered.remove(d),
                (None, Some(k)) => deduped.remove(k),
            };
            if stored {
                Enqueued::Inserted
            } else {
                Enqueued::Duplicate
            }
        })
        .collect()
}

/// A claim: a job whose serial key has no live running job, first one whose lease expired
/// (its worker died), else the oldest queued and due. Parameters: $1 lease end, $2 now.
///
/// Each branch walks `jobs_ready (state, run_at, id)` in order and stops at its first
/// claimable row, and `COALESCE` only reads the second when the first finds none, so a claim
/// costs the same with a backlog of thousands as with an empty queue. (One `OR` over both
/// states made SQLite collect and sort every due row for every claim: draining a backlog
/// was quadratic.)
///
/// A job taken over from an expired lease counts a crash; one that has crashed
/// [`MAX_CRASHES`] times is not claimed again ([`Store::bury_crashed`] buries it), so a job
/// that kills its process cannot crash-loop every replica ahead of new work.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET attempts = attempts + 1, \
             crashes = crashes + CASE WHEN state = 'running' THEN 1 ELSE 0 END, \
             state = 'running', locked_until = $1, updated_at = $2 \
             WHERE id = COALESCE(\
               (SELECT j.id FROM jobs j WHERE j.state = 'running' AND j.locked_until <= $2 \
                AND j.crashes < $3 - 1 AND ",
            claim_sql!(@free),
            " ORDER BY j.run_at, j.id LIMIT 1",
            $lock,
            "), \
               (SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.run_at <= $2 AND ",
            claim_sql!(@free),
            " ORDER BY j.run_at, j.id LIMIT 1",
            $lock,
            ")) RETURNING id, kind, payload, attempts, delivery_id, serial_key, created_at"
        )
    };
    (@free) => {
        "(j.serial_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.serial_key = j.serial_key \
           AND r.id <> j.id AND r.state = 'running' AND r.locked_until > $2))"
    };
}
const CLAIM_SQLITE: &str = claim_sql!("");

/// Crashes (or time-outs) after which a job is buried: a job is taken over from an expired
/// lease at most `MAX_CRASHES - 1` times (`$3` in [`claim_sql`]). Configurable
/// (`KEEL_MAX_CRASHES`): a storm of restarts can catch an innocent job in flight that often.
pub const MAX_CRASHES: i64 = 3;
const BURY_CRASHED: &str = "UPDATE jobs SET state = 'dead', locked_until = NULL, updated_at = $2, \
     last_error = 'crashed or timed out ' || CAST(crashes + 1 AS TEXT) || ' times (its process died, or it outlived its lease)' \
     WHERE state = 'running' AND locked_until <= $2 AND crashes >= $1 - 1";
const RENEW: &str =
    "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND attempts = $3 AND state = 'running'";
const CANCEL: &str = "UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = $1, updated_at = $2 \
     WHERE id = $3 AND state IN ('queued', 'running')";
/// As [`CLAIM_SQLITE`], skipping rows other workers are claiming right now.
const CLAIM_POSTGRES: &str = claim_sql!(" FOR UPDATE SKIP LOCKED");

const COMPLETE: &str = "UPDATE jobs SET state = 'done', locked_until = NULL, last_error = NULL, updated_at = $1 \
     WHERE id = $2 AND attempts = $3 AND state = 'running'";
const RETRY: &str = "UPDATE jobs SET state = 'queued', locked_until = NULL, run_at = $1, last_error = $2, updated_at = $3 \
     WHERE id = $4 AND attempts = $5 AND state = 'running'";
const BURY: &str = "UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = $1, updated_at = $2 \
     WHERE id = $3 AND attempts = $4 AND state = 'running'";
const REQUEUE_DEAD: &str = "UPDATE jobs SET state = 'queued', attempts = 0, crashes = 0, run_at = $1, updated_at = $1 \
     WHERE id = $2 AND state = 'dead'";
const COUNTS: &str = "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state";

impl Store {
    /// Stores one job; a duplicate delivery id or dedupe key changes nothing.
    pub async fn enqueue(&self, job: &NewJob, now: i64) -> anyhow::Result<Enqueued> {
        Ok(self.enqueue_batch(std::slice::from_ref(job), now).await?[0])
    }

    /// Stores several jobs with one multi-row statement per chunk: one round trip and one
    /// commit (one fsync) for all of them. This is how concurrent webhook deliveries share a
    /// commit (group commit). Inserted rows come back through `RETURNING`, so duplicates (of
    /// stored jobs or within the batch) are told apart by their keys.
    pub async fn enqueue_batch(&self, jobs: &[NewJob], now: i64) -> anyhow::Result<Vec<Enqueued>> {
        let mut out = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(MAX_ROWS_PER_INSERT) {
            let sql = sqlx::AssertSqlSafe(multi_row_insert(self, chunk.len()));
            let returned: Vec<(Option<String>, Option<String>)> = on_pool!(self, pool => {
                let mut q = sqlx::query(sql);
                for job in chunk {
                    q = q
                        .bind(&job.kind)
                        .bind(&job.delivery_id)
                        .bind(&job.dedupe_key)
                        .bind(&job.serial_key)
                        .bind(&job.payload)
                        .bind(job.run_at)
                        .bind(now)
                        .bind(now);
                }
                let rows = q.fetch_all(pool).await.context("insert jobs")?;
                rows.iter()
                    .map(|r| Ok((r.try_get("delivery_id")?, r.try_get("dedupe_key")?)))
                    .collect::<Result<_, sqlx::Error>>()?
            });
            out.extend(inserted_or_duplicate(chunk, &returned));
        }
        Ok(out)
    }

    /// Claims the oldest runnable job for `lease_ms`, or `None` when nothing can run now.
    pub async fn claim(&self, now: i64, lease_ms: i64) -> anyhow::Result<Option<ClaimedJob>> {
        self.claim_limited(now, lease_ms, MAX_CRASHES).await
    }

    /// As [`Store::claim`], never taking over a job that crashed `max_crashes - 1` times.
    pub async fn claim_limited(
        &self,
        now: i64,
        lease_ms: i64,
        max_crashes: i64,
    ) -> anyhow::Result<Option<ClaimedJob>> {
        let sql = match self {
            Store::Sqlite(_) => CLAIM_SQLITE,
            Store::Postgres(_) => CLAIM_POSTGRES,
        };
        on_pool!(self, pool => {
            match sqlx::query(sql).bind(now + lease_ms).bind(now).bind(max_crashes).fetch_optional(pool).await {
                Ok(None) => Ok(None),
                Ok(Some(row)) => Ok(Some(ClaimedJob {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    payload: row.try_get("payload")?,
                    attempts: row.try_get("attempts")?,
                    delivery_id: row.try_get("delivery_id")?,
                    serial_key: row.try_get("serial_key")?,
                    created_at: row.try_get("created_at")?,
                })),
                // Another worker claimed a job with the same serial key at the same moment.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
                Err(e) => Err(anyhow::Error::new(e).context("claim a job")),
            }
        })
    }

    /// Marks a claimed job done. `false` when the lease was lost (another worker has it now).
    pub async fn complete(&self, job: &ClaimedJob, now: i64) -> anyhow::Result<bool> {
        on_pool!(self, pool => {
            let r = sqlx::query(COMPLETE).bind(now).bind(job.id).bind(job.attempts).execute(pool).await;
            Ok(r.context("complete a job")?.rows_affected() == 1)
        })
    }

    /// Puts a claimed job back in the queue to run at `run_at`, keeping `error`.
    pub async fn retry_later(
        &self,
        job: &ClaimedJob,
        run_at: i64,
        error: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        on_pool!(self, pool => {
            let r = sqlx::query(RETRY)
                .bind(run_at)
                .bind(error)
                .bind(now)
                .bind(job.id)
                .bind(job.attempts)
                .execute(pool)
                .await;
            Ok(r.context("reschedule a job")?.rows_affected() == 1)
        })
    }

    /// Gives up on a claimed job (dead letter), keeping `error`.
    pub async fn bury(&self, job: &ClaimedJob, error: &str, now: i64) -> anyhow::Result<bool> {
        on_pool!(self, pool => {
            let r = sqlx::query(BURY).bind(error).bind(now).bind(job.id).bind(job.attempts).execute(pool).await;
            Ok(r.context("bury a job")?.rows_affected() == 1)
        })
    }

    /// The payloads of the first `limit` jobs queued behind job `id` with the same serial
    /// key, oldest first (read through the `jobs_by_serial` index, so a long backlog costs no
    /// more than a short one).
    pub async fn queued_behind(
        &self,
        serial_key: &str,
        id: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Vec<u8>>> {
        let payloads: Vec<(Vec<u8>,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT payload FROM jobs WHERE serial_key = $1 AND state = 'queued' AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(serial_key)
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await)
        .context("list the jobs queued behind a job")?;
        Ok(payloads.into_iter().map(|(p,)| p).collect())
    }

    /// Buries the jobs that crashed (or timed out) [`MAX_CRASHES`] times and whose last lease
    /// has expired; returns how many.
    pub async fn bury_crashed(&self, now: i64) -> anyhow::Result<u64> {
        self.bury_crashed_after(now, MAX_CRASHES).await
    }

    /// As [`Store::bury_crashed`], after `max_crashes`.
    pub async fn bury_crashed_after(&self, now: i64, max_crashes: i64) -> anyhow::Result<u64> {
        on_pool!(self, pool => {
            let r = sqlx::query(BURY_CRASHED).bind(max_crashes).bind(now).execute(pool).await;
            Ok(r.context("bury crashed jobs")?.rows_affected())
        })
    }

    /// Extends a running job's lease to `until`. `false` when the worker no longer owns it
    /// (its lease expired and another took it, or it was cancelled): it must stop.
    pub async fn renew_lease(&self, job: &ClaimedJob, until: i64) -> anyhow::Result<bool> {
        on_pool!(self, pool => {
            let r = sqlx::query(RENEW).bind(until).bind(job.id).bind(job.attempts).execute(pool).await;
            Ok(r.context("renew a lease")?.rows_affected() == 1)
        })
    }

    /// Ends a queued or running job as dead with `reason` (`keel jobs cancel`); a running
    /// one stops at its next lease renewal. `false` when it is neither.
    pub async fn cancel_job(&self, id: i64, reason: &str, now: i64) -> anyhow::Result<bool> {
        on_pool!(self, pool => {
            let r = sqlx::query(CANCEL).bind(reason).bind(now).bind(id).execute(pool).await;
            Ok(r.context("cancel a job")?.rows_affected() == 1)
        })
    }

    /// Queues a dead job again with a fresh attempt count (`keel jobs retry`).
    pub async fn requeue_dead(&self, id: i64, now: i64) -> anyhow::Result<bool> {
        on_pool!(self, pool => {
            let r = sqlx::query(REQUEUE_DEAD).bind(now).bind(id).execute(pool).await;
            Ok(r.context("requeue a dead job")?.rows_affected() == 1)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The claim reads the ready index in order in both branches: no sort of the backlog,
    /// no scan of the table (see `claim_sql!`).
    #[tokio::test]
    async fn a_claim_on_sqlite_walks_the_ready_index_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("keel.db").display());
        let Store::Sqlite(pool) = Store::connect(&url).await.unwrap() else {
            unreachable!("a SQLite URL")
        };
        let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {CLAIM_SQLITE}"
        )))
        .bind(2_000_i64)
        .bind(1_000_i64)
        .bind(MAX_CRASHES)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>("detail"))
        .collect();
        let plan = plan.join("\n");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        assert!(!plan.contains("SCAN"), "{plan}");
        assert_eq!(plan.matches("USING INDEX jobs_ready").count(), 2, "{plan}");
    }
}
