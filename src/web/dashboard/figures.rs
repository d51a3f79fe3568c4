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
    configs: Cache<String, ReadConfig>,
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
        let read = self.config_of(repo, now).await?;
        let default = Config::default();
        let config = match read.as_ref() {
            Ok(Some(config)) => config,
            Ok(None) => &default,
            Err(why) => return Err(why.clone()),
        };
        let sc = config.summary.clone().unwrap_or_default();
        let zone = sc.timezone.0;
        let week = match week {
            Some(name) => Week::named(name, zone).map_err(|_| {
                let shown: String = name.chars().take(20).collect();
                format!("`{shown}` is not a week like 2026-W48.")
            })?,
            None => reported_week(&sc, now),
        };
        // Kept by the week itself, however the address spelled it; a few gathers at once,
        // each week once.
        let key = (repo.name.0.to_lowercase(), week.name.clone());
        let _turn = match kept_or_turn(&self.weeks, &self.gathering, &key, now, WEEK_MS).await? {
            Found::Kept(found) => return Ok(found),
            Found::Turn(turn) => turn,
        };
        let report = gather(&self.store, &repo.name.0, config, &week)
            .await
            .map_err(|e| {
                tracing::warn!(repo = %repo.name, error = format!("{e:#}"), "dashboard figures not read");
                "Keel could not read its figures for this repository; try again.".to_owned()
            })?;
        let gathered = Arc::new(Gathered { report, zone });
        keep(&self.weeks, key, now, Arc::clone(&gathered));
        Ok(gathered)
    }

    /// `repo`'s default-branch config as read: `Ok(None)` without one, `Err` (what to tell
    /// the viewer) when it does not parse; both are kept, so a page does not ask GitHub again.
    /// GitHub's own failures are not kept: the outer error.
    async fn config_of(&self, repo: &Repo, now: i64) -> Result<Arc<ReadConfig>, String> {
        let key = repo.name.0.to_lowercase();
        let _turn =
            match kept_or_turn(&self.configs, &self.github_at_once, &key, now, CONFIG_MS).await? {
                Found::Kept(found) => return Ok(found),
                Found::Turn(turn) => turn,
            };
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
        Ok(read)
    }
}

/// A default-branch config as read: none, or why it does not parse.
type ReadConfig = Result<Option<Config>, String>;

/// What a cache lookup found: the value kept, or a turn to make it.
enum Found<'t, V> {
    Kept(Arc<V>),
    Turn(tokio::sync::SemaphorePermit<'t>),
}

/// `cache[key]` if it is fresh; else a turn of `turns`, unless another request filled the
/// entry while this one waited for it.
async fn kept_or_turn<'t, K: Eq + Hash, V>(
    cache: &Cache<K, V>,
    turns: &'t Semaphore,
    key: &K,
    now: i64,
    ttl: i64,
) -> Result<Found<'t, V>, String> {
    if let Some(found) = fresh(cache, key, now, ttl) {
        return Ok(Found::Kept(found));
    }
    let turn = turns
        .acquire()
        .await
        .map_err(|_| "Keel is stopping.".to_owned())?;
    Ok(match fresh(cache, key, now, ttl) {
        Some(found) => Found::Kept(found),
        None => Found::Turn(turn),
    })
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
