//! What Keel remembers between deliveries: installations, open pull requests by head commit
//! and their sticky comment, merge group commits, Keel's check run per commit, finished
//! workflow runs, and default-branch baselines with the history that links them.
//!
//! Writes are upserts, so a job that runs twice (a lease expired) writes the same rows again.

use super::{Store, on_pool};
use anyhow::Context;
use sqlx::Row;

/// How many first-parent steps a baseline lookup walks back from the base commit.
pub const BASELINE_ANCESTRY: usize = 50;

/// A pull request Keel follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedPullRequest {
    /// Its number.
    pub number: u64,
    /// The installation it came through.
    pub installation_id: u64,
}

/// Keel's sticky comment on a pull request, as last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredComment {
    /// GitHub's comment id.
    pub id: u64,
    /// SHA-256 of the body Keel wrote (hex).
    pub digest: String,
}

/// Keel's check run on a head commit, as Keel last wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredCheckRun {
    /// GitHub's check run id.
    pub id: u64,
    /// What it shows.
    pub shown: Shown,
}

/// What a check run shows. GitHub never moves a completed run back to in progress nor changes
/// its conclusion: only an in-progress run (or one completed the same way) can be written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// In progress: it may still be completed either way.
    InProgress,
    /// Completed, successfully.
    Success,
    /// Completed, failed.
    Failure,
    /// Completed or not, Keel cannot tell (made before Keel remembered, or found on GitHub
    /// with another conclusion): never written to again.
    Unknown,
}

impl Shown {
    fn as_str(self) -> &'static str {
        match self {
            Shown::InProgress => "in_progress",
            Shown::Success => "success",
            Shown::Failure => "failure",
            Shown::Unknown => "unknown",
        }
    }

    fn parse(s: &str) -> Shown {
        match s {
            "in_progress" => Shown::InProgress,
            "success" => Shown::Success,
            "failure" => Shown::Failure,
            _ => Shown::Unknown,
        }
    }
}

/// A finished workflow run of a commit, and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinishedRun {
    /// Run id.
    pub run_id: u64,
    /// The workflow's display name.
    pub workflow: String,
    /// What triggered it (`push`, `pull_request`, …).
    pub event: String,
    /// The workflow file, e.g. `.github/workflows/ci.yml`.
    pub path: String,
    /// The repository its commit came from (a fork's, for a fork's pull request).
    pub head_repo: String,
    /// How it ended.
    pub conclusion: String,
}

/// A stored default-branch baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBaseline {
    /// The commit the metrics belong to (the base itself or an ancestor).
    pub sha: String,
    /// The metrics (JSON).
    pub metrics: Vec<u8>,
    /// First-parent steps from the base back to `sha` (0: the base itself).
    pub steps: u32,
}

fn id(v: u64) -> anyhow::Result<i64> {
    i64::try_from(v).context("an id beyond 2^63 cannot be stored")
}

fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

