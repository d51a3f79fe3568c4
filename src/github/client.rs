//! Every GitHub API call Keel makes, in one place, as a GitHub App.
//!
//! The App authenticates with an RS256 JWT (`iat` 60 s in the past, `exp` 9 minutes ahead,
//! `iss` = the App id; octocrab signs it) and acts through installation tokens, minted once per
//! installation and cached until shortly before their one-hour expiry (octocrab re-mints on a
//! 401, once). octocrab's own retries are off — they would repeat POSTs — so failures come back
//! classified ([`ApiError`]) and the durable queue decides when to try again.

use super::{CommitSha, InstallationId, RepoName};
use keel_core::evaluation::{Annotation, AnnotationLevel, Conclusion};
use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// GitHub accepts at most this many annotations per check run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// A GitHub App client.
pub struct GitHub {
    app: Octocrab,
    /// One client per installation, shared: octocrab's token cache lives in the client and a
    /// clone would start with its own, empty one.
    installations: Mutex<HashMap<InstallationId, Arc<Octocrab>>>,
}

/// Why a call failed, as the retry policy needs to know it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Rate limited (primary or secondary): try again after this many seconds.
    #[error("GitHub rate limit: retry after {retry_after_secs} s ({message})")]
    RateLimited {
        /// Seconds to wait, from `retry-after` or `x-ratelimit-reset`.
        retry_after_secs: u64,
        /// GitHub's message.
        message: String,
    },
    /// A 5xx, a timeout or a connection failure: worth retrying with backoff.
    #[error("GitHub is unavailable: {0}")]
    Transient(String),
    /// Anything else (4xx): retrying will not help.
    #[error("GitHub refused the request: {status} {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
}

impl ApiError {
    fn from_octocrab(e: octocrab::Error, now_secs: u64) -> ApiError {
        match e {
            octocrab::Error::GitHub { source, .. } => {
                let status = source.status_code.as_u16();
                let header = |name: &str| {
                    source
                        .headers
                        .as_ref()?
                        .get(name)?
                        .to_str()
                        .ok()?
                        .trim()
                        .parse::<u64>()
                        .ok()
                };
                let exhausted = header("x-ratelimit-remaining") == Some(0);
                if matches!(status, 403 | 429)
                    && (header("retry-after").is_some() || exhausted || status == 429)
                {
                    let retry_after_secs = header("retry-after")
                        .or_else(|| {
                            source
                                .rate_limit_reset
                                .map(|reset| reset.saturating_sub(now_secs))
                        })
                        .unwrap_or(60);
                    return ApiError::RateLimited {
                        retry_after_secs,
                        message: source.message,
                    };
                }
                if status >= 500 {
                    return ApiError::Transient(format!("{status} {}", source.message));
                }
                ApiError::Rejected {
                    status,
                    message: source.message,
                }
            }
            other => ApiError::Transient(other.to_string()),
        }
    }
}

/// What [`GitHub::upsert_comment`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentChange {
    /// Posted a new comment.
    Created,
    /// Edited the existing one.
    Edited,
    /// The existing one already said this; nothing sent.
    Unchanged,
}

/// A check run as Keel writes it.
pub struct CheckRunOutput<'a> {
    /// `success` or `failure`.
    pub conclusion: Conclusion,
    /// Title line.
    pub title: &'a str,
    /// Markdown summary (≤ 65,535 characters).
    pub summary: &'a str,
    /// All annotations; sent in batches of 50.
    pub annotations: &'a [Annotation],
}

impl GitHub {
    /// A client for App `app_id` with its PEM key, against `api_url`.
    pub fn new(app_id: u64, private_key: &SecretString, api_url: &str) -> anyhow::Result<GitHub> {
        use anyhow::Context;
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
            .context("KEEL_PRIVATE_KEY is not an RSA private key")?;
        let app = Octocrab::builder()
            .base_uri(api_url)
            .context("KEEL_GITHUB_API_URL is not a valid URL")?
            .app(octocrab::models::AppId(app_id), key)
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .context("build the GitHub client")?;
        Ok(GitHub {
            app,
            installations: Mutex::new(HashMap::new()),
        })
    }

    /// The client for one installation (its token is minted on first use and cached).
    async fn installation(&self, id: &InstallationId) -> Result<Arc<Octocrab>, ApiError> {
        let mut cache = self.installations.lock().await;
        if let Some(client) = cache.get(id) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(
            self.app
                .installation(octocrab::models::InstallationId(id.0))
                .map_err(classify)?,
        );
        cache.insert(id.clone(), Arc::clone(&client));
        Ok(client)
    }

