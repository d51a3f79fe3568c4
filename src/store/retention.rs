//! Data does not grow forever: finished jobs lose their payloads (which carry private titles
//! and descriptions) soon and their rows later; closed pull requests, old verdicts, workflow
//! runs, check runs, commits, baselines and roll-up lines are pruned after their retention;
//! uninstalling the App forgets everything Keel stored about the installation's repositories.

use super::{Store, on_pool};
use anyhow::Context;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How long Keel keeps what it stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// A finished job's payload, ms.
    pub payload_ms: i64,
    /// Finished jobs, closed pull requests, verdicts, workflow runs and check runs, ms.
    pub rows_ms: i64,
    /// Dead jobs (kept longer, for `keel jobs`), default-branch commits and baselines, ms.
    pub history_ms: i64,
}

impl Retention {
    /// Rows kept `days` days; payloads one day; dead jobs, commits and baselines three times
    /// as long as rows.
    pub fn days(days: i64) -> Retention {
        Retention {
            payload_ms: DAY_MS.min(days * DAY_MS),
            rows_ms: days * DAY_MS,
            history_ms: 3 * days * DAY_MS,
        }
    }
}

impl Default for Retention {
    /// 30 days.
    fn default() -> Retention {
        Retention::days(30)
    }
}

/// What one pruning pass removed, by what.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Payloads of finished jobs emptied.
    pub payloads: u64,
    /// Rows deleted over all tables.
    pub rows: u64,
}

/// Statements of one pruning pass: (SQL, which cutoff it takes as `$1`). Check runs and
/// commits carry no time of their own: a pass first stamps the ones it has not seen with
/// `$2` (now), and a later pass deletes those stamped before the cutoff.
const PRUNE: &[(&str, Cutoff)] = &[
    (
        "DELETE FROM jobs WHERE state = 'done' AND updated_at < $1",
        Cutoff::Rows,
    ),
    (
        "DELETE FROM jobs WHERE state = 'dead' AND updated_at < $1",
        Cutoff::History,
    ),
    (
        "DELETE FROM head_verdicts WHERE judged_at < $1",
        Cutoff::Rows,
    ),
    (
        "DELETE FROM pull_requests WHERE open = 0 AND updated_at < $1",
        Cutoff::Rows,
    ),
    (
        "DELETE FROM workflow_runs WHERE completed_at < $1",
        Cutoff::Rows,
    ),
    (
        "DELETE FROM check_runs WHERE recorded_at > 0 AND recorded_at < $1",
        Cutoff::Rows,
    ),
    (
        "DELETE FROM commits WHERE recorded_at > 0 AND recorded_at < $1",
        Cutoff::History,
    ),
    (
        "DELETE FROM baselines WHERE recorded_at < $1",
        Cutoff::History,
    ),
    // The roll-up reads this week's lines and last week's (the register's trend).
    (
        "DELETE FROM summary_rows WHERE written_at < $1",
        Cutoff::History,
    ),
    // A repository's place in the queue's fair order, and spent budgets, long past.
    ("DELETE FROM fair_clocks WHERE clock < $1", Cutoff::Rows),
    (
        "DELETE FROM run_artifacts WHERE recorded_at < $1",
        Cutoff::Rows,
    ),
    ("DELETE FROM rate_parks WHERE until_ms < $1", Cutoff::Rows),
    ("DELETE FROM report_waits WHERE since < $1", Cutoff::Rows),
    ("DELETE FROM uploads WHERE received_at < $1", Cutoff::Rows),
    (
        "DELETE FROM command_comments WHERE seen_at < $1",
        Cutoff::Rows,
    ),
    // A pull request's pushers are kept while it is open, however long ago the push; a
    // branch's, as long as history (a pull request may be opened from it later).
    (
        "DELETE FROM pushers WHERE pushed_at < $1 AND NOT EXISTS (SELECT 1 FROM pull_requests p \
         WHERE p.repo = pushers.repo AND pushers.pushed_to = 'pull/' || CAST(p.number AS TEXT) AND p.open = 1)",
        Cutoff::History,
    ),
    // A dashboard session ended is of no use, and says who can read what: it goes at once.
    (
        "DELETE FROM viewer_sessions WHERE expires_at < $1",
        Cutoff::Now,
    ),
];

