//! The last evaluation of each open pull request and the merged pull requests it becomes:
//! what the debt capacity share (and the weekly summary) count.

use super::{Store, on_pool};
use anyhow::Context;
use sqlx::Row;

/// What an evaluation concluded, kept with the pull request until it merges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluationRecord {
    /// Title.
    pub title: String,
    /// Author login.
    pub author: Option<String>,
    /// Added plus removed lines.
    pub changed_lines: u64,
    /// Linked roadmap item ids.
    pub roadmap_items: Vec<String>,
    /// `reduced`, `added`, `mixed`, `neutral`, `overridden`; `None` without `[debt]`.
    pub debt: Option<String>,
    /// `success` or `failure`.
    pub dod: String,
    /// The criteria that failed: each title with its `why` from the config.
    pub failed_criteria: Vec<(String, Option<String>)>,
    /// Their ids, in the same order (what `/keel waive` may name).
    pub failed_ids: Vec<String>,
    /// The head commit judged.
    pub head_sha: String,
}

/// A merged pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedPullRequest {
    /// Its number.
    pub number: u64,
    /// Title (when Keel evaluated it).
    pub title: Option<String>,
    /// Author login.
    pub author: Option<String>,
    /// When, unix ms.
    pub merged_at: i64,
    /// Added plus removed lines.
    pub changed_lines: Option<u64>,
    /// Linked roadmap item ids.
    pub roadmap_items: Vec<String>,
    /// The debt verdict.
    pub debt: Option<String>,
    /// The definition-of-done conclusion.
    pub dod: Option<String>,
    /// The criteria that failed at its last evaluation, each with its `why`.
    pub failed_criteria: Vec<(String, Option<String>)>,
    /// Opened, unix ms.
    pub opened_at: Option<i64>,
    /// Its first commit, unix ms.
    pub first_commit_at: Option<i64>,
    /// Its first review, unix ms.
    pub first_review_at: Option<i64>,
}

/// Merged work in a time range, for the capacity share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergedWork {
    /// Merged pull requests.
    pub prs: u64,
    /// Of those, debt work (reduced or mixed).
    pub debt_prs: u64,
    /// Their changed lines.
    pub lines: u64,
    /// Changed lines of the debt work.
    pub debt_lines: u64,
}

fn ids(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Store {
    /// Keeps the latest evaluation of an open pull request.
    pub async fn record_evaluation(
        &self,
        repo: &str,
        number: u64,
        record: &EvaluationRecord,
    ) -> anyhow::Result<()> {
        let number = i64::try_from(number)?;
        let lines = i64::try_from(record.changed_lines).unwrap_or(i64::MAX);
        on_pool!(self, pool => sqlx::query(
            "UPDATE pull_requests SET title = $1, author = $2, changed_lines = $3, roadmap_items = $4, \
             debt = $5, dod = $6, failed_criteria = $9, failed_ids = $10, failed_head = $11 WHERE repo = $7 AND number = $8",
        )
        .bind(&record.title)
        .bind(&record.author)
        .bind(lines)
        .bind(record.roadmap_items.join(","))
        .bind(&record.debt)
        .bind(&record.dod)
        .bind(repo)
        .bind(number)
        .bind(criteria_lines(&record.failed_criteria))
        .bind(record.failed_ids.join("\n"))
        .bind(&record.head_sha)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record an evaluation")
    }

    /// Records a merge, with the pull request's last evaluation when Keel made one.
    pub async fn record_merge(
        &self,
        repo: &str,
        number: u64,
        merged_at: i64,
    ) -> anyhow::Result<()> {
        let number = i64::try_from(number)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let copied = sqlx::query(
                "INSERT INTO merged_pull_requests (repo, number, title, author, merged_at, changed_lines, roadmap_items, debt, dod, failed_criteria, first_review_at) \
                 SELECT repo, number, title, author, $1, changed_lines, roadmap_items, debt, dod, failed_criteria, first_review_at FROM pull_requests \
                 WHERE repo = $2 AND number = $3 \
                 ON CONFLICT (repo, number) DO UPDATE SET merged_at = excluded.merged_at",
            )
            .bind(merged_at)
            .bind(repo)
            .bind(number)
            .execute(&mut *tx)
            .await?;
            if copied.rows_affected() == 0 {
                sqlx::query(
                    "INSERT INTO merged_pull_requests (repo, number, merged_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (repo, number) DO NOTHING",
                )
                .bind(repo)
                .bind(number)
                .bind(merged_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })
        .context("record a merge")
    }

    /// Merged work of `repo` with `from <= merged_at < to`.
    pub async fn merged_work(&self, repo: &str, from: i64, to: i64) -> anyhow::Result<MergedWork> {
        let row: (i64, i64, i64, i64) = on_pool!(self, pool => sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT), \
                    CAST(COALESCE(SUM(CASE WHEN debt IN ('reduced', 'mixed') THEN 1 ELSE 0 END), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(COALESCE(changed_lines, 0)), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(CASE WHEN debt IN ('reduced', 'mixed') THEN COALESCE(changed_lines, 0) ELSE 0 END), 0) AS BIGINT) \
             FROM merged_pull_requests WHERE repo = $1 AND merged_at >= $2 AND merged_at < $3",
        )
        .bind(repo)
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await)
        .context("count merged work")?;
        let u = |v: i64| u64::try_from(v).unwrap_or_default();
        Ok(MergedWork {
            prs: u(row.0),
            debt_prs: u(row.1),
            lines: u(row.2),
            debt_lines: u(row.3),
        })
    }

    /// Every merged pull request of `repo`, newest first.
    pub async fn merged_pull_requests(&self, repo: &str) -> anyhow::Result<Vec<MergedPullRequest>> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT number, title, author, merged_at, changed_lines, roadmap_items, debt, dod, failed_criteria, \
                    opened_at, first_review_at, first_commit_at \
             FROM merged_pull_requests WHERE repo = $1 ORDER BY merged_at DESC, number DESC",
        )
        .bind(repo)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok(MergedPullRequest {
            number: u64::try_from(r.try_get::<i64, _>("number")?).unwrap_or_default(),
            title: r.try_get("title")?,
            author: r.try_get("author")?,
            merged_at: r.try_get("merged_at")?,
            changed_lines: r.try_get::<Option<i64>, _>("changed_lines")?.and_then(|v| u64::try_from(v).ok()),
            roadmap_items: ids(r.try_get("roadmap_items")?),
            debt: r.try_get("debt")?,
            dod: r.try_get("dod")?,
            failed_criteria: r
                .try_get::<Option<String>, _>("failed_criteria")?
                .map(|t| t.lines().filter(|l| !l.is_empty()).map(criterion_line).collect())
                .unwrap_or_default(),
            opened_at: r.try_get("opened_at")?,
            first_commit_at: r.try_get("first_commit_at")?,
            first_review_at: r.try_get("first_review_at")?,
        })).collect::<Result<Vec<_>, sqlx::Error>>()))
        .context("list merged pull requests")?;
        Ok(rows)
    }
}

