//! Reports from CI outside GitHub Actions (`keel upload`): each repository's upload token,
//! kept as its SHA-256 only, and the archives sent for a commit; and when Keel first waited
//! for a commit's reports, so that it stops waiting after `[reports] timeout`.

use super::{Store, on_pool};
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Most archives kept per commit; a further name is refused (a name sent again replaces).
pub const MAX_UPLOADS_PER_COMMIT: i64 = 20;
/// Most archives kept per repository (until retention removes old ones).
pub const MAX_UPLOADS_PER_REPO: i64 = 500;

/// One archive sent with `keel upload`.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name it was sent under (`coverage`, `sarif`, …).
    pub name: String,
    /// The zip archive.
    pub archive: Vec<u8>,
    /// When it arrived, unix ms.
    pub received_at: i64,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Issues a new upload token for `repo`, replacing any earlier one, and returns it: it is
    /// shown once and only its digest is stored.
    pub async fn issue_upload_token(&self, repo: &str, now: i64) -> anyhow::Result<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random bytes: {e}"))?;
        let token = format!("keel_{}", hex::encode(bytes));
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO upload_tokens (repo, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (repo) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
        )
        .bind(repo)
        .bind(digest(&token))
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("store an upload token")?;
        Ok(token)
    }

    /// Whether `repo` was given an upload token (its CI sends reports with `keel upload`).
    pub async fn has_upload_token(&self, repo: &str) -> anyhow::Result<bool> {
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT repo FROM upload_tokens WHERE repo = $1",
        )
        .bind(repo)
        .fetch_optional(pool)
        .await)
        .context("read an upload token")?;
        Ok(row.is_some())
    }

    /// Whether `token` is `repo`'s upload token. The digests are compared in constant time.
    pub async fn upload_token_matches(&self, repo: &str, token: &str) -> anyhow::Result<bool> {
        use subtle::ConstantTimeEq;
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT token_hash FROM upload_tokens WHERE repo = $1",
        )
        .bind(repo)
        .fetch_optional(pool)
        .await)
        .context("read an upload token")?;
        let presented = digest(token);
        Ok(row.is_some_and(|(stored,)| {
            stored.len() == presented.len()
                && bool::from(stored.as_bytes().ct_eq(presented.as_bytes()))
        }))
    }

    /// Keeps an uploaded archive for `head_sha`. Refused, with the reason, when the commit
    /// already has [`MAX_UPLOADS_PER_COMMIT`] other names or the repository
    /// [`MAX_UPLOADS_PER_REPO`] archives.
    pub async fn record_upload(
        &self,
        repo: &str,
        head_sha: &str,
        name: &str,
        archive: &[u8],
        now: i64,
    ) -> anyhow::Result<Option<String>> {
        let (others, in_repo): (i64, i64) = on_pool!(self, pool => sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN head_sha = $2 AND name <> $3 THEN 1 ELSE 0 END), 0), COUNT(*) \
             FROM uploads WHERE repo = $1",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(name)
        .fetch_one(pool)
        .await)
        .context("count uploads")?;
        if others >= MAX_UPLOADS_PER_COMMIT {
            return Ok(Some(format!(
                "this commit already has {MAX_UPLOADS_PER_COMMIT} uploads under other names"
            )));
        }
        if in_repo >= MAX_UPLOADS_PER_REPO {
            return Ok(Some(format!(
                "the repository already has {MAX_UPLOADS_PER_REPO} uploads kept; older ones are removed after the retention period"
            )));
        }
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO uploads (repo, head_sha, name, archive, received_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (repo, head_sha, name) DO UPDATE SET archive = excluded.archive, received_at = excluded.received_at",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(name)
        .bind(archive)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("store an upload")?;
        Ok(None)
    }

    /// The archives uploaded for `head_sha`, by name.
    pub async fn uploads(&self, repo: &str, head_sha: &str) -> anyhow::Result<Vec<Upload>> {
        on_pool!(self, pool => sqlx::query(
            "SELECT name, archive, received_at FROM uploads WHERE repo = $1 AND head_sha = $2 ORDER BY name",
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok(Upload {
            name: r.try_get("name")?,
            archive: r.try_get("archive")?,
            received_at: r.try_get("received_at")?,
        })).collect::<Result<Vec<_>, sqlx::Error>>()))
        .context("read uploads")
    }

    /// When Keel first waited for `head_sha`'s reports: `now` the first time it asks.
    pub async fn waiting_since(&self, repo: &str, head_sha: &str, now: i64) -> anyhow::Result<i64> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO report_waits (repo, head_sha, since) VALUES ($1, $2, $3) \
             ON CONFLICT (repo, head_sha) DO NOTHING",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a wait for reports")?;
        let (since,): (i64,) = on_pool!(self, pool => sqlx::query_as(
            "SELECT since FROM report_waits WHERE repo = $1 AND head_sha = $2",
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_one(pool)
        .await)
        .context("read a wait for reports")?;
        Ok(since)
    }
}