/// Which retention a statement uses.
#[derive(Debug, Clone, Copy)]
enum Cutoff {
    Rows,
    History,
    /// What has ended by now.
    Now,
}

/// Tables keyed by repository: what an uninstall forgets.
const BY_REPO: &[&str] = &[
    "pull_requests",
    "head_verdicts",
    "merge_groups",
    "check_runs",
    "workflow_runs",
    "baselines",
    "commits",
    "merged_pull_requests",
    "deployments",
    "issues",
    "releases",
    "summaries",
    "summary_rows",
    "outcomes",
    "run_artifacts",
    "summary_checks",
    "report_waits",
    "upload_tokens",
    "uploads",
    "command_comments",
    "decisions",
    "pushers",
];

impl Store {
    /// One pruning pass at `now` under `keep`.
    pub async fn prune(&self, now: i64, keep: Retention) -> anyhow::Result<Pruned> {
        let mut pruned = Pruned::default();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let emptied = sqlx::query(
                "UPDATE jobs SET payload = $1 WHERE state = 'done' AND updated_at < $2 AND length(payload) > 0",
            )
            .bind(Vec::<u8>::new())
            .bind(now - keep.payload_ms)
            .execute(&mut *tx)
            .await?;
            pruned.payloads = emptied.rows_affected();
            for table in ["check_runs", "commits"] {
                let sql = format!("UPDATE {table} SET recorded_at = $1 WHERE recorded_at = 0");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            for (sql, cutoff) in PRUNE {
                let before = match cutoff {
                    Cutoff::Rows => now - keep.rows_ms,
                    Cutoff::History => now - keep.history_ms,
                    Cutoff::Now => now,
                };
                let r = sqlx::query(*sql).bind(before).execute(&mut *tx).await?;
                pruned.rows += r.rows_affected();
            }
            tx.commit().await
        })
        .context("prune old data")?;
        Ok(pruned)
    }

    /// Moves everything stored under `from` to `to` (the repository was renamed); anything
    /// already stored under `to` (deliveries that came between the rename and this) goes.
    pub async fn rename_repo(&self, from: &str, to: &str) -> anyhow::Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for table in BY_REPO.iter().chain(&["installations"]) {
                if from != to {
                    let sql = format!("DELETE FROM {table} WHERE repo = $1");
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(to)
                        .execute(&mut *tx)
                        .await?;
                }
                let sql = format!("UPDATE {table} SET repo = $1 WHERE repo = $2");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(to)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })
        .with_context(|| format!("move what Keel stored of {from} to {to}"))
    }

    /// Forgets everything stored about `repos`: their state, history and jobs (running jobs
    /// finish; what they write afterwards is pruned in time).
    pub async fn forget_repos(&self, repos: &[String]) -> anyhow::Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for repo in repos {
                for table in BY_REPO {
                    let sql = format!("DELETE FROM {table} WHERE repo = $1");
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(repo)
                        .execute(&mut *tx)
                        .await?;
                }
                // A job's serial key starts with its repository and one of `#`, `@`, `:`.
                sqlx::query(
                    "DELETE FROM jobs WHERE state <> 'running' AND (serial_key = $1 \
                     OR substr(serial_key, 1, length($1) + 1) IN ($1 || '#', $1 || '@', $1 || ':'))",
                )
                .bind(repo)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM installations WHERE repo = $1")
                    .bind(repo)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM fair_clocks WHERE fair_group = $1")
                    .bind(repo)
                    .execute(&mut *tx)
                    .await?;
            }
            // Lanes whose head was deleted above (a running head keeps its lane until it ends).
            sqlx::query(
                "DELETE FROM job_lanes WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = job_lanes.head)",
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })
        .context("forget repositories")
    }

    /// The repositories of installation `installation_id`.
    pub async fn installation_repos(&self, installation_id: u64) -> anyhow::Result<Vec<String>> {
        let installation =
            i64::try_from(installation_id).context("an id beyond 2^63 cannot be stored")?;
        let rows: Vec<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT repo FROM installations WHERE installation_id = $1 ORDER BY repo",
        )
        .bind(installation)
        .fetch_all(pool)
        .await)
        .context("list an installation's repositories")?;
        Ok(rows.into_iter().map(|(r,)| r).collect())
    }
}
