//! Webhook payloads → [`Event`], Keel's own small model of the events it acts on. This file
//! is the model; `parse` reads GitHub's payloads into it.
//!
//! Structs are lenient (optional fields, unknown fields ignored, unknown actions allowed), so a
//! field or action GitHub adds later never breaks parsing. Events and actions Keel does not act
//! on parse to [`Parsed::Ignored`]; a body that is not the JSON an event needs is an
//! [`EventError`].

use super::{CommitSha, InstallationId, PrNumber, RepoName};
use serde::{Deserialize, Serialize};

mod parse;
mod reach;

pub(crate) use parse::PullRequestJson;
pub use parse::{EventError, Parsed, merge_group_of, parse_event, pull_request_of, root_cause};

/// Something Keel acts on. Stored (as JSON) in the job queue: this, not the raw payload, is
/// what a worker needs, and it is ~40 times smaller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A pull request was opened, pushed to, reopened, edited, marked ready, (un)labelled or
    /// given or stripped of a milestone.
    PullRequest {
        /// GitHub's action name.
        action: String,
        /// The installation the delivery came through.
        installation: Option<InstallationId>,
        /// The base repository.
        repo: RepoName,
        /// The pull request.
        pr: PullRequestInfo,
        /// On `labeled`/`unlabeled` by a bot (an app): the label. Keel's own labels come back
        /// this way and must not judge the pull request again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label_by_bot: Option<String>,
        /// On `synchronize`: the account that pushed (whatever the commits say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pushed_by: Option<String>,
    },
    /// Someone asked to run the checks of a commit again (`check_suite`/`check_run` rerequested).
    ChecksRerequested {
        /// Installation.
        installation: Option<InstallationId>,
        /// Repository.
        repo: RepoName,
        /// The commit.
        head_sha: CommitSha,
        /// Pull requests of that commit (empty for forks).
        pull_requests: Vec<PrNumber>,
    },
    /// A pull request was closed, merged or not.
    PullRequestClosed {
        /// Installation.
        installation: Option<InstallationId>,
        /// Repository.
        repo: RepoName,
        /// Its number.
        number: PrNumber,
        /// When it was merged (RFC 3339); `None`: closed without merging.
        merged_at: Option<String>,
        /// When it was opened (RFC 3339).
        #[serde(default)]
        created_at: Option<String>,
        /// The merge (or squash) commit.
        #[serde(default)]
        merge_sha: Option<String>,
        /// Title.
        #[serde(default)]
        title: String,
        /// Description.
        #[serde(default)]
        body: String,
        /// When GitHub last changed the pull request (RFC 3339).
        #[serde(default)]
        updated_at: Option<String>,
    },
    /// A deployment's status changed.
    DeploymentStatus {
        /// Repository.
        repo: RepoName,
        /// The deployment.
        deployment_id: u64,
        /// Its commit.
        sha: CommitSha,
        /// Its environment (`production`, …).
        environment: String,
        /// `success`, `failure`, `error`, `in_progress`, …
        state: String,
        /// When (RFC 3339).
        at: String,
    },
    /// An issue was opened, closed, edited or (un)labelled: incidents are issues.
    Issue {
        /// Repository.
        repo: RepoName,
        /// Its number.
        number: u64,
        /// Its labels.
        labels: Vec<String>,
        /// Opened (RFC 3339).
        created_at: String,
        /// Closed (RFC 3339).
        closed_at: Option<String>,
        /// `root cause: <sha>` from its description.
        root_cause: Option<String>,
    },
    /// A pull request review was submitted.
    Review {
        /// Repository.
        repo: RepoName,
        /// The pull request.
        number: PrNumber,
        /// When (RFC 3339).
        submitted_at: String,
        /// The `/keel` lines of its body, as the command job to enqueue.
        #[serde(default)]
        commands: Option<Box<Event>>,
    },
    /// A release was published.
    Release {
        /// Repository.
        repo: RepoName,
        /// The release.
        release_id: u64,
        /// When (RFC 3339).
        published_at: String,
    },
    /// A merge queue wants checks on a merge group commit.
    MergeGroup {
        /// Installation.
        installation: Option<InstallationId>,
        /// Repository.
        repo: RepoName,
        /// The merge group's commit.
        head_sha: CommitSha,
        /// The commit it is based on.
        base_sha: CommitSha,
    },
    /// A workflow run finished: its artifacts may hold the reports.
    WorkflowRunCompleted {
        /// Installation.
        installation: Option<InstallationId>,
        /// Repository.
        repo: RepoName,
        /// Run id (for its artifacts).
        run_id: u64,
        /// The workflow's name.
        #[serde(default)]
        workflow: String,
        /// What triggered the run (`push`, `pull_request`, …).
        #[serde(default)]
        run_event: String,
        /// The commit it ran on.
        head_sha: CommitSha,
        /// Its branch.
        head_branch: Option<String>,
        /// The repository the commit lives in (a fork's, for fork pull requests).
        #[serde(default)]
        head_repo: Option<RepoName>,
        /// The repository's default branch.
        #[serde(default)]
        default_branch: Option<String>,
        /// Pull requests it ran for (empty for forks).
        pull_requests: Vec<PrNumber>,
        /// The workflow file, e.g. `.github/workflows/ci.yml`.
        #[serde(default)]
        path: String,
        /// How the run ended (`success`, `failure`, …).
        #[serde(default)]
        conclusion: Option<String>,
    },
    /// Another app's check run on a commit completed: a required check Keel waits for may
    /// have finished.
    CheckRunCompleted {
        /// Installation.
        installation: Option<InstallationId>,
        /// Repository.
        repo: RepoName,
        /// The commit.
        head_sha: CommitSha,
        /// The check run's name.
        name: String,
        /// The app that made it.
        #[serde(default)]
        app_id: Option<u64>,
    },
    /// Commits were pushed to a branch.
    Push {
        /// Installation.
        installation: Option<InstallationId>,
        /// Repository.
        repo: RepoName,
        /// `refs/heads/main`.
        git_ref: String,
        /// The previous head (all zeros for a new branch).
        #[serde(default)]
        before: Option<CommitSha>,
        /// The new head.
        after: CommitSha,
        /// The repository's default branch.
        default_branch: Option<String>,
        /// The account that pushed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pushed_by: Option<String>,
    },
    /// The App was installed, removed, or its repositories changed.
    Installation {
        /// GitHub's action name.
        action: String,
        /// Installation.
        installation: InstallationId,
        /// Repositories added (or, on `created`, all of them).
        added: Vec<RepoName>,
        /// Repositories removed.
        removed: Vec<RepoName>,
    },
    /// Not a webhook: read the last weeks of a repository's delivery history from the API.
    Backfill {
        /// Installation.
        installation: InstallationId,
        /// Repository.
        repo: RepoName,
        /// How many weeks back.
        weeks: u32,
    },
    /// Not a webhook: write the weekly summary issue of a repository.
    WeeklySummary {
        /// Installation.
        installation: InstallationId,
        /// Repository.
        repo: RepoName,
        /// The week (`2026-W47`); `None`: the week before the schedule's last due time, and
        /// only when no summary of it exists yet (the scheduler's hourly check).
        week: Option<String>,
    },
    /// Not a webhook: write the organisation roll-up issue of a week in `owner/.github`, from
    /// the lines its repositories' summaries kept. Enqueued by the summary job.
    OrgRollup {
        /// Installation.
        installation: InstallationId,
        /// The organisation's `.github` repository.
        repo: RepoName,
        /// The week (`2026-W47`).
        week: String,
    },
    /// Not a webhook: ask GitHub to deliver again the webhooks Keel never took (its answer
    /// was an error or none, during an outage or a deploy). Enqueued every few minutes.
    RedeliverFailed,
    /// A repository was deleted, renamed or transferred: what Keel stored under its old name
    /// moves to the new one (renamed) or goes (deleted, transferred), so a repository made
    /// later under the old name starts with nothing of it.
    RepositoryMoved {
        /// Installation.
        installation: Option<InstallationId>,
        /// Its name until now.
        from: RepoName,
        /// Its new name in the same installation (renamed); `None`: gone from it.
        to: Option<RepoName>,
        /// A transfer's repository id: the old name is forgotten only if it names no other
        /// repository now (a transfer may rename too, and its payload names only the old
        /// owner, so the name made from it may be someone else's).
        #[serde(default)]
        only_if_gone: Option<u64>,
    },
    /// A person revoked Keel's authorisation (`github_app_authorization`): their dashboard
    /// sessions end.
    AuthorizationRevoked {
        /// Their GitHub user id.
        user_id: u64,
    },
    /// Not a webhook: evaluate one commit of a pull request or merge group again, now that
    /// something changed (its reports arrived, someone asked for a re-run). Enqueued by jobs.
    Evaluate {
        /// Installation.
        installation: InstallationId,
        /// Repository.
        repo: RepoName,
        /// The commit to judge.
        head_sha: CommitSha,
        /// What the commit belongs to.
        target: Target,
    },
    /// `/keel` commands in a new pull request comment or review comment (a bot's, an edit's
    /// and a comment without one are ignored at intake).
    Command {
        /// Installation.
        installation: InstallationId,
        /// Repository.
        repo: RepoName,
        /// The pull request.
        number: PrNumber,
        /// The comment (for reactions).
        comment_id: u64,
        /// Whether it is a review comment (on a line of the diff).
        review_comment: bool,
        /// Whether `comment_id` is a review's (its body): a review takes no reactions.
        #[serde(default)]
        review: bool,
        /// Who wrote it.
        author: String,
        /// Its `/keel` lines, as written.
        lines: Vec<String>,
        /// When it was written (a comment's `created_at`, a review's `submitted_at`), unix ms.
        #[serde(default)]
        written_at: Option<i64>,
    },
    /// Not a webhook: reports for `head_sha` arrived with `keel upload`; the pull requests
    /// and merge group at that commit are judged again.
    ReportsUploaded {
        /// Repository.
        repo: RepoName,
        /// The commit the reports are for.
        head_sha: CommitSha,
    },
    /// Not a webhook: a delayed job that, when its time comes, enqueues an [`Event::Evaluate`]
    /// of the same commit (so the evaluation runs in the pull request's lane, while the
    /// waiting job holds a lane of its own). Keel's deadline for reports that never come.
    EvaluateLater {
        /// Installation.
        installation: InstallationId,
        /// Repository.
        repo: RepoName,
        /// The commit to judge.
        head_sha: CommitSha,
        /// What the commit belongs to.
        target: Target,
    },
}

