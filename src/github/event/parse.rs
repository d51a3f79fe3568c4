//! GitHub's webhook payloads, read leniently into [`Event`]: the payload structs name only the
//! fields Keel reads, so a field or action GitHub adds later never breaks parsing.

use super::{Event, PullRequestInfo};
use crate::github::{CommitSha, InstallationId, PrNumber, RepoName};
use serde::Deserialize;

mod comment;

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
            // A label or milestone is how people mark upkeep, debt or `debt: none`: they
            // re-judge the pull request like an edit of its title.
            if !matches!(
                p.action.as_str(),
                "opened"
                    | "synchronize"
                    | "reopened"
                    | "edited"
                    | "ready_for_review"
                    | "labeled"
                    | "unlabeled"
                    | "milestoned"
                    | "demilestoned"
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
            let by_bot = p.sender.as_ref().is_some_and(|s| s.kind == "Bot");
            Event::PullRequest {
                installation: p.installation.map(|i| InstallationId(i.id)),
                repo: RepoName(p.repository.full_name),
                pr: p.pull_request.into_info(),
                label_by_bot: p
                    .label
                    .filter(|_| by_bot && matches!(p.action.as_str(), "labeled" | "unlabeled"))
                    .map(|l| l.name),
                pushed_by: p
                    .sender
                    .filter(|_| p.action == "synchronize")
                    .and_then(|s| s.login),
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
                (None, None) => {
                    return Err(err(<serde_json::Error as serde::de::Error>::missing_field(
                        "check_suite",
                    )));
                }
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
                pushed_by: p.sender.and_then(|s| s.login),
            }
        }
        "repository" => return super::reach::repository(body).map_err(err),
        "github_app_authorization" => return super::reach::authorization(body).map_err(err),
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
            let commands = comment::review_commands(
                &p.review,
                p.installation.as_ref(),
                &p.repository.full_name,
                p.pull_request.number,
            );
            Event::Review {
                repo: RepoName(p.repository.full_name),
                number: PrNumber(p.pull_request.number),
                submitted_at: p.review.submitted_at.unwrap_or_default(),
                commands,
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
        "issue_comment" | "pull_request_review_comment" => {
            let p: comment::CommentPayload = serde_json::from_slice(body).map_err(err)?;
            return Ok(comment::command(name, p));
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

pub(super) fn ignored(event: &str, action: &str) -> Parsed {
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
    /// On `labeled`/`unlabeled`: the label.
    label: Option<LabelRef>,
    /// Who did it.
    sender: Option<Sender>,
}

#[derive(Deserialize)]
struct LabelRef {
    name: String,
}

#[derive(Deserialize)]
struct Sender {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    login: Option<String>,
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
    sender: Option<Sender>,
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
    review: comment::ReviewBody,
    pull_request: Number,
    repository: Repository,
    #[serde(default)]
    installation: Option<Installation>,
}
