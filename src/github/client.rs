//! Every GitHub API call Keel makes, in one place, as a GitHub App.
//!
//! The App authenticates with an RS256 JWT (`iat` 60 s in the past, `exp` 9 minutes ahead,
//! `iss` = the App id; octocrab signs it) and acts through installation tokens, minted once per
//! installation and cached until shortly before their one-hour expiry (octocrab re-mints on a
//! 401, once). octocrab's own retries are off — they would repeat POSTs — so failures come back
//! classified ([`ApiError`]) and the durable queue decides when to try again.
//!
//! Every request goes through [`GitHub::send`], which counts it by status for `/metrics`,
//! records the rate limit GitHub reports, caps the response body, and classifies failures.

pub use super::api::{
    ApiError, Artifact, CheckRunOutput, Comment, DeploymentState, GitHubApi, LabelledIssue,
    MergedPull, OtherCheckRun, Repo,
};
use super::event::{PullRequestInfo, PullRequestJson};
use super::{CommitSha, InstallationId, PrNumber};
use crate::metrics::{Budget, Metrics};
use http_body_util::BodyExt;
use keel_core::diff::{Diff, FileDiff};
use keel_core::evaluation::{Annotation, AnnotationLevel};
use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// A response as octocrab hands it over (its body not read yet).
type Response =
    axum::http::Response<http_body_util::combinators::BoxBody<axum::body::Bytes, octocrab::Error>>;

/// GitHub accepts at most this many annotations per check run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Items per page of GitHub's list endpoints (their maximum).
const PER_PAGE: usize = 100;
/// Most pages of a commit's check runs read (1,000 runs).
const MAX_CHECK_RUN_PAGES: u32 = 10;
/// Most pages a history listing reads (10,000 items).
const MAX_PAGES: u32 = 100;

/// RFC 3339 → unix ms.
fn millis(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Largest JSON response read (a page of 100 files with patches stays well under).
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// A GitHub App client.
pub struct GitHub {
    app: Octocrab,
    /// One client per installation, shared: octocrab's token cache lives in the client and a
    /// clone would start with its own, empty one.
    installations: Mutex<HashMap<InstallationId, Arc<Octocrab>>>,
    /// With a token (the Action's `GITHUB_TOKEN`), every call uses this client.
    token_client: Option<Arc<Octocrab>>,
    metrics: Arc<Metrics>,
    web_url: String,
    /// Who Keel acts as: only check runs and comments made as this are Keel's.
    own: Own,
}

/// Who Keel's writes are attributed to on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Own {
    /// The Keel App with this id.
    App(u64),
    /// A workflow's `GITHUB_TOKEN`: the GitHub Actions app and its bot user.
    Actions,
}

/// The GitHub Actions app's slug and bot login (what a `GITHUB_TOKEN` writes as).
const ACTIONS_SLUG: &str = "github-actions";
const ACTIONS_BOT: &str = "github-actions[bot]";

/// Most changed files GitHub lists for a pull request.
const MAX_PR_FILES: usize = 3_000;
/// Most changed files GitHub's compare endpoint lists (on its first page only).
const MAX_COMPARE_FILES: usize = 300;

/// An app as GitHub names it on a check run or a comment.
#[derive(Deserialize)]
struct AppRef {
    id: u64,
    #[serde(default)]
    slug: Option<String>,
}

impl Own {
    fn made(self, app: Option<&AppRef>) -> bool {
        match (self, app) {
            (Own::App(id), Some(app)) => app.id == id,
            (Own::Actions, Some(app)) => app.slug.as_deref() == Some(ACTIONS_SLUG),
            (_, None) => false,
        }
    }
}

/// The web address of a GitHub API address.
fn web_url_of(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    if api == "https://api.github.com" {
        "https://github.com".to_owned()
    } else {
        // GitHub Enterprise Server: https://HOST/api/v3 → https://HOST.
        api.strip_suffix("/api/v3").unwrap_or(api).to_owned()
    }
}

