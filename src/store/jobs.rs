//! The durable job queue: claim with a lease, complete, retry, park, bury, renew (enqueueing
//! is `enqueue.rs`, lanes `lanes.rs`, what operators see `queue_admin.rs`).
//!
//! A claimed job carries its `attempts` count, which doubles as a fencing token: a worker whose
//! lease expired and whose job was claimed again cannot complete or retry it any more. Jobs
//! with the same `serial_key` never run at the same time (a partial unique index backs this).

use super::tx::Arg;
use super::{Store, on_pool};
use anyhow::Context;
use sqlx::Row;

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
    /// The installation whose API budget it spends (parked together when that is spent).
    pub installation: Option<i64>,
    /// Whose share of the workers it takes: the repository (`owner/name`).
    pub fair_group: Option<String>,
}

/// Whether an enqueue stored a new job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored, and a worker can claim it now.
    Inserted,
    /// Stored; it runs after the jobs ahead of it in its lane, or at its time.
    Waiting,
    /// A job with the same delivery id or dedupe key already exists; nothing changed.
    Duplicate,
}

impl Enqueued {
    /// Whether the job was stored (claimable now or not).
    pub fn stored(self) -> bool {
        !matches!(self, Enqueued::Duplicate)
    }
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
    /// The installation whose API budget it spends.
    pub installation: Option<i64>,
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

    pub(super) fn parse(s: &str) -> anyhow::Result<JobState> {
        Ok(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            other => anyhow::bail!("unknown job state `{other}` in the database"),
        })
    }
}

/// A claim's candidates, each the first row of a partial index (the claim's whole search):
/// a job whose lease expired (its worker died; taken over unless it crashed
/// [`MAX_CRASHES`] − 1 times already, then [`Store::bury_crashed`] buries it), else the
/// claimable job first in fair order. Parameters: $1 now, $2 max crashes.
const EXPIRED: &str = "SELECT id FROM jobs WHERE state = 'running' AND locked_until <= $1 AND crashes < $2 - 1 \
     ORDER BY locked_until, id LIMIT 1";
const CLAIMABLE: &str =
    "SELECT id FROM jobs WHERE state = 'queued' AND ready = 1 ORDER BY fair_at, id LIMIT 1";
/// Takes candidate $3 if it is still claimable: one primary-key update, so SQLite's write lock
/// is held for that alone, never for a search. Parameters: $1 lease end, $2 now, $3 id,
/// $4 max crashes. A take-over counts a crash.
const TAKE: &str = "UPDATE jobs SET attempts = attempts + 1, \
     crashes = crashes + CASE WHEN state = 'running' THEN 1 ELSE 0 END, \
     state = 'running', locked_until = $1, updated_at = $2 \
     WHERE id = $3 AND ((state = 'queued' AND ready = 1) \
       OR (state = 'running' AND locked_until <= $2 AND crashes < $4 - 1)) \
     RETURNING id, kind, payload, attempts, delivery_id, serial_key, created_at, installation_id";
/// PostgreSQL searches and takes in one statement, skipping rows other workers are taking.
/// Parameters as [`TAKE`], without $3.
const CLAIM_POSTGRES: &str = "UPDATE jobs SET attempts = attempts + 1, \
     crashes = crashes + CASE WHEN state = 'running' THEN 1 ELSE 0 END, \
     state = 'running', locked_until = $1, updated_at = $2 \
     WHERE id = COALESCE(\
       (SELECT id FROM jobs WHERE state = 'running' AND locked_until <= $2 AND crashes < $3 - 1 \
        ORDER BY locked_until, id LIMIT 1 FOR UPDATE SKIP LOCKED), \
       (SELECT id FROM jobs WHERE state = 'queued' AND ready = 1 ORDER BY fair_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)) \
     RETURNING id, kind, payload, attempts, delivery_id, serial_key, created_at, installation_id";
