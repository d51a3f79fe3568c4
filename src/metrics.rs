//! The few series Keel exposes on `/metrics`, rendered in Prometheus text format: deliveries
//! by event and outcome, the queue by state, job latency (delivery stored → job done), GitHub
//! API calls by status, and the rate limit GitHub last reported. Labels are bounded: event
//! names outside the known set count as `other`, statuses are numbers or `error`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

/// Upper bounds (seconds) of the job latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// Events named in metrics; any other header value is `other`.
const KNOWN_EVENTS: &[&str] = &[
    "pull_request",
    "check_suite",
    "check_run",
    "merge_group",
    "workflow_run",
    "push",
    "installation",
    "installation_repositories",
    "deployment_status",
    "issues",
    "release",
    "pull_request_review",
    "ping",
];

/// What happened to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Stored; 202.
    Accepted,
    /// Already stored; 200.
    Duplicate,
    /// Valid, not used; 200.
    Ignored,
    /// Missing or wrong signature; 401.
    BadSignature,
    /// Missing headers or malformed payload; 400.
    Malformed,
    /// Over the body limit; 413.
    TooLarge,
    /// The store failed; 503.
    Failed,
    /// Too many bodies in flight before their signature could be checked; 503.
    Busy,
    /// The body did not arrive in time; 408.
    TimedOut,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::BadSignature => "bad_signature",
            Outcome::Malformed => "malformed",
            Outcome::TooLarge => "too_large",
            Outcome::Failed => "failed",
            Outcome::Busy => "busy",
            Outcome::TimedOut => "timed_out",
        }
    }
}

/// Process-wide counters.
#[derive(Debug)]
pub struct Metrics {
    deliveries: Mutex<BTreeMap<(&'static str, Outcome), u64>>,
    /// GitHub calls by status (`None`: no response).
    github_calls: Mutex<BTreeMap<Option<u16>, u64>>,
    /// `x-ratelimit-remaining` of the latest response that had it; -1 before any.
    rate_limit_remaining: AtomicI64,
    /// Each installation's API budget as GitHub last reported it.
    budgets: Mutex<BTreeMap<u64, Budget>>,
    /// Jobs this process ended, by how.
    job_outcomes: Mutex<BTreeMap<JobOutcome, u64>>,
    /// Jobs this process is running now.
    jobs_running: AtomicI64,
    jobs: Mutex<Histogram>,
}

/// An installation's API budget: calls left in GitHub's window, and when it resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// `x-ratelimit-remaining`.
    pub remaining: u64,
    /// `x-ratelimit-reset`, unix seconds.
    pub reset_secs: u64,
}

/// Installations whose budget is tracked, at most (a bound on memory and on label values).
const MAX_BUDGETS: usize = 10_000;

/// How a job this process ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum JobOutcome {
    /// Finished.
    Done,
    /// Failed; runs again after a backoff.
    Retried,
    /// Its installation's budget was spent; waits for the reset.
    Parked,
    /// Dead letter.
    Buried,
    /// Another worker owns it now, or it was cancelled.
    LeaseLost,
}

impl JobOutcome {
    fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Done => "done",
            JobOutcome::Retried => "retried",
            JobOutcome::Parked => "parked",
            JobOutcome::Buried => "buried",
            JobOutcome::LeaseLost => "lease_lost",
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            deliveries: Mutex::default(),
            github_calls: Mutex::default(),
            rate_limit_remaining: AtomicI64::new(-1),
            budgets: Mutex::default(),
            job_outcomes: Mutex::default(),
            jobs_running: AtomicI64::new(0),
            jobs: Mutex::default(),
        }
    }
}