/// An HTTP method Keel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl GitHub {
    /// A client for App `app_id` with its PEM key, against `api_url`.
    pub fn new(app_id: u64, private_key: &SecretString, api_url: &str) -> anyhow::Result<GitHub> {
        GitHub::with_read_timeout(app_id, private_key, api_url, Duration::from_secs(30))
    }

    /// As [`GitHub::new`], giving up on a response after `read_timeout`.
    pub fn with_read_timeout(
        app_id: u64,
        private_key: &SecretString,
        api_url: &str,
        read_timeout: Duration,
    ) -> anyhow::Result<GitHub> {
        use anyhow::Context;
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
            .context("KEEL_PRIVATE_KEY is not an RSA private key")?;
        let app = Octocrab::builder()
            .base_uri(api_url)
            .context("KEEL_GITHUB_API_URL is not a valid URL")?
            .app(octocrab::models::AppId(app_id), key)
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(read_timeout))
            .build()
            .context("build the GitHub client")?;
        Ok(GitHub {
            app,
            installations: Mutex::new(HashMap::new()),
            token_client: None,
            metrics: Arc::new(Metrics::default()),
            web_url: web_url_of(api_url),
            own: Own::App(app_id),
        })
    }

    /// A client acting with a token (a workflow's `GITHUB_TOKEN`) instead of as an App; the
    /// installation of a [`Repo`] is then ignored.
    pub fn with_token(token: &SecretString, api_url: &str) -> anyhow::Result<GitHub> {
        use anyhow::Context;
        let client = Octocrab::builder()
            .base_uri(api_url)
            .context("GITHUB_API_URL is not a valid URL")?
            .personal_token(token.expose_secret().to_owned())
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .context("build the GitHub client")?;
        Ok(GitHub {
            app: client.clone(),
            installations: Mutex::new(HashMap::new()),
            token_client: Some(Arc::new(client)),
            metrics: Arc::new(Metrics::default()),
            web_url: web_url_of(api_url),
            own: Own::Actions,
        })
    }

    /// Counts calls into `metrics` (the server's) instead of a private set.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> GitHub {
        self.metrics = metrics;
        self
    }

    /// The client for one installation (its token is minted on first use and cached).
    async fn installation(&self, id: &InstallationId) -> Result<Arc<Octocrab>, ApiError> {
        if let Some(client) = &self.token_client {
            return Ok(Arc::clone(client));
        }
        let mut cache = self.installations.lock().await;
        if let Some(client) = cache.get(id) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(
            self.app
                .installation(octocrab::models::InstallationId(id.0))
                .map_err(|e| from_octocrab(e, now_secs()))?,
        );
        cache.insert(id.clone(), Arc::clone(&client));
        Ok(client)
    }

    /// Sends one request as the installation and counts it (status, rate limit left) for
    /// `/metrics`; a request that got no response at all is classified here.
    async fn request(
        &self,
        repo: &Repo,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response, ApiError> {
        // A spent budget is not spent further: the job waits for the reset (its installation
        // is parked), without a call GitHub would refuse.
        let now = now_secs();
        if let Some(budget) = self.metrics.budget(repo.installation.0)
            && budget.remaining == 0
            && budget.reset_secs > now
        {
            return Err(ApiError::RateLimited {
                retry_after_secs: budget.reset_secs - now,
                message: format!(
                    "installation {}'s API budget is spent until its reset",
                    repo.installation.0
                ),
            });
        }
        let client = self.installation(&repo.installation).await?;
        let mut uri = route.to_owned();
        for (i, (k, v)) in query.iter().enumerate() {
            uri.push(if i == 0 { '?' } else { '&' });
            uri.push_str(&encode(k));
            uri.push('=');
            uri.push_str(&encode(v));
        }
        let sent = match method {
            Method::Get => client._get(uri.as_str()).await,
            Method::Post => client._post(uri.as_str(), body).await,
            Method::Patch => client._patch(uri.as_str(), body).await,
            Method::Delete => client._delete(uri.as_str(), body).await,
        };
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                self.metrics.github_call(None, None);
                return Err(from_octocrab(e, now_secs()));
            }
        };
        let header = |name: &str| header_number(response.headers(), name);
        let remaining = header("x-ratelimit-remaining");
        if let (Some(remaining), Some(reset_secs)) = (remaining, header("x-ratelimit-reset")) {
            // A window lasts an hour: a later reset is a bogus header, not a longer wait.
            let reset_secs = reset_secs.min(now.saturating_add(MAX_WINDOW_SECS));
            self.metrics.budget_seen(
                repo.installation.0,
                Budget {
                    remaining,
                    reset_secs,
                },
            );
        }
        self.metrics
            .github_call(Some(response.status().as_u16()), remaining);
        Ok(response)
    }

    /// Sends one request as the installation and returns the body of a 2xx response (at most
    /// `max_bytes`); anything else becomes a classified [`ApiError`].
    async fn send(
        &self,
        repo: &Repo,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
        max_bytes: usize,
    ) -> Result<Vec<u8>, ApiError> {
        let response = self.request(repo, method, route, query, body).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let header = |name: &str| header_number(&headers, name);
        if let Some(length) = header("content-length")
            && length > max_bytes as u64
        {
            return Err(too_large(route, length, max_bytes));
        }
        let collected = http_body_util::Limited::new(response.into_body(), max_bytes)
            .collect()
            .await;
        let bytes = match collected {
            Ok(c) => c.to_bytes().to_vec(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(too_large(route, max_bytes as u64 + 1, max_bytes));
            }
            Err(e) => {
                return Err(ApiError::Transient(format!(
                    "{route}: read the response: {e}"
                )));
            }
        };
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        Err(failure(status, &headers, &bytes))
    }

    /// [`GitHub::send`], with the response read as JSON.
    async fn json<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, ApiError> {
        let bytes = self
            .send(repo, method, route, query, body, MAX_RESPONSE_BYTES)
            .await?;
        // A 2xx whose body does not parse was most likely cut off on the way: try again
        // (every write Keel makes is found again before it is repeated).
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Transient(format!("{route}: unreadable response: {e}")))
    }

    /// Page `page` (1-based) of a list endpoint, [`PER_PAGE`] items per page.
    async fn page<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        route: &str,
        page: u32,
    ) -> Result<Vec<T>, ApiError> {
        self.filtered_page(repo, route, &[], page).await
    }

    /// Page `page` of a list endpoint narrowed by `filters` (`state`, `labels`, …).
    async fn filtered_page<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        route: &str,
        filters: &[(&str, &str)],
        page: u32,
    ) -> Result<Vec<T>, ApiError> {
        let page = page.to_string();
        let per_page = PER_PAGE.to_string();
        let mut query = filters.to_vec();
        query.extend([("per_page", per_page.as_str()), ("page", page.as_str())]);
        self.json(repo, Method::Get, route, &query, None).await
    }

    /// A write whose answer Keel does not need.
    async fn write(
        &self,
        repo: &Repo,
        method: Method,
        route: &str,
        body: &serde_json::Value,
    ) -> Result<(), ApiError> {
        self.send(repo, method, route, &[], Some(body), MAX_RESPONSE_BYTES)
            .await
            .map(drop)
    }
}

