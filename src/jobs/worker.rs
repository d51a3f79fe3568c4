//! The worker: claim a job with a lease, run it, then complete it, retry it with exponential
//! backoff and jitter (or at the time a rate limit names), or bury it as a dead letter after
//! [`MAX_ATTEMPTS`]. Time is passed in, so tests drive it without sleeping.

use super::EVENT_JOB;
use super::report_cache::ReportCache;
use super::{Context, JobError};
use crate::github::api::GitHubApi;
use crate::github::event::Event;
use crate::metrics::{JobOutcome, Metrics};
use crate::store::{ClaimedJob, Store};
use std::sync::Arc;
use tracing::Instrument;

/// Attempts before a job becomes a dead letter.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claim holds before another worker may take the job over.
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// The longest a rate limit parks an installation: GitHub's windows last an hour.
pub const MAX_PARK_MS: i64 = 61 * 60 * 1000;
/// How often the worker loop buries jobs that crashed too often.
const REAP_EVERY_MS: i64 = 30_000;
const BACKOFF_BASE_MS: i64 = 2_000;
const BACKOFF_MAX_MS: i64 = 10 * 60 * 1000;

/// What one step of the worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// Nothing could run.
    Idle,
    /// Job `id` finished.
    Done(i64),
    /// Job `id` will run again at `run_at`.
    Retried {
        /// Job id.
        id: i64,
        /// Next run, unix ms.
        run_at: i64,
    },
    /// Job `id` gave up (dead letter).
    Buried(i64),
    /// Job `id` finished, but its lease had expired and another worker owns it now.
    LeaseLost(i64),
}

/// Runs jobs from the store against GitHub.
pub struct Worker<G> {
    store: Store,
    github: Arc<G>,
    metrics: Arc<Metrics>,
    lease_ms: i64,
    max_crashes: i64,
    reports: Arc<ReportCache>,
}

