//! The four DORA metrics per week, from what the store recorded. Definitions (also in the
//! summary's footnote and the README):
//!
//! - **Deployment frequency**: successful production deployments finished in the week. A
//!   repository that never deployed falls back to merges to the default branch (or releases).
//! - **Lead time for changes**: median time from a pull request's first commit to the first
//!   successful production deployment that contains its merge: the one whose commit is the
//!   merge commit or has it among the default-branch heads since the previous successful
//!   deployment (from the stored push history). A deployment already running when the merge
//!   landed does not contain it. Only where the push history cannot tell: the first successful
//!   deployment finished after the merge (and the footnote says so). Without deployments: to
//!   the merge. Counted in the week the change shipped; non-positive times drop.
//! - **Change failure rate**: of the deployments finished in the week, the share followed by a
//!   failure: a failed status; an incident whose root cause is one of the commits it shipped
//!   (its own or a head since the previous successful deployment), or without a root cause,
//!   opened before the next deployment; or a revert of a change it shipped. Never above 100%.
//!   A root cause no deployment shipped is listed, not dropped.
//! - **Time to restore**: median time from a failure that began in the week (an incident
//!   opened; a failed deployment) to recovery (the incident closed; the next successful
//!   deployment).

use crate::week::Week;
use serde::{Deserialize, Serialize};

/// A merged pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Its number.
    pub number: u64,
    /// Its first commit's time, unix ms.
    pub first_commit_at: Option<i64>,
    /// Merge time, unix ms.
    pub merged_at: i64,
    /// The merge (or squash) commit.
    pub merge_sha: Option<String>,
    /// The pull request it reverts, for revert pull requests.
    pub reverts: Option<u64>,
}

/// A production deployment and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The commit deployed.
    pub sha: String,
    /// When it finished, unix ms.
    pub finished_at: i64,
    /// Whether it succeeded.
    pub succeeded: bool,
}

/// An incident (an issue with the incident label).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Its issue number, where known (the summary links it).
    #[serde(default)]
    pub number: Option<u64>,
    /// Opened, unix ms.
    pub opened_at: i64,
    /// Closed, unix ms.
    pub closed_at: Option<i64>,
    /// `root cause: <sha>` from its text.
    pub root_cause: Option<String>,
}

/// What the metrics count as a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Production deployments.
    Deployments,
    /// Merges to the default branch (no deployments recorded).
    Merges,
    /// Published releases (no deployments recorded).
    Releases,
}

/// Everything recorded for a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Merged pull requests.
    pub changes: Vec<Change>,
    /// Production deployments.
    pub deployments: Vec<Deployment>,
    /// Incidents.
    pub incidents: Vec<Incident>,
    /// Release publication times, unix ms.
    pub releases: Vec<i64>,
    /// The default branch's push history: each pushed head and the head before it. A
    /// deployment ships the heads between its commit and the previous successful one's.
    #[serde(default)]
    pub pushes: std::collections::BTreeMap<String, String>,
}

/// Most heads walked back from one deployment.
const MAX_WALK: usize = 10_000;

/// The default-branch heads a successful deployment of `sha` ships: `sha` and the heads
/// before it, back to (not including) `previous`, the commit of the successful deployment
/// before it. `None` when the push history does not reach `previous`, or there is no
/// previous deployment to reach (then only time can pair changes with it).
pub fn shipped_heads<'h>(
    pushes: &'h std::collections::BTreeMap<String, String>,
    sha: &'h str,
    previous: Option<&str>,
) -> Option<Vec<&'h str>> {
    previous?;
    let mut heads = Vec::new();
    let mut at = sha;
    for _ in 0..MAX_WALK {
        if Some(at) == previous {
            return Some(heads);
        }
        heads.push(at);
        match pushes.get(at) {
            Some(before) => at = before.as_str(),
            // The history ends before the previous deployment: it cannot tell.
            None => return None,
        }
    }
    None
}