/// What an evaluated commit belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A pull request's head.
    PullRequest(PrNumber),
    /// A merge queue's merge group commit.
    MergeGroup {
        /// The commit it is based on.
        base_sha: CommitSha,
    },
}

/// The parts of a pull request Keel reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestInfo {
    /// Number.
    pub number: PrNumber,
    /// Title.
    pub title: String,
    /// Description.
    pub body: String,
    /// Head commit.
    pub head_sha: CommitSha,
    /// Head branch name.
    pub head_ref: String,
    /// The repository the head lives in (a fork's name for fork pull requests).
    pub head_repo: Option<RepoName>,
    /// Base commit.
    pub base_sha: CommitSha,
    /// Base branch name.
    pub base_ref: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Draft.
    pub draft: bool,
    /// Milestone title.
    #[serde(default)]
    pub milestone: Option<String>,
    /// The author's login.
    #[serde(default)]
    pub author: Option<String>,
    /// When GitHub last changed the pull request (RFC 3339): an event older than the state
    /// Keel already acted on is stale.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// How many files GitHub says the pull request changes: a shorter file list is truncated.
    #[serde(default)]
    pub changed_files: Option<u64>,
    /// `open` or `closed`, when GitHub said.
    #[serde(default)]
    pub state: Option<String>,
}