    /// A file's bytes at a commit, or `None` when it does not exist there.
    pub async fn file_at(
        &self,
        installation: &InstallationId,
        repo: &RepoName,
        path: &str,
        sha: &CommitSha,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        #[derive(Deserialize)]
        struct Content {
            content: Option<String>,
            encoding: Option<String>,
        }
        let client = self.installation(installation).await?;
        let route = format!("/repos/{repo}/contents/{path}");
        let got: Result<Content, _> = client.get(route, Some(&[("ref", sha.0.as_str())])).await;
        match got {
            Ok(c) if c.encoding.as_deref() == Some("base64") => {
                let text: String = c.content.unwrap_or_default().split_whitespace().collect();
                decode_base64(&text)
                    .map(Some)
                    .ok_or_else(|| ApiError::Rejected {
                        status: 200,
                        message: format!("{path}: bad base64 content"),
                    })
            }
            Ok(_) => Err(ApiError::Rejected {
                status: 200,
                message: format!("{path}: not a file"),
            }),
            Err(octocrab::Error::GitHub { source, .. }) if source.status_code.as_u16() == 404 => {
                Ok(None)
            }
            Err(e) => Err(ApiError::from_octocrab(e, now_secs())),
        }
    }

    /// The id of check run `name` on `head_sha`, creating it `in_progress` if there is none:
    /// a job that runs twice finds the run the first attempt made.
    pub async fn find_or_start_check_run(
        &self,
        installation: &InstallationId,
        repo: &RepoName,
        name: &str,
        head_sha: &CommitSha,
    ) -> Result<u64, ApiError> {
        #[derive(Deserialize)]
        struct Runs {
            check_runs: Vec<Run>,
        }
        #[derive(Deserialize)]
        struct Run {
            id: u64,
        }
        let client = self.installation(installation).await?;
        let route = format!("/repos/{repo}/commits/{head_sha}/check-runs");
        let found: Runs = client
            .get(route, Some(&[("check_name", name), ("filter", "latest")]))
            .await
            .map_err(classify)?;
        match found.check_runs.first() {
            Some(run) => Ok(run.id),
            None => {
                self.start_check_run(installation, repo, name, head_sha)
                    .await
            }
        }
    }