/// One week's DORA metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekMetrics {
    /// The week.
    pub week: Week,
    /// Deployments (or the fallback source's events) in the week.
    pub deployments: u64,
    /// Median lead time, hours.
    pub lead_time_hours: Option<f64>,
    /// Failed share of the week's deployments, 0 to 1.
    pub change_failure_rate: Option<f64>,
    /// Median time to restore, hours.
    pub time_to_restore_hours: Option<f64>,
    /// How many changes the lead time is the median of.
    #[serde(default)]
    pub lead_time_changes: usize,
    /// How many restores the time to restore is the median of.
    #[serde(default)]
    pub restores: usize,
    /// Some change was paired with its deployment by time only (the push history did not
    /// reach back far enough to tell what the deployment contained).
    #[serde(default)]
    pub lead_time_by_time: bool,
    /// Root causes named by the week's incidents that no deployment shipped.
    #[serde(default)]
    pub unshipped_root_causes: Vec<String>,
    /// What failed the week's failed deployments: the change failure rate's evidence.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// Whether Keel had recorded anything by the week's end: a week before the first
    /// recorded event has no data (a gap), never zeros.
    pub observed: bool,
}

/// A failed deployment (or the merge or release standing in for one) and what failed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The commit deployed, where known.
    pub sha: Option<String>,
    /// When it finished, unix ms.
    pub at: i64,
    /// What failed it.
    pub cause: Cause,
}

/// What failed a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Its own status was a failure.
    FailedStatus,
    /// An incident: its root cause was a commit the deployment shipped, or (without one) it
    /// opened before the next deployment.
    Incident {
        /// The incident's issue number, where known.
        number: Option<u64>,
        /// Whether it named its root cause.
        by_root_cause: bool,
    },
    /// A pull request reverting one the deployment shipped.
    Revert {
        /// The revert.
        revert: u64,
        /// The pull request it reverts.
        reverted: u64,
    },
}

/// The deployment source used: deployments when there are any, else `fallback`.
pub fn source(history: &History, fallback: Source) -> Source {
    if history.deployments.is_empty() {
        fallback
    } else {
        Source::Deployments
    }
}

/// A deployment as the metrics see it (real, or a merge/release standing in for one).
struct Shipment<'a> {
    sha: Option<&'a str>,
    at: i64,
    succeeded: bool,
}

fn shipments<'a>(history: &'a History, source: Source) -> Vec<Shipment<'a>> {
    let mut out: Vec<Shipment<'a>> = match source {
        Source::Deployments => history
            .deployments
            .iter()
            .map(|d| Shipment {
                sha: Some(&d.sha),
                at: d.finished_at,
                succeeded: d.succeeded,
            })
            .collect(),
        Source::Merges => history
            .changes
            .iter()
            .map(|c| Shipment {
                sha: c.merge_sha.as_deref(),
                at: c.merged_at,
                succeeded: true,
            })
            .collect(),
        Source::Releases => history
            .releases
            .iter()
            .map(|&at| Shipment {
                sha: None,
                at,
                succeeded: true,
            })
            .collect(),
    };
    out.sort_by_key(|s| s.at);
    out
}