impl PullRequestInfo {
    /// Whether GitHub says the pull request is closed.
    pub fn is_closed(&self) -> bool {
        self.state.as_deref() == Some("closed")
    }

    /// A digest of everything Keel judges about the pull request (head, base, title,
    /// description, branch, labels, milestone, state): two deliveries with the same digest
    /// describe the same state.
    pub fn state_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut labels = self.labels.clone();
        labels.sort();
        let mut hash = Sha256::new();
        for part in [
            self.head_sha.0.as_str(),
            &self.head_ref,
            &self.base_sha.0,
            &self.base_ref,
            &self.title,
            &self.body,
            &labels.join("\u{1f}"),
            self.milestone.as_deref().unwrap_or(""),
            self.state.as_deref().unwrap_or(""),
        ] {
            hash.update(part.as_bytes());
            hash.update([0x1e]);
        }
        hex::encode(hash.finalize())
    }
}

impl Event {
    /// The installation the event came through, whose API budget its job spends.
    pub fn installation_id(&self) -> Option<u64> {
        match self {
            Event::PullRequest { installation, .. }
            | Event::ChecksRerequested { installation, .. }
            | Event::PullRequestClosed { installation, .. }
            | Event::MergeGroup { installation, .. }
            | Event::WorkflowRunCompleted { installation, .. }
            | Event::CheckRunCompleted { installation, .. }
            | Event::Push { installation, .. }
            | Event::RepositoryMoved { installation, .. } => installation.as_ref().map(|i| i.0),
            Event::Installation { installation, .. }
            | Event::Backfill { installation, .. }
            | Event::WeeklySummary { installation, .. }
            | Event::OrgRollup { installation, .. }
            | Event::Evaluate { installation, .. }
            | Event::EvaluateLater { installation, .. }
            | Event::Command { installation, .. } => Some(installation.0),
            // Recorded from the payload, no API call: no budget spent.
            Event::DeploymentStatus { .. }
            | Event::Issue { .. }
            | Event::Review { .. }
            | Event::Release { .. }
            | Event::ReportsUploaded { .. }
            | Event::RedeliverFailed
            | Event::AuthorizationRevoked { .. } => None,
        }
    }

