//! What Keel learned about workflow runs' artifacts: "run R has no artifact A", so that the
//! evaluations of a commit after the first skip the question (an API call per run each).

use super::{Store, on_pool};
use anyhow::Context;

impl Store {
    /// Whether run `run_id` of `repo` is known to have no artifact named `artifact`.
    pub async fn artifact_absent(
        &self,
        repo: &str,
        run_id: u64,
        artifact: &str,
    ) -> anyhow::Result<bool> {
        let run = i64::try_from(run_id).context("a run id beyond 2^63 cannot be stored")?;
        let found: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT run_id FROM run_artifacts WHERE repo = $1 AND run_id = $2 AND artifact = $3",
        )
        .bind(repo)
        .bind(run)
        .bind(artifact)
        .fetch_optional(pool)
        .await)
        .context("read a run's artifacts")?;
        Ok(found.is_some())
    }

    /// Forgets what was learned about run `run_id`'s artifacts: it completed again (a re-run
    /// keeps its id, and may upload what the first attempt did not).
    pub async fn forget_run_artifacts(&self, repo: &str, run_id: u64) -> anyhow::Result<()> {
        let run = i64::try_from(run_id).context("a run id beyond 2^63 cannot be stored")?;
        on_pool!(self, pool => sqlx::query("DELETE FROM run_artifacts WHERE repo = $1 AND run_id = $2")
            .bind(repo)
            .bind(run)
            .execute(pool)
            .await
            .map(|_| ()))
        .context("forget a run's artifacts")
    }

    /// Remembers that finished run `run_id` of `repo` has no artifact named `artifact` (a
    /// finished run's artifacts do not change).
    pub async fn record_artifact_absent(
        &self,
        repo: &str,
        run_id: u64,
        artifact: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        let run = i64::try_from(run_id).context("a run id beyond 2^63 cannot be stored")?;
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO run_artifacts (repo, run_id, artifact, recorded_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repo, run_id, artifact) DO NOTHING",
        )
        .bind(repo)
        .bind(run)
        .bind(artifact)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a run's missing artifact")
    }
}