impl GitHubApi for GitHub {
    async fn file_at(
        &self,
        repo: &Repo,
        path: &str,
        sha: &CommitSha,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        #[derive(Deserialize)]
        struct Content {
            content: Option<String>,
            encoding: Option<String>,
        }
        let route = format!("/repos/{}/contents/{}", repo.name, encode_path(path));
        let got: Result<Content, _> = self
            .json(repo, Method::Get, &route, &[("ref", &sha.0)], None)
            .await;
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
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn find_check_run(
        &self,
        repo: &Repo,
        name: &str,
        head_sha: &CommitSha,
    ) -> Result<Option<u64>, ApiError> {
        #[derive(Deserialize)]
        struct Runs {
            check_runs: Vec<Listed>,
        }
        #[derive(Deserialize)]
        struct Listed {
            id: u64,
            app: Option<AppRef>,
        }
        let route = format!("/repos/{}/commits/{head_sha}/check-runs", repo.name);
        let app_id = match self.own {
            Own::App(id) => id.to_string(),
            Own::Actions => String::new(),
        };
        let mut query = vec![("check_name", name), ("filter", "latest")];
        if !app_id.is_empty() {
            query.push(("app_id", app_id.as_str()));
        }
        let found: Runs = self.json(repo, Method::Get, &route, &query, None).await?;
        // Only a run Keel made is Keel's: one of the same name from another app (a workflow
        // job can be called anything) is never adopted.
        Ok(found
            .check_runs
            .into_iter()
            .find(|r| self.own.made(r.app.as_ref()))
            .map(|r| r.id))
    }

    async fn open_pull_requests_at(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> Result<Vec<PrNumber>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            number: u64,
            state: String,
            head: Head,
        }
        #[derive(Deserialize)]
        struct Head {
            sha: String,
        }
        // The pull requests "associated with" a commit include those that merely contain it;
        // only those whose head it is share its check run.
        let route = format!("/repos/{}/commits/{head_sha}/pulls", repo.name);
        let listed: Vec<Listed> = self.page(repo, &route, 1).await?;
        Ok(listed
            .into_iter()
            .filter(|p| p.state == "open" && p.head.sha == head_sha.0)
            .map(|p| PrNumber(p.number))
            .collect())
    }