    /// The repository the event is about (`None`: the installation itself).
    pub fn repo(&self) -> Option<&RepoName> {
        match self {
            Event::PullRequest { repo, .. }
            | Event::ChecksRerequested { repo, .. }
            | Event::PullRequestClosed { repo, .. }
            | Event::DeploymentStatus { repo, .. }
            | Event::Issue { repo, .. }
            | Event::Review { repo, .. }
            | Event::Release { repo, .. }
            | Event::MergeGroup { repo, .. }
            | Event::WorkflowRunCompleted { repo, .. }
            | Event::CheckRunCompleted { repo, .. }
            | Event::Push { repo, .. }
            | Event::RepositoryMoved { from: repo, .. }
            | Event::Backfill { repo, .. }
            | Event::WeeklySummary { repo, .. }
            | Event::OrgRollup { repo, .. }
            | Event::Evaluate { repo, .. }
            | Event::EvaluateLater { repo, .. }
            | Event::Command { repo, .. }
            | Event::ReportsUploaded { repo, .. } => Some(repo),
            Event::Installation { .. }
            | Event::RedeliverFailed
            | Event::AuthorizationRevoked { .. } => None,
        }
    }

    /// Jobs with the same key never run at the same time: one pull request, one commit, one
    /// repository's branch, or one installation.
    pub fn serial_key(&self) -> String {
        match self {
            Event::PullRequest { repo, pr, .. } => format!("{repo}#{}", pr.number),
            Event::PullRequestClosed { repo, number, .. } => format!("{repo}#{number}"),
            Event::DeploymentStatus {
                repo,
                deployment_id,
                ..
            } => {
                format!("{repo}:deployment:{deployment_id}")
            }
            Event::Issue { repo, number, .. } => format!("{repo}:issue:{number}"),
            Event::Release { repo, .. } => format!("{repo}:releases"),
            Event::Review { repo, number, .. } | Event::Command { repo, number, .. } => {
                format!("{repo}#{number}")
            }
            Event::WeeklySummary { repo, .. } => format!("{repo}:summary"),
            // One organisation's roll-ups one at a time: the issue is created once.
            Event::OrgRollup { repo, .. } => format!("{}:rollup", repo.0.to_lowercase()),
            Event::Backfill { repo, .. } => format!("{repo}:backfill"),
            Event::ChecksRerequested { repo, head_sha, .. }
            | Event::MergeGroup { repo, head_sha, .. }
            | Event::WorkflowRunCompleted { repo, head_sha, .. }
            | Event::CheckRunCompleted { repo, head_sha, .. } => format!("{repo}@{head_sha}"),
            Event::Push { repo, git_ref, .. } => format!("{repo}:{git_ref}"),
            Event::Installation { installation, .. } => format!("installation:{installation}"),
            Event::RedeliverFailed => "app:redeliver".to_owned(),
            Event::AuthorizationRevoked { user_id } => format!("viewer:{user_id}"),
            Event::RepositoryMoved { from, .. } => format!("{from}:moved"),
            Event::Evaluate {
                repo,
                target: Target::PullRequest(number),
                ..
            } => format!("{repo}#{number}"),
            Event::Evaluate { repo, head_sha, .. } => format!("{repo}@{head_sha}"),
            Event::EvaluateLater { repo, head_sha, .. } => format!("{repo}:later:{head_sha}"),
            Event::ReportsUploaded { repo, head_sha } => format!("{repo}@{head_sha}"),
        }
    }
}