impl Store {
    /// Records a measured outcome of roadmap item `item`.
    pub async fn record_outcome(
        &self,
        repo: &str,
        item: &str,
        value: f64,
        at: i64,
    ) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO outcomes (repo, item, value, recorded_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repo, item, recorded_at) DO UPDATE SET value = excluded.value",
        )
        .bind(repo)
        .bind(item)
        .bind(value)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record an outcome")
    }

    /// The latest measured outcome of each roadmap item of `repo` recorded before `before`,
    /// with when it was recorded (unix ms).
    pub async fn latest_outcomes(
        &self,
        repo: &str,
        before: i64,
    ) -> anyhow::Result<std::collections::BTreeMap<String, (f64, i64)>> {
        let rows: Vec<(String, f64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT item, value, recorded_at FROM outcomes WHERE repo = $1 AND recorded_at < $2 ORDER BY recorded_at",
        )
        .bind(repo)
        .bind(before)
        .fetch_all(pool)
        .await)
        .context("read outcomes")?;
        Ok(rows
            .into_iter()
            .map(|(item, v, at)| (item, (v, at)))
            .collect())
    }
}

impl Store {
    /// Records a review of an open pull request; only the first one is kept.
    pub async fn record_review(&self, repo: &str, number: u64, at: i64) -> anyhow::Result<()> {
        let number = i64::try_from(number)?;
        on_pool!(self, pool => sqlx::query(
            "UPDATE pull_requests SET first_review_at = $1 WHERE repo = $2 AND number = $3 \
             AND (first_review_at IS NULL OR first_review_at > $1)",
        )
        .bind(at)
        .bind(repo)
        .bind(number)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a review")
    }
}

/// The stored form of failed criteria: one per line, the title and its `why` after a tab
/// (tabs and line breaks inside either become spaces).
fn criteria_lines(criteria: &[(String, Option<String>)]) -> String {
    let clean = |s: &str| s.replace(['\n', '\r', '\t'], " ");
    criteria
        .iter()
        .map(|(title, why)| match why {
            Some(why) => format!("{}\t{}", clean(title), clean(why)),
            None => clean(title),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One stored line back into a title and its `why`.
pub(super) fn criterion_line(line: &str) -> (String, Option<String>) {
    match line.split_once('\t') {
        Some((title, why)) => (title.to_owned(), Some(why.to_owned())),
        None => (line.to_owned(), None),
    }
}