/// Whether a waiting head's time has come (a cheap read before a promotion writes).
const ANY_DUE: &str = "SELECT id FROM jobs WHERE state = 'queued' AND ready = 2 AND run_at <= $1 ORDER BY run_at, id LIMIT 1";
/// How long a head whose serial key runs outside the lanes is put off, ms.
const LANE_BUSY_WAIT_MS: i64 = 5_000;
/// Waiting heads made claimable per promotion.
const PROMOTE_LIMIT: i64 = 64;

/// Crashes (or time-outs) after which a job is buried: a job is taken over from an expired
/// lease at most `MAX_CRASHES - 1` times. Configurable (`KEEL_MAX_CRASHES`): a storm of
/// restarts can catch an innocent job in flight that often.
pub const MAX_CRASHES: i64 = 3;
const BURY_CRASHED: &str = "UPDATE jobs SET state = 'dead', locked_until = NULL, updated_at = $2, \
     last_error = 'crashed or timed out ' || CAST(crashes + 1 AS TEXT) || ' times (its process died, or it outlived its lease)' \
     WHERE state = 'running' AND locked_until <= $2 AND crashes >= $1 - 1 RETURNING id, serial_key";
const RENEW: &str =
    "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND attempts = $3 AND state = 'running'";
const COMPLETE: &str = "UPDATE jobs SET state = 'done', locked_until = NULL, last_error = NULL, updated_at = $1 \
     WHERE id = $2 AND attempts = $3 AND state = 'running'";
/// A retried job stays its lane's head, waiting for its time.
const RETRY: &str = "UPDATE jobs SET state = 'queued', ready = 2, locked_until = NULL, run_at = $1, last_error = $2, updated_at = $3 \
     WHERE id = $4 AND attempts = $5 AND state = 'running'";
/// As [`RETRY`], giving the attempt back: waiting for a rate limit is not a failure.
const PARK: &str = "UPDATE jobs SET state = 'queued', ready = 2, locked_until = NULL, run_at = $1, last_error = $2, updated_at = $3, \
     attempts = attempts - 1 WHERE id = $4 AND attempts = $5 AND state = 'running'";
const BURY: &str = "UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = $1, updated_at = $2 \
     WHERE id = $3 AND attempts = $4 AND state = 'running'";
impl Store {
    /// Claims the runnable job first in fair order for `lease_ms`, or `None` when nothing can
    /// run now.
    pub async fn claim(&self, now: i64, lease_ms: i64) -> anyhow::Result<Option<ClaimedJob>> {
        self.claim_limited(now, lease_ms, MAX_CRASHES).await
    }