    async fn check_runs(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> Result<Vec<OtherCheckRun>, ApiError> {
        #[derive(Deserialize)]
        struct Runs {
            check_runs: Vec<Listed>,
        }
        #[derive(Deserialize)]
        struct Listed {
            id: u64,
            name: String,
            status: String,
            conclusion: Option<String>,
            app: Option<AppRef>,
        }
        let route = format!("/repos/{}/commits/{head_sha}/check-runs", repo.name);
        // The latest run of each name *per app*: another app's run of the same name (a
        // workflow job can be called anything) cannot stand in for the real one.
        let mut latest: HashMap<(u64, String), Listed> = HashMap::new();
        for page in 1..=MAX_CHECK_RUN_PAGES {
            let page = page.to_string();
            let per_page = PER_PAGE.to_string();
            let query = [
                ("filter", "latest"),
                ("per_page", per_page.as_str()),
                ("page", page.as_str()),
            ];
            let listed: Runs = self.json(repo, Method::Get, &route, &query, None).await?;
            let last = listed.check_runs.len() < PER_PAGE;
            for run in listed.check_runs {
                if run.name == super::CHECK_NAME && self.own.made(run.app.as_ref()) {
                    continue;
                }
                let key = (run.app.as_ref().map_or(0, |a| a.id), run.name.clone());
                match latest.get(&key) {
                    Some(seen) if seen.id > run.id => {}
                    _ => {
                        latest.insert(key, run);
                    }
                }
            }
            if last {
                break;
            }
        }
        let mut runs: Vec<OtherCheckRun> = latest
            .into_values()
            .map(|r| OtherCheckRun {
                app: r
                    .app
                    .and_then(|a| a.slug)
                    .unwrap_or_else(|| "an unknown app".to_owned()),
                name: r.name,
                status: r.status,
                conclusion: r.conclusion,
            })
            .collect();
        runs.sort_by(|a, b| (&a.name, &a.app).cmp(&(&b.name, &b.app)));
        Ok(runs)
    }

    async fn start_check_run(
        &self,
        repo: &Repo,
        name: &str,
        head_sha: &CommitSha,
    ) -> Result<u64, ApiError> {
        let body =
            serde_json::json!({"name": name, "head_sha": head_sha.0, "status": "in_progress"});
        let route = format!("/repos/{}/check-runs", repo.name);
        let created: Id = self
            .json(repo, Method::Post, &route, &[], Some(&body))
            .await?;
        Ok(created.id)
    }

    async fn show_check_run_progress(
        &self,
        repo: &Repo,
        check_run_id: u64,
        title: &str,
        summary: &str,
    ) -> Result<(), ApiError> {
        let body = serde_json::json!({"status": "in_progress", "output": {"title": title, "summary": summary}});
        let route = format!("/repos/{}/check-runs/{check_run_id}", repo.name);
        self.write(repo, Method::Patch, &route, &body).await
    }

    async fn complete_check_run(
        &self,
        repo: &Repo,
        check_run_id: u64,
        output: &CheckRunOutput<'_>,
    ) -> Result<(), ApiError> {
        let route = format!("/repos/{}/check-runs/{check_run_id}", repo.name);
        let mut batches = output.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first = batches.next().unwrap_or_default();
        let body = serde_json::json!({
            "status": "completed",
            "conclusion": output.conclusion.as_str(),
            "output": {"title": output.title, "summary": output.summary, "annotations": annotations_json(first)},
        });
        self.write(repo, Method::Patch, &route, &body).await?;
        for batch in batches {
            let body = serde_json::json!({
                "output": {"title": output.title, "summary": output.summary, "annotations": annotations_json(batch)},
            });
            self.write(repo, Method::Patch, &route, &body).await?;
        }
        Ok(())
    }

    async fn pull_request(
        &self,
        repo: &Repo,
        number: &PrNumber,
    ) -> Result<PullRequestInfo, ApiError> {
        let route = format!("/repos/{}/pulls/{number}", repo.name);
        let pr: PullRequestJson = self.json(repo, Method::Get, &route, &[], None).await?;
        Ok(pr.into_info())
    }

    async fn first_commit_at(
        &self,
        repo: &Repo,
        number: &PrNumber,
    ) -> Result<Option<i64>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            commit: Commit,
        }
        #[derive(Deserialize)]
        struct Commit {
            author: Option<Author>,
        }
        #[derive(Deserialize)]
        struct Author {
            date: Option<String>,
        }
        // The first page holds the oldest commits (GitHub lists them oldest first).
        let route = format!("/repos/{}/pulls/{number}/commits", repo.name);
        let commits: Vec<Listed> = self.page(repo, &route, 1).await?;
        Ok(commits
            .iter()
            .filter_map(|c| c.commit.author.as_ref()?.date.as_deref())
            .filter_map(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.timestamp_millis())
            .min())
    }

    async fn pull_request_files(
        &self,
        repo: &Repo,
        number: &PrNumber,
        expected: Option<u64>,
    ) -> Result<Diff, ApiError> {
        let route = format!("/repos/{}/pulls/{number}/files", repo.name);
        let mut files = Vec::new();
        let mut damaged = None;
        for page in 1..=u32::try_from(MAX_PR_FILES / PER_PAGE).unwrap_or(30) {
            let entries: Vec<FileEntry> = self.page(repo, &route, page).await?;
            let last = entries.len() < PER_PAGE;
            read_entries(entries, &mut files, &mut damaged);
            if last {
                break;
            }
        }
        let listed = files.len() as u64;
        let incomplete = damaged.or(match expected {
            Some(total) if listed < total => Some(format!(
                "GitHub listed {listed} of the {total} files this pull request changes"
            )),
            None if files.len() >= MAX_PR_FILES => Some(format!(
                "GitHub lists at most {MAX_PR_FILES} files of a pull request, and this one has at least that many"
            )),
            _ => None,
        });
        Ok(Diff {
            files,
            incomplete,
            ..Diff::default()
        })
    }

    async fn compare_files(
        &self,
        repo: &Repo,
        base: &CommitSha,
        head: &CommitSha,
    ) -> Result<Diff, ApiError> {
        #[derive(Deserialize)]
        struct Comparison {
            files: Option<Vec<FileEntry>>,
        }
        // GitHub lists a comparison's files on its first page only, at most 300 of them.
        let route = format!("/repos/{}/compare/{base}...{head}", repo.name);
        let comparison: Comparison = self.json(repo, Method::Get, &route, &[], None).await?;
        let Some(listed) = comparison.files else {
            return Ok(Diff {
                incomplete: Some("GitHub's comparison of the merge group listed no files".into()),
                ..Diff::default()
            });
        };
        let capped = (listed.len() >= MAX_COMPARE_FILES).then(|| {
            format!(
                "GitHub compares at most {MAX_COMPARE_FILES} files between two commits, and this merge group changes at least that many"
            )
        });
        let mut files = Vec::new();
        let mut damaged = None;
        read_entries(listed, &mut files, &mut damaged);
        let incomplete = damaged.or(capped);
        Ok(Diff {
            files,
            incomplete,
            ..Diff::default()
        })
    }

    async fn find_comment(
        &self,
        repo: &Repo,
        number: &PrNumber,
        marker: &str,
    ) -> Result<Option<Comment>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            id: u64,
            #[serde(default)]
            body: Option<String>,
            user: Option<User>,
            performed_via_github_app: Option<AppRef>,
        }
        #[derive(Deserialize)]
        struct User {
            login: String,
        }
        let own = self.own;
        // Only a comment Keel wrote is Keel's: anyone can paste the hidden marker.
        let mine = move |c: &Listed| match own {
            Own::App(_) => own.made(c.performed_via_github_app.as_ref()),
            Own::Actions => c.user.as_ref().is_some_and(|u| u.login == ACTIONS_BOT),
        };
        let route = format!("/repos/{}/issues/{number}/comments", repo.name);
        for page in 1..=50u32 {
            let comments: Vec<Listed> = self.page(repo, &route, page).await?;
            let last = comments.len() < PER_PAGE;
            if let Some(c) = comments
                .into_iter()
                .find(|c| mine(c) && c.body.as_deref().is_some_and(|b| b.contains(marker)))
            {
                return Ok(Some(Comment {
                    id: c.id,
                    body: c.body.unwrap_or_default(),
                }));
            }
            if last {
                break;
            }
        }
        Ok(None)
    }

    async fn create_comment(
        &self,
        repo: &Repo,
        number: &PrNumber,
        body: &str,
    ) -> Result<u64, ApiError> {
        let route = format!("/repos/{}/issues/{number}/comments", repo.name);
        let payload = serde_json::json!({"body": body});
        let created: Id = self
            .json(repo, Method::Post, &route, &[], Some(&payload))
            .await?;
        Ok(created.id)
    }

    async fn edit_comment(&self, repo: &Repo, comment_id: u64, body: &str) -> Result<(), ApiError> {
        let route = format!("/repos/{}/issues/comments/{comment_id}", repo.name);
        let payload = serde_json::json!({"body": body});
        self.write(repo, Method::Patch, &route, &payload).await
    }

    async fn add_labels(
        &self,
        repo: &Repo,
        number: &PrNumber,
        labels: &[String],
    ) -> Result<(), ApiError> {
        let route = format!("/repos/{}/issues/{number}/labels", repo.name);
        let payload = serde_json::json!({"labels": labels});
        self.write(repo, Method::Post, &route, &payload).await
    }

    async fn ensure_label(&self, repo: &Repo, name: &str, color: &str) -> Result<(), ApiError> {
        let route = format!("/repos/{}/labels", repo.name);
        let payload = serde_json::json!({"name": name, "color": color});
        match self.write(repo, Method::Post, &route, &payload).await {
            // 422 `already_exists`: someone (or an earlier attempt) made it.
            Err(ApiError::Rejected { status: 422, .. }) => Ok(()),
            other => other,
        }
    }

    async fn remove_label(
        &self,
        repo: &Repo,
        number: &PrNumber,
        label: &str,
    ) -> Result<(), ApiError> {
        let route = format!(
            "/repos/{}/issues/{number}/labels/{}",
            repo.name,
            encode(label)
        );
        match self
            .send(repo, Method::Delete, &route, &[], None, MAX_RESPONSE_BYTES)
            .await
        {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map(drop),
        }
    }

    async fn find_artifact(
        &self,
        repo: &Repo,
        run_id: u64,
        name: &str,
    ) -> Result<Option<Artifact>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            artifacts: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            id: u64,
            name: String,
            #[serde(default)]
            size_in_bytes: u64,
            #[serde(default)]
            expired: bool,
        }
        let route = format!("/repos/{}/actions/runs/{run_id}/artifacts", repo.name);
        let listed: Listed = self
            .json(repo, Method::Get, &route, &[("name", name)], None)
            .await?;
        Ok(listed
            .artifacts
            .into_iter()
            .find(|a| a.name == name)
            .map(|a| Artifact {
                id: a.id,
                size: a.size_in_bytes,
                expired: a.expired,
            }))
    }

    async fn download_artifact(
        &self,
        repo: &Repo,
        artifact_id: u64,
        max_bytes: u64,
    ) -> Result<std::fs::File, ApiError> {
        use std::io::{Seek, Write};
        // GitHub answers with a redirect to blob storage; the client follows it and drops the
        // Authorization header when the redirect leaves GitHub's origin.
        let route = format!("/repos/{}/actions/artifacts/{artifact_id}/zip", repo.name);
        let response = self.request(repo, Method::Get, &route, &[], None).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let local =
            |e: std::io::Error| ApiError::Transient(format!("{route}: a temporary file: {e}"));
        let mut body = response.into_body();
        if !(200..300).contains(&status) {
            let bytes = http_body_util::Limited::new(body, 64 << 10)
                .collect()
                .await
                .map(|c| c.to_bytes().to_vec())
                .unwrap_or_default();
            return Err(failure(status, &headers, &bytes));
        }
        // Streamed to an unnamed temporary file, never held in memory: an archive costs a
        // frame of memory however large it is (the limit still bounds the disk it takes).
        let mut file = tempfile::tempfile().map_err(local)?;
        let mut written = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| ApiError::Transient(format!("{route}: read the response: {e}")))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            written += data.len() as u64;
            if written > max_bytes {
                return Err(too_large(
                    &route,
                    written,
                    usize::try_from(max_bytes).unwrap_or(usize::MAX),
                ));
            }
            file.write_all(&data).map_err(local)?;
        }
        file.rewind().map_err(local)?;
        Ok(file)
    }

    async fn find_issue(
        &self,
        repo: &Repo,
        label: &str,
        title: &str,
    ) -> Result<Option<u64>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            number: u64,
            title: String,
        }
        let route = format!("/repos/{}/issues", repo.name);
        for page in 1..=10u32 {
            let issues: Vec<Listed> = self
                .filtered_page(repo, &route, &[("labels", label), ("state", "all")], page)
                .await?;
            let last = issues.len() < PER_PAGE;
            if let Some(found) = issues.into_iter().find(|i| i.title == title) {
                return Ok(Some(found.number));
            }
            if last {
                break;
            }
        }
        Ok(None)
    }

    async fn create_issue(
        &self,
        repo: &Repo,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<u64, ApiError> {
        #[derive(Deserialize)]
        struct Created {
            number: u64,
        }
        let route = format!("/repos/{}/issues", repo.name);
        let payload = serde_json::json!({"title": title, "body": body, "labels": labels});
        let created: Created = self
            .json(repo, Method::Post, &route, &[], Some(&payload))
            .await?;
        Ok(created.number)
    }

    async fn update_issue(
        &self,
        repo: &Repo,
        number: u64,
        body: Option<&str>,
        state: Option<&str>,
    ) -> Result<(), ApiError> {
        let route = format!("/repos/{}/issues/{number}", repo.name);
        let mut payload = serde_json::Map::new();
        if let Some(b) = body {
            payload.insert("body".into(), b.into());
        }
        if let Some(st) = state {
            payload.insert("state".into(), st.into());
        }
        let payload = serde_json::Value::Object(payload);
        self.write(repo, Method::Patch, &route, &payload).await
    }

    async fn issue_labels(
        &self,
        repo: &Repo,
        number: u64,
    ) -> Result<Option<Vec<String>>, ApiError> {
        #[derive(Deserialize)]
        struct Issue {
            #[serde(default)]
            labels: Vec<Label>,
        }
        #[derive(Deserialize)]
        struct Label {
            name: String,
        }
        let route = format!("/repos/{}/issues/{number}", repo.name);
        match self
            .json::<Issue>(repo, Method::Get, &route, &[], None)
            .await
        {
            Ok(issue) => Ok(Some(issue.labels.into_iter().map(|l| l.name).collect())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn web_url(&self) -> Option<String> {
        Some(self.web_url.clone())
    }

    async fn merged_pull_requests_since(
        &self,
        repo: &Repo,
        since: i64,
    ) -> Result<Vec<MergedPull>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            number: u64,
            #[serde(default)]
            title: String,
            body: Option<String>,
            created_at: String,
            updated_at: String,
            merged_at: Option<String>,
            merge_commit_sha: Option<String>,
        }
        let route = format!("/repos/{}/pulls", repo.name);
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let listed: Vec<Listed> = self
                .filtered_page(
                    repo,
                    &route,
                    &[
                        ("state", "closed"),
                        ("sort", "updated"),
                        ("direction", "desc"),
                    ],
                    page,
                )
                .await?;
            let last = listed.len() < PER_PAGE;
            let mut older = false;
            for pr in listed {
                if millis(&pr.updated_at).is_some_and(|t| t < since) {
                    older = true;
                    continue;
                }
                if let Some(merged_at) = pr.merged_at.as_deref().and_then(millis)
                    && merged_at >= since
                {
                    out.push(MergedPull {
                        number: pr.number,
                        title: pr.title,
                        body: pr.body.unwrap_or_default(),
                        created_at: millis(&pr.created_at).unwrap_or(merged_at),
                        merged_at,
                        merge_sha: pr.merge_commit_sha,
                    });
                }
            }
            if last || older {
                break;
            }
        }
        Ok(out)
    }

    async fn deployments_since(
        &self,
        repo: &Repo,
        environment: &str,
        since: i64,
    ) -> Result<Vec<DeploymentState>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            id: u64,
            sha: String,
            created_at: String,
        }
        #[derive(Deserialize)]
        struct Status {
            state: String,
            created_at: String,
        }
        let route = format!("/repos/{}/deployments", repo.name);
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let listed: Vec<Listed> = self
                .filtered_page(repo, &route, &[("environment", environment)], page)
                .await?;
            let last = listed.len() < PER_PAGE;
            let mut older = false;
            for d in listed {
                let created = millis(&d.created_at).unwrap_or(0);
                if created < since {
                    older = true;
                    continue;
                }
                let statuses: Vec<Status> = self
                    .page(
                        repo,
                        &format!("/repos/{}/deployments/{}/statuses", repo.name, d.id),
                        1,
                    )
                    .await?;
                // GitHub lists statuses newest first.
                let (state, at) = statuses
                    .first()
                    .map(|s| (s.state.clone(), millis(&s.created_at).unwrap_or(created)))
                    .unwrap_or_else(|| ("pending".to_owned(), created));
                out.push(DeploymentState {
                    id: d.id,
                    sha: d.sha,
                    state,
                    at,
                });
            }
            if last || older {
                break;
            }
        }
        Ok(out)
    }

    async fn labelled_issues_since(
        &self,
        repo: &Repo,
        label: &str,
        since: i64,
    ) -> Result<Vec<LabelledIssue>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            number: u64,
            #[serde(default)]
            labels: Vec<Label>,
            body: Option<String>,
            created_at: String,
            closed_at: Option<String>,
            pull_request: Option<serde_json::Value>,
        }
        #[derive(Deserialize)]
        struct Label {
            name: String,
        }
        let since_text = chrono::DateTime::from_timestamp_millis(since)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let route = format!("/repos/{}/issues", repo.name);
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let listed: Vec<Listed> = self
                .filtered_page(
                    repo,
                    &route,
                    &[("labels", label), ("state", "all"), ("since", &since_text)],
                    page,
                )
                .await?;
            let last = listed.len() < PER_PAGE;
            for i in listed.into_iter().filter(|i| i.pull_request.is_none()) {
                out.push(LabelledIssue {
                    number: i.number,
                    labels: i.labels.into_iter().map(|l| l.name).collect(),
                    opened_at: millis(&i.created_at).unwrap_or(since),
                    closed_at: i.closed_at.as_deref().and_then(millis),
                    root_cause: i.body.as_deref().and_then(super::event::root_cause),
                });
            }
            if last {
                break;
            }
        }
        Ok(out)
    }

    async fn releases_since(&self, repo: &Repo, since: i64) -> Result<Vec<(u64, i64)>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            id: u64,
            published_at: Option<String>,
        }
        let route = format!("/repos/{}/releases", repo.name);
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let listed: Vec<Listed> = self.page(repo, &route, page).await?;
            let last = listed.len() < PER_PAGE;
            let mut older = false;
            for r in listed {
                match r.published_at.as_deref().and_then(millis) {
                    Some(at) if at >= since => out.push((r.id, at)),
                    Some(_) => older = true,
                    None => {}
                }
            }
            if last || older {
                break;
            }
        }
        Ok(out)
    }

    async fn unfinished_workflow_runs(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> Result<u64, ApiError> {
        #[derive(Deserialize)]
        struct Runs {
            workflow_runs: Vec<Run>,
        }
        #[derive(Deserialize)]
        struct Run {
            status: Option<String>,
        }
        let route = format!("/repos/{}/actions/runs", repo.name);
        let runs: Runs = self
            .json(
                repo,
                Method::Get,
                &route,
                &[("head_sha", &head_sha.0), ("per_page", "100")],
                None,
            )
            .await?;
        Ok(runs
            .workflow_runs
            .iter()
            .filter(|r| r.status.as_deref() != Some("completed"))
            .count() as u64)
    }
}