    /// Shows progress on a check run that stays `in_progress`.
    pub async fn show_check_run_progress(
        &self,
        installation: &InstallationId,
        repo: &RepoName,
        check_run_id: u64,
        title: &str,
        summary: &str,
    ) -> Result<(), ApiError> {
        let client = self.installation(installation).await?;
        let body = serde_json::json!({"status": "in_progress", "output": {"title": title, "summary": summary}});
        let _: serde_json::Value = client
            .patch(
                format!("/repos/{repo}/check-runs/{check_run_id}"),
                Some(&body),
            )
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The files a pull request changes with their patches (100 a page, up to GitHub's 3,000).
    pub async fn pull_request_files(
        &self,
        installation: &InstallationId,
        repo: &RepoName,
        number: &super::PrNumber,
    ) -> Result<Vec<keel_core::diff::FileDiff>, ApiError> {
        use keel_core::diff::{FileStatus, parse_file_patch};
        #[derive(Deserialize)]
        struct Entry {
            filename: String,
            status: String,
            patch: Option<String>,
            previous_filename: Option<String>,
        }
        let client = self.installation(installation).await?;
        let route = format!("/repos/{repo}/pulls/{number}/files");
        let mut files = Vec::new();
        for page in 1..=30u32 {
            let entries: Vec<Entry> = get_page(&client, &route, page).await?;
            let last = entries.len() < PER_PAGE;
            for e in entries {
                let status = match e.status.as_str() {
                    "added" => FileStatus::Added,
                    "removed" => FileStatus::Deleted,
                    "renamed" => FileStatus::Renamed,
                    "copied" => FileStatus::Copied,
                    _ => FileStatus::Modified,
                };
                let mut file = parse_file_patch(
                    &e.filename,
                    status,
                    e.patch.as_deref().map(str::as_bytes),
                    &keel_core::Limits::DEFAULT,
                )
                .map_err(|err| ApiError::Rejected {
                    status: 200,
                    message: format!("{}: {err}", e.filename),
                })?;
                file.old_path = e.previous_filename;
                files.push(file);
            }
            if last {
                break;
            }
        }
        Ok(files)
    }

    /// Makes the pull request's comment that contains `marker` read `body`: created when there
    /// is none, edited only when its text differs.
    pub async fn upsert_comment(
        &self,
        installation: &InstallationId,
        repo: &RepoName,
        number: &super::PrNumber,
        marker: &str,
        body: &str,
    ) -> Result<CommentChange, ApiError> {
        #[derive(Deserialize)]
        struct Comment {
            id: u64,
            #[serde(default)]
            body: Option<String>,
        }
        let client = self.installation(installation).await?;
        let route = format!("/repos/{repo}/issues/{number}/comments");
        let mut found: Option<Comment> = None;
        for page in 1..=50u32 {
            let comments: Vec<Comment> = get_page(&client, &route, page).await?;
            let last = comments.len() < PER_PAGE;
            found = comments
                .into_iter()
                .find(|c| c.body.as_deref().is_some_and(|b| b.contains(marker)));
            if found.is_some() || last {
                break;
            }
        }
        let payload = serde_json::json!({"body": body});
        match found {
            Some(c) if c.body.as_deref() == Some(body) => Ok(CommentChange::Unchanged),
            Some(c) => {
                let _: serde_json::Value = client
                    .patch(
                        format!("/repos/{repo}/issues/comments/{}", c.id),
                        Some(&payload),
                    )
                    .await
                    .map_err(classify)?;
                Ok(CommentChange::Edited)
            }
            None => {
                let _: serde_json::Value = client
                    .post(&route, Some(&payload))
                    .await
                    .map_err(classify)?;
                Ok(CommentChange::Created)
            }
        }
    }

    /// Creates check run `name` on `head_sha`, `in_progress`; returns its id.
    pub async fn start_check_run(
        &self,
        installation: &InstallationId,
        repo: &RepoName,
        name: &str,
        head_sha: &CommitSha,
    ) -> Result<u64, ApiError> {
        #[derive(Deserialize)]
        struct Created {
            id: u64,
        }
        let client = self.installation(installation).await?;
        let body =
            serde_json::json!({"name": name, "head_sha": head_sha.0, "status": "in_progress"});
        let created: Created = client
            .post(format!("/repos/{repo}/check-runs"), Some(&body))
            .await
            .map_err(classify)?;
        Ok(created.id)
    }

    /// Completes a check run: the conclusion with the first 50 annotations, then the rest in
    /// further updates of 50 (GitHub appends them).
    pub async fn complete_check_run(
        &self,
        installation: &InstallationId,
        repo: &RepoName,
        check_run_id: u64,
        output: &CheckRunOutput<'_>,
    ) -> Result<(), ApiError> {
        let client = self.installation(installation).await?;
        let route = format!("/repos/{repo}/check-runs/{check_run_id}");
        let mut batches = output.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first = batches.next().unwrap_or_default();
        let body = serde_json::json!({
            "status": "completed",
            "conclusion": output.conclusion.as_str(),
            "output": {"title": output.title, "summary": output.summary, "annotations": annotations_json(first)},
        });
        let _: serde_json::Value = client.patch(&route, Some(&body)).await.map_err(classify)?;
        for batch in batches {
            let body = serde_json::json!({
                "output": {"title": output.title, "summary": output.summary, "annotations": annotations_json(batch)},
            });
            let _: serde_json::Value = client.patch(&route, Some(&body)).await.map_err(classify)?;
        }
        Ok(())
    }
}

fn annotations_json(batch: &[Annotation]) -> Vec<serde_json::Value> {
    batch
        .iter()
        .map(|a| {
            let level = match a.level {
                AnnotationLevel::Failure => "failure",
                AnnotationLevel::Warning => "warning",
                AnnotationLevel::Notice => "notice",
            };
            serde_json::json!({
                "path": a.path,
                "start_line": a.start_line,
                "end_line": a.end_line,
                "annotation_level": level,
                "title": a.title,
                "message": a.message,
            })
        })
        .collect()
}

/// Items per page of GitHub's list endpoints (their maximum).
const PER_PAGE: usize = 100;

/// Page `page` (1-based) of a list endpoint, [`PER_PAGE`] items per page.
async fn get_page<T: serde::de::DeserializeOwned>(
    client: &Octocrab,
    route: &str,
    page: u32,
) -> Result<Vec<T>, ApiError> {
    let page = page.to_string();
    let per_page = PER_PAGE.to_string();
    client
        .get(
            route,
            Some(&[("per_page", per_page.as_str()), ("page", page.as_str())]),
        )
        .await
        .map_err(classify)
}

/// An octocrab error, classified now.
fn classify(e: octocrab::Error) -> ApiError {
    ApiError::from_octocrab(e, now_secs())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Standard base64 (as the contents API returns it); `None` for anything malformed.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&acc.to_be_bytes()[1..=n]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes_githubs_wrapped_content() {
        assert_eq!(decode_base64("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert_eq!(decode_base64("YWI=").unwrap(), b"ab");
        assert!(decode_base64("a").is_none());
        assert!(decode_base64("a$==").is_none());
    }
}