    /// As [`Store::claim`], never taking over a job that crashed `max_crashes - 1` times.
    ///
    /// A claim first makes waiting heads whose time came claimable (when a cheap read finds
    /// one), then reads the first row of the claim's indexes and takes it by id. On SQLite the
    /// search is a read outside the write lock; a lost race reads again.
    pub async fn claim_limited(
        &self,
        now: i64,
        lease_ms: i64,
        max_crashes: i64,
    ) -> anyhow::Result<Option<ClaimedJob>> {
        self.promote_due(now).await?;
        let pool = match self {
            Store::Sqlite(pool) => pool,
            Store::Postgres(pool) => {
                let row = sqlx::query(CLAIM_POSTGRES)
                    .bind(now + lease_ms)
                    .bind(now)
                    .bind(max_crashes)
                    .fetch_optional(pool)
                    .await;
                return match row {
                    Ok(row) => row.map(|r| claimed_job!(r)).transpose(),
                    // A job of the candidate's serial key is running outside the lanes (an
                    // older replica during a rolling deploy): put the candidate off a moment,
                    // so the next claim takes another.
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        sqlx::query(
                            "UPDATE jobs SET ready = 2, run_at = $1 WHERE id = (SELECT id FROM jobs \
                             WHERE state = 'queued' AND ready = 1 ORDER BY fair_at, id LIMIT 1)",
                        )
                        .bind(now + LANE_BUSY_WAIT_MS)
                        .execute(pool)
                        .await
                        .context("put a job off")?;
                        Ok(None)
                    }
                    Err(e) => Err(anyhow::Error::new(e).context("claim a job")),
                };
            }
        };
        for _ in 0..8 {
            let mut candidate: Option<(i64,)> = sqlx::query_as(EXPIRED)
                .bind(now)
                .bind(max_crashes)
                .fetch_optional(pool)
                .await
                .context("look for an expired lease")?;
            if candidate.is_none() {
                candidate = sqlx::query_as(CLAIMABLE)
                    .fetch_optional(pool)
                    .await
                    .context("look for a claimable job")?;
            }
            let Some((id,)) = candidate else {
                return Ok(None);
            };
            let taken = sqlx::query(TAKE)
                .bind(now + lease_ms)
                .bind(now)
                .bind(id)
                .bind(max_crashes)
                .fetch_optional(pool)
                .await;
            match taken {
                Ok(Some(row)) => return claimed_job!(row).map(Some),
                // Another worker took it first: read again.
                Ok(None) => {}
                // A job of its serial key is running outside the lanes (an older replica during
                // a rolling deploy): it waits a moment and is tried again.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    sqlx::query(
                        "UPDATE jobs SET ready = 2, run_at = $1 WHERE id = $2 AND state = 'queued'",
                    )
                    .bind(now + LANE_BUSY_WAIT_MS)
                    .bind(id)
                    .execute(pool)
                    .await
                    .context("put a job off")?;
                }
                Err(e) => return Err(anyhow::Error::new(e).context("claim a job")),
            }
        }
        Ok(None)
    }

    /// Makes waiting heads whose time came claimable; a read first, so an idle queue writes
    /// nothing. Returns how many.
    pub async fn promote_due(&self, now: i64) -> anyhow::Result<usize> {
        let due: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(ANY_DUE)
            .bind(now)
            .fetch_optional(pool)
            .await)
        .context("look for jobs coming due")?;
        if due.is_none() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let promoted = tx
            .promote_due(now, PROMOTE_LIMIT)
            .await
            .context("make jobs coming due claimable")?;
        tx.commit().await.context("commit jobs coming due")?;
        Ok(promoted)
    }

    /// Ends a claim with `sql` (fenced on the claim's attempt count; `$1…` are `args`), then
    /// passes its lane on when `release`. `false` when the lease was lost.
    async fn end_claim(
        &self,
        job: &ClaimedJob,
        sql: &str,
        args: &[Arg<'_>],
        release: bool,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let ended = tx.exec(sql, args).await? == 1;
        if ended
            && release
            && let Some(key) = &job.serial_key
        {
            tx.release_lane(key, job.id, now).await?;
        }
        tx.commit().await?;
        Ok(ended)
    }

    /// Marks a claimed job done. `false` when the lease was lost (another worker has it now).
    pub async fn complete(&self, job: &ClaimedJob, now: i64) -> anyhow::Result<bool> {
        let args = [
            Arg::Int(now),
            Arg::Int(job.id),
            Arg::Int(job.attempts.into()),
        ];
        self.end_claim(job, COMPLETE, &args, true, now)
            .await
            .context("complete a job")
    }

    /// Puts a claimed job back in the queue to run at `run_at`, keeping `error`. It stays its
    /// lane's head: the jobs behind it wait (and most often coalesce into it).
    pub async fn retry_later(
        &self,
        job: &ClaimedJob,
        run_at: i64,
        error: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        let args = [
            Arg::Int(run_at),
            Arg::Text(error),
            Arg::Int(now),
            Arg::Int(job.id),
            Arg::Int(job.attempts.into()),
        ];
        self.end_claim(job, RETRY, &args, false, now)
            .await
            .context("reschedule a job")
    }

    /// Puts a claimed job back until `until` without counting the attempt, and parks its
    /// installation until then (see [`Store::claim`]): its API budget is spent, and its other
    /// jobs wait for the reset too, while other installations' jobs run.
    pub async fn park(
        &self,
        job: &ClaimedJob,
        installation: Option<i64>,
        until: i64,
        error: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let args = [
            Arg::Int(until),
            Arg::Text(error),
            Arg::Int(now),
            Arg::Int(job.id),
            Arg::Int(job.attempts.into()),
        ];
        let parked = tx.exec(PARK, &args).await.context("park a job")? == 1;
        if parked && let Some(installation) = installation {
            tx.park(installation, until)
                .await
                .context("park an installation")?;
        }
        tx.commit().await.context("commit a park")?;
        Ok(parked)
    }

    /// Gives up on a claimed job (dead letter), keeping `error`.
    pub async fn bury(&self, job: &ClaimedJob, error: &str, now: i64) -> anyhow::Result<bool> {
        let args = [
            Arg::Text(error),
            Arg::Int(now),
            Arg::Int(job.id),
            Arg::Int(job.attempts.into()),
        ];
        self.end_claim(job, BURY, &args, true, now)
            .await
            .context("bury a job")
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
        let mut tx = self.begin().await?;
        let mut buried: Vec<(i64, Option<String>)> = tx
            .rows(BURY_CRASHED, &[Arg::Int(max_crashes), Arg::Int(now)])
            .await
            .context("bury crashed jobs")?;
        // Lanes in key order, as every transaction takes them: no deadlock.
        buried.sort_by(|a, b| a.1.cmp(&b.1));
        for (id, key) in &buried {
            if let Some(key) = key {
                tx.release_lane(key, *id, now).await?;
            }
        }
        tx.commit().await.context("commit buried jobs")?;
        Ok(buried.len() as u64)
    }

    /// Repairs lanes a crash or an older replica (one that knew no lanes, during a rolling
    /// deploy) left behind: a lane whose head is no longer queued or running is passed on, and
    /// the queued jobs of a serial key without a lane take one. Returns the lanes repaired.
    /// The worker loop runs it with [`Store::bury_crashed`].
    pub async fn repair_lanes(&self, now: i64) -> anyhow::Result<usize> {
        let stale: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT l.serial_key, l.head FROM job_lanes l WHERE NOT EXISTS \
             (SELECT 1 FROM jobs j WHERE j.id = l.head AND j.state IN ('queued', 'running')) \
             ORDER BY l.serial_key LIMIT 256",
        )
        .fetch_all(pool)
        .await)
        .context("look for stale lanes")?;
        for (key, head) in &stale {
            let mut tx = self.begin().await?;
            tx.release_lane(key, *head, now).await?;
            tx.commit().await.context("pass a stale lane on")?;
        }
        let orphans: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT j.serial_key, MIN(j.id) FROM jobs j WHERE j.state = 'queued' AND j.ready = 0 \
             AND j.serial_key IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM job_lanes l WHERE l.serial_key = j.serial_key) \
             GROUP BY j.serial_key ORDER BY j.serial_key LIMIT 256",
        )
        .fetch_all(pool)
        .await)
        .context("look for jobs without a lane")?;
        let adopted = orphans.len();
        if adopted > 0 {
            let mut tx = self.begin().await?;
            let heads: Vec<i64> = tx.take_lanes(orphans).await?.into_iter().collect();
            tx.schedule(&heads, now).await?;
            tx.commit().await.context("give jobs their lanes")?;
        }
        Ok(stale.len() + adopted)
    }

    /// Extends a running job's lease to `until`. `false` when the worker no longer owns it
    /// (its lease expired and another took it, or it was cancelled): it must stop.
    pub async fn renew_lease(&self, job: &ClaimedJob, until: i64) -> anyhow::Result<bool> {
        on_pool!(self, pool => {
            let r = sqlx::query(RENEW).bind(until).bind(job.id).bind(job.attempts).execute(pool).await;
            Ok(r.context("renew a lease")?.rows_affected() == 1)
        })
    }

    /// The query plan of each statement a claim runs (`expired`, `claimable`, `due`, and on
    /// SQLite `take`; PostgreSQL's `claim` searches and takes at once), as the database
    /// reports it: a diagnostic, and what the tests hold the claim's cost to.
    pub async fn claim_plans(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        let mut plans = Vec::new();
        match self {
            Store::Sqlite(pool) => {
                for (name, sql, args) in [
                    ("expired", EXPIRED, vec![1_000_i64, MAX_CRASHES]),
                    ("claimable", CLAIMABLE, vec![]),
                    ("due", ANY_DUE, vec![1_000]),
                    ("take", TAKE, vec![2_000, 1_000, 1, MAX_CRASHES]),
                ] {
                    let mut q =
                        sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
                    for a in args {
                        q = q.bind(a);
                    }
                    let rows = q.fetch_all(pool).await.context("explain a claim")?;
                    let lines: Vec<String> =
                        rows.iter().map(|r| r.get::<String, _>("detail")).collect();
                    plans.push((name, lines.join("\n")));
                }
            }
            Store::Postgres(pool) => {
                for (name, sql, args) in [
                    ("expired", EXPIRED, vec![1_000_i64, MAX_CRASHES]),
                    ("claimable", CLAIMABLE, vec![]),
                    ("due", ANY_DUE, vec![1_000]),
                    ("claim", CLAIM_POSTGRES, vec![2_000, 1_000, MAX_CRASHES]),
                ] {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
                    for a in args {
                        q = q.bind(a);
                    }
                    let rows = q.fetch_all(pool).await.context("explain a claim")?;
                    let lines: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
                    plans.push((name, lines.join("\n")));
                }
            }
        }
        Ok(plans)
    }
}

