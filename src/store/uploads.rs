//! Reports from CI outside GitHub Actions (`keel upload`): each repository's upload tokens,
//! kept as their SHA-256 only, and the archives sent for a commit; and when Keel first waited
//! for a commit's reports, so that it stops waiting after `[reports] timeout`.
//!
//! A repository has two tokens. The pull request token, which every CI build holds, sends
//! reports that judge pull requests; only the baseline token, kept by the default branch's
//! pipeline, sends reports that become a default-branch commit's baseline, and its archives
//! are never replaced by the pull request token's.

use super::{Store, on_pool};
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Most archives kept per commit; a further name is refused (a name sent again replaces).
pub const MAX_UPLOADS_PER_COMMIT: i64 = 20;
/// Most archives kept per repository (until retention removes old ones).
pub const MAX_UPLOADS_PER_REPO: i64 = 500;

/// What an upload token may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadScope {
    /// Reports that judge pull requests (every CI build may hold this token).
    PullRequests,
    /// Also a default-branch commit's baseline (the default branch's pipeline only).
    Baseline,
}

/// One archive sent with `keel upload`, without its bytes: they are read one archive at a
/// time with [`Store::upload_archive`], once the commit's budget has room for them.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name it was sent under (`coverage`, `sarif`, …).
    pub name: String,
    /// The archive's size in bytes.
    pub size: u64,
    /// When it arrived, unix ms.
    pub received_at: i64,
    /// It came with the baseline token.
    pub baseline: bool,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Issues a new upload token of `scope` for `repo`, replacing the earlier one of that
    /// scope, and returns it: it is shown once and only its digest is stored.
    pub async fn issue_upload_token(
        &self,
        repo: &str,
        scope: UploadScope,
        now: i64,
    ) -> anyhow::Result<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random bytes: {e}"))?;
        let token = format!("keel_{}", hex::encode(bytes));
        // A repository with a baseline token only has an empty pull request digest, which
        // no token matches.
        let sql = match scope {
            UploadScope::PullRequests => {
                "INSERT INTO upload_tokens (repo, token_hash, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (repo) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at"
            }
            UploadScope::Baseline => {
                "INSERT INTO upload_tokens (repo, token_hash, created_at, baseline_hash) VALUES ($1, '', $3, $2) \
                 ON CONFLICT (repo) DO UPDATE SET baseline_hash = excluded.baseline_hash, created_at = excluded.created_at"
            }
        };
        on_pool!(self, pool => sqlx::query(sql)
        .bind(repo)
        .bind(digest(&token))
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("store an upload token")?;
        Ok(token)
    }

    /// Whether `repo` was given a pull request upload token (its CI sends the reports of pull
    /// requests with `keel upload`, so they are waited for).
    pub async fn has_upload_token(&self, repo: &str) -> anyhow::Result<bool> {
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT repo FROM upload_tokens WHERE repo = $1 AND token_hash <> ''",
        )
        .bind(repo)
        .fetch_optional(pool)
        .await)
        .context("read an upload token")?;
        Ok(row.is_some())
    }

    /// Which of `repo`'s upload tokens `token` is, if any. The digests are compared in
    /// constant time, both of them whatever the first gives.
    pub async fn upload_token_scope(
        &self,
        repo: &str,
        token: &str,
    ) -> anyhow::Result<Option<UploadScope>> {
        use subtle::ConstantTimeEq;
        let row: Option<(String, Option<String>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT token_hash, baseline_hash FROM upload_tokens WHERE repo = $1",
        )
        .bind(repo)
        .fetch_optional(pool)
        .await)
        .context("read an upload token")?;
        let presented = digest(token);
        let is = |stored: &str| {
            stored.len() == presented.len()
                && bool::from(stored.as_bytes().ct_eq(presented.as_bytes()))
        };
        Ok(row.and_then(|(pulls, baseline)| {
            let (pulls, baseline) = (is(&pulls), is(baseline.as_deref().unwrap_or_default()));
            match (baseline, pulls) {
                (true, _) => Some(UploadScope::Baseline),
                (_, true) => Some(UploadScope::PullRequests),
                _ => None,
            }
        }))
    }

    /// Keeps an uploaded archive for `head_sha`, sent with a token of `scope`. Refused, with
    /// the reason, when the commit already has [`MAX_UPLOADS_PER_COMMIT`] other names or the
    /// repository [`MAX_UPLOADS_PER_REPO`] archives from a token of that scope, or when the pull request token would
    /// replace an archive the baseline token sent.
    pub async fn record_upload(
        &self,
        repo: &str,
        head_sha: &str,
        name: &str,
        archive: &[u8],
        scope: UploadScope,
        now: i64,
    ) -> anyhow::Result<Option<String>> {
        let refused = || {
            format!(
                "`{name}` for this commit was sent with the baseline token; the pull request token cannot replace it"
            )
        };
        if scope == UploadScope::PullRequests {
            let existing: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
                "SELECT baseline FROM uploads WHERE repo = $1 AND head_sha = $2 AND name = $3",
            )
            .bind(repo)
            .bind(head_sha)
            .bind(name)
            .fetch_optional(pool)
            .await)
            .context("read an upload")?;
            if existing.is_some_and(|(b,)| b != 0) {
                return Ok(Some(refused()));
            }
        }
        // The baseline token's archives are counted apart: the pull request token, which every
        // CI build holds, cannot fill the room they need.
        let baseline = i64::from(scope == UploadScope::Baseline);
        let (others, in_repo): (i64, i64) = on_pool!(self, pool => sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN head_sha = $2 AND name <> $3 THEN 1 ELSE 0 END), 0), COUNT(*) \
             FROM uploads WHERE repo = $1 AND baseline = $4",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(name)
        .bind(baseline)
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
        let written = on_pool!(self, pool => sqlx::query(
            "INSERT INTO uploads (repo, head_sha, name, archive, received_at, baseline) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (repo, head_sha, name) DO UPDATE SET archive = excluded.archive, \
             received_at = excluded.received_at, baseline = excluded.baseline \
             WHERE uploads.baseline = 0 OR excluded.baseline = 1",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(name)
        .bind(archive)
        .bind(now)
        .bind(baseline)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .context("store an upload")?;
        // Zero rows: a baseline archive arrived meanwhile (the upsert's guard).
        Ok((written == 0).then(refused))
    }

    /// The archives uploaded for `head_sha`, by name, without their bytes.
    pub async fn uploads(&self, repo: &str, head_sha: &str) -> anyhow::Result<Vec<Upload>> {
        on_pool!(self, pool => sqlx::query(
            "SELECT name, CAST(LENGTH(archive) AS BIGINT) AS size, received_at, baseline \
             FROM uploads WHERE repo = $1 AND head_sha = $2 ORDER BY name",
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok(Upload {
            name: r.try_get("name")?,
            size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or_default(),
            received_at: r.try_get("received_at")?,
            baseline: r.try_get::<i64, _>("baseline")? != 0,
        })).collect::<Result<Vec<_>, sqlx::Error>>()))
        .context("read uploads")
    }

    /// The bytes of the archive uploaded for `head_sha` under `name`, if it is still kept.
    pub async fn upload_archive(
        &self,
        repo: &str,
        head_sha: &str,
        name: &str,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT archive FROM uploads WHERE repo = $1 AND head_sha = $2 AND name = $3",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(name)
        .fetch_optional(pool)
        .await)
        .context("read an upload")?;
        Ok(row.map(|(archive,)| archive))
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
