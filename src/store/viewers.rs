//! Dashboard sessions: who signed in, which repositories GitHub said they can read, and
//! until when. The store sees only the SHA-256 of a session's id.

use super::{Store, on_pool};
use anyhow::Context;
use sqlx::Row;

/// A signed-in dashboard viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerSession {
    /// GitHub's numeric user id.
    pub user_id: u64,
    /// Their login when they signed in (for display only; access goes by `repos`).
    pub login: String,
    /// `owner/name` of every repository GitHub said they can read, lowercased.
    pub repos: Vec<String>,
    /// When it ends, unix ms.
    pub expires_at: i64,
}

/// Live sessions one user keeps (browsers, devices); signing in past this ends the oldest.
pub const MAX_SESSIONS_PER_USER: i64 = 8;

impl Store {
    /// Stores a session under `id_hash` (the hex SHA-256 of the cookie's id).
    pub async fn start_viewer_session(
        &self,
        id_hash: &str,
        session: &ViewerSession,
        now: i64,
    ) -> anyhow::Result<()> {
        let repos = serde_json::to_string(&session.repos)?;
        let user = session.user_id as i64;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // The user's ended sessions go, and the oldest of the live ones past a few: signing
            // in again and again grows nothing.
            sqlx::query(
                "DELETE FROM viewer_sessions WHERE user_id = $1 AND (expires_at <= $2 OR id_hash IN \
                 (SELECT id_hash FROM viewer_sessions WHERE user_id = $1 \
                  ORDER BY created_at DESC, id_hash LIMIT 1000000 OFFSET $3))",
            )
            .bind(user)
            .bind(now)
            .bind(MAX_SESSIONS_PER_USER - 1)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO viewer_sessions (id_hash, user_id, login, repos, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id_hash)
            .bind(user)
            .bind(&session.login)
            .bind(&repos)
            .bind(now)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })
        .context("start a dashboard session")
    }

    /// The session stored under `id_hash`, unless it has ended by `now`.
    pub async fn viewer_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> anyhow::Result<Option<ViewerSession>> {
        let row = on_pool!(self, pool => sqlx::query(
            "SELECT user_id, login, repos, expires_at FROM viewer_sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .and_then(|row| row.map(|r| Ok::<_, sqlx::Error>((
            r.try_get::<i64, _>(0)?,
            r.try_get::<String, _>(1)?,
            r.try_get::<String, _>(2)?,
            r.try_get::<i64, _>(3)?,
        ))).transpose()))
        .context("read a dashboard session")?;
        let Some((user_id, login, repos, expires_at)) = row else {
            return Ok(None);
        };
        Ok(Some(ViewerSession {
            user_id: user_id as u64,
            login,
            repos: serde_json::from_str(&repos).context("a dashboard session's repositories")?,
            expires_at,
        }))
    }

    /// Ends the session stored under `id_hash` (signing out).
    pub async fn end_viewer_session(&self, id_hash: &str) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM viewer_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(pool)
            .await
            .map(|_| ()))
        .context("end a dashboard session")
    }

    /// Ends every session of `user_id` (they revoked Keel's authorisation); how many ended.
    pub async fn end_sessions_of(&self, user_id: u64) -> anyhow::Result<u64> {
        on_pool!(self, pool => sqlx::query("DELETE FROM viewer_sessions WHERE user_id = $1")
            .bind(user_id as i64)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .context("end a viewer's dashboard sessions")
    }
}