/// Decodes a `ClaimedJob` from a row of either backend.
macro_rules! claimed_job {
    ($row:expr) => {
        (|| -> anyhow::Result<ClaimedJob> {
            Ok(ClaimedJob {
                id: $row.try_get("id")?,
                kind: $row.try_get("kind")?,
                payload: $row.try_get("payload")?,
                attempts: $row.try_get("attempts")?,
                delivery_id: $row.try_get("delivery_id")?,
                serial_key: $row.try_get("serial_key")?,
                created_at: $row.try_get("created_at")?,
                installation: $row.try_get("installation_id")?,
            })
        })()
    };
}
use claimed_job;

#[cfg(test)]
mod tests {
    use super::*;

    /// Each claim statement reads an index (or the primary key) in order: no sort, no scan of
    /// the table, nothing behind a running job.
    #[tokio::test]
    async fn every_claim_statement_on_sqlite_reads_an_index_without_sorting() {
        let store = Store::in_memory().await.unwrap();
        let plans = store.claim_plans().await.unwrap();
        assert_eq!(plans.len(), 4);
        for (name, plan) in &plans {
            assert!(!plan.contains("TEMP B-TREE"), "{name}: {plan}");
            // A scan is only ever of a partial index in its order, stopping at the first
            // row (`LIMIT 1`): every row of `jobs_claimable` is claimable.
            for line in plan.lines().filter(|l| l.contains("SCAN")) {
                assert!(line.contains("INDEX jobs_claimable"), "{name}: {plan}");
            }
        }
        let plan = |n: &str| &plans.iter().find(|p| p.0 == n).unwrap().1;
        assert!(
            plan("expired").contains("INDEX jobs_leases"),
            "{}",
            plan("expired")
        );
        assert!(
            plan("claimable").contains("INDEX jobs_claimable"),
            "{}",
            plan("claimable")
        );
        assert!(
            plan("due").contains("INDEX jobs_scheduled"),
            "{}",
            plan("due")
        );
        assert!(
            plan("take").contains("INTEGER PRIMARY KEY"),
            "{}",
            plan("take")
        );
    }
}
