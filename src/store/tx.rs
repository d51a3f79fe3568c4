//! One transaction on either backend, for the store's multi-statement operations (the job
//! queue's lanes). Statements use `$1…$N` placeholders, which both backends accept, and are
//! bound from a slice of [`Arg`]s, so each operation is written once.

use super::Store;
use anyhow::Context;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

/// A bound value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Arg<'a> {
    /// An integer.
    Int(i64),
    /// An optional integer.
    OptInt(Option<i64>),
    /// Text.
    Text(&'a str),
    /// Optional text.
    OptText(Option<&'a str>),
    /// Bytes.
    Bytes(&'a [u8]),
}

/// An open transaction; dropped without [`Tx::commit`], it rolls back.
pub(super) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Binds `args` to a query of either backend.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match *arg {
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

impl Store {
    /// Begins a transaction. On SQLite its first statement should write: a transaction that
    /// reads first and writes later can fail instead of waiting for the write lock.
    pub(super) async fn begin(&self) -> anyhow::Result<Tx> {
        Ok(match self {
            Store::Sqlite(pool) => Tx::Sqlite(pool.begin().await.context("begin a transaction")?),
            Store::Postgres(pool) => {
                Tx::Postgres(pool.begin().await.context("begin a transaction")?)
            }
        })
    }
}

impl Tx {
    /// Runs a statement; returns the rows it changed.
    pub(super) async fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Tx::Sqlite(tx) => bind_args!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Tx::Postgres(tx) => bind_args!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query; returns its rows as `T` (a tuple of plain columns).
    pub(super) async fn rows<T>(&mut self, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Tx::Sqlite(tx) => {
                bind_args!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(&mut **tx)
                    .await
            }
            Tx::Postgres(tx) => {
                bind_args!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(&mut **tx)
                    .await
            }
        }
    }

    /// Whether this is PostgreSQL (row locks differ).
    pub(super) fn is_postgres(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }

    /// Commits.
    pub(super) async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Tx {
    /// Placeholder number `n` of a statement built at run time: `?` on SQLite (which looks a
    /// `$N` up by walking the statement's list of names, O(N²) over a long list), `$n` on
    /// PostgreSQL. Such statements must use each parameter once, in order.
    pub(super) fn ph(&self, n: usize) -> String {
        match self {
            Tx::Sqlite(_) => "?".to_owned(),
            Tx::Postgres(_) => format!("${n}"),
        }
    }

    /// `count` placeholders from number `from`, comma-separated (an `IN (…)` list).
    pub(super) fn phs(&self, from: usize, count: usize) -> String {
        (from..from + count)
            .map(|n| self.ph(n))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
