//! Delivery facts for the weekly summary: merges with their timing, deployments with their
//! latest status, issues (incidents), releases, and the summary issue of each week.

use super::{Store, on_pool};
use anyhow::Context;
use keel_core::summary::dora::{Change, Deployment, History, Incident};
use sqlx::Row;

/// Timing of a merged pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeDetails {
    /// Opened, unix ms.
    pub opened_at: Option<i64>,
    /// Its first commit, unix ms.
    pub first_commit_at: Option<i64>,
    /// The merge (or squash) commit.
    pub merge_sha: Option<String>,
    /// The pull request it reverts.
    pub reverts: Option<u64>,
}

impl Store {
    /// Adds timing to a recorded merge.
    pub async fn record_merge_details(
        &self,
        repo: &str,
        number: u64,
        d: &MergeDetails,
    ) -> anyhow::Result<()> {
        let number = i64::try_from(number)?;
        let reverts = d.reverts.map(i64::try_from).transpose()?;
        on_pool!(self, pool => sqlx::query(
            "UPDATE merged_pull_requests SET opened_at = $1, first_commit_at = $2, merge_sha = $3, reverts = $4 \
             WHERE repo = $5 AND number = $6",
        )
        .bind(d.opened_at)
        .bind(d.first_commit_at)
        .bind(&d.merge_sha)
        .bind(reverts)
        .bind(repo)
        .bind(number)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record merge details")
    }

    /// Records a deployment's latest status.
    pub async fn record_deployment(
        &self,
        repo: &str,
        deployment_id: u64,
        sha: &str,
        environment: &str,
        state: &str,
        at: i64,
    ) -> anyhow::Result<()> {
        let id = i64::try_from(deployment_id)?;
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO deployments (repo, deployment_id, sha, environment, state, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (repo, deployment_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at \
             WHERE deployments.updated_at <= excluded.updated_at",
        )
        .bind(repo)
        .bind(id)
        .bind(sha)
        .bind(environment)
        .bind(state)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a deployment")
    }

    /// Records an issue as it is now.
    pub async fn record_issue(
        &self,
        repo: &str,
        number: u64,
        labels: &[String],
        opened_at: i64,
        closed_at: Option<i64>,
        root_cause: Option<&str>,
    ) -> anyhow::Result<()> {
        let number = i64::try_from(number)?;
        let labels = labels.join("\n");
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO issues (repo, number, labels, opened_at, closed_at, root_cause) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (repo, number) DO UPDATE SET labels = excluded.labels, closed_at = excluded.closed_at, \
             root_cause = excluded.root_cause",
        )
        .bind(repo)
        .bind(number)
        .bind(labels)
        .bind(opened_at)
        .bind(closed_at)
        .bind(root_cause)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record an issue")
    }

    /// Records a published release.
    pub async fn record_release(&self, repo: &str, release_id: u64, at: i64) -> anyhow::Result<()> {
        let id = i64::try_from(release_id)?;
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO releases (repo, release_id, published_at) VALUES ($1, $2, $3) ON CONFLICT (repo, release_id) DO NOTHING",
        )
        .bind(repo)
        .bind(id)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a release")
    }

