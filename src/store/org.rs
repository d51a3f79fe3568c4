//! The last good organisation policy per organisation, and whether a push made it stale.

use super::{Store, on_pool};
use anyhow::Context;

/// A cached `.github/keel-org.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPolicy {
    /// The file.
    pub text: String,
    /// Its version (a digest of the text).
    pub version: String,
    /// When it was read, unix ms.
    pub fetched_at: i64,
    /// A push to the organisation's `.github` repository since: read it again.
    pub stale: bool,
}

impl Store {
    /// The last good policy of `org`.
    pub async fn org_policy(&self, org: &str) -> anyhow::Result<Option<CachedPolicy>> {
        let row: Option<(String, String, i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT text, version, fetched_at, stale FROM org_policies WHERE org = $1",
        )
        .bind(org)
        .fetch_optional(pool)
        .await)
        .context("read an organisation policy")?;
        Ok(row.map(|(text, version, fetched_at, stale)| CachedPolicy {
            text,
            version,
            fetched_at,
            stale: stale != 0,
        }))
    }

    /// Keeps `text` as `org`'s last good policy, read at `now`.
    pub async fn keep_org_policy(
        &self,
        org: &str,
        text: &str,
        version: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO org_policies (org, text, version, fetched_at, stale) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (org) DO UPDATE SET text = excluded.text, version = excluded.version, \
             fetched_at = excluded.fetched_at, stale = 0",
        )
        .bind(org)
        .bind(text)
        .bind(version)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("keep an organisation policy")
    }

    /// Marks `org`'s policy stale (a push to its `.github` repository).
    pub async fn org_policy_stale(&self, org: &str) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query("UPDATE org_policies SET stale = 1 WHERE org = $1")
            .bind(org)
            .execute(pool)
            .await
            .map(|_| ()))
        .context("mark an organisation policy stale")
    }
}

impl Store {
    /// The metrics last recorded for any commit of `repo` (its default branch's newest
    /// baseline).
    pub async fn latest_baseline(&self, repo: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT metrics FROM baselines WHERE repo = $1 ORDER BY recorded_at DESC LIMIT 1",
        )
        .bind(repo)
        .fetch_optional(pool)
        .await)
        .context("read the latest baseline")?;
        Ok(row.map(|(m,)| m))
    }
}