/// A cumulative histogram in seconds.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    /// Counts one delivery.
    pub fn delivery(&self, event: Option<&str>, outcome: Outcome) {
        let event = event
            .and_then(|e| KNOWN_EVENTS.iter().find(|k| **k == e))
            .copied()
            .unwrap_or("other");
        let mut map = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((event, outcome)).or_insert(0) += 1;
    }

    /// Counts one GitHub API call: its status (`None` when no response came) and the rate
    /// limit left, when GitHub said.
    pub fn github_call(&self, status: Option<u16>, rate_limit_remaining: Option<u64>) {
        let mut map = self.github_calls.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(status).or_insert(0) += 1;
        if let Some(left) = rate_limit_remaining {
            self.rate_limit_remaining
                .store(i64::try_from(left).unwrap_or(i64::MAX), Ordering::Relaxed);
        }
    }

    /// Records installation `installation`'s budget from a response's headers.
    pub fn budget_seen(&self, installation: u64, budget: Budget) {
        let mut map = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() < MAX_BUDGETS || map.contains_key(&installation) {
            map.insert(installation, budget);
        }
    }

    /// Installation `installation`'s budget as GitHub last reported it.
    pub fn budget(&self, installation: u64) -> Option<Budget> {
        let map = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&installation).copied()
    }

    /// Counts a job this process ended.
    pub fn job_ended(&self, outcome: JobOutcome) {
        let mut map = self.job_outcomes.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(outcome).or_insert(0) += 1;
    }

    /// A job started (`+1`) or ended (`-1`) in this process.
    pub fn job_running(&self, delta: i64) {
        self.jobs_running.fetch_add(delta, Ordering::Relaxed);
    }

    /// Records a finished job: `latency_ms` from its delivery being stored to its end.
    pub fn job_done(&self, latency_ms: i64) {
        let secs = latency_ms.max(0) as f64 / 1000.0;
        let mut h = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        for (bucket, bound) in h.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if secs <= bound {
                *bucket += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The Prometheus text exposition, from memory alone: a scrape costs no query.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str(
            "# HELP keel_webhook_deliveries_total Webhook deliveries by event and outcome.\n",
        );
        s.push_str("# TYPE keel_webhook_deliveries_total counter\n");
        let map = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        for ((event, outcome), n) in map.iter() {
            let _ = writeln!(
                s,
                "keel_webhook_deliveries_total{{event=\"{event}\",outcome=\"{}\"}} {n}",
                outcome.as_str()
            );
        }
        s.push_str("# HELP keel_jobs_total Jobs this process ended, by outcome.\n# TYPE keel_jobs_total counter\n");
        let outcomes = self.job_outcomes.lock().unwrap_or_else(|p| p.into_inner());
        for (outcome, n) in outcomes.iter() {
            let _ = writeln!(s, "keel_jobs_total{{outcome=\"{}\"}} {n}", outcome.as_str());
        }
        drop(outcomes);
        let _ = writeln!(
            s,
            "# HELP keel_jobs_running Jobs this process is running.\n# TYPE keel_jobs_running gauge\nkeel_jobs_running {}",
            self.jobs_running.load(Ordering::Relaxed)
        );
        s.push_str("# HELP keel_job_latency_seconds Time from a delivery being stored to its job finishing.\n# TYPE keel_job_latency_seconds histogram\n");
        let h = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        for (n, bound) in h.buckets.iter().zip(LATENCY_BUCKETS) {
            let _ = writeln!(s, "keel_job_latency_seconds_bucket{{le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(
            s,
            "keel_job_latency_seconds_bucket{{le=\"+Inf\"}} {c}\nkeel_job_latency_seconds_sum {}\nkeel_job_latency_seconds_count {c}",
            h.sum,
            c = h.count
        );
        drop(h);
        s.push_str("# HELP keel_github_api_calls_total GitHub API calls by response status.\n# TYPE keel_github_api_calls_total counter\n");
        let calls = self.github_calls.lock().unwrap_or_else(|p| p.into_inner());
        for (status, n) in calls.iter() {
            let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
            let _ = writeln!(s, "keel_github_api_calls_total{{status=\"{status}\"}} {n}");
        }
        drop(calls);
        let left = self.rate_limit_remaining.load(Ordering::Relaxed);
        if left >= 0 {
            let _ = writeln!(
                s,
                "# HELP keel_github_rate_limit_remaining Requests left in GitHub's rate limit window, as last reported.\n# TYPE keel_github_rate_limit_remaining gauge\nkeel_github_rate_limit_remaining {left}"
            );
        }
        let budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        if !budgets.is_empty() {
            s.push_str("# HELP keel_github_budget_remaining API calls left in each installation's window, as GitHub last reported.\n# TYPE keel_github_budget_remaining gauge\n");
            for (installation, b) in budgets.iter() {
                let _ = writeln!(
                    s,
                    "keel_github_budget_remaining{{installation=\"{installation}\"}} {}",
                    b.remaining
                );
            }
            s.push_str("# HELP keel_github_budget_reset_seconds When each installation's window resets (unix seconds).\n# TYPE keel_github_budget_reset_seconds gauge\n");
            for (installation, b) in budgets.iter() {
                let _ = writeln!(
                    s,
                    "keel_github_budget_reset_seconds{{installation=\"{installation}\"}} {}",
                    b.reset_secs
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_latency_is_a_cumulative_histogram_and_calls_count_by_status() {
        let m = Metrics::default();
        assert!(
            !m.render().contains("keel_github_rate_limit_remaining"),
            "unknown until GitHub says"
        );
        m.job_done(300);
        m.job_done(20_000);
        m.github_call(Some(200), Some(4999));
        m.github_call(Some(200), None);
        m.github_call(Some(502), None);
        m.github_call(None, None);
        let text = m.render();
        for line in [
            "keel_job_latency_seconds_bucket{le=\"0.25\"} 0",
            "keel_job_latency_seconds_bucket{le=\"0.5\"} 1",
            "keel_job_latency_seconds_bucket{le=\"30\"} 2",
            "keel_job_latency_seconds_bucket{le=\"+Inf\"} 2",
            "keel_job_latency_seconds_sum 20.3",
            "keel_job_latency_seconds_count 2",
            "keel_github_api_calls_total{status=\"200\"} 2",
            "keel_github_api_calls_total{status=\"502\"} 1",
            "keel_github_api_calls_total{status=\"error\"} 1",
            "keel_github_rate_limit_remaining 4999",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }

    #[test]
    fn each_installations_budget_and_the_jobs_outcomes_are_rendered_from_memory() {
        let m = Metrics::default();
        m.budget_seen(
            7,
            Budget {
                remaining: 12,
                reset_secs: 1_800_000_000,
            },
        );
        m.budget_seen(
            9,
            Budget {
                remaining: 4_999,
                reset_secs: 1_800_000_060,
            },
        );
        m.job_ended(JobOutcome::Parked);
        m.job_ended(JobOutcome::Done);
        m.job_ended(JobOutcome::Done);
        m.job_running(1);
        assert_eq!(m.budget(7).map(|b| b.remaining), Some(12));
        let text = m.render();
        for line in [
            "keel_github_budget_remaining{installation=\"7\"} 12",
            "keel_github_budget_remaining{installation=\"9\"} 4999",
            "keel_github_budget_reset_seconds{installation=\"7\"} 1800000000",
            "keel_jobs_total{outcome=\"done\"} 2",
            "keel_jobs_total{outcome=\"parked\"} 1",
            "keel_jobs_running 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
