//! Keel's storage: SQLite (the embedded default) or PostgreSQL (shared by several replicas),
//! behind one [`Store`]. Every SQL statement lives in this module tree; the rest of the shell
//! calls methods.
//!
//! SQL is portable where it can be; where the dialects differ (row locking) each backend has
//! its own constant. Times are unix milliseconds handed in by the caller, so tests control them.

mod artifacts;
mod decisions;
mod delivery;
mod enqueue;
mod jobs;
mod lanes;
mod merged;
mod org;
mod queue_admin;
mod redelivery;
mod retention;
mod rollups;
mod state;
mod tx;
mod uploads;
mod verdicts;
mod viewers;

pub use decisions::{CommentProgress, NewDecision, PushedTo, StoredDecision};
pub use delivery::MergeDetails;
pub use jobs::{ClaimedJob, Enqueued, JobState, MAX_CRASHES, NewJob};
pub use lanes::FAIR_STEP_MS;
pub use merged::{EvaluationRecord, MergedPullRequest, MergedWork};
pub use org::CachedPolicy;
pub use queue_admin::{JobCounts, JobRow};
pub use retention::{Pruned, Retention};
pub use state::{
    BASELINE_ANCESTRY, FinishedRun, Shown, StoredBaseline, StoredCheckRun, StoredComment,
    TrackedPullRequest,
};
pub use uploads::{MAX_UPLOADS_PER_COMMIT, MAX_UPLOADS_PER_REPO, Upload, UploadScope};
pub use verdicts::{Freshness, HeadVerdict, Unjudged, VerdictState, Watch};
pub use viewers::{MAX_SESSIONS_PER_USER, ViewerSession};