impl<G: GitHubApi + 'static> Worker<G> {
    /// A worker over `store`, calling GitHub through `github`.
    pub fn new(store: Store, github: Arc<G>) -> Worker<G> {
        Worker {
            store,
            github,
            metrics: Arc::new(Metrics::default()),
            lease_ms: LEASE_MS,
            max_crashes: crate::store::MAX_CRASHES,
            reports: Arc::default(),
        }
    }

    /// Records job latency into `metrics` (the server's).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Worker<G> {
        self.metrics = metrics;
        self
    }

    /// Shares `cache` of parsed reports (the server's workers share one).
    pub fn with_report_cache(mut self, cache: Arc<ReportCache>) -> Worker<G> {
        self.reports = cache;
        self
    }

    /// Holds claims for `lease_ms` instead of [`LEASE_MS`].
    pub fn with_lease_ms(mut self, lease_ms: i64) -> Worker<G> {
        self.lease_ms = lease_ms;
        self
    }

    /// Buries a job after `max_crashes` crashes instead of [`crate::store::MAX_CRASHES`].
    pub fn with_max_crashes(mut self, max_crashes: i64) -> Worker<G> {
        self.max_crashes = max_crashes;
        self
    }

    /// Claims and runs one job at time `now` (unix ms).
    pub async fn run_one(&self, now: i64) -> anyhow::Result<Ran> {
        let Some(job) = self
            .store
            .claim_limited(now, self.lease_ms, self.max_crashes)
            .await?
        else {
            return Ok(Ran::Idle);
        };
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts, serial = job.serial_key.as_deref().unwrap_or("-"));
        // Instrumented, never entered: an entered span held across an `.await` leaks into
        // whatever else runs on the thread meanwhile.
        self.metrics.job_running(1);
        let ran = self.finish(job, now).instrument(span).await;
        self.metrics.job_running(-1);
        match &ran {
            Ok(Ran::Done(_)) => self.metrics.job_ended(JobOutcome::Done),
            Ok(Ran::Buried(_)) => self.metrics.job_ended(JobOutcome::Buried),
            Ok(Ran::LeaseLost(_)) => self.metrics.job_ended(JobOutcome::LeaseLost),
            // Parks are counted where they happen.
            Ok(Ran::Retried { .. } | Ran::Idle) | Err(_) => {}
        }
        ran
    }

    /// Runs a claimed job and records its outcome. While it runs its lease is renewed; when
    /// a renewal fails (the lease was lost, or the job was cancelled) the job is stopped.
    async fn finish(&self, job: ClaimedJob, now: i64) -> anyhow::Result<Ran> {
        let started = std::time::Instant::now();
        let result = tokio::select! {
            result = self.execute(&job, now) => result,
            lost = self.keep_lease(&job, now, started) => {
                lost?;
                tracing::warn!("the job's lease was lost or it was cancelled: stopped");
                return Ok(Ran::LeaseLost(job.id));
            }
        };
        let ran = match result {
            Ok(()) => {
                if self.store.complete(&job, now).await? {
                    let ran_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
                    self.metrics
                        .job_done(now.saturating_sub(job.created_at).saturating_add(ran_ms));
                    Ran::Done(job.id)
                } else {
                    Ran::LeaseLost(job.id)
                }
            }
            Err(JobError::Permanent(reason)) => self.bury(&job, &reason, now).await?,
            // The installation's API budget is spent: wait for GitHub's reset, with its other
            // jobs, without counting an attempt; other installations go on being served.
            Err(JobError::RateLimited { after_ms, reason }) => {
                // GitHub's windows are an hour: a longer wait is a bogus header.
                let until = now.saturating_add(after_ms.clamp(1_000, MAX_PARK_MS));
                tracing::warn!(until, installation = ?job.installation, reason, "rate limited; the installation's jobs wait for the reset");
                self.metrics.job_ended(JobOutcome::Parked);
                if self
                    .store
                    .park(&job, job.installation, until, &reason, now)
                    .await?
                {
                    Ran::Retried {
                        id: job.id,
                        run_at: until,
                    }
                } else {
                    Ran::LeaseLost(job.id)
                }
            }
            Err(e) if job.attempts >= MAX_ATTEMPTS => {
                self.bury(
                    &job,
                    &format!("gave up after {} attempts: {e}", job.attempts),
                    now,
                )
                .await?
            }
            Err(e) => {
                let wait = backoff_ms(job.attempts, job.id);
                let run_at = now.saturating_add(wait);
                tracing::warn!(error = %e, run_at, "job failed; will retry");
                self.metrics.job_ended(JobOutcome::Retried);
                if self
                    .store
                    .retry_later(&job, run_at, &e.to_string(), now)
                    .await?
                {
                    Ran::Retried { id: job.id, run_at }
                } else {
                    Ran::LeaseLost(job.id)
                }
            }
        };
        Ok(ran)
    }

    /// Renews `job`'s lease every third of it (the lease runs from the claim at `now`, plus
    /// the time since `started`); returns when a renewal fails: the worker no longer owns the
    /// job. Never returns while it does.
    async fn keep_lease(
        &self,
        job: &ClaimedJob,
        now: i64,
        started: std::time::Instant,
    ) -> anyhow::Result<()> {
        let every =
            std::time::Duration::from_millis(u64::try_from(self.lease_ms / 3).unwrap_or(1).max(1));
        loop {
            tokio::time::sleep(every).await;
            let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            let until = now.saturating_add(elapsed).saturating_add(self.lease_ms);
            if !self.store.renew_lease(job, until).await? {
                return Ok(());
            }
        }
    }

    /// Buries the jobs that crashed or timed out [`crate::store::MAX_CRASHES`] times (see
    /// [`crate::store::Store::bury_crashed`]), then repairs lanes left behind
    /// ([`crate::store::Store::repair_lanes`]); returns how many were buried.
    pub async fn bury_crashed(&self, now: i64) -> anyhow::Result<u64> {
        let buried = self.store.bury_crashed_after(now, self.max_crashes).await?;
        if buried > 0 {
            tracing::error!(
                buried,
                "jobs that crashed or timed out repeatedly buried as dead letters"
            );
        }
        let repaired = self.store.repair_lanes(now).await?;
        if repaired > 0 {
            tracing::warn!(
                repaired,
                "lanes left behind by a crash or an older replica repaired"
            );
        }
        Ok(buried)
    }

    /// Runs jobs until none can run at `now`; returns what each step did. Jobs that crashed
    /// too often are buried first.
    pub async fn run_until_idle(&self, now: i64) -> anyhow::Result<Vec<Ran>> {
        self.bury_crashed(now).await?;
        let mut steps = Vec::new();
        for _ in 0..100_000 {
            match self.run_one(now).await? {
                Ran::Idle => return Ok(steps),
                ran => steps.push(ran),
            }
        }
        Ok(steps)
    }

    /// Runs jobs until `shutdown` turns true: a job as soon as `wake` is notified (the intake
    /// does on every stored delivery) or every second otherwise (retries coming due, other
    /// replicas' deliveries). Each step is sent to `steps` when given (tests await it). A job in
    /// flight at shutdown is finished first; a killed worker's job returns after its lease.
    pub async fn run_loop(
        self,
        wake: Arc<tokio::sync::Notify>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
        steps: Option<tokio::sync::mpsc::UnboundedSender<Ran>>,
    ) {
        let mut last_reap = 0i64;
        while !*shutdown.borrow() {
            let now = crate::clock::now_ms();
            if now.saturating_sub(last_reap) >= REAP_EVERY_MS {
                last_reap = now;
                if let Err(e) = self.bury_crashed(now).await {
                    tracing::error!(error = format!("{e:#}"), "burying crashed jobs failed");
                }
            }
            match self.run_one(now).await {
                Ok(Ran::Idle) => {
                    tokio::select! {
                        () = wake.notified() => {}
                        () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Ok(ran) => {
                    if let Some(tx) = &steps {
                        let _ = tx.send(ran);
                    }
                }
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "worker step failed");
                    tokio::select! {
                        () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    async fn bury(&self, job: &ClaimedJob, reason: &str, now: i64) -> anyhow::Result<Ran> {
        tracing::error!(error = reason, "job buried as a dead letter");
        Ok(if self.store.bury(job, reason, now).await? {
            Ran::Buried(job.id)
        } else {
            Ran::LeaseLost(job.id)
        })
    }

    async fn execute(&self, job: &ClaimedJob, now: i64) -> Result<(), JobError> {
        match job.kind.as_str() {
            EVENT_JOB => {
                let event: Event = serde_json::from_slice(&job.payload).map_err(|e| {
                    JobError::Permanent(format!("stored event cannot be read: {e}"))
                })?;
                let ctx = Context {
                    store: &self.store,
                    github: self.github.as_ref(),
                    now,
                    origin: job
                        .delivery_id
                        .clone()
                        .unwrap_or_else(|| format!("job-{}", job.id)),
                    job_id: Some(job.id),
                    reports: Some(&self.reports),
                };
                // Boxed: a job's future is large in debug builds; the worker's stays small.
                Box::pin(super::handle(&ctx, &event)).await
            }
            other => Err(JobError::Permanent(format!("unknown job kind `{other}`"))),
        }
    }
}

/// Exponential backoff from 2 s to 10 min, with ±25% jitter derived from the job id so that
/// jobs failing together do not retry together.
pub fn backoff_ms(attempts: i32, seed: i64) -> i64 {
    let exp = BACKOFF_BASE_MS
        .saturating_mul(1i64 << attempts.clamp(1, 20).saturating_sub(1))
        .min(BACKOFF_MAX_MS);
    let spread = (seed
        .wrapping_mul(2_654_435_761)
        .wrapping_add(i64::from(attempts))
        & 0x3ff) as f64
        / 1023.0;
    (exp as f64 * (0.75 + 0.5 * spread)) as i64
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_grows_exponentially_within_its_jitter_and_caps() {
        for seed in 0..50 {
            let first = backoff_ms(1, seed);
            assert!((1_500..=2_500).contains(&first), "{first}");
            let fourth = backoff_ms(4, seed);
            assert!((12_000..=20_000).contains(&fourth), "{fourth}");
            assert!(backoff_ms(30, seed) <= 750_000);
        }
        assert_ne!(
            backoff_ms(3, 1),
            backoff_ms(3, 2),
            "jitter differs between jobs"
        );
    }
}
