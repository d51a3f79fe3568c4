//! Webhook payloads → [`Event`], Keel's own small model of the events it acts on.
//!
//! Structs are lenient (optional fields, unknown fields ignored, unknown actions allowed), so a
//! field or action GitHub adds later never breaks parsing. Events and actions Keel does not act
//! on parse to [`Parsed::Ignored`]; a body that is not the JSON an event needs is an
//! [`EventError`].

use super::{CommitSha, InstallationId, PrNumber, RepoName};
use serde::{Deserialize, Serialize};

/// Something Keel acts on. Stored (as JSON) in the job queue: this, not the raw payload, is
/// what a worker needs, and it is ~40 times smaller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A pull request was opened, pushed to, reopened, edited or marked ready.
    PullRequest {
        /// GitHub's action name.
        action: String,
        /// The installation the delivery came through.
        installation: Option<InstallationId>,
        /// The base repository.
        repo: RepoName,
        /// The pull request.
        pr: PullRequestInfo,
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
            | Event::Push { installation, .. } => installation.as_ref().map(|i| i.0),
            Event::Installation { installation, .. }
            | Event::Backfill { installation, .. }
            | Event::WeeklySummary { installation, .. }
            | Event::Evaluate { installation, .. } => Some(installation.0),
            // Recorded from the payload, no API call: no budget spent.
            Event::DeploymentStatus { .. }
            | Event::Issue { .. }
            | Event::Review { .. }
            | Event::Release { .. } => None,
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
            | Event::Backfill { repo, .. }
            | Event::WeeklySummary { repo, .. }
            | Event::Evaluate { repo, .. } => Some(repo),
            Event::Installation { .. } => None,
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
            Event::Review { repo, number, .. } => format!("{repo}#{number}"),
            Event::WeeklySummary { repo, .. } => format!("{repo}:summary"),
            Event::Backfill { repo, .. } => format!("{repo}:backfill"),
            Event::ChecksRerequested { repo, head_sha, .. }
            | Event::MergeGroup { repo, head_sha, .. }
            | Event::WorkflowRunCompleted { repo, head_sha, .. }
            | Event::CheckRunCompleted { repo, head_sha, .. } => format!("{repo}@{head_sha}"),
            Event::Push { repo, git_ref, .. } => format!("{repo}:{git_ref}"),
            Event::Installation { installation, .. } => format!("installation:{installation}"),
            Event::Evaluate {
                repo,
                target: Target::PullRequest(number),
                ..
            } => format!("{repo}#{number}"),
            Event::Evaluate { repo, head_sha, .. } => format!("{repo}@{head_sha}"),
        }
    }
}

/// What a delivery turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// An event Keel acts on.
    Event(Box<Event>),
    /// Valid, but nothing for Keel to do; the reason is logged and counted.
    Ignored(String),
}

/// The body is not the payload its event needs.
#[derive(Debug, thiserror::Error)]
#[error("malformed `{event}` payload: {source}")]
pub struct EventError {
    event: String,
    source: serde_json::Error,
}

