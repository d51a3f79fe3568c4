//! Each repository's line of the weekly organisation roll-up (JSON of
//! `keel_core::summary::rollup::RollupRow`), kept per repository and week.

use super::{Store, on_pool};
use anyhow::Context;

impl Store {
    /// Keeps `repo`'s roll-up line of `week` at `now` (replacing an earlier one).
    pub async fn set_summary_row(
        &self,
        owner: &str,
        repo: &str,
        week: &str,
        line: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO summary_rows (owner, repo, week, line, written_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (repo, week) DO UPDATE SET line = excluded.line, owner = excluded.owner, \
             written_at = excluded.written_at",
        )
        .bind(owner)
        .bind(repo)
        .bind(week)
        .bind(line)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("keep a roll-up line")
    }

    /// `repo`'s roll-up line of `week`, if its summary was written.
    pub async fn summary_row(&self, repo: &str, week: &str) -> anyhow::Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT line FROM summary_rows WHERE repo = $1 AND week = $2",
        )
        .bind(repo)
        .bind(week)
        .fetch_optional(pool)
        .await)
        .context("read a roll-up line")?;
        Ok(row.map(|(line,)| line))
    }

    /// Every roll-up line of `owner`'s repositories for `week`, by repository name.
    pub async fn summary_rows(&self, owner: &str, week: &str) -> anyhow::Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT line FROM summary_rows WHERE owner = $1 AND week = $2 ORDER BY repo",
        )
        .bind(owner)
        .bind(week)
        .fetch_all(pool)
        .await)
        .context("read the roll-up lines")?;
        Ok(rows.into_iter().map(|(line,)| line).collect())
    }
}
