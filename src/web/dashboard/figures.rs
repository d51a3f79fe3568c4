//! The figures the pages show: a repository's week as the weekly issue gathers it
//! (`jobs::summary::report::gather`, under the default branch's config). However many viewers
//! reload, a repository's week is gathered at most once a minute and its config read from
//! GitHub at most every [`CONFIG_MS`], a few requests at a time: the dashboard never spends
//! much of the installation's GitHub budget, which the gate needs.

use crate::github::api::Repo;
use crate::github::client::GitHub;
use crate::jobs::summary::report::{gather, reported_week};
use crate::store::Store;
use keel_core::Config;
use keel_core::summary::report::WeeklyReport;
use keel_core::week::{Week, Zone};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// How long a repository's config is used before it is read again, ms: a change to
/// `[summary]` shows on the dashboard within this time.
pub(super) const CONFIG_MS: i64 = 30 * 60 * 1000;
/// How long a gathered week is shown before it is gathered again, ms.
const WEEK_MS: i64 = 60 * 1000;
/// Entries each cache keeps (the oldest goes past this).
const MAX_KEPT: usize = 4096;
/// Config reads from GitHub at once.
const GITHUB_AT_ONCE: usize = 4;
/// Weeks gathered from the store at once (its connections serve the intake and workers too).
const GATHERS_AT_ONCE: usize = 2;

/// Values by key, each with when it was kept (unix ms).
type Cache<K, V> = Mutex<HashMap<K, (i64, Arc<V>)>>;

/// A week of one repository, gathered.
pub(super) struct Gathered {
    /// What the weekly issue of that week says.
    pub report: WeeklyReport,
    /// The time zone its weeks are in.
    pub zone: Zone,
}

/// The figures, cached.
pub(super) struct Figures {
    store: Store,
    github: Arc<GitHub>,
    configs: Cache<String, Result<Option<Config>, String>>,
    weeks: Cache<(String, String), Gathered>,
    github_at_once: Semaphore,
    gathering: Semaphore,
}

impl Figures {
    pub(super) fn new(store: Store, github: Arc<GitHub>) -> Figures {
        Figures {
            store,
            github,
            configs: Mutex::default(),
            weeks: Mutex::default(),
            github_at_once: Semaphore::new(GITHUB_AT_ONCE),
            gathering: Semaphore::new(GATHERS_AT_ONCE),
        }
    }

    /// `repo`'s `week` (by default the last whole week, as the weekly issue) at `now`; the
    /// error is what to tell the viewer.
    pub(super) async fn week(
        &self,
        repo: &Repo,
        week: Option<&str>,
        now: i64,
    ) -> Result<Arc<Gathered>, String> {
        let config = self.config_of(repo, now).await?;
        let config = config.as_ref().clone().unwrap_or_else(Config::default);
        let sc = config.summary.clone().unwrap_or_default();
        let zone = sc.timezone.0;
        let week = match week {
            Some(name) => Week::named(name, zone).map_err(|_| {
                let shown: String = name.chars().take(20).collect();
                format!("`{shown}` is not a week like 2026-W48.")
            })?,
            None => reported_week(&sc, now),
        };
        // Kept by the week itself, however the address spelled it.
        let key = (repo.name.0.to_lowercase(), week.name.clone());
        if let Some(found) = fresh(&self.weeks, &key, now, WEEK_MS) {
            return Ok(found);
        }
        // A few gathers at once, each week once: who waited finds it gathered.
        let _turn = self
            .gathering
            .acquire()
            .await
            .map_err(|_| "Keel is stopping.".to_owned())?;
        if let Some(found) = fresh(&self.weeks, &key, now, WEEK_MS) {
            return Ok(found);
        }
        let report = gather(&self.store, &repo.name.0, &config, &week)
            .await
            .map_err(|e| {
                tracing::warn!(repo = %repo.name, error = format!("{e:#}"), "dashboard figures not read");
                "Keel could not read its figures for this repository; try again.".to_owned()
            })?;
        let gathered = Arc::new(Gathered { report, zone });
        keep(&self.weeks, key, now, Arc::clone(&gathered));
        Ok(gathered)
    }

    /// `repo`'s default-branch config (`None` without one). A config that does not parse is
    /// kept as such too (a page does not ask GitHub again for it); GitHub's failures are not.
    async fn config_of(&self, repo: &Repo, now: i64) -> Result<Arc<Option<Config>>, String> {
        let key = repo.name.0.to_lowercase();
        let cached = |found: Arc<Result<Option<Config>, String>>| match found.as_ref() {
            Ok(config) => Ok(Arc::new(config.clone())),
            Err(why) => Err(why.clone()),
        };
        if let Some(found) = fresh(&self.configs, &key, now, CONFIG_MS) {
            return cached(found);
        }
        let _turn = self
            .github_at_once
            .acquire()
            .await
            .map_err(|_| "Keel is stopping.".to_owned())?;
        // Read by another request while this one waited its turn.
        if let Some(found) = fresh(&self.configs, &key, now, CONFIG_MS) {
            return cached(found);
        }
        let read = match crate::jobs::summary::default_branch_config(&*self.github, repo).await {
            Ok(config) => Ok(config),
            Err(crate::jobs::JobError::Permanent(why)) => Err(format!(
                "The default branch's .github/keel.toml is not valid: {why}"
            )),
            Err(e) => {
                tracing::warn!(repo = %repo.name, error = %e, "dashboard: config not read");
                return Err(
                    "GitHub did not give Keel this repository's config; try again in a moment."
                        .to_owned(),
                );
            }
        };
        let read = Arc::new(read);
        keep(&self.configs, key, now, Arc::clone(&read));
        cached(read)
    }
}

/// The entry under `key` if it was kept less than `ttl` ago.
fn fresh<K: Eq + Hash, V>(cache: &Cache<K, V>, key: &K, now: i64, ttl: i64) -> Option<Arc<V>> {
    let cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    cache
        .get(key)
        .filter(|(at, _)| now.saturating_sub(*at) < ttl)
        .map(|(_, v)| Arc::clone(v))
}

/// Keeps `value` under `key`, making room by dropping the oldest entry.
fn keep<K: Eq + Hash + Clone, V>(cache: &Cache<K, V>, key: K, now: i64, value: Arc<V>) {
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= MAX_KEPT && !cache.contains_key(&key) {
        let oldest = cache
            .iter()
            .min_by_key(|(_, (at, _))| *at)
            .map(|(k, _)| k.clone());
        if let Some(oldest) = oldest {
            cache.remove(&oldest);
        }
    }
    cache.insert(key, (now, value));
}