/// Parses a delivery's body given its `X-GitHub-Event` name.
pub fn parse_event(name: &str, body: &[u8]) -> Result<Parsed, EventError> {
    let err = |source| EventError {
        event: name.to_owned(),
        source,
    };
    let event = match name {
        "pull_request" => {
            let p: PullRequestPayload = serde_json::from_slice(body).map_err(err)?;
            if p.action == "closed" {
                return Ok(Parsed::Event(Box::new(Event::PullRequestClosed {
                    installation: p.installation.map(|i| InstallationId(i.id)),
                    repo: RepoName(p.repository.full_name),
                    number: PrNumber(p.pull_request.number),
                    merged_at: p.pull_request.merged_at,
                    created_at: p.pull_request.created_at,
                    merge_sha: p.pull_request.merge_commit_sha,
                    title: p.pull_request.title,
                    body: p.pull_request.body.unwrap_or_default(),
                    updated_at: p.pull_request.updated_at,
                })));
            }
            if !matches!(
                p.action.as_str(),
                "opened" | "synchronize" | "reopened" | "edited" | "ready_for_review"
            ) {
                return Ok(ignored(name, &p.action));
            }
            // An edit re-judges only when the title, description or base changed.
            if p.action == "edited"
                && !p
                    .changes
                    .as_ref()
                    .is_some_and(|c| c.title.is_some() || c.body.is_some() || c.base.is_some())
            {
                return Ok(Parsed::Ignored(
                    "pull_request edited: neither the title, the description nor the base changed"
                        .to_owned(),
                ));
            }
            Event::PullRequest {
                installation: p.installation.map(|i| InstallationId(i.id)),
                repo: RepoName(p.repository.full_name),
                pr: p.pull_request.into_info(),
                action: p.action,
            }
        }
        "check_suite" | "check_run" => {
            let p: CheckPayload = serde_json::from_slice(body).map_err(err)?;
            if name == "check_run"
                && p.action == "completed"
                && let Some(run) = p.check_run
            {
                return Ok(Parsed::Event(Box::new(Event::CheckRunCompleted {
                    installation: p.installation.map(|i| InstallationId(i.id)),
                    repo: RepoName(p.repository.full_name),
                    head_sha: CommitSha(run.head_sha),
                    name: run.name.unwrap_or_default(),
                    app_id: run.app.map(|a| a.id),
                })));
            }
            if p.action != "rerequested" {
                return Ok(ignored(name, &p.action));
            }
            let (head_sha, prs) = match (p.check_suite, p.check_run) {
                (Some(s), _) => (s.head_sha, s.pull_requests),
                (None, Some(r)) => (r.head_sha, r.pull_requests),
                (None, None) => return Err(err(serde::de::Error::missing_field("check_suite"))),
            };
            Event::ChecksRerequested {
                installation: p.installation.map(|i| InstallationId(i.id)),
                repo: RepoName(p.repository.full_name),
                head_sha: CommitSha(head_sha),
                pull_requests: prs.into_iter().map(|p| PrNumber(p.number)).collect(),
            }
        }
        "merge_group" => {
            let p: MergeGroupPayload = serde_json::from_slice(body).map_err(err)?;
            if p.action != "checks_requested" {
                return Ok(ignored(name, &p.action));
            }
            Event::MergeGroup {
                installation: p.installation.map(|i| InstallationId(i.id)),
                repo: RepoName(p.repository.full_name),
                head_sha: CommitSha(p.merge_group.head_sha),
                base_sha: CommitSha(p.merge_group.base_sha),
            }
        }
        "workflow_run" => {
            let p: WorkflowRunPayload = serde_json::from_slice(body).map_err(err)?;
            if p.action != "completed" {
                return Ok(ignored(name, &p.action));
            }
            Event::WorkflowRunCompleted {
                installation: p.installation.map(|i| InstallationId(i.id)),
                repo: RepoName(p.repository.full_name),
                run_id: p.workflow_run.id,
                workflow: p.workflow_run.name.unwrap_or_default(),
                run_event: p.workflow_run.event.unwrap_or_default(),
                head_sha: CommitSha(p.workflow_run.head_sha),
                head_branch: p.workflow_run.head_branch,
                head_repo: p
                    .workflow_run
                    .head_repository
                    .map(|r| RepoName(r.full_name)),
                default_branch: p.repository.default_branch,
                pull_requests: p
                    .workflow_run
                    .pull_requests
                    .into_iter()
                    .map(|p| PrNumber(p.number))
                    .collect(),
                path: p.workflow_run.path.unwrap_or_default(),
                conclusion: p.workflow_run.conclusion,
            }
        }
        "push" => {
            let p: PushPayload = serde_json::from_slice(body).map_err(err)?;
            Event::Push {
                installation: p.installation.map(|i| InstallationId(i.id)),
                repo: RepoName(p.repository.full_name),
                git_ref: p.git_ref,
                before: p.before.map(CommitSha),
                after: CommitSha(p.after),
                default_branch: p.repository.default_branch,
            }
        }
        "installation" | "installation_repositories" => {
            let p: InstallationPayload = serde_json::from_slice(body).map_err(err)?;
            let names = |v: Vec<RepoRef>| v.into_iter().map(|r| RepoName(r.full_name)).collect();
            let mut added: Vec<RepoName> = names(p.repositories_added);
            added.extend(names(p.repositories));
            Event::Installation {
                action: p.action,
                installation: InstallationId(p.installation.id),
                added,
                removed: names(p.repositories_removed),
            }
        }
        "deployment_status" => {
            let p: DeploymentStatusPayload = serde_json::from_slice(body).map_err(err)?;
            Event::DeploymentStatus {
                repo: RepoName(p.repository.full_name),
                deployment_id: p.deployment.id,
                sha: CommitSha(p.deployment.sha),
                environment: p.deployment.environment,
                state: p.deployment_status.state,
                at: p
                    .deployment_status
                    .updated_at
                    .or(p.deployment_status.created_at)
                    .unwrap_or_default(),
            }
        }
        "issues" => {
            let p: IssuePayload = serde_json::from_slice(body).map_err(err)?;
            Event::Issue {
                repo: RepoName(p.repository.full_name),
                number: p.issue.number,
                labels: p.issue.labels.into_iter().map(|l| l.name).collect(),
                root_cause: p.issue.body.as_deref().and_then(root_cause),
                created_at: p.issue.created_at,
                closed_at: p.issue.closed_at,
            }
        }
        "pull_request_review" => {
            let p: ReviewPayload = serde_json::from_slice(body).map_err(err)?;
            if p.action != "submitted" {
                return Ok(ignored(name, &p.action));
            }
            Event::Review {
                repo: RepoName(p.repository.full_name),
                number: PrNumber(p.pull_request.number),
                submitted_at: p.review.submitted_at.unwrap_or_default(),
            }
        }
        "release" => {
            let p: ReleasePayload = serde_json::from_slice(body).map_err(err)?;
            if p.action != "published" {
                return Ok(ignored(name, &p.action));
            }
            Event::Release {
                repo: RepoName(p.repository.full_name),
                release_id: p.release.id,
                published_at: p.release.published_at.unwrap_or_default(),
            }
        }
        "ping" => {
            serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(err)?;
            return Ok(Parsed::Ignored("ping".into()));
        }
        other => {
            serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(err)?;
            return Ok(Parsed::Ignored(format!("event `{other}` is not used")));
        }
    };
    Ok(Parsed::Event(Box::new(event)))
}

