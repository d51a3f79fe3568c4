//! Parsed reports of artifacts read lately, in this process: the pull requests of one head,
//! and the evaluations a required check or an edit brings, download and parse an artifact
//! once. An artifact never changes once its run finished, so its id (with the config it was
//! read under) names its reports. Bounded by entries and by an estimate of their memory.

use crate::reports::Reports;
use keel_core::Config;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::Mutex;

/// Entries kept, at most.
const MAX_ENTRIES: usize = 8;
/// Estimated memory the cache holds, at most; larger reports are not kept.
pub const MAX_BYTES: usize = 64 << 20;

/// What a cached entry was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    repo: String,
    artifact_id: u64,
    config: [u8; 32],
}

impl Key {
    /// The reports of artifact `artifact_id` of `repo`, read under `config`.
    pub fn new(repo: &str, artifact_id: u64, config: &Config) -> Key {
        let json = serde_json::to_vec(config).unwrap_or_default();
        Key {
            repo: repo.to_owned(),
            artifact_id,
            config: Sha256::digest(&json).into(),
        }
    }
}

/// The cache; one per server, shared by its workers.
#[derive(Debug, Default)]
pub struct ReportCache {
    /// Oldest first: (key, reports, estimated bytes).
    entries: Mutex<VecDeque<(Key, Reports, usize)>>,
}

impl ReportCache {
    /// A copy of the reports read under `key`, if still kept.
    pub fn get(&self, key: &Key) -> Option<Reports> {
        let cache = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(_, reports, _)| reports.clone())
    }

    /// Keeps `reports` under `key`, dropping the oldest entries past the bounds.
    pub fn put(&self, key: Key, reports: &Reports) {
        let bytes = approx_bytes(reports);
        if bytes > MAX_BYTES / 2 {
            return;
        }
        let mut cache = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|(k, ..)| *k != key);
        cache.push_back((key, reports.clone(), bytes));
        let mut total: usize = cache.iter().map(|e| e.2).sum();
        while cache.len() > MAX_ENTRIES || total > MAX_BYTES {
            let Some((_, _, dropped)) = cache.pop_front() else {
                break;
            };
            total -= dropped;
        }
    }
}

/// Memory `reports` hold, roughly.
fn approx_bytes(reports: &Reports) -> usize {
    let coverage = reports.coverage.as_ref().map_or(0, |c| c.heap_bytes());
    let findings: usize = reports
        .findings
        .iter()
        .flatten()
        .map(|f| {
            std::mem::size_of_val(f)
                + f.tool.len()
                + f.rule_id.len()
                + f.level.len()
                + f.message.len()
                + f.path.as_ref().map_or(0, String::len)
                + f.identity.len()
        })
        .sum();
    let benchmarks = reports.benchmarks.as_ref().map_or(0, |b| b.len() * 256);
    let warnings: usize = reports.warnings.iter().map(String::len).sum();
    coverage + findings + benchmarks + warnings
}