    /// What the DORA metrics read for `repo`: merges, finished deployments to `environments`,
    /// issues labelled `incident_label`, releases.
    pub async fn history(
        &self,
        repo: &str,
        environments: &[String],
        incident_label: &str,
    ) -> anyhow::Result<History> {
        let changes = on_pool!(self, pool => sqlx::query(
            "SELECT number, first_commit_at, merged_at, merge_sha, reverts FROM merged_pull_requests WHERE repo = $1",
        )
        .bind(repo)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok(Change {
            number: u64::try_from(r.try_get::<i64, _>("number")?).unwrap_or_default(),
            first_commit_at: r.try_get("first_commit_at")?,
            merged_at: r.try_get("merged_at")?,
            merge_sha: r.try_get("merge_sha")?,
            reverts: r.try_get::<Option<i64>, _>("reverts")?.and_then(|v| u64::try_from(v).ok()),
        })).collect::<Result<Vec<_>, sqlx::Error>>()))
        .context("read merges")?;
        let deployments = on_pool!(self, pool => sqlx::query(
            "SELECT sha, environment, state, updated_at FROM deployments WHERE repo = $1 \
             AND state IN ('success', 'failure', 'error')",
        )
        .bind(repo)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok((
            r.try_get::<String, _>("environment")?,
            Deployment {
                sha: r.try_get("sha")?,
                finished_at: r.try_get("updated_at")?,
                succeeded: r.try_get::<String, _>("state")? == "success",
            },
        ))).collect::<Result<Vec<_>, sqlx::Error>>()))
        .context("read deployments")?
        .into_iter()
        .filter(|(env, _)| environments.iter().any(|e| e == env))
        .map(|(_, d)| d)
        .collect();
        let incidents = on_pool!(self, pool => sqlx::query(
            "SELECT number, labels, opened_at, closed_at, root_cause FROM issues WHERE repo = $1",
        )
        .bind(repo)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok((
            r.try_get::<String, _>("labels")?,
            Incident {
                number: u64::try_from(r.try_get::<i64, _>("number")?).ok(),
                opened_at: r.try_get("opened_at")?,
                closed_at: r.try_get("closed_at")?,
                root_cause: r.try_get("root_cause")?,
            },
        ))).collect::<Result<Vec<_>, sqlx::Error>>()))
        .context("read incidents")?
        .into_iter()
        .filter(|(labels, _)| labels.split('\n').any(|l| l == incident_label))
        .map(|(_, i)| i)
        .collect();
        let releases: Vec<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT published_at FROM releases WHERE repo = $1",
        )
        .bind(repo)
        .fetch_all(pool)
        .await)
        .context("read releases")?;
        // The default branch's pushes: what each deployment shipped.
        let pushes: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT sha, parent_sha FROM commits WHERE repo = $1",
        )
        .bind(repo)
        .fetch_all(pool)
        .await)
        .context("read the push history")?;
        Ok(History {
            changes,
            deployments,
            incidents,
            releases: releases.into_iter().map(|(t,)| t).collect(),
            pushes: pushes.into_iter().collect(),
        })
    }

    /// The summary issue of `week`, if one was posted.
    pub async fn summary_issue(&self, repo: &str, week: &str) -> anyhow::Result<Option<u64>> {
        let row: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT issue_number FROM summaries WHERE repo = $1 AND week = $2",
        )
        .bind(repo)
        .bind(week)
        .fetch_optional(pool)
        .await)
        .context("read a summary issue")?;
        Ok(row.and_then(|(n,)| u64::try_from(n).ok()))
    }

    /// Remembers the summary issue of `week`.
    pub async fn set_summary_issue(
        &self,
        repo: &str,
        week: &str,
        number: u64,
    ) -> anyhow::Result<()> {
        let number = i64::try_from(number)?;
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO summaries (repo, week, issue_number) VALUES ($1, $2, $3) \
             ON CONFLICT (repo, week) DO UPDATE SET issue_number = excluded.issue_number",
        )
        .bind(repo)
        .bind(week)
        .bind(number)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("remember a summary issue")
    }
}

impl Store {
    /// Baselines of `repo` recorded in `[from, to)`, oldest first: (recorded_at, metrics JSON).
    pub async fn baselines_between(
        &self,
        repo: &str,
        from: i64,
        to: i64,
    ) -> anyhow::Result<Vec<(i64, Vec<u8>)>> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT recorded_at, metrics FROM baselines WHERE repo = $1 AND recorded_at >= $2 AND recorded_at < $3 \
             ORDER BY recorded_at",
        )
        .bind(repo)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await)
        .context("read baselines")
    }
}

impl Store {
    /// Row counts of `repo`'s delivery facts: merged pull requests, deployments, issues,
    /// releases.
    pub async fn delivery_counts(&self, repo: &str) -> anyhow::Result<(i64, i64, i64, i64)> {
        let mut counts = [0i64; 4];
        for (i, table) in ["merged_pull_requests", "deployments", "issues", "releases"]
            .into_iter()
            .enumerate()
        {
            let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE repo = $1");
            let (n,): (i64,) =
                on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(repo)
                .fetch_one(pool)
                .await)
                .context("count delivery facts")?;
            counts[i] = n;
        }
        Ok((counts[0], counts[1], counts[2], counts[3]))
    }
}