/// What each successful deployment shipped (by index into the shipments), from the push
/// history: `None` where the history does not reach back to the previous one.
fn shipped_sets<'h>(history: &'h History, ships: &[Shipment<'h>]) -> Vec<Option<Vec<&'h str>>> {
    let mut previous: Option<&str> = None;
    ships
        .iter()
        .map(|s| match (s.succeeded, s.sha) {
            (true, Some(sha)) => {
                let set = shipped_heads(&history.pushes, sha, previous);
                previous = Some(sha);
                set
            }
            _ => None,
        })
        .collect()
}

/// When a change shipped, and whether only time paired it: the first successful deployment
/// whose shipped heads contain its merge commit; where the push history cannot tell, the
/// first successful deployment finished after the merge.
fn shipped_at(
    change: &Change,
    ships: &[Shipment<'_>],
    sets: &[Option<Vec<&str>>],
    source: Source,
) -> Option<(i64, bool)> {
    if source != Source::Deployments {
        return Some((change.merged_at, false));
    }
    if let Some(merge) = change.merge_sha.as_deref() {
        let by_ancestry = ships.iter().zip(sets).find(|(s, set)| {
            s.succeeded
                && (s.sha == Some(merge) || set.as_ref().is_some_and(|set| set.contains(&merge)))
        });
        if let Some((s, _)) = by_ancestry {
            return Some((s.at, false));
        }
    }
    ships
        .iter()
        .zip(sets)
        .filter(|(s, _)| s.succeeded && s.at >= change.merged_at)
        .find(|(_, set)| set.is_none())
        .map(|(s, _)| (s.at, true))
}

/// The metrics of `week`.
pub fn week_metrics(history: &History, week: &Week, source: Source) -> WeekMetrics {
    let ships = shipments(history, source);
    let sets = shipped_sets(history, &ships);
    let mut by_time = false;
    let in_week = |t: i64| t >= week.start && t < week.end;
    let deployments = ships
        .iter()
        .filter(|s| s.succeeded && in_week(s.at))
        .count() as u64;

    let mut lead: Vec<f64> = history
        .changes
        .iter()
        .filter_map(|c| {
            let first = c.first_commit_at?;
            let (shipped, timed) = shipped_at(c, &ships, &sets, source)?;
            let counted = in_week(shipped) && shipped > first;
            by_time |= counted && timed;
            counted.then(|| hours(shipped - first))
        })
        .collect();

    let attempted: Vec<(usize, &Shipment<'_>)> = ships
        .iter()
        .enumerate()
        .filter(|(_, s)| in_week(s.at))
        .collect();
    let failures: Vec<Failure> = attempted
        .iter()
        .filter_map(|(i, s)| {
            failure_cause(history, &ships, &sets, *i, source).map(|cause| Failure {
                sha: s.sha.map(str::to_owned),
                at: s.at,
                cause,
            })
        })
        .collect();
    let change_failure_rate =
        (!attempted.is_empty()).then(|| failures.len() as f64 / attempted.len() as f64);

    let mut restore: Vec<f64> = history
        .incidents
        .iter()
        .filter(|i| in_week(i.opened_at))
        .filter_map(|i| i.closed_at.map(|c| hours(c - i.opened_at)))
        .filter(|h| *h >= 0.0)
        .collect();
    for (i, s) in ships
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.succeeded && in_week(s.at))
    {
        if let Some(next) = ships[i + 1..].iter().find(|n| n.succeeded) {
            restore.push(hours(next.at - s.at));
        }
    }
    // Root causes of the week's incidents that no deployment shipped: said, not dropped.
    let unshipped_root_causes = history
        .incidents
        .iter()
        .filter(|i| in_week(i.opened_at))
        .filter_map(|i| i.root_cause.clone())
        .filter(|cause| {
            !ships
                .iter()
                .zip(&sets)
                .any(|(s, set)| ships_commit(s.sha, set.as_deref(), cause))
        })
        .collect();
    WeekMetrics {
        week: week.clone(),
        deployments,
        lead_time_changes: lead.len(),
        restores: restore.len(),
        lead_time_hours: median(&mut lead),
        change_failure_rate,
        time_to_restore_hours: median(&mut restore),
        lead_time_by_time: by_time,
        unshipped_root_causes,
        failures,
        observed: first_event(history).is_some_and(|first| first < week.end),
    }
}

/// What failed shipment `i`, if anything: its own status, an incident, or a revert.
fn failure_cause(
    history: &History,
    ships: &[Shipment<'_>],
    sets: &[Option<Vec<&str>>],
    i: usize,
    source: Source,
) -> Option<Cause> {
    let s = &ships[i];
    if !s.succeeded {
        return Some(Cause::FailedStatus);
    }
    let next = ships[i + 1..]
        .iter()
        .map(|n| n.at)
        .next()
        .unwrap_or(i64::MAX);
    let shipped = sets[i].as_deref();
    let incident = history.incidents.iter().find_map(|inc| {
        let hit = match &inc.root_cause {
            // A root cause counts against the deployment that shipped it.
            Some(cause) => ships_commit(s.sha, shipped, cause),
            None => inc.opened_at >= s.at && inc.opened_at < next,
        };
        hit.then_some(Cause::Incident {
            number: inc.number,
            by_root_cause: inc.root_cause.is_some(),
        })
    });
    incident.or_else(|| {
        history.changes.iter().find_map(|revert| {
            let n = revert.reverts?;
            history
                .changes
                .iter()
                .any(|c| {
                    c.number == n && shipped_at(c, ships, sets, source).map(|x| x.0) == Some(s.at)
                })
                .then_some(Cause::Revert {
                    revert: revert.number,
                    reverted: n,
                })
        })
    })
}

/// Whether `cause` (a full SHA, or an abbreviation of at least 7 hex digits as people write
/// them in incidents) names a deployment's own commit or one of the heads it shipped.
fn ships_commit(sha: Option<&str>, shipped: Option<&[&str]>, cause: &str) -> bool {
    let names = |full: &str| {
        full.eq_ignore_ascii_case(cause)
            || (cause.len() >= 7
                && full.len() > cause.len()
                && full.is_char_boundary(cause.len())
                && full[..cause.len()].eq_ignore_ascii_case(cause))
    };
    sha.is_some_and(names) || shipped.is_some_and(|set| set.iter().any(|h| names(h)))
}

/// The earliest thing recorded: before it Keel was not watching.
fn first_event(history: &History) -> Option<i64> {
    let changes = history.changes.iter().map(|c| c.merged_at);
    let deployments = history.deployments.iter().map(|d| d.finished_at);
    let incidents = history.incidents.iter().map(|i| i.opened_at);
    changes
        .chain(deployments)
        .chain(incidents)
        .chain(history.releases.iter().copied())
        .min()
}

/// When each merged pull request shipped (by number), as the lead time pairs them.
pub fn shipped_times(history: &History, source: Source) -> std::collections::BTreeMap<u64, i64> {
    let ships = shipments(history, source);
    let sets = shipped_sets(history, &ships);
    history
        .changes
        .iter()
        .filter_map(|c| Some((c.number, shipped_at(c, &ships, &sets, source)?.0)))
        .collect()
}

fn hours(ms: i64) -> f64 {
    ms as f64 / 3_600_000.0
}

/// The median (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// A DORA performance band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Elite.
    Elite,
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

impl Band {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }
}

/// Thresholds of the 2023 Accelerate State of DevOps report (DORA).
pub mod bands {
    use super::Band;

    /// Deployments per week (averaged over several weeks): daily or more is elite, weekly
    /// high, monthly medium.
    pub fn deployment_frequency(per_week: f64) -> Band {
        if per_week >= 7.0 {
            Band::Elite
        } else if per_week >= 1.0 {
            Band::High
        } else if per_week >= 0.25 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Lead time: under a day elite, a week high, a month medium.
    pub fn lead_time(hours: f64) -> Band {
        if hours < 24.0 {
            Band::Elite
        } else if hours < 168.0 {
            Band::High
        } else if hours < 730.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Change failure rate: 5% elite, 10% high, 15% medium.
    pub fn change_failure_rate(rate: f64) -> Band {
        if rate <= 0.05 {
            Band::Elite
        } else if rate <= 0.10 {
            Band::High
        } else if rate <= 0.15 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Time to restore: under an hour elite, a day high, a week medium.
    pub fn time_to_restore(hours: f64) -> Band {
        if hours < 1.0 {
            Band::Elite
        } else if hours < 24.0 {
            Band::High
        } else if hours < 168.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }
}

#[cfg(test)]
mod tests;
