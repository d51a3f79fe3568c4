//! The few counters Keel exposes on `/metrics`, rendered in Prometheus text format.
//! Labels are bounded: event names outside the known set count as `other`.

use crate::store::JobCounts;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

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
        }
    }
}

/// Process-wide counters.
#[derive(Debug, Default)]
pub struct Metrics {
    deliveries: Mutex<BTreeMap<(&'static str, Outcome), u64>>,
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

    /// The Prometheus text exposition, with the queue depth read just now.
    pub fn render(&self, queue: Option<JobCounts>) -> String {
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
        if let Some(q) = queue {
            s.push_str("# HELP keel_jobs Jobs in the queue by state.\n# TYPE keel_jobs gauge\n");
            for (state, n) in [
                ("queued", q.queued),
                ("running", q.running),
                ("done", q.done),
                ("dead", q.dead),
            ] {
                let _ = writeln!(s, "keel_jobs{{state=\"{state}\"}} {n}");
            }
        }
        s
    }
}