impl Store {
    /// Records that `installation_id` covers `repos` (replacing any earlier installation).
    pub async fn add_installation_repos(
        &self,
        installation_id: u64,
        repos: &[String],
        now: i64,
    ) -> anyhow::Result<()> {
        let installation = id(installation_id)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for repo in repos {
                sqlx::query(
                    "INSERT INTO installations (repo, installation_id, added_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (repo) DO UPDATE SET installation_id = excluded.installation_id",
                )
                .bind(repo)
                .bind(installation)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })
        .context("record installation repositories")
    }

    /// Forgets `repos` (removed from the installation).
    pub async fn remove_installation_repos(&self, repos: &[String]) -> anyhow::Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for repo in repos {
                sqlx::query("DELETE FROM installations WHERE repo = $1")
                    .bind(repo)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })
        .context("forget installation repositories")
    }

    /// Forgets every repository of an installation (the App was uninstalled).
    pub async fn remove_installation(&self, installation_id: u64) -> anyhow::Result<()> {
        let installation = id(installation_id)?;
        on_pool!(self, pool => sqlx::query("DELETE FROM installations WHERE installation_id = $1")
            .bind(installation)
            .execute(pool)
            .await
            .map(|_| ()))
        .context("forget an installation")
    }

    /// Every installed repository with its installation, sorted by name.
    pub async fn installed_repos(&self) -> anyhow::Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT repo, installation_id FROM installations ORDER BY repo",
        )
        .fetch_all(pool)
        .await)
        .context("list installations")?;
        Ok(rows.into_iter().map(|(r, i)| (r, unsigned(i))).collect())
    }

    /// Installed repositories whose summary is worth checking at `now` (never checked, or
    /// their next check time has come), with their installations, sorted by name.
    pub async fn repos_due_for_summary(&self, now: i64) -> anyhow::Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT i.repo, i.installation_id FROM installations i \
             LEFT JOIN summary_checks c ON c.repo = i.repo \
             WHERE c.next_at IS NULL OR c.next_at <= $1 ORDER BY i.repo",
        )
        .bind(now)
        .fetch_all(pool)
        .await)
        .context("list repositories due for a summary check")?;
        Ok(rows.into_iter().map(|(r, i)| (r, unsigned(i))).collect())
    }

    /// Checks `repo`'s summary next at `next_at` (unix ms), not before; `None`: at the next
    /// hourly check (its config may have changed).
    pub async fn set_summary_check(&self, repo: &str, next_at: Option<i64>) -> anyhow::Result<()> {
        on_pool!(self, pool => match next_at {
            Some(at) => sqlx::query(
                "INSERT INTO summary_checks (repo, next_at) VALUES ($1, $2) \
                 ON CONFLICT (repo) DO UPDATE SET next_at = excluded.next_at",
            )
            .bind(repo)
            .bind(at)
            .execute(pool)
            .await,
            None => sqlx::query("DELETE FROM summary_checks WHERE repo = $1")
                .bind(repo)
                .execute(pool)
                .await,
        }
        .map(|_| ()))
        .context("schedule a summary check")
    }

    /// Remembers that pull request `number` of `repo` is at `head_sha` now.
    pub async fn track_pull_request(
        &self,
        repo: &str,
        number: u64,
        head_sha: &str,
        installation_id: u64,
        now: i64,
    ) -> anyhow::Result<()> {
        let (number, installation) = (id(number)?, id(installation_id)?);
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO pull_requests (repo, number, head_sha, installation_id, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (repo, number) DO UPDATE SET \
             head_sha = excluded.head_sha, installation_id = excluded.installation_id, \
             updated_at = excluded.updated_at",
        )
        .bind(repo)
        .bind(number)
        .bind(head_sha)
        .bind(installation)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("track a pull request")
    }

    /// The pull requests whose head is `head_sha` (how a fork's workflow run finds its pull
    /// request: GitHub leaves `pull_requests` empty for forks).
    pub async fn pull_requests_at(
        &self,
        repo: &str,
        head_sha: &str,
    ) -> anyhow::Result<Vec<TrackedPullRequest>> {
        let rows: Vec<(i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT number, installation_id FROM pull_requests WHERE repo = $1 AND head_sha = $2 AND open = 1 ORDER BY number",
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_all(pool)
        .await)
        .context("find pull requests by head commit")?;
        Ok(rows
            .into_iter()
            .map(|(n, i)| TrackedPullRequest {
                number: unsigned(n),
                installation_id: unsigned(i),
            })
            .collect())
    }

    /// Keel's sticky comment on a pull request, if it wrote one.
    pub async fn comment(&self, repo: &str, number: u64) -> anyhow::Result<Option<StoredComment>> {
        let number = id(number)?;
        let row: Option<(Option<i64>, Option<String>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT comment_id, comment_digest FROM pull_requests WHERE repo = $1 AND number = $2",
        )
        .bind(repo)
        .bind(number)
        .fetch_optional(pool)
        .await)
        .context("read the sticky comment's id")?;
        Ok(match row {
            Some((Some(id), Some(digest))) => Some(StoredComment {
                id: unsigned(id),
                digest,
            }),
            _ => None,
        })
    }

    /// Remembers the sticky comment (or forgets it, with `None`: it was deleted).
    pub async fn set_comment(
        &self,
        repo: &str,
        number: u64,
        comment: Option<&StoredComment>,
    ) -> anyhow::Result<()> {
        let number = id(number)?;
        let comment_id = comment.map(|c| id(c.id)).transpose()?;
        on_pool!(self, pool => sqlx::query(
            "UPDATE pull_requests SET comment_id = $1, comment_digest = $2 WHERE repo = $3 AND number = $4",
        )
        .bind(comment_id)
        .bind(comment.map(|c| c.digest.as_str()))
        .bind(repo)
        .bind(number)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("remember the sticky comment")
    }

    /// Remembers a merge group commit and its base.
    pub async fn track_merge_group(
        &self,
        repo: &str,
        head_sha: &str,
        base_sha: &str,
        installation_id: u64,
    ) -> anyhow::Result<()> {
        let installation = id(installation_id)?;
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO merge_groups (repo, head_sha, base_sha, installation_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repo, head_sha) DO NOTHING",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(base_sha)
        .bind(installation)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("track a merge group")
    }

    /// The base commit and installation of merge group commit `head_sha`.
    pub async fn merge_group(
        &self,
        repo: &str,
        head_sha: &str,
    ) -> anyhow::Result<Option<(String, u64)>> {
        let row: Option<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT base_sha, installation_id FROM merge_groups WHERE repo = $1 AND head_sha = $2",
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_optional(pool)
        .await)
        .context("find a merge group")?;
        Ok(row.map(|(b, i)| (b, unsigned(i))))
    }

    /// Keel's check run on `head_sha`, if it made one, and what it last showed.
    pub async fn check_run(
        &self,
        repo: &str,
        head_sha: &str,
    ) -> anyhow::Result<Option<StoredCheckRun>> {
        let row: Option<(i64, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT check_run_id, shown FROM check_runs WHERE repo = $1 AND head_sha = $2",
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_optional(pool)
        .await)
        .context("read the check run's id")?;
        Ok(row.map(|(id, shown)| StoredCheckRun {
            id: unsigned(id),
            shown: Shown::parse(&shown),
        }))
    }

    /// Remembers that Keel's check run `run.id` on `head_sha` shows `run.shown`, unless Keel
    /// already made a newer run there (a higher id: the one GitHub counts). Returns whether it
    /// was written. A written row is young again for retention (stamped at the next prune), so
    /// the run of a head still in use is not forgotten.
    pub async fn set_check_run(
        &self,
        repo: &str,
        head_sha: &str,
        run: StoredCheckRun,
    ) -> anyhow::Result<bool> {
        let check_run = id(run.id)?;
        let written = on_pool!(self, pool => sqlx::query(
            "INSERT INTO check_runs (repo, head_sha, check_run_id, shown, recorded_at) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (repo, head_sha) DO UPDATE SET check_run_id = excluded.check_run_id, \
             shown = excluded.shown, recorded_at = 0 WHERE excluded.check_run_id >= check_runs.check_run_id",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(check_run)
        .bind(run.shown.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .context("remember the check run")?;
        Ok(written > 0)
    }

    /// Records a finished workflow run of `head_sha`.
    pub async fn record_workflow_run(
        &self,
        repo: &str,
        head_sha: &str,
        run: &FinishedRun,
        now: i64,
    ) -> anyhow::Result<()> {
        let run_id = id(run.run_id)?;
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO workflow_runs (repo, run_id, head_sha, workflow, completed_at, event, path, head_repo, conclusion) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (repo, run_id) DO UPDATE SET completed_at = excluded.completed_at, conclusion = excluded.conclusion",
        )
        .bind(repo)
        .bind(run_id)
        .bind(head_sha)
        .bind(&run.workflow)
        .bind(now)
        .bind(&run.event)
        .bind(&run.path)
        .bind(&run.head_repo)
        .bind(&run.conclusion)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a workflow run")
    }

    /// The finished workflow runs of `head_sha`, latest first.
    pub async fn workflow_runs(
        &self,
        repo: &str,
        head_sha: &str,
    ) -> anyhow::Result<Vec<FinishedRun>> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT run_id, workflow, event, path, head_repo, conclusion FROM workflow_runs \
             WHERE repo = $1 AND head_sha = $2 ORDER BY completed_at DESC, run_id DESC",
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok(FinishedRun {
            run_id: unsigned(r.try_get("run_id")?),
            workflow: r.try_get("workflow")?,
            event: r.try_get("event")?,
            path: r.try_get("path")?,
            head_repo: r.try_get("head_repo")?,
            conclusion: r.try_get("conclusion")?,
        })).collect::<Result<Vec<_>, sqlx::Error>>()))
        .context("list workflow runs")?;
        Ok(rows)
    }

    /// Whether a push to the default branch made `sha` its head (a tag of the same name as
    /// the branch does not).
    pub async fn is_default_branch_commit(&self, repo: &str, sha: &str) -> anyhow::Result<bool> {
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT sha FROM commits WHERE repo = $1 AND sha = $2",
        )
        .bind(repo)
        .bind(sha)
        .fetch_optional(pool)
        .await)
        .context("look up a default-branch commit")?;
        Ok(row.is_some())
    }

    /// Records a default-branch commit and its parent (from a push).
    pub async fn record_commit(
        &self,
        repo: &str,
        sha: &str,
        parent_sha: &str,
    ) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO commits (repo, sha, parent_sha) VALUES ($1, $2, $3) ON CONFLICT (repo, sha) DO NOTHING",
        )
        .bind(repo)
        .bind(sha)
        .bind(parent_sha)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a commit")
    }

    /// Stores the metrics of default-branch commit `sha`.
    pub async fn record_baseline(
        &self,
        repo: &str,
        sha: &str,
        metrics: &[u8],
        now: i64,
    ) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO baselines (repo, sha, metrics, recorded_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repo, sha) DO UPDATE SET metrics = excluded.metrics, recorded_at = excluded.recorded_at",
        )
        .bind(repo)
        .bind(sha)
        .bind(metrics)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a baseline")
    }

    /// The baseline for base commit `sha`: its own metrics, or those of its nearest recorded
    /// first-parent ancestor within [`BASELINE_ANCESTRY`] steps.
    pub async fn baseline(&self, repo: &str, sha: &str) -> anyhow::Result<Option<StoredBaseline>> {
        let mut current = sha.to_owned();
        for steps in 0..=BASELINE_ANCESTRY {
            let metrics: Option<(Vec<u8>,)> = on_pool!(self, pool => sqlx::query_as(
                "SELECT metrics FROM baselines WHERE repo = $1 AND sha = $2",
            )
            .bind(repo)
            .bind(&current)
            .fetch_optional(pool)
            .await)
            .context("read a baseline")?;
            if let Some((metrics,)) = metrics {
                return Ok(Some(StoredBaseline {
                    sha: current,
                    metrics,
                    steps: u32::try_from(steps).unwrap_or(u32::MAX),
                }));
            }
            let parent: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
                "SELECT parent_sha FROM commits WHERE repo = $1 AND sha = $2",
            )
            .bind(repo)
            .bind(&current)
            .fetch_optional(pool)
            .await)
            .context("walk the default branch's history")?;
            match parent {
                Some((parent,)) => current = parent,
                None => return Ok(None),
            }
        }
        Ok(None)
    }
}