use anyhow::{Context, bail};
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// A connection pool to one of the two backends.
#[derive(Debug, Clone)]
pub enum Store {
    /// SQLite in WAL mode with `synchronous = FULL`: an acknowledged write survives a crash.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever backend `$store` is (the body is compiled once
/// per backend, so it may use backend-specific types).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Store {
    /// Connects to `url` (`sqlite://path` — created if missing — or `postgres://…`) and
    /// brings the schema up to date.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("DATABASE_URL is not a valid SQLite URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                // A file has nothing to reconnect to: pinging before every query only adds a
                // round trip to the connection's thread (a quarter of an ingest commit).
                .test_before_acquire(false)
                .max_connections(4)
                .connect_with(options)
                .await
                .context("open the SQLite database")?;
            Store::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await
                .context("connect to PostgreSQL")?;
            Store::Postgres(pool)
        } else {
            bail!("DATABASE_URL must start with sqlite: or postgres:");
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The store webhook intake writes through, for a store opened by [`Store::connect`]. On
    /// SQLite it is a pool of one connection of its own, opened like the shared pool's: that
    /// connection's page cache stays valid from one commit to the next (each of the shared
    /// pool's connections would find its cache stale after another one wrote, and read the
    /// pages again: a fifth of the CPU of a commit). On PostgreSQL it is this store.
    pub async fn intake_writer(&self) -> anyhow::Result<Store> {
        match self {
            Store::Sqlite(shared) => {
                let pool = SqlitePoolOptions::new()
                    .test_before_acquire(false)
                    .max_connections(1)
                    .connect_with((*shared.connect_options()).clone())
                    .await
                    .context("open the SQLite database for webhook intake")?;
                Ok(Store::Sqlite(pool))
            }
            Store::Postgres(_) => Ok(self.clone()),
        }
    }

    /// A private SQLite store in memory (one connection, so every query sees the same data),
    /// for one-shot runs like the GitHub Action.
    pub async fn in_memory() -> anyhow::Result<Store> {
        let options =
            SqliteConnectOptions::from_str("sqlite::memory:").context("an in-memory SQLite URL")?;
        // The database lives as long as its one connection: never let the pool close it.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .context("open an in-memory SQLite database")?;
        let store = Store::Sqlite(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the schema migrations that have not run yet (idempotent).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Store::Sqlite(pool) => migrator(SQLITE_MIGRATIONS).run(pool).await,
            Store::Postgres(pool) => migrator(POSTGRES_MIGRATIONS).run(pool).await,
        }
        .context("migrate the database schema")
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
            .context("the database does not answer")
    }

    /// The backend's name, for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

const SQLITE_MIGRATIONS: &[(&str, &str)] = &[
    (
        "jobs",
        include_str!("../../migrations/sqlite/0001_jobs.sql"),
    ),
    (
        "state",
        include_str!("../../migrations/sqlite/0002_state.sql"),
    ),
    (
        "merged",
        include_str!("../../migrations/sqlite/0003_merged.sql"),
    ),
    (
        "delivery",
        include_str!("../../migrations/sqlite/0004_delivery.sql"),
    ),
    (
        "outcomes",
        include_str!("../../migrations/sqlite/0005_outcomes.sql"),
    ),
    (
        "reviews",
        include_str!("../../migrations/sqlite/0006_reviews.sql"),
    ),
    (
        "gate",
        include_str!("../../migrations/sqlite/0007_gate.sql"),
    ),
    (
        "poison",
        include_str!("../../migrations/sqlite/0008_poison.sql"),
    ),
    (
        "lanes",
        include_str!("../../migrations/sqlite/0009_lanes.sql"),
    ),
    (
        "runs",
        include_str!("../../migrations/sqlite/0010_runs.sql"),
    ),
    (
        "reports",
        include_str!("../../migrations/sqlite/0011_reports.sql"),
    ),
    (
        "commands",
        include_str!("../../migrations/sqlite/0012_commands.sql"),
    ),
    ("org", include_str!("../../migrations/sqlite/0013_org.sql")),
    (
        "rollups",
        include_str!("../../migrations/sqlite/0014_rollups.sql"),
    ),
    (
        "check run shown",
        include_str!("../../migrations/sqlite/0015_check_run_shown.sql"),
    ),
    (
        "decided",
        include_str!("../../migrations/sqlite/0016_decided.sql"),
    ),
    (
        "head since",
        include_str!("../../migrations/sqlite/0017_head_since.sql"),
    ),
    (
        "upload scopes",
        include_str!("../../migrations/sqlite/0018_upload_scopes.sql"),
    ),
    (
        "redelivery",
        include_str!("../../migrations/sqlite/0019_redelivery.sql"),
    ),
    (
        "pushers",
        include_str!("../../migrations/sqlite/0020_pushers.sql"),
    ),
    (
        "viewer sessions",
        include_str!("../../migrations/sqlite/0021_viewer_sessions.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
    (
        "jobs",
        include_str!("../../migrations/postgres/0001_jobs.sql"),
    ),
    (
        "state",
        include_str!("../../migrations/postgres/0002_state.sql"),
    ),
    (
        "merged",
        include_str!("../../migrations/postgres/0003_merged.sql"),
    ),
    (
        "delivery",
        include_str!("../../migrations/postgres/0004_delivery.sql"),
    ),
    (
        "outcomes",
        include_str!("../../migrations/postgres/0005_outcomes.sql"),
    ),
    (
        "reviews",
        include_str!("../../migrations/postgres/0006_reviews.sql"),
    ),
    (
        "gate",
        include_str!("../../migrations/postgres/0007_gate.sql"),
    ),
    (
        "poison",
        include_str!("../../migrations/postgres/0008_poison.sql"),
    ),
    (
        "lanes",
        include_str!("../../migrations/postgres/0009_lanes.sql"),
    ),
    (
        "runs",
        include_str!("../../migrations/postgres/0010_runs.sql"),
    ),
    (
        "reports",
        include_str!("../../migrations/postgres/0011_reports.sql"),
    ),
    (
        "commands",
        include_str!("../../migrations/postgres/0012_commands.sql"),
    ),
    (
        "org",
        include_str!("../../migrations/postgres/0013_org.sql"),
    ),
    (
        "rollups",
        include_str!("../../migrations/postgres/0014_rollups.sql"),
    ),
    (
        "check run shown",
        include_str!("../../migrations/postgres/0015_check_run_shown.sql"),
    ),
    (
        "decided",
        include_str!("../../migrations/postgres/0016_decided.sql"),
    ),
    (
        "head since",
        include_str!("../../migrations/postgres/0017_head_since.sql"),
    ),
    (
        "upload scopes",
        include_str!("../../migrations/postgres/0018_upload_scopes.sql"),
    ),
    (
        "redelivery",
        include_str!("../../migrations/postgres/0019_redelivery.sql"),
    ),
    (
        "pushers",
        include_str!("../../migrations/postgres/0020_pushers.sql"),
    ),
    (
        "viewer sessions",
        include_str!("../../migrations/postgres/0021_viewer_sessions.sql"),
    ),
];

fn migrator(migrations: &'static [(&'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .zip(1..)
            .map(|(&(name, sql), version)| {
                Migration::new(
                    version,
                    name.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}
