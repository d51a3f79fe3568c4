//! Every GitHub API call Keel makes, in one place, as a GitHub App.
//!
//! The App authenticates with an RS256 JWT (`iat` 60 s in the past, `exp` 9 minutes ahead,
//! `iss` = the App id; octocrab signs it) and acts through installation tokens, minted once per
//! installation and cached until shortly before their one-hour expiry (octocrab re-mints on a
//! 401, once). octocrab's own retries are off — they would repeat POSTs — so failures come back
//! classified ([`ApiError`]) and the durable queue decides when to try again.
//!
//! Every request goes through one `send` ([`transport`]), which counts it by status for
//! `/metrics`, records the rate limit GitHub reports, caps the response body, and classifies
//! failures. This file holds the client and the [`GitHubApi`] implementation as an index: each
//! operation is done in the module named for what it touches ([`checks`], [`comments`],
//! [`labels`], [`files`], [`pulls`], [`issues`], [`artifacts`], [`history`]), which shares
//! this file's types, bounds and transport.

pub use super::api::{
    ApiError, Artifact, CheckRunOutput, CheckRunState, Comment, CommitCheckRuns, DeploymentState,
    GitHubApi, HookDelivery, LabelledIssue, MergedPull, OtherCheckRun, Repo,
};
use super::event::{PullRequestInfo, PullRequestJson};
use super::{CommitSha, InstallationId, PrNumber};
use crate::metrics::{Budget, Metrics};
use http_body_util::BodyExt;
use keel_core::diff::{Diff, FileDiff};
use keel_core::evaluation::Annotation;
use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

mod artifacts;
mod checks;
mod code_scanning;
mod comments;
mod deliveries;
mod files;
mod history;
mod issues;
mod runs;
pub use runs::{MAX_ANCESTORS, PushRun};
mod labels;
mod pulls;
mod transport;

use crate::clock::{now_secs, rfc3339_ms as millis};
use transport::{Method, failure, too_large};

/// GitHub accepts at most this many annotations per check run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Items per page of GitHub's list endpoints (their maximum).
const PER_PAGE: usize = 100;
/// Most pages of a commit's check runs read (1,000 runs).
const MAX_CHECK_RUN_PAGES: u32 = 10;
/// Most pages a history listing reads (10,000 items).
const MAX_PAGES: u32 = 100;

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
/// `http://127.0.0.1…`, `http://localhost…`, `http://[::1]…`: plain HTTP that never leaves
/// this machine.
pub fn is_loopback_http(url: &str) -> bool {
    url.strip_prefix("http://").is_some_and(|rest| {
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        matches!(host, "127.0.0.1" | "localhost") || rest.starts_with("[::1]")
    })
}

/// `https://host[:port]` (or plain http on this machine), with no path, query or anything a
/// shell or a header would read as more than an address: where people reach Keel's pages.
pub fn is_plain_origin(url: &str) -> bool {
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    host.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    }) && (url.starts_with("https://") || is_loopback_http(url))
}

/// A client for requests to `base` that carry none of the App's credentials (`keel upload`,
/// `keel setup`): `base` must be https (plain http only to this machine); no retries, 10 s to
/// connect, `read_timeout` for each read.
pub fn plain_client(
    base: &str,
    read_timeout: std::time::Duration,
) -> anyhow::Result<octocrab::Octocrab> {
    use anyhow::Context;
    if !(base.starts_with("https://") || is_loopback_http(base)) {
        anyhow::bail!("{base}: not an https:// address (plain http only to this machine)");
    }
    octocrab::Octocrab::builder()
        .base_uri(base)
        .with_context(|| format!("{base} is not a URL"))?
        .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
        .set_connect_timeout(Some(std::time::Duration::from_secs(10)))
        .set_read_timeout(Some(read_timeout))
        .build()
        .context("build the HTTP client")
}

/// What `client` (a [`plain_client`]) answers to `request`: the status and the body, read
/// within `max_bytes`; the errors say what failed in plain words.
pub async fn plain_answer(
    client: &octocrab::Octocrab,
    request: axum::http::Request<Vec<u8>>,
    max_bytes: usize,
) -> anyhow::Result<(axum::http::StatusCode, axum::body::Bytes)> {
    use http_body_util::BodyExt;
    let response = client
        .execute(request)
        .await
        .map_err(|e| anyhow::anyhow!("could not reach GitHub: {e}"))?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("GitHub's answer could not be read: {e}"))?
        .to_bytes();
    Ok((status, body))
}