#[derive(Deserialize)]
struct Id {
    id: u64,
}

/// A changed file as the pull request files and compare endpoints list it.
#[derive(Deserialize)]
struct FileEntry {
    filename: String,
    status: String,
    patch: Option<String>,
    previous_filename: Option<String>,
    /// GitHub's own line counts: they stand when the patch is left out (very large files).
    additions: Option<u32>,
    deletions: Option<u32>,
}

impl FileEntry {
    /// The file as Keel judges it, and why the change cannot be seen whole when GitHub's
    /// patch of it is damaged (its hunks disagree with their headers). A patch over the size
    /// limit counts as one GitHub left out: its lines count, its added lines are unknown.
    fn into_diff(self) -> (FileDiff, Option<String>) {
        use keel_core::diff::{DiffError, FileStatus, parse_file_patch};
        let status = match self.status.as_str() {
            "added" => FileStatus::Added,
            "removed" => FileStatus::Deleted,
            "renamed" => FileStatus::Renamed,
            "copied" => FileStatus::Copied,
            _ => FileStatus::Modified,
        };
        let limits = keel_core::Limits::DEFAULT;
        let patch = self.patch.as_deref().map(str::as_bytes);
        let without_patch = || parse_file_patch(&self.filename, status, None, &limits);
        let (file, damaged) = match parse_file_patch(&self.filename, status, patch, &limits) {
            Ok(file) => (Ok(file), None),
            Err(err @ DiffError::HunkMismatch { .. }) => (
                without_patch(),
                Some(format!(
                    "GitHub's patch of `{}` is damaged: {err}",
                    self.filename
                )),
            ),
            Err(_) => (without_patch(), None),
        };
        let mut file = file.unwrap_or_else(|_| FileDiff {
            path: self.filename.clone(),
            old_path: None,
            status,
            binary: false,
            patch_missing: true,
            added_lines: Vec::new(),
            added: 0,
            removed: 0,
            added_text: Vec::new(),
            removed_text: Vec::new(),
        });
        file.old_path = self.previous_filename;
        file.added = self.additions.unwrap_or(file.added).max(file.added);
        file.removed = self.deletions.unwrap_or(file.removed).max(file.removed);
        (file, damaged)
    }
}

