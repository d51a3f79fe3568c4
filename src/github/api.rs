//! What Keel asks of GitHub, as one trait with two implementations: the live App client
//! ([`super::client::GitHub`]) and the dry run of `keel replay` ([`super::dry_run::DryRun`]),
//! which reads a local directory and prints what it would post. The jobs are written against
//! this trait, so a replay runs exactly the code the server runs.
//!
//! Tests do not implement it: they point the live client at a FakeGitHub HTTP server.

use super::event::PullRequestInfo;
use super::{CommitSha, InstallationId, PrNumber, RepoName};
use keel_core::diff::Diff;
use keel_core::evaluation::{Annotation, Conclusion};
use std::future::Future;

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
    /// A 5xx, a 401 that a fresh token did not cure, a timeout or a connection failure:
    /// worth retrying with backoff.
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
    /// Whether GitHub said 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Rejected { status: 404, .. })
    }

    /// Whether GitHub said 403 (no access, not a rate limit).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, ApiError::Rejected { status: 403, .. })
    }
}

/// Keel's own check run as GitHub last answered for it (listed, or after a write: GitHub
/// answers a write with the run as it now is, which shows whether the write was taken).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct CheckRunState {
    /// Its id.
    pub id: u64,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// Its conclusion, once completed.
    pub conclusion: Option<String>,
    /// What Keel tagged it with when it made it (the Action: the pull request it judged).
    pub external_id: Option<String>,
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

/// Where a call goes: an installation and one of its repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The installation whose token is used.
    pub installation: InstallationId,
    /// `owner/name`.
    pub name: RepoName,
}

/// A comment on a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Its id.
    pub id: u64,
    /// Its markdown.
    pub body: String,
}

/// A workflow run of a commit, as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStatus {
    /// Run id.
    pub id: u64,
    /// Its workflow file.
    pub path: String,
    /// Whether it has completed.
    pub finished: bool,
}

/// What code scanning says about a ref.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeScanning {
    /// No analysis of the ref (not run yet, or code scanning is off).
    NoAnalysis,
    /// The newest analysis is of another commit than the one judged: its id.
    Stale(String),
    /// More open alerts than Keel reads: not judged.
    TooMany(usize),
    /// The open alerts, as findings.
    Alerts(Vec<keel_core::report::sarif::Finding>),
}

/// Most artifacts of one workflow run read (ten pages).
pub const MAX_RUN_ARTIFACTS: usize = 1_000;

/// An artifact of a workflow run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Its id.
    pub id: u64,
    /// Its name (`keel-reports-3.12`).
    pub name: String,
    /// Its size as GitHub reports it (zipped).
    pub size: u64,
    /// Expired artifacts cannot be downloaded.
    pub expired: bool,
}

/// Another check run on a commit, as GitHub lists it (the latest of each name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherCheckRun {
    /// Its name.
    pub name: String,
    /// The app that made it (its slug).
    pub app: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// How it ended, once completed.
    pub conclusion: Option<String>,
}

/// A commit's other check runs, as far as Keel reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitCheckRuns {
    /// The latest of each name per app, Keel's own left out.
    pub runs: Vec<OtherCheckRun>,
    /// How many of the commit's check runs Keel read, and how many GitHub says it has, when
    /// it has more than Keel reads: a run past the cut may be a required check's failure.
    pub cut: Option<(usize, usize)>,
}

/// One attempt GitHub made to deliver a webhook to the App (its delivery log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookDelivery {
    /// The attempt's id (what a redelivery names).
    pub id: u64,
    /// The delivery's id, shared by its redeliveries (the `X-GitHub-Delivery` header).
    pub guid: String,
    /// When it was attempted, unix ms.
    pub delivered_at: i64,
    /// The HTTP status Keel answered (0: no answer, a timeout or a refused connection).
    pub status_code: u16,
}

/// A merged pull request as the list endpoint gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedPull {
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub body: String,
    /// Opened, unix ms.
    pub created_at: i64,
    /// Merged, unix ms.
    pub merged_at: i64,
    /// The merge (or squash) commit.
    pub merge_sha: Option<String>,
}

/// A deployment with its latest status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentState {
    /// Its id.
    pub id: u64,
    /// The commit.
    pub sha: String,
    /// The latest status (`success`, `failure`, …; `pending` without one).
    pub state: String,
    /// When that status was set (or the deployment created), unix ms.
    pub at: i64,
}

/// An issue with a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledIssue {
    /// Number.
    pub number: u64,
    /// Labels.
    pub labels: Vec<String>,
    /// Opened, unix ms.
    pub opened_at: i64,
    /// Closed, unix ms.
    pub closed_at: Option<i64>,
    /// `root cause: <sha>` from its description.
    pub root_cause: Option<String>,
}