/// GitHub's web address for its API address (`https://api.github.com` → `https://github.com`).
pub fn web_url_of(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    if api == "https://api.github.com" {
        "https://github.com".to_owned()
    } else {
        // GitHub Enterprise Server: https://HOST/api/v3 → https://HOST.
        api.strip_suffix("/api/v3").unwrap_or(api).to_owned()
    }
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
}

impl GitHubApi for GitHub {
    async fn file_at(
        &self,
        repo: &Repo,
        path: &str,
        sha: &CommitSha,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        files::at(self, repo, path, sha).await
    }

    async fn find_check_run(
        &self,
        repo: &Repo,
        name: &str,
        head_sha: &CommitSha,
    ) -> Result<Option<CheckRunState>, ApiError> {
        checks::find(self, repo, name, head_sha).await
    }

    async fn open_pull_requests_at(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> Result<Vec<PrNumber>, ApiError> {
        pulls::open_at(self, repo, head_sha).await
    }

    async fn check_runs(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> Result<CommitCheckRuns, ApiError> {
        checks::list(self, repo, head_sha).await
    }

    async fn start_check_run(
        &self,
        repo: &Repo,
        name: &str,
        head_sha: &CommitSha,
        external_id: Option<&str>,
    ) -> Result<u64, ApiError> {
        checks::start(self, repo, name, head_sha, external_id).await
    }

    async fn show_check_run_progress(
        &self,
        repo: &Repo,
        check_run_id: u64,
        title: &str,
        summary: &str,
    ) -> Result<CheckRunState, ApiError> {
        checks::show_progress(self, repo, check_run_id, title, summary).await
    }

    async fn complete_check_run(
        &self,
        repo: &Repo,
        check_run_id: u64,
        output: &CheckRunOutput<'_>,
    ) -> Result<CheckRunState, ApiError> {
        checks::complete(self, repo, check_run_id, output).await
    }

    async fn pull_request(
        &self,
        repo: &Repo,
        number: &PrNumber,
    ) -> Result<PullRequestInfo, ApiError> {
        pulls::get(self, repo, number).await
    }

    async fn first_commit_at(
        &self,
        repo: &Repo,
        number: &PrNumber,
    ) -> Result<Option<i64>, ApiError> {
        pulls::first_commit_at(self, repo, number).await
    }

    async fn hook_deliveries(&self, since: i64, max: usize) -> Result<Vec<HookDelivery>, ApiError> {
        deliveries::list(self, since, max).await
    }

    async fn redeliver(&self, id: u64) -> Result<(), ApiError> {
        deliveries::redeliver(self, id).await
    }

    async fn pull_request_people(
        &self,
        repo: &Repo,
        number: &PrNumber,
    ) -> Result<Vec<String>, ApiError> {
        pulls::people(self, repo, number).await
    }

    async fn pull_request_files(
        &self,
        repo: &Repo,
        number: &PrNumber,
        expected: Option<u64>,
    ) -> Result<Diff, ApiError> {
        files::of_pull_request(self, repo, number, expected).await
    }

    async fn compare_files(
        &self,
        repo: &Repo,
        base: &CommitSha,
        head: &CommitSha,
    ) -> Result<Diff, ApiError> {
        files::compared(self, repo, base, head).await
    }

    async fn find_comment(
        &self,
        repo: &Repo,
        number: &PrNumber,
        marker: &str,
    ) -> Result<Option<Comment>, ApiError> {
        comments::find(self, repo, number, marker).await
    }

    async fn create_comment(
        &self,
        repo: &Repo,
        number: &PrNumber,
        body: &str,
    ) -> Result<u64, ApiError> {
        comments::create(self, repo, number, body).await
    }

    async fn edit_comment(&self, repo: &Repo, comment_id: u64, body: &str) -> Result<(), ApiError> {
        comments::edit(self, repo, comment_id, body).await
    }

    async fn delete_comment(&self, repo: &Repo, comment_id: u64) -> Result<(), ApiError> {
        comments::delete(self, repo, comment_id).await
    }

    async fn add_labels(
        &self,
        repo: &Repo,
        number: &PrNumber,
        labels: &[String],
    ) -> Result<(), ApiError> {
        labels::add(self, repo, number, labels).await
    }

    async fn ensure_label(&self, repo: &Repo, name: &str, color: &str) -> Result<(), ApiError> {
        labels::ensure(self, repo, name, color).await
    }

    async fn remove_label(
        &self,
        repo: &Repo,
        number: &PrNumber,
        label: &str,
    ) -> Result<(), ApiError> {
        labels::remove(self, repo, number, label).await
    }

    async fn code_scanning_findings(
        &self,
        repo: &Repo,
        git_ref: &str,
        head: Option<&CommitSha>,
    ) -> Result<super::api::CodeScanning, ApiError> {
        code_scanning::findings(self, repo, git_ref, head).await
    }

    async fn collaborator_permission(&self, repo: &Repo, login: &str) -> Result<String, ApiError> {
        comments::permission(self, repo, login).await
    }

    async fn repo_private(&self, repo: &Repo) -> Result<Option<bool>, ApiError> {
        comments::repo_private(self, repo).await
    }

    async fn repo_id(&self, repo: &Repo) -> Result<Option<u64>, ApiError> {
        comments::repo_id(self, repo).await
    }

    async fn custom_properties(&self, repo: &Repo) -> Result<keel_core::org::Properties, ApiError> {
        comments::custom_properties(self, repo).await
    }

    async fn team_member(
        &self,
        repo: &Repo,
        org: &str,
        team: &str,
        login: &str,
    ) -> Result<bool, ApiError> {
        comments::team_member(self, repo, org, team, login).await
    }

    async fn react(
        &self,
        repo: &Repo,
        comment_id: u64,
        review_comment: bool,
        content: &str,
    ) -> Result<(), ApiError> {
        comments::react(self, repo, comment_id, review_comment, content).await
    }

    async fn run_artifacts(
        &self,
        repo: &Repo,
        run_id: u64,
        wanted: &[String],
    ) -> Result<Vec<Artifact>, ApiError> {
        artifacts::list(self, repo, run_id, wanted).await
    }

    async fn download_artifact(
        &self,
        repo: &Repo,
        artifact_id: u64,
        max_bytes: u64,
    ) -> Result<std::fs::File, ApiError> {
        artifacts::download(self, repo, artifact_id, max_bytes).await
    }

    async fn find_issue(
        &self,
        repo: &Repo,
        label: &str,
        title: &str,
    ) -> Result<Option<u64>, ApiError> {
        issues::find(self, repo, label, title).await
    }

    async fn create_issue(
        &self,
        repo: &Repo,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<u64, ApiError> {
        issues::create(self, repo, title, body, labels).await
    }

    async fn update_issue(
        &self,
        repo: &Repo,
        number: u64,
        body: Option<&str>,
        state: Option<&str>,
    ) -> Result<(), ApiError> {
        issues::update(self, repo, number, body, state).await
    }

    async fn issue_labels(
        &self,
        repo: &Repo,
        number: u64,
    ) -> Result<Option<Vec<String>>, ApiError> {
        issues::labels(self, repo, number).await
    }

    fn web_url(&self) -> Option<String> {
        Some(self.web_url.clone())
    }

    async fn merged_pull_requests_since(
        &self,
        repo: &Repo,
        since: i64,
    ) -> Result<Vec<MergedPull>, ApiError> {
        history::merged_pull_requests(self, repo, since).await
    }

    async fn deployments_since(
        &self,
        repo: &Repo,
        environment: &str,
        since: i64,
    ) -> Result<Vec<DeploymentState>, ApiError> {
        history::deployments(self, repo, environment, since).await
    }

    async fn labelled_issues_since(
        &self,
        repo: &Repo,
        label: &str,
        since: i64,
    ) -> Result<Vec<LabelledIssue>, ApiError> {
        history::labelled_issues(self, repo, label, since).await
    }

    async fn releases_since(&self, repo: &Repo, since: i64) -> Result<Vec<(u64, i64)>, ApiError> {
        history::releases(self, repo, since).await
    }

    async fn head_workflow_runs(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> Result<Vec<super::api::RunStatus>, ApiError> {
        history::head_workflow_runs(self, repo, head_sha).await
    }
}

#[derive(Deserialize)]
struct Id {
    id: u64,
}

/// Percent-encodes a query value or path segment (RFC 3986 unreserved characters pass).
pub fn encode(text: &str) -> String {
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