/// Files as listed, with the first reason the list cannot be trusted whole.
fn read_entries(entries: Vec<FileEntry>, files: &mut Vec<FileDiff>, damaged: &mut Option<String>) {
    for entry in entries {
        let (file, why) = entry.into_diff();
        files.push(file);
        if damaged.is_none() {
            *damaged = why;
        }
    }
}

/// A response header holding a number (`content-length`, `x-ratelimit-*`, `retry-after`).
fn header_number(headers: &axum::http::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A non-2xx response as an [`ApiError`]: GitHub's message, classified by status and headers.
fn failure(status: u16, headers: &axum::http::HeaderMap, body: &[u8]) -> ApiError {
    let header = |name: &str| header_number(headers, name);
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
    classify(
        status,
        header("retry-after"),
        header("x-ratelimit-remaining"),
        header("x-ratelimit-reset"),
        message,
        now_secs(),
    )
}

fn too_large(route: &str, size: u64, limit: usize) -> ApiError {
    ApiError::Rejected {
        status: 200,
        message: format!("{route}: the response is {size} bytes, over the limit of {limit}"),
    }
}

/// Classifies a failed response: rate limits (403/429 with `retry-after`, or the primary
/// limit exhausted) wait as GitHub says; 5xx and 401 are transient; other 4xx are final.
fn classify(
    status: u16,
    retry_after: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
    message: String,
    now_secs: u64,
) -> ApiError {
    let exhausted = remaining == Some(0);
    if matches!(status, 403 | 429) && (retry_after.is_some() || exhausted || status == 429) {
        let retry_after_secs = retry_after
            .or_else(|| reset.map(|r| r.saturating_sub(now_secs)))
            .unwrap_or(60);
        return ApiError::RateLimited {
            retry_after_secs,
            message,
        };
    }
    if status >= 500 || status == 401 {
        return ApiError::Transient(format!("{status} {message}"));
    }
    ApiError::Rejected { status, message }
}

/// An octocrab error from minting a token or sending a request.
fn from_octocrab(e: octocrab::Error, now_secs: u64) -> ApiError {
    match e {
        octocrab::Error::GitHub { source, .. } => {
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
            classify(
                source.status_code.as_u16(),
                header("retry-after"),
                header("x-ratelimit-remaining"),
                source
                    .rate_limit_reset
                    .or_else(|| header("x-ratelimit-reset")),
                source.message.clone(),
                now_secs,
            )
        }
        other => ApiError::Transient(other.to_string()),
    }
}

/// Percent-encodes a query value or path segment (RFC 3986 unreserved characters pass).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a repository path, keeping its slashes.
fn encode_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
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

/// GitHub's rate limit window, with a minute's slack for clock skew.
const MAX_WINDOW_SECS: u64 = 61 * 60;

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