/// Every GitHub operation the jobs use.
pub trait GitHubApi: Send + Sync {
    /// A file's bytes at a commit; `None` when it does not exist there.
    fn file_at(
        &self,
        repo: &Repo,
        path: &str,
        sha: &CommitSha,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, ApiError>> + Send;

    /// Keel's own latest check run `name` on `head_sha`, if there is one. A check run of the
    /// same name made by another app is never returned.
    fn find_check_run(
        &self,
        repo: &Repo,
        name: &str,
        head_sha: &CommitSha,
    ) -> impl Future<Output = Result<Option<CheckRunState>, ApiError>> + Send;

    /// Creates check run `name` on `head_sha`, `in_progress`, tagged `external_id`; returns
    /// its id.
    fn start_check_run(
        &self,
        repo: &Repo,
        name: &str,
        head_sha: &CommitSha,
        external_id: Option<&str>,
    ) -> impl Future<Output = Result<u64, ApiError>> + Send;

    /// Shows progress on a check run that stays `in_progress`; returns the run as GitHub now
    /// has it (a completed run stays completed).
    fn show_check_run_progress(
        &self,
        repo: &Repo,
        check_run_id: u64,
        title: &str,
        summary: &str,
    ) -> impl Future<Output = Result<CheckRunState, ApiError>> + Send;

    /// Completes a check run (annotations go in batches of 50); returns the run as GitHub now
    /// has it (a run completed before keeps its conclusion).
    fn complete_check_run(
        &self,
        repo: &Repo,
        check_run_id: u64,
        output: &CheckRunOutput<'_>,
    ) -> impl Future<Output = Result<CheckRunState, ApiError>> + Send;

    /// A pull request as it is now.
    fn pull_request(
        &self,
        repo: &Repo,
        number: &PrNumber,
    ) -> impl Future<Output = Result<PullRequestInfo, ApiError>> + Send;

    /// When the pull request's first commit was authored, unix ms.
    fn first_commit_at(
        &self,
        repo: &Repo,
        number: &PrNumber,
    ) -> impl Future<Output = Result<Option<i64>, ApiError>> + Send;

    /// The GitHub logins of everyone who authored or committed one of the pull request's
    /// commits (the first 250, as GitHub lists them; a commit whose email no account claims
    /// names nobody), lower-cased, without duplicates.
    fn pull_request_people(
        &self,
        repo: &Repo,
        number: &PrNumber,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;

    /// The files a pull request changes, with their patches; sizes come from GitHub's counts
    /// (a patch GitHub leaves out still counts). When fewer files can be listed than
    /// `expected` (GitHub's `changed_files`), the diff says it is incomplete.
    fn pull_request_files(
        &self,
        repo: &Repo,
        number: &PrNumber,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<Diff, ApiError>> + Send;

    /// The files changed between two commits (a merge group against its base); incomplete
    /// when GitHub's list may have been cut off.
    fn compare_files(
        &self,
        repo: &Repo,
        base: &CommitSha,
        head: &CommitSha,
    ) -> impl Future<Output = Result<Diff, ApiError>> + Send;

    /// The open pull requests whose head is `head_sha`, as GitHub knows them (also those Keel
    /// never heard of: opened before it was installed, or whose events were lost).
    fn open_pull_requests_at(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> impl Future<Output = Result<Vec<PrNumber>, ApiError>> + Send;

    /// Other apps' check runs on `head_sha`, the latest of each name per app (Keel's own
    /// left out), and whether there were more than Keel reads.
    fn check_runs(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> impl Future<Output = Result<CommitCheckRuns, ApiError>> + Send;

    /// Keel's own first comment on the pull request that contains `marker` (a comment
    /// someone else wrote is never returned, whatever it contains).
    fn find_comment(
        &self,
        repo: &Repo,
        number: &PrNumber,
        marker: &str,
    ) -> impl Future<Output = Result<Option<Comment>, ApiError>> + Send;

    /// Posts a comment; returns its id.
    fn create_comment(
        &self,
        repo: &Repo,
        number: &PrNumber,
        body: &str,
    ) -> impl Future<Output = Result<u64, ApiError>> + Send;

    /// Replaces a comment's body (a 404 means it was deleted).
    fn edit_comment(
        &self,
        repo: &Repo,
        comment_id: u64,
        body: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Deletes a comment (one Keel made; a 404, already gone, is success).
    fn delete_comment(
        &self,
        repo: &Repo,
        comment_id: u64,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Adds labels to a pull request (GitHub creates a label that does not exist yet).
    fn add_labels(
        &self,
        repo: &Repo,
        number: &PrNumber,
        labels: &[String],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Creates a repository label with a colour; one that exists already is left as it is.
    fn ensure_label(
        &self,
        repo: &Repo,
        name: &str,
        color: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Removes one label from a pull request.
    fn remove_label(
        &self,
        repo: &Repo,
        number: &PrNumber,
        label: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The open GitHub code scanning alerts on `git_ref` (`refs/pull/2/merge`,
    /// `refs/heads/main`) as findings. With `head`, the newest analysis of the ref must be of
    /// a commit that is `head` or has it as a parent (a pull request's test merge commit):
    /// an analysis of an earlier head is [`CodeScanning::Stale`].
    fn code_scanning_findings(
        &self,
        repo: &Repo,
        git_ref: &str,
        head: Option<&CommitSha>,
    ) -> impl Future<Output = Result<CodeScanning, ApiError>> + Send;

    /// `login`'s permission on the repository from GitHub's collaborator-permission
    /// endpoint (all sources of grants: teams, organisation, enterprise): `admin`, `write`,
    /// `read` or `none` (also for someone GitHub does not know).
    fn collaborator_permission(
        &self,
        repo: &Repo,
        login: &str,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;

    /// Whether the repository is private: `None` when Keel cannot read it (not installed
    /// there, or gone).
    fn repo_private(
        &self,
        repo: &Repo,
    ) -> impl Future<Output = Result<Option<bool>, ApiError>> + Send;

    /// The repository's id: `None` when no repository Keel can read has that name.
    fn repo_id(&self, repo: &Repo) -> impl Future<Output = Result<Option<u64>, ApiError>> + Send;

    /// The repository's custom properties (name → its values: one, or a multi-select's
    /// several); empty when GitHub does not say (none set).
    fn custom_properties(
        &self,
        repo: &Repo,
    ) -> impl Future<Output = Result<keel_core::org::Properties, ApiError>> + Send;

    /// Whether `login` is an active member of team `team` (its slug) in organisation `org`.
    fn team_member(
        &self,
        repo: &Repo,
        org: &str,
        team: &str,
        login: &str,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Adds reaction `content` (`eyes`, `rocket`, `confused`) to a pull request comment (or a
    /// review comment); adding one that is there already changes nothing.
    fn react(
        &self,
        repo: &Repo,
        comment_id: u64,
        review_comment: bool,
        content: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The artifacts of workflow run `run_id` whose names match `wanted` (names or globs,
    /// `*` matching any text), in name order; at most [`MAX_RUN_ARTIFACTS`].
    fn run_artifacts(
        &self,
        repo: &Repo,
        run_id: u64,
        wanted: &[String],
    ) -> impl Future<Output = Result<Vec<Artifact>, ApiError>> + Send;

    /// An artifact's zip archive in an unnamed temporary file (positioned at its start),
    /// refused beyond `max_bytes`.
    fn download_artifact(
        &self,
        repo: &Repo,
        artifact_id: u64,
        max_bytes: u64,
    ) -> impl Future<Output = Result<std::fs::File, ApiError>> + Send;

    /// The issue with `label` and exactly `title` (open or closed), if any.
    fn find_issue(
        &self,
        repo: &Repo,
        label: &str,
        title: &str,
    ) -> impl Future<Output = Result<Option<u64>, ApiError>> + Send;

    /// Opens an issue with labels; returns its number.
    fn create_issue(
        &self,
        repo: &Repo,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> impl Future<Output = Result<u64, ApiError>> + Send;

    /// Changes an issue's body and/or state (`open`, `closed`).
    fn update_issue(
        &self,
        repo: &Repo,
        number: u64,
        body: Option<&str>,
        state: Option<&str>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The labels of issue `number`; `None` when there is no such issue.
    fn issue_labels(
        &self,
        repo: &Repo,
        number: u64,
    ) -> impl Future<Output = Result<Option<Vec<String>>, ApiError>> + Send;

    /// The web address pages link to (`https://github.com`), when there is one.
    fn web_url(&self) -> Option<String>;

    /// The App's webhook delivery attempts since `since` (unix ms), newest first, at most
    /// `max` (as the App, not an installation).
    fn hook_deliveries(
        &self,
        since: i64,
        max: usize,
    ) -> impl Future<Output = Result<Vec<HookDelivery>, ApiError>> + Send;

    /// Asks GitHub to deliver attempt `id`'s webhook again.
    fn redeliver(&self, id: u64) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Pull requests merged since `since` (unix ms), newest first.
    fn merged_pull_requests_since(
        &self,
        repo: &Repo,
        since: i64,
    ) -> impl Future<Output = Result<Vec<MergedPull>, ApiError>> + Send;

    /// Deployments to `environment` created since `since`, with their latest status.
    fn deployments_since(
        &self,
        repo: &Repo,
        environment: &str,
        since: i64,
    ) -> impl Future<Output = Result<Vec<DeploymentState>, ApiError>> + Send;

    /// Issues with `label` updated since `since` (pull requests left out).
    fn labelled_issues_since(
        &self,
        repo: &Repo,
        label: &str,
        since: i64,
    ) -> impl Future<Output = Result<Vec<LabelledIssue>, ApiError>> + Send;

    /// Releases published since `since`: (id, published at).
    fn releases_since(
        &self,
        repo: &Repo,
        since: i64,
    ) -> impl Future<Output = Result<Vec<(u64, i64)>, ApiError>> + Send;

    /// The workflow runs of `head_sha` as GitHub lists them now (one page of 100): each one's
    /// workflow file (`.github/workflows/ci.yml`; empty when GitHub names none) and whether
    /// it has finished.
    fn head_workflow_runs(
        &self,
        repo: &Repo,
        head_sha: &CommitSha,
    ) -> impl Future<Output = Result<Vec<RunStatus>, ApiError>> + Send;
}