/// The pull request of any payload that carries one (`pull_request` and
/// `pull_request_target` with every action, reviews, …); `None` for other payloads.
pub fn pull_request_of(body: &[u8]) -> Option<PullRequestInfo> {
    #[derive(Deserialize)]
    struct Carrier {
        pull_request: Option<PullRequestJson>,
    }
    serde_json::from_slice::<Carrier>(body)
        .ok()?
        .pull_request
        .map(PullRequestJson::into_info)
}

/// The merge queue commit and its base of a `merge_group` payload: `(head, base)`.
pub fn merge_group_of(body: &[u8]) -> Option<(CommitSha, CommitSha)> {
    #[derive(Deserialize)]
    struct Carrier {
        merge_group: Option<MergeGroup>,
    }
    let group = serde_json::from_slice::<Carrier>(body).ok()?.merge_group?;
    Some((CommitSha(group.head_sha), CommitSha(group.base_sha)))
}

/// `root cause: <sha>` in an incident's text (7 to 40 hex digits).
pub fn root_cause(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("root cause:")?;
    let sha: String = lower[at + "root cause:".len()..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (7..=40).contains(&sha.len()).then_some(sha)
}

fn ignored(event: &str, action: &str) -> Parsed {
    Parsed::Ignored(format!("`{event}` action `{action}` is not used"))
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct RepoRef {
    full_name: String,
}

#[derive(Deserialize)]
struct Number {
    number: u64,
}

#[derive(Deserialize)]
struct PullRequestPayload {
    action: String,
    pull_request: PullRequestJson,
    repository: Repository,
    installation: Option<Installation>,
    /// On `edited`: the fields that changed (their earlier values).
    #[serde(default)]
    changes: Option<PullRequestChanges>,
}

/// The fields of an `edited` pull request that Keel reads: anything else (e.g. the maintainer
/// edit permission) changes no verdict.
#[derive(Deserialize)]
struct PullRequestChanges {
    title: Option<serde::de::IgnoredAny>,
    body: Option<serde::de::IgnoredAny>,
    base: Option<serde::de::IgnoredAny>,
}

/// A pull request as webhooks and the pulls API carry it.
#[derive(Deserialize)]
pub(crate) struct PullRequestJson {
    number: u64,
    #[serde(default)]
    title: String,
    body: Option<String>,
    head: Branch,
    base: Branch,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    draft: bool,
    milestone: Option<Milestone>,
    user: Option<User>,
    merged_at: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    merge_commit_sha: Option<String>,
    changed_files: Option<u64>,
    state: Option<String>,
}

#[derive(Deserialize)]
struct Milestone {
    title: String,
}

#[derive(Deserialize)]
struct User {
    login: String,
}

impl PullRequestJson {
    pub(crate) fn into_info(self) -> PullRequestInfo {
        PullRequestInfo {
            number: PrNumber(self.number),
            title: self.title,
            body: self.body.unwrap_or_default(),
            head_sha: CommitSha(self.head.sha),
            head_ref: self.head.git_ref,
            head_repo: self.head.repo.map(|r| RepoName(r.full_name)),
            base_sha: CommitSha(self.base.sha),
            base_ref: self.base.git_ref,
            labels: self.labels.into_iter().map(|l| l.name).collect(),
            draft: self.draft,
            milestone: self.milestone.map(|m| m.title),
            author: self.user.map(|u| u.login),
            updated_at: self.updated_at,
            changed_files: self.changed_files,
            state: self.state,
        }
    }
}

#[derive(Deserialize)]
struct Branch {
    sha: String,
    #[serde(rename = "ref")]
    git_ref: String,
    repo: Option<RepoRef>,
}

#[derive(Deserialize)]
struct Label {
    name: String,
}

#[derive(Deserialize)]
struct CheckPayload {
    action: String,
    check_suite: Option<CheckSuite>,
    check_run: Option<CheckSuite>,
    repository: Repository,
    installation: Option<Installation>,
}

#[derive(Deserialize)]
struct CheckSuite {
    head_sha: String,
    #[serde(default)]
    pull_requests: Vec<Number>,
    /// A check run's name (check suites have none).
    name: Option<String>,
    app: Option<AppRef>,
}

#[derive(Deserialize)]
struct AppRef {
    id: u64,
}

#[derive(Deserialize)]
struct MergeGroupPayload {
    action: String,
    merge_group: MergeGroup,
    repository: Repository,
    installation: Option<Installation>,
}

#[derive(Deserialize)]
struct MergeGroup {
    head_sha: String,
    base_sha: String,
}

#[derive(Deserialize)]
struct WorkflowRunPayload {
    action: String,
    workflow_run: WorkflowRun,
    repository: Repository,
    installation: Option<Installation>,
}

#[derive(Deserialize)]
struct WorkflowRun {
    id: u64,
    name: Option<String>,
    event: Option<String>,
    head_repository: Option<RepoRef>,
    head_sha: String,
    head_branch: Option<String>,
    #[serde(default)]
    pull_requests: Vec<Number>,
    path: Option<String>,
    conclusion: Option<String>,
}

#[derive(Deserialize)]
struct PushPayload {
    #[serde(rename = "ref")]
    git_ref: String,
    before: Option<String>,
    after: String,
    repository: Repository,
    installation: Option<Installation>,
}

#[derive(Deserialize)]
struct InstallationPayload {
    action: String,
    installation: Installation,
    #[serde(default)]
    repositories: Vec<RepoRef>,
    #[serde(default)]
    repositories_added: Vec<RepoRef>,
    #[serde(default)]
    repositories_removed: Vec<RepoRef>,
}

#[derive(Deserialize)]
struct DeploymentStatusPayload {
    deployment: DeploymentJson,
    deployment_status: DeploymentStatusJson,
    repository: Repository,
}

#[derive(Deserialize)]
struct DeploymentJson {
    id: u64,
    sha: String,
    #[serde(default)]
    environment: String,
}

#[derive(Deserialize)]
struct DeploymentStatusJson {
    state: String,
    created_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct IssuePayload {
    issue: IssueJson,
    repository: Repository,
}

#[derive(Deserialize)]
struct IssueJson {
    number: u64,
    #[serde(default)]
    labels: Vec<Label>,
    body: Option<String>,
    created_at: String,
    closed_at: Option<String>,
}

#[derive(Deserialize)]
struct ReleasePayload {
    action: String,
    release: ReleaseJson,
    repository: Repository,
}

#[derive(Deserialize)]
struct ReleaseJson {
    id: u64,
    published_at: Option<String>,
}

#[derive(Deserialize)]
struct ReviewPayload {
    action: String,
    review: ReviewJson,
    pull_request: Number,
    repository: Repository,
}

#[derive(Deserialize)]
struct ReviewJson {
    submitted_at: Option<String>,
}
