//! FakeGitHub: a stateful GitHub served by wiremock over loopback, recording every request.
//! It checks the App JWT with the test key's public half, mints installation tokens, serves
//! files per commit, keeps check runs, and can expire tokens or answer the next matching
//! request with an error.

use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The repository of GitHub's example `pull_request` payload (the `opened.2.json` fixture).
pub const EXAMPLE_REPO: &str = "Codertocat/Hello-World";
/// The base commit of that payload's pull request.
pub const EXAMPLE_BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";

/// The App id the fake expects in JWTs.
pub const APP_ID: u64 = 4242;

/// The test App's private key (PEM).
pub fn app_key() -> String {
    std::fs::read_to_string(super::fixture("github/test-app-key.pem")).unwrap()
}

/// A check run as the fake holds it.
#[derive(Debug, Clone, Default)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub annotations: Vec<Value>,
    /// When the fake first saw it completed (end-to-end latency benchmark).
    pub completed_at: Option<std::time::Instant>,
    /// The app that made it: [`APP_ID`] for the Keel App, [`ACTIONS_APP_ID`] for a
    /// workflow's token, anything else for other apps.
    pub app_id: u64,
    /// The tag its maker gave it.
    pub external_id: Option<String>,
}

/// The GitHub Actions app, which a workflow's `GITHUB_TOKEN` writes as.
pub const ACTIONS_APP_ID: u64 = 15368;

/// Who wrote a comment.
#[derive(Debug, Clone)]
struct Author {
    login: String,
    /// The app it was made through, if any.
    app_id: Option<u64>,
}

impl Author {
    fn json(&self) -> Value {
        let app = self.app_id.map(|id| {
            let slug = if id == ACTIONS_APP_ID {
                "github-actions"
            } else {
                "keel"
            };
            json!({"id": id, "slug": slug})
        });
        json!({"user": {"login": self.login, "type": if self.app_id.is_some() { "Bot" } else { "User" }}, "performed_via_github_app": app})
    }
}

/// Who a request's token acts as.
fn author_of(s: &State, req: &Request) -> Author {
    match bearer(req) {
        Some(t) if s.workflow_tokens.contains(&t) => Author {
            login: "github-actions[bot]".into(),
            app_id: Some(ACTIONS_APP_ID),
        },
        _ => Author {
            login: "keel[bot]".into(),
            app_id: Some(APP_ID),
        },
    }
}

/// A fault the fake injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// 500 before doing anything.
    ServerError,
    /// 502 after doing the work.
    BadGateway,
    /// 403 secondary rate limit with `retry-after: 1`.
    SecondaryRateLimit,
    /// Every token expires; the request gets 401 (and octocrab mints a new one).
    ExpiredToken,
    /// The work is done, the body is cut off.
    Truncated,
    /// The work is done, the answer comes after 3 s.
    Slow,
}

/// Faults injected into a share of requests, from a seeded generator (deterministic).
#[derive(Debug)]
pub struct Chaos {
    state: u64,
    share_percent: u64,
    counts: HashMap<Fault, u32>,
}

impl Chaos {
    fn draw(&mut self) -> Option<Fault> {
        self.state = self
            .state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let r = self.state >> 33;
        if r % 100 >= self.share_percent {
            return None;
        }
        let fault = [
            Fault::ServerError,
            Fault::BadGateway,
            Fault::SecondaryRateLimit,
            Fault::ExpiredToken,
            Fault::Truncated,
            Fault::Slow,
        ][((r / 100) % 6) as usize];
        *self.counts.entry(fault).or_default() += 1;
        Some(fault)
    }
}

/// An issue opened through the API.
#[derive(Debug, Clone)]
pub struct OpenedIssue {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub state: String,
}

/// An artifact: id, name, zip bytes.
type StoredArtifact = (u64, String, Vec<u8>);

#[derive(Default)]
struct State {
    files: HashMap<(String, String, String), Vec<u8>>,
    pr_files: HashMap<(String, u64), Vec<Value>>,
    comments: Vec<(String, u64, u64, String)>,
    /// comment id → who wrote it (Keel's App when absent).
    comment_authors: HashMap<u64, Author>,
    /// Tokens added as a workflow's `GITHUB_TOKEN`.
    workflow_tokens: Vec<String>,
    valid_tokens: Vec<String>,
    tokens_minted: u32,
    check_runs: Vec<CheckRun>,
    failures: VecDeque<(String, String, ResponseTemplate)>,
    pulls: HashMap<(String, u64), Value>,
    labels: HashMap<(String, u64), Vec<String>>,
    /// (repo, run id) → artifacts.
    artifacts: HashMap<(String, u64), Vec<StoredArtifact>>,
    /// (repo, head sha) → workflow runs (id, status).
    runs: HashMap<(String, String), Vec<WorkflowRun>>,
    compare: HashMap<(String, String, String), Vec<Value>>,
    /// (repo, issue number) → labels.
    issues: HashMap<(String, u64), Vec<String>>,
    /// repo → closed pull requests as the list endpoint returns them (newest updated first).
    closed_pulls: HashMap<String, Vec<Value>>,
    /// repo → successful push runs: (id, head sha, workflow file path).
    push_runs: HashMap<String, Vec<(u64, String, String)>>,
    /// (repo, git ref) → (analysed commit, open code scanning alerts); a ref without an entry
    /// has no analysis.
    code_scanning: HashMap<(String, String), (String, Vec<Value>)>,
    /// (repo, login) → permission (`read` when not set).
    permissions: HashMap<(String, String), String>,
    /// "org/team/login" of active team members.
    team_members: std::collections::HashSet<String>,
    /// repo → its custom properties, as GitHub lists them.
    properties: HashMap<String, Vec<Value>>,
    /// Repositories the fake says are private (every other one is public).
    private_repos: std::collections::HashSet<String>,
    /// Repository ids `GET /repos/{repo}` gives.
    repo_ids: HashMap<String, u64>,
    /// Repositories the App is not installed on: their issue endpoints answer 404.
    not_installed: std::collections::HashSet<String>,
    /// comment id → reactions added, in order.
    reactions: HashMap<u64, Vec<String>>,
    /// (repo, commit) → its parents.
    parents: HashMap<(String, String), Vec<String>>,
    /// repo → commits, newest first (what `GET /commits?sha=` walks).
    history: HashMap<String, Vec<String>>,
    /// repo → deployments (as listed) with their statuses (newest first).
    deployments: HashMap<String, Vec<(Value, Vec<Value>)>>,
    /// repo → issues as the list endpoint returns them.
    listed_issues: HashMap<String, Vec<Value>>,
    /// repo → releases.
    releases: HashMap<String, Vec<Value>>,
    /// (repo, pull request) → commit author dates.
    pr_commits: HashMap<(String, u64), Vec<String>>,
    /// The App's webhook delivery log, newest first.
    hook_deliveries: Vec<Value>,
    /// Delivery attempts asked to be delivered again, in order.
    redelivered: Vec<u64>,
    /// A redelivery is not logged as taken (the test logs its outcome itself).
    redeliveries_unlogged: bool,
    /// Attempts GitHub refuses to deliver again (422).
    redelivery_refused: Vec<u64>,
    /// The (author, committer) logins of a pull request's commits.
    pr_commit_people: HashMap<(String, u64), Vec<(String, String)>>,
    /// Issues opened through the API: (repo, number, title, body, labels, state).
    opened: Vec<OpenedIssue>,
    /// Repository labels: (repo, name) → colour.
    repo_labels: HashMap<(String, String), String>,
    /// Injected faults.
    chaos: Option<Chaos>,
    /// Tokens that may only read (a fork's pull request's `GITHUB_TOKEN`).
    read_only_tokens: Vec<String>,
    /// Requests answered (not failures), for `x-ratelimit-remaining`.
    served: u32,
    /// Token → the installation it was minted for.
    token_installations: HashMap<String, u64>,
    /// Installations whose API budget is spent, with GitHub's reset (unix seconds).
    spent: HashMap<u64, u64>,
    /// Requests refused for a spent budget, by installation.
    refused_spent: HashMap<u64, u32>,
    /// GitHub is down: requests get no answer (one only after a minute, past any client's
    /// patience).
    outage: bool,
    /// Where artifact downloads are redirected (another origin, like GitHub's blob storage).
    blob_uri: String,
}

pub struct FakeGitHub {
    pub server: MockServer,
    /// Blob storage for artifact archives: a second server, so a redirect changes origin.
    pub blobs: MockServer,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    pub async fn start() -> FakeGitHub {
        let server = MockServer::start().await;
        let blobs = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            blob_uri: blobs.uri(),
            ..State::default()
        }));
        let route = |verb: &str,
                     pattern: &str,
                     handler: fn(&mut State, &Request) -> ResponseTemplate| {
            let state = state.clone();
            Mock::given(method(verb))
                .and(path_regex(pattern))
                .respond_with(move |req: &Request| {
                    let mut s = state.lock().unwrap();
                    if s.outage {
                        return ResponseTemplate::new(503)
                            .set_delay(std::time::Duration::from_secs(60));
                    }
                    let path = req.url.path().to_owned();
                    let verb = req.method.to_string();
                    if let Some(i) = s
                        .failures
                        .iter()
                        .position(|(m, p, _)| *m == verb && path.contains(p.as_str()))
                    {
                        return s.failures.remove(i).unwrap().2;
                    }
                    let fault = if path.starts_with("/app/") {
                        None
                    } else {
                        s.chaos.as_mut().and_then(Chaos::draw)
                    };
                    match fault {
                        Some(Fault::ServerError) => {
                            return ResponseTemplate::new(500)
                                .set_body_json(json!({"message": "Server Error"}));
                        }
                        Some(Fault::SecondaryRateLimit) => {
                            return ResponseTemplate::new(403)
                                .insert_header("retry-after", "1")
                                .set_body_json(
                                    json!({"message": "You have exceeded a secondary rate limit"}),
                                );
                        }
                        Some(Fault::ExpiredToken) => s.valid_tokens.clear(),
                        _ => {}
                    }
                    let installation =
                        bearer(req).and_then(|t| s.token_installations.get(&t).copied());
                    if let Some(reset) = installation.and_then(|i| s.spent.get(&i).copied()) {
                        *s.refused_spent.entry(installation.unwrap()).or_insert(0) += 1;
                        // GitHub's primary rate limit, spent.
                        return ResponseTemplate::new(403)
                            .insert_header("x-ratelimit-remaining", "0")
                            .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                            .set_body_json(
                                json!({"message": "API rate limit exceeded for installation."}),
                            );
                    }
                    if verb != "GET" && bearer(req).is_some_and(|t| s.read_only_tokens.contains(&t))
                    {
                        return ResponseTemplate::new(403).set_body_json(
                            json!({"message": "Resource not accessible by integration"}),
                        );
                    }
                    s.served += 1;
                    let left = 5000u32.saturating_sub(s.served);
                    let response = handler(&mut s, req)
                        .insert_header("x-ratelimit-remaining", left.to_string().as_str());
                    match fault {
                        // The work was done; the answer is lost on the way back.
                        Some(Fault::BadGateway) => ResponseTemplate::new(502),
                        Some(Fault::Truncated) => {
                            ResponseTemplate::new(200).set_body_raw("{\"id\": ", "application/json")
                        }
                        Some(Fault::Slow) => response.set_delay(std::time::Duration::from_secs(3)),
                        _ => response,
                    }
                })
        };
        route(
            "POST",
            r"^/app/installations/\d+/access_tokens$",
            mint_token,
        )
        .mount(&server)
        .await;
        route("GET", r"^/app/hook/deliveries$", list_hook_deliveries)
            .mount(&server)
            .await;
        route(
            "POST",
            r"^/app/hook/deliveries/\d+/attempts$",
            redeliver_attempt,
        )
        .mount(&server)
        .await;
        route("GET", r"^/repos/[^/]+/[^/]+/contents/.+$", get_content)
            .mount(&server)
            .await;
        route("POST", r"^/repos/[^/]+/[^/]+/check-runs$", create_check_run)
            .mount(&server)
            .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/commits/[0-9a-f]+/check-runs$",
            list_check_runs,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/commits/[0-9a-f]+/pulls$",
            list_commit_pulls,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/pulls/\d+/files$",
            list_pr_files,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/issues/\d+/comments$",
            list_comments,
        )
        .mount(&server)
        .await;
        route(
            "POST",
            r"^/repos/[^/]+/[^/]+/issues/\d+/comments$",
            create_comment,
        )
        .mount(&server)
        .await;
        route(
            "PATCH",
            r"^/repos/[^/]+/[^/]+/issues/comments/\d+$",
            edit_comment,
        )
        .mount(&server)
        .await;
        route(
            "DELETE",
            r"^/repos/[^/]+/[^/]+/issues/comments/\d+$",
            delete_comment,
        )
        .mount(&server)
        .await;
        route(
            "PATCH",
            r"^/repos/[^/]+/[^/]+/check-runs/\d+$",
            update_check_run,
        )
        .mount(&server)
        .await;
        route("GET", r"^/repos/[^/]+/[^/]+/check-runs/\d+$", get_check_run)
            .mount(&server)
            .await;
        route("GET", r"^/repos/[^/]+/[^/]+/pulls/\d+$", get_pull)
            .mount(&server)
            .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/code-scanning/analyses$",
            list_analyses,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/code-scanning/alerts$",
            list_alerts,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/collaborators/[^/]+/permission$",
            get_permission,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/orgs/[^/]+/teams/[^/]+/memberships/[^/]+$",
            get_membership,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/properties/values$",
            get_properties,
        )
        .mount(&server)
        .await;
        route("GET", r"^/repos/[^/]+/[^/]+$", get_repository)
            .mount(&server)
            .await;
        route(
            "POST",
            r"^/repos/[^/]+/[^/]+/(issues|pulls)/comments/\d+/reactions$",
            add_reaction,
        )
        .mount(&server)
        .await;
        route("GET", r"^/repos/[^/]+/[^/]+/commits/[0-9a-f]+$", get_commit)
            .mount(&server)
            .await;
        route("GET", r"^/repos/[^/]+/[^/]+/commits$", list_commits)
            .mount(&server)
            .await;
        route("GET", r"^/repos/[^/]+/[^/]+/pulls$", list_closed_pulls)
            .mount(&server)
            .await;
        route("GET", r"^/repos/[^/]+/[^/]+/deployments$", list_deployments)
            .mount(&server)
            .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/deployments/\d+/statuses$",
            list_deployment_statuses,
        )
        .mount(&server)
        .await;
        route("GET", r"^/repos/[^/]+/[^/]+/releases$", list_releases)
            .mount(&server)
            .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/pulls/\d+/commits$",
            list_pr_commits,
        )
        .mount(&server)
        .await;
        route("POST", r"^/repos/[^/]+/[^/]+/issues$", open_issue)
            .mount(&server)
            .await;
        route("GET", r"^/repos/[^/]+/[^/]+/issues$", list_issues)
            .mount(&server)
            .await;
        route("PATCH", r"^/repos/[^/]+/[^/]+/issues/\d+$", update_issue)
            .mount(&server)
            .await;
        route("POST", r"^/repos/[^/]+/[^/]+/labels$", create_label)
            .mount(&server)
            .await;
        route("GET", r"^/repos/[^/]+/[^/]+/issues/\d+$", get_issue)
            .mount(&server)
            .await;
        route("GET", r"^/repos/[^/]+/[^/]+/compare/[^/]+$", get_compare)
            .mount(&server)
            .await;
        route(
            "POST",
            r"^/repos/[^/]+/[^/]+/issues/\d+/labels$",
            add_labels,
        )
        .mount(&server)
        .await;
        route(
            "DELETE",
            r"^/repos/[^/]+/[^/]+/issues/\d+/labels/.+$",
            remove_label,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/actions/runs/\d+/artifacts$",
            list_artifacts,
        )
        .mount(&server)
        .await;
        route(
            "GET",
            r"^/repos/[^/]+/[^/]+/actions/artifacts/\d+/zip$",
            download_artifact,
        )
        .mount(&server)
        .await;
        route("GET", r"^/repos/[^/]+/[^/]+/actions/runs$", list_runs)
            .mount(&server)
            .await;
        let blob_state = state.clone();
        Mock::given(method("GET"))
            .and(path_regex(r"^/artifacts/\d+\.zip$"))
            .respond_with(move |req: &Request| {
                let s = blob_state.lock().unwrap();
                let id: u64 = req.url.path()[11..]
                    .trim_end_matches(".zip")
                    .parse()
                    .unwrap();
                match s.artifacts.values().flatten().find(|a| a.0 == id) {
                    Some(a) => ResponseTemplate::new(200)
                        .insert_header("content-type", "application/zip")
                        .set_body_bytes(a.2.clone()),
                    None => ResponseTemplate::new(404),
                }
            })
            .mount(&blobs)
            .await;
        FakeGitHub {
            server,
            blobs,
            state,
        }
    }

    /// The pull request `GET /repos/{repo}/pulls/{number}` returns (a webhook payload's
    /// `pull_request` object will do).
    pub fn put_pull(&self, repo: &str, number: u64, pull: Value) {
        let labels: Vec<String> = pull["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["name"].as_str().map(str::to_owned))
            .collect();
        let mut s = self.state.lock().unwrap();
        s.labels.insert((repo.into(), number), labels);
        s.pulls.insert((repo.into(), number), pull);
    }

    /// A successful `push` run `id` of `path` for `head_sha` (newest last).
    pub fn put_push_run(&self, repo: &str, id: u64, head_sha: &str, path: &str) {
        self.state
            .lock()
            .unwrap()
            .push_runs
            .entry(repo.into())
            .or_default()
            .push((id, head_sha.into(), path.into()));
    }

    /// The App is not installed on `repo`: it and its issue endpoints answer 404.
    pub fn put_not_installed(&self, repo: &str) {
        self.state.lock().unwrap().not_installed.insert(repo.into());
    }

    /// `repo` is private.
    /// The id `GET /repos/{repo}` gives (1 when not put).
    pub fn put_repo_id(&self, repo: &str, id: u64) {
        self.state
            .lock()
            .unwrap()
            .repo_ids
            .insert(repo.to_owned(), id);
    }

    pub fn put_private(&self, repo: &str) {
        self.state.lock().unwrap().private_repos.insert(repo.into());
    }

    /// Removes a file at `sha` (as a commit deleting it would).
    pub fn remove_file(&self, repo: &str, sha: &str, path: &str) {
        self.state
            .lock()
            .unwrap()
            .files
            .remove(&(repo.into(), sha.into(), path.into()));
    }

    /// `repo`'s custom properties (name, value).
    pub fn put_properties(&self, repo: &str, properties: &[(&str, &str)]) {
        let listed = properties
            .iter()
            .map(|(n, v)| json!({"property_name": n, "value": v}))
            .collect();
        self.state
            .lock()
            .unwrap()
            .properties
            .insert(repo.into(), listed);
    }

    /// `repo`'s multi-select custom property `name`, holding `values`.
    pub fn put_multi_select_property(&self, repo: &str, name: &str, values: &[&str]) {
        self.state
            .lock()
            .unwrap()
            .properties
            .entry(repo.into())
            .or_default()
            .push(json!({"property_name": name, "value": values}));
    }

    /// `login` is an active member of `org`'s team `team`.
    pub fn put_team_member(&self, org: &str, team: &str, login: &str) {
        self.state
            .lock()
            .unwrap()
            .team_members
            .insert(format!("{org}/{team}/{login}"));
    }

    /// `login`'s permission on `repo` (`admin`, `write`, `read`, `none`).
    pub fn put_permission(&self, repo: &str, login: &str, permission: &str) {
        self.state
            .lock()
            .unwrap()
            .permissions
            .insert((repo.into(), login.into()), permission.into());
    }

    /// The reactions added to comment `id`, in order.
    pub fn reactions(&self, id: u64) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .reactions
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }

    /// Commit `sha` has these parents (a pull request's test merge commit: base and head).
    pub fn put_parents(&self, repo: &str, sha: &str, parents: &[&str]) {
        self.state.lock().unwrap().parents.insert(
            (repo.into(), sha.into()),
            parents.iter().map(|p| (*p).to_owned()).collect(),
        );
    }

    /// Code scanning analysed commit `analysed` on `git_ref` and found these open alerts:
    /// (number, rule id, security severity level, path, line).
    pub fn put_code_scanning(
        &self,
        repo: &str,
        git_ref: &str,
        analysed: &str,
        alerts: &[(u64, &str, &str, &str, u32)],
    ) {
        let alerts = alerts
            .iter()
            .map(|(n, rule, level, path, line)| {
                json!({"number": n, "state": "open",
                       "rule": {"id": rule, "severity": "error", "security_severity_level": level},
                       "tool": {"name": "CodeQL"},
                       "most_recent_instance": {"ref": git_ref, "state": "open",
                           "message": {"text": "This query depends on a user-provided value."},
                           "location": {"path": path, "start_line": line, "end_line": line}}})
            })
            .collect();
        self.state
            .lock()
            .unwrap()
            .code_scanning
            .insert((repo.into(), git_ref.into()), (analysed.into(), alerts));
    }

    /// The repository's commits, newest first.
    pub fn put_commits(&self, repo: &str, newest_first: &[&str]) {
        self.state.lock().unwrap().history.insert(
            repo.into(),
            newest_first.iter().map(|s| (*s).to_owned()).collect(),
        );
    }

    /// The history the list endpoints serve: closed pull requests, deployments with their
    /// statuses, issues, releases (GitHub's JSON shapes).
    pub fn put_history(
        &self,
        repo: &str,
        pulls: Vec<Value>,
        deployments: Vec<(Value, Vec<Value>)>,
        issues: Vec<Value>,
        releases: Vec<Value>,
    ) {
        let mut s = self.state.lock().unwrap();
        s.closed_pulls.insert(repo.into(), pulls);
        s.deployments.insert(repo.into(), deployments);
        s.listed_issues.insert(repo.into(), issues);
        s.releases.insert(repo.into(), releases);
    }

    /// The author dates of a pull request's commits (RFC 3339), oldest first.
    pub fn put_pr_commits(&self, repo: &str, number: u64, dates: &[&str]) {
        self.state.lock().unwrap().pr_commits.insert(
            (repo.into(), number),
            dates.iter().map(|d| (*d).to_owned()).collect(),
        );
    }

    /// The commits of a pull request by (author, committer) login, oldest first.
    pub fn put_pr_commit_people(&self, repo: &str, number: u64, people: &[(&str, &str)]) {
        self.state.lock().unwrap().pr_commit_people.insert(
            (repo.into(), number),
            people
                .iter()
                .map(|(a, c)| ((*a).to_owned(), (*c).to_owned()))
                .collect(),
        );
    }

    /// A webhook delivery attempt in the App's log: attempt `id` of delivery `guid`, answered
    /// `status_code` (0: no answer) at `delivered_at` (RFC 3339). Attempts are listed newest
    /// first, so put them oldest first.
    pub fn put_hook_delivery(&self, id: u64, guid: &str, status_code: u16, delivered_at: &str) {
        self.state.lock().unwrap().hook_deliveries.insert(
            0,
            json!({"id": id, "guid": guid, "delivered_at": delivered_at, "redelivery": false,
                   "duration": 0.5, "status": if status_code == 0 { "timed out" } else { "done" },
                   "status_code": status_code, "event": "pull_request", "action": "edited",
                   "installation_id": 1, "repository_id": 186853002}),
        );
    }

    /// GitHub refuses (422) to deliver attempt `id` again.
    pub fn refuse_redelivery(&self, id: u64) {
        self.state.lock().unwrap().redelivery_refused.push(id);
    }

    /// Redeliveries are no longer logged as taken (202): the test logs what became of them.
    pub fn leave_redeliveries_unlogged(&self) {
        self.state.lock().unwrap().redeliveries_unlogged = true;
    }

    /// The delivery attempts Keel asked GitHub to deliver again, in order.
    pub fn redelivered(&self) -> Vec<u64> {
        self.state.lock().unwrap().redelivered.clone()
    }

    /// Issues opened through the API, in order.
    pub fn opened_issues(&self) -> Vec<OpenedIssue> {
        self.state.lock().unwrap().opened.clone()
    }

    /// Injects a fault into `share_percent`% of API requests (token mints excepted).
    pub fn set_chaos(&self, seed: u64, share_percent: u64) {
        self.state.lock().unwrap().chaos = Some(Chaos {
            state: seed,
            share_percent,
            counts: HashMap::new(),
        });
    }

    /// Stops injecting faults; returns how many of each were injected.
    pub fn stop_chaos(&self) -> Vec<(Fault, u32)> {
        let mut counts: Vec<(Fault, u32)> = self
            .state
            .lock()
            .unwrap()
            .chaos
            .take()
            .map(|c| c.counts.into_iter().collect())
            .unwrap_or_default();
        counts.sort_by_key(|(f, _)| format!("{f:?}"));
        counts
    }

    /// Accepts `token` as a workflow's `GITHUB_TOKEN`; a read-only one gets 403 on writes.
    pub fn add_token(&self, token: &str, read_only: bool) {
        let mut s = self.state.lock().unwrap();
        s.valid_tokens.push(token.into());
        s.workflow_tokens.push(token.into());
        if read_only {
            s.read_only_tokens.push(token.into());
        }
    }

    /// A label that exists in the repository already.
    pub fn put_label(&self, repo: &str, name: &str, color: &str) {
        let mut s = self.state.lock().unwrap();
        s.repo_labels
            .insert((repo.into(), name.into()), color.into());
    }

    /// A repository label's colour, if it was created.
    pub fn label_color(&self, repo: &str, name: &str) -> Option<String> {
        let s = self.state.lock().unwrap();
        s.repo_labels.get(&(repo.into(), name.into())).cloned()
    }

    /// An issue with `labels`.
    pub fn put_issue(&self, repo: &str, number: u64, labels: &[&str]) {
        self.state.lock().unwrap().issues.insert(
            (repo.into(), number),
            labels.iter().map(|l| (*l).to_owned()).collect(),
        );
    }

    /// The labels on an issue or pull request now.
    pub fn labels(&self, repo: &str, number: u64) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.labels
            .get(&(repo.into(), number))
            .cloned()
            .unwrap_or_default()
    }

    /// Gives workflow run `run_id` an artifact; returns its id.
    pub fn put_artifact(&self, repo: &str, run_id: u64, name: &str, zip: Vec<u8>) -> u64 {
        let mut s = self.state.lock().unwrap();
        let id = 9000 + s.artifacts.values().map(Vec::len).sum::<usize>() as u64;
        s.artifacts
            .entry((repo.into(), run_id))
            .or_default()
            .push((id, name.into(), zip));
        id
    }

    /// The workflow runs of `head_sha` and their status (`completed`, `in_progress`, …).
    pub fn put_workflow_runs(&self, repo: &str, head_sha: &str, runs: &[(u64, &str)]) {
        let with_paths: Vec<(u64, &str, &str)> = runs.iter().map(|(i, st)| (*i, *st, "")).collect();
        self.put_workflow_runs_of(repo, head_sha, &with_paths);
    }

    /// The workflow runs of `head_sha`: (id, status, workflow file path).
    pub fn put_workflow_runs_of(&self, repo: &str, head_sha: &str, runs: &[(u64, &str, &str)]) {
        let mut s = self.state.lock().unwrap();
        s.runs.insert(
            (repo.into(), head_sha.into()),
            runs.iter()
                .map(|(i, st, p)| (*i, (*st).to_owned(), (*p).to_owned()))
                .collect(),
        );
    }

    /// The files `compare/{base}...{head}` lists.
    pub fn put_compare(
        &self,
        repo: &str,
        base: &str,
        head: &str,
        files: &[(&str, &str, Option<&str>)],
    ) {
        let files = files
            .iter()
            .map(|(f, st, p)| json!({"filename": f, "status": st, "patch": p}))
            .collect();
        self.state
            .lock()
            .unwrap()
            .compare
            .insert((repo.into(), base.into(), head.into()), files);
    }

    /// Requests blob storage received, as `METHOD /path auth=<yes|no>`.
    pub async fn blob_log(&self) -> Vec<String> {
        let requests = self.blobs.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .map(|r| {
                let auth = if r.headers.contains_key("authorization") {
                    "yes"
                } else {
                    "no"
                };
                format!("{} {} auth={auth}", r.method, r.url.path())
            })
            .collect()
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Puts `bytes` at `path` in `repo` at commit `sha`.
    pub fn put_file(&self, repo: &str, sha: &str, path: &str, bytes: &[u8]) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert((repo.into(), sha.into(), path.into()), bytes.to_vec());
    }

    /// Sets the files pull request `number` changes: (path, status, patch).
    pub fn put_pr_files(&self, repo: &str, number: u64, files: &[(&str, &str, Option<&str>)]) {
        let entries = files
            .iter()
            .map(|(path, status, patch)| {
                // GitHub counts the lines itself, also for a patch it leaves out.
                let count = |sign: char| {
                    patch.map_or(0, |p| p.lines().filter(|l| l.starts_with(sign)).count())
                };
                json!({"filename": path, "status": status, "patch": patch,
                       "additions": count('+'), "deletions": count('-')})
            })
            .collect();
        self.state
            .lock()
            .unwrap()
            .pr_files
            .insert((repo.into(), number), entries);
    }

    /// Puts a `keel.toml` that any small change passes at the base commit of GitHub's example
    /// `pull_request` payload ([`EXAMPLE_REPO`] at [`EXAMPLE_BASE`]).
    pub fn put_lenient_config(&self) {
        self.put_file(
            EXAMPLE_REPO,
            EXAMPLE_BASE,
            ".github/keel.toml",
            b"[hygiene]\nmax_changed_lines = 100\n",
        );
    }

    /// A FakeGitHub for load, crash and fault tests: [`FakeGitHub::put_lenient_config`], and
    /// pull requests 1 to `prs` of the example repository each add a line to README.md.
    pub async fn with_passing_prs(prs: u64) -> FakeGitHub {
        let fake = FakeGitHub::start().await;
        fake.put_lenient_config();
        for n in 1..=prs {
            fake.put_pr_files(
                EXAMPLE_REPO,
                n,
                &[("README.md", "modified", Some("@@ -1 +1,2 @@\n a\n+b"))],
            );
        }
        fake
    }

    /// The next `verb` request whose path contains `path_part` gets `response` instead.
    pub fn fail_next(&self, verb: &str, path_part: &str, response: ResponseTemplate) {
        self.state
            .lock()
            .unwrap()
            .failures
            .push_back((verb.into(), path_part.into(), response));
    }

    /// Every token minted so far stops working (as after its hour).
    /// Installation `installation`'s API budget is spent until `reset_secs` (unix seconds):
    /// its requests get GitHub's 403 with `x-ratelimit-remaining: 0`. `None` refills it.
    pub fn spend_budget(&self, installation: u64, reset_secs: Option<u64>) {
        let mut s = self.state.lock().unwrap();
        match reset_secs {
            Some(reset) => s.spent.insert(installation, reset),
            None => s.spent.remove(&installation),
        };
    }

    /// GitHub stops answering (`true`) or answers again.
    pub fn set_outage(&self, down: bool) {
        self.state.lock().unwrap().outage = down;
    }

    /// Requests refused because installation `installation`'s budget was spent.
    pub fn refused_for_budget(&self, installation: u64) -> u32 {
        self.state
            .lock()
            .unwrap()
            .refused_spent
            .get(&installation)
            .copied()
            .unwrap_or(0)
    }

    pub fn expire_tokens(&self) {
        self.state.lock().unwrap().valid_tokens.clear();
    }

    pub fn tokens_minted(&self) -> u32 {
        self.state.lock().unwrap().tokens_minted
    }

    /// Comments on issue or pull request `number`: (id, body).
    pub fn comments(&self, repo: &str, number: u64) -> Vec<(u64, String)> {
        let s = self.state.lock().unwrap();
        s.comments
            .iter()
            .filter(|c| c.0 == repo && c.1 == number)
            .map(|c| (c.2, c.3.clone()))
            .collect()
    }

    /// Puts a comment someone else wrote (a person, through no app); returns its id.
    pub fn put_comment(&self, repo: &str, number: u64, body: &str) -> u64 {
        self.put_comment_by(repo, number, body, "octocat", None)
    }

    /// Puts a comment written by `login`, through app `app_id` if given; returns its id.
    pub fn put_comment_by(
        &self,
        repo: &str,
        number: u64,
        body: &str,
        login: &str,
        app_id: Option<u64>,
    ) -> u64 {
        let mut s = self.state.lock().unwrap();
        let id = 5000 + s.comments.len() as u64;
        s.comments.push((repo.into(), number, id, body.into()));
        s.comment_authors.insert(
            id,
            Author {
                login: login.into(),
                app_id,
            },
        );
        id
    }

    /// Puts another app's check run on `head_sha` (`conclusion` only when completed).
    pub fn put_check_run(
        &self,
        head_sha: &str,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
        app_id: u64,
    ) -> u64 {
        let mut s = self.state.lock().unwrap();
        let id = 1000 + s.check_runs.len() as u64;
        s.check_runs.push(CheckRun {
            id,
            name: name.into(),
            head_sha: head_sha.into(),
            status: status.into(),
            conclusion: conclusion.map(Into::into),
            app_id,
            ..CheckRun::default()
        });
        id
    }

    /// Changes a check run's status and conclusion (another app finishing it).
    pub fn set_check_run(&self, id: u64, status: &str, conclusion: Option<&str>) {
        let mut s = self.state.lock().unwrap();
        if let Some(run) = s.check_runs.iter_mut().find(|r| r.id == id) {
            run.status = status.into();
            run.conclusion = conclusion.map(Into::into);
        }
    }

    /// Sets the raw entries GitHub lists for pull request `number`'s files.
    pub fn put_pr_file_entries(&self, repo: &str, number: u64, entries: Vec<Value>) {
        self.state
            .lock()
            .unwrap()
            .pr_files
            .insert((repo.into(), number), entries);
    }

    /// The check runs GitHub shows (and branch protection counts): the latest of each name
    /// per app on each commit, oldest first.
    pub fn check_runs(&self) -> Vec<CheckRun> {
        let all = self.state.lock().unwrap().check_runs.clone();
        let latest = |r: &CheckRun| {
            !all.iter().any(|o| {
                o.id > r.id && o.head_sha == r.head_sha && o.name == r.name && o.app_id == r.app_id
            })
        };
        all.iter().filter(|r| latest(r)).cloned().collect()
    }

    /// Every check run ever made, superseded ones included, oldest first.
    pub fn all_check_runs(&self) -> Vec<CheckRun> {
        self.state.lock().unwrap().check_runs.clone()
    }

    /// Superseded check runs left in progress: a run replaced before it was completed, which
    /// Keel should never leave behind.
    pub fn stray_check_runs(&self) -> Vec<CheckRun> {
        let shown: Vec<u64> = self.check_runs().iter().map(|r| r.id).collect();
        self.all_check_runs()
            .into_iter()
            .filter(|r| !shown.contains(&r.id) && r.status != "completed")
            .collect()
    }

    /// Every request received, in order, as `METHOD /path`.
    pub async fn log(&self) -> Vec<String> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }
}

fn unauthorized() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"}))
}

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers.get("authorization")?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))?;
    Some(token.to_owned())
}

fn authorized(s: &State, req: &Request) -> bool {
    bearer(req).is_some_and(|t| s.valid_tokens.contains(&t))
}

/// The App's webhook delivery log, `per_page` at a time from `cursor` (GitHub pages it with
/// a `cursor` in the `Link` header), as the App only.
fn list_hook_deliveries(s: &mut State, req: &Request) -> ResponseTemplate {
    if let Some(refused) = app_jwt_refused(req) {
        return refused;
    }
    let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30);
    let from: usize = query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = s
        .hook_deliveries
        .iter()
        .skip(from)
        .take(per_page)
        .cloned()
        .collect();
    let mut response = ResponseTemplate::new(200).set_body_json(Value::Array(page));
    if from + per_page < s.hook_deliveries.len() {
        let next = format!(
            "<https://api.github.com/app/hook/deliveries?per_page={per_page}&cursor={}>; rel=\"next\"",
            from + per_page
        );
        response = response.insert_header("link", next.as_str());
    }
    response
}

/// GitHub delivers the attempt's webhook again: a new attempt of the same delivery, which
/// Keel takes (202) in these tests.
fn redeliver_attempt(s: &mut State, req: &Request) -> ResponseTemplate {
    if let Some(refused) = app_jwt_refused(req) {
        return refused;
    }
    let id: u64 = req.url.path().split('/').nth(4).unwrap().parse().unwrap();
    let Some(guid) = s
        .hook_deliveries
        .iter()
        .find(|d| d["id"] == json!(id))
        .map(|d| d["guid"].clone())
    else {
        return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    };
    if s.redelivery_refused.contains(&id) {
        return ResponseTemplate::new(422)
            .set_body_json(json!({"message": "Validation Failed: the delivery is too old"}));
    }
    s.redelivered.push(id);
    if s.redeliveries_unlogged {
        return ResponseTemplate::new(202).set_body_json(json!({}));
    }
    let next = 1_000_000 + s.redelivered.len() as u64;
    s.hook_deliveries.insert(
        0,
        json!({"id": next, "guid": guid, "delivered_at": chrono::Utc::now().to_rfc3339(),
               "redelivery": true, "status_code": 202, "status": "OK"}),
    );
    ResponseTemplate::new(202).set_body_json(json!({}))
}

/// `None` when the request carries the App's valid JWT, else GitHub's 401.
fn app_jwt_refused(req: &Request) -> Option<ResponseTemplate> {
    let Some(jwt) = bearer(req) else {
        return Some(unauthorized());
    };
    let public = std::fs::read(super::fixture("github/test-app-key.pub.pem")).unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_required_spec_claims(&["exp"]);
    match jsonwebtoken::decode::<Value>(&jwt, &key, &validation) {
        Ok(d)
            if d.claims["iss"] == json!(APP_ID) || d.claims["iss"] == json!(APP_ID.to_string()) =>
        {
            None
        }
        _ => Some(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": "A JSON web token could not be decoded"})),
        ),
    }
}

fn mint_token(s: &mut State, req: &Request) -> ResponseTemplate {
    let Some(jwt) = bearer(req) else {
        return unauthorized();
    };
    let public = std::fs::read(super::fixture("github/test-app-key.pub.pem")).unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // `iss` may be a number (octocrab sends one; GitHub accepts it), so it is checked below.
    validation.set_required_spec_claims(&["exp"]);
    let data = match jsonwebtoken::decode::<Value>(&jwt, &key, &validation) {
        Ok(d) => d,
        Err(e) => {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"message": format!("bad JWT: {e}")}));
        }
    };
    let claims = data.claims;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    let iss_ok = claims["iss"] == json!(APP_ID) || claims["iss"] == json!(APP_ID.to_string());
    if !iss_ok || exp - now > 600 || iat > now - 30 {
        return ResponseTemplate::new(401)
            .set_body_json(json!({"message": format!("bad JWT claims {claims}")}));
    }
    s.tokens_minted += 1;
    let token = format!("ghs_fake_{}", s.tokens_minted);
    s.valid_tokens.push(token.clone());
    if let Some(installation) = req
        .url
        .path()
        .split('/')
        .nth(3)
        .and_then(|i| i.parse().ok())
    {
        s.token_installations.insert(token.clone(), installation);
    }
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    // The shape of GitHub's "installation-token" response example.
    ResponseTemplate::new(201).set_body_json(json!({
        "token": token,
        "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "permissions": {"checks": "write", "contents": "read", "issues": "write", "pull_requests": "write", "metadata": "read"},
        "repository_selection": "all"
    }))
}

fn get_content(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().splitn(6, '/').collect();
    let (repo, path) = (format!("{}/{}", parts[2], parts[3]), parts[5].to_owned());
    let sha = req
        .url
        .query_pairs()
        .find(|(k, _)| k == "ref")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    match s.files.get(&(repo, sha, path.clone())) {
        Some(bytes) => ResponseTemplate::new(200).set_body_json(json!({
            "type": "file", "path": path, "encoding": "base64", "content": base64(bytes)
        })),
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
    }
}

fn create_check_run(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let run = CheckRun {
        id: 1000 + s.check_runs.len() as u64,
        name: body["name"].as_str().unwrap_or_default().into(),
        head_sha: body["head_sha"].as_str().unwrap_or_default().into(),
        status: body["status"].as_str().unwrap_or("queued").into(),
        app_id: author_of(s, req).app_id.unwrap_or(APP_ID),
        external_id: body["external_id"].as_str().map(Into::into),
        ..CheckRun::default()
    };
    let run = CheckRun {
        completed_at: (run.status == "completed").then(std::time::Instant::now),
        ..run
    };
    s.check_runs.push(run.clone());
    ResponseTemplate::new(201).set_body_json(
        json!({"id": run.id, "name": run.name, "head_sha": run.head_sha, "status": run.status}),
    )
}

fn list_check_runs(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let sha = req
        .url
        .path()
        .split('/')
        .nth(5)
        .unwrap_or_default()
        .to_owned();
    let query = |key: &str| {
        req.url
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let name = query("check_name");
    let app_id = query("app_id").and_then(|a| a.parse::<u64>().ok());
    let all: Vec<Value> = s
        .check_runs
        .iter()
        .rev()
        .filter(|r| r.head_sha == sha && name.as_ref().is_none_or(|n| *n == r.name))
        .filter(|r| app_id.is_none_or(|a| a == r.app_id))
        .map(|r| {
            let slug = if r.app_id == ACTIONS_APP_ID {
                "github-actions"
            } else if r.app_id == APP_ID {
                "keel"
            } else {
                "other-ci"
            };
            json!({"id": r.id, "name": r.name, "head_sha": r.head_sha, "status": r.status,
                   "conclusion": r.conclusion, "external_id": r.external_id,
                   "app": {"id": r.app_id, "slug": slug}})
        })
        .collect();
    let total = all.len();
    let (per_page, page) = paging(req);
    let runs: Vec<Value> = all
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({"total_count": total, "check_runs": runs}))
}

/// The pull requests associated with a commit (here: those whose head it is).
fn list_commit_pulls(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    let (repo, sha) = (format!("{}/{}", parts[2], parts[3]), parts[5]);
    let mut pulls: Vec<&Value> = s
        .pulls
        .iter()
        .filter(|((r, _), p)| *r == repo && p["head"]["sha"] == sha)
        .map(|(_, p)| p)
        .collect();
    pulls.sort_by_key(|p| p["number"].as_u64());
    ResponseTemplate::new(200).set_body_json(json!(pulls))
}

fn list_pr_files(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let (repo, number) = repo_and_number(req);
    let (per_page, page) = paging(req);
    let all = s.pr_files.get(&(repo, number)).cloned().unwrap_or_default();
    let slice: Vec<Value> = all
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    ResponseTemplate::new(200).set_body_json(Value::Array(slice))
}

/// `per_page` (default 30, at most 100) and `page` (default 1), as GitHub reads them.
fn paging(req: &Request) -> (usize, usize) {
    let query = |k: &str| {
        req.url
            .query_pairs()
            .find(|(q, _)| q == k)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    (
        query("per_page").unwrap_or(30).min(100),
        query("page").unwrap_or(1).max(1),
    )
}

/// `owner/repo` and the number of `/repos/owner/repo/{pulls|issues}/N/…`.
fn repo_and_number(req: &Request) -> (String, u64) {
    let parts: Vec<&str> = req.url.path().split('/').collect();
    (
        format!("{}/{}", parts[2], parts[3]),
        parts[5].parse().unwrap_or(0),
    )
}

fn list_comments(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let (repo, number) = repo_and_number(req);
    let (per_page, page) = paging(req);
    let page: Vec<Value> = s
        .comments
        .iter()
        .filter(|c| c.0 == repo && c.1 == number)
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|c| {
            let author = s.comment_authors.get(&c.2).cloned().unwrap_or(Author {
                login: "keel[bot]".into(),
                app_id: Some(APP_ID),
            });
            let mut v = author.json();
            v["id"] = json!(c.2);
            v["body"] = json!(c.3);
            v
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(Value::Array(page))
}

fn create_comment(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let (repo, number) = repo_and_number(req);
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let text = body["body"].as_str().unwrap_or_default().to_owned();
    if text.chars().count() > 65_536 {
        return ResponseTemplate::new(422)
            .set_body_json(json!({"message": "body is too long (maximum is 65536 characters)"}));
    }
    let id = 5000 + s.comments.len() as u64;
    s.comments.push((repo, number, id, text.clone()));
    let author = author_of(s, req);
    s.comment_authors.insert(id, author);
    ResponseTemplate::new(201).set_body_json(json!({"id": id, "body": text}))
}

fn edit_comment(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let id: u64 = req.url.path().rsplit('/').next().unwrap().parse().unwrap();
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let text = body["body"].as_str().unwrap_or_default().to_owned();
    match s.comments.iter_mut().find(|c| c.2 == id) {
        Some(c) => {
            c.3 = text.clone();
            ResponseTemplate::new(200).set_body_json(json!({"id": id, "body": text}))
        }
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
    }
}

fn delete_comment(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let id: u64 = req.url.path().rsplit('/').next().unwrap().parse().unwrap();
    let before = s.comments.len();
    s.comments.retain(|c| c.2 != id);
    if s.comments.len() == before {
        return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    }
    ResponseTemplate::new(204)
}

fn get_check_run(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let id: u64 = req.url.path().rsplit('/').next().unwrap().parse().unwrap();
    match s.check_runs.iter().find(|r| r.id == id) {
        Some(run) => ResponseTemplate::new(200).set_body_json(json!({"id": run.id,
            "name": run.name, "head_sha": run.head_sha, "status": run.status,
            "conclusion": run.conclusion, "external_id": run.external_id})),
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
    }
}

fn update_check_run(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let id: u64 = req.url.path().rsplit('/').next().unwrap().parse().unwrap();
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let Some(run) = s.check_runs.iter_mut().find(|r| r.id == id) else {
        return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    };
    let annotations = body["output"]["annotations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if annotations.len() > 50 {
        return ResponseTemplate::new(422)
            .set_body_json(json!({"message": "Only 50 annotations are allowed per request"}));
    }
    // GitHub's field limits: a longer title or message is refused whole.
    let over = |a: &Value, field: &str, max: usize| {
        a[field].as_str().is_some_and(|t| t.chars().count() > max)
    };
    if annotations.iter().any(|a| {
        over(a, "title", 255) || over(a, "message", 65_535) || over(a, "raw_details", 65_535)
    }) {
        return ResponseTemplate::new(422)
            .set_body_json(json!({"message": "Invalid request: annotation field too long"}));
    }
    if over(&body["output"], "title", 255) || over(&body["output"], "summary", 65_535) {
        return ResponseTemplate::new(422)
            .set_body_json(json!({"message": "Invalid request: output field too long"}));
    }
    // As GitHub: a completed run never goes back to in progress, nor changes its
    // conclusion. Modelled as the worst case for Keel: the request still succeeds, silently,
    // and only its output is taken.
    if run.status != "completed" {
        if let Some(status) = body["status"].as_str() {
            run.status = status.into();
        }
        if run.status == "completed" && run.completed_at.is_none() {
            run.completed_at = Some(std::time::Instant::now());
        }
        if let Some(c) = body["conclusion"].as_str() {
            run.conclusion = Some(c.into());
        }
    }
    run.title = body["output"]["title"]
        .as_str()
        .map(Into::into)
        .or(run.title.take());
    run.summary = body["output"]["summary"]
        .as_str()
        .map(Into::into)
        .or(run.summary.take());
    run.annotations.extend(annotations);
    ResponseTemplate::new(200).set_body_json(json!({"id": run.id, "name": run.name,
        "head_sha": run.head_sha, "status": run.status, "conclusion": run.conclusion,
        "external_id": run.external_id}))
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    // GitHub wraps content at 60 characters.
    out.as_bytes()
        .chunks(60)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn get_pull(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    let key = (
        format!("{}/{}", parts[2], parts[3]),
        parts[5].parse().unwrap_or(0),
    );
    match s.pulls.get(&key) {
        Some(pull) => {
            let mut pull = pull.clone();
            let labels = s.labels.get(&key).cloned().unwrap_or_default();
            pull["labels"] = labels.iter().map(|l| json!({"name": l})).collect();
            ResponseTemplate::new(200).set_body_json(pull)
        }
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
    }
}

fn get_compare(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    let repo = format!("{}/{}", parts[2], parts[3]);
    let Some((base, head)) = parts[5].split_once("...") else {
        return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    };
    match s.compare.get(&(repo, base.into(), head.into())) {
        Some(files) => {
            ResponseTemplate::new(200).set_body_json(json!({"status": "ahead", "files": files}))
        }
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
    }
}

fn add_labels(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let key = repo_and_number(req);
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let on = s.labels.entry(key).or_default();
    for l in body["labels"].as_array().into_iter().flatten() {
        let l = l.as_str().unwrap().to_owned();
        if !on.contains(&l) {
            on.push(l);
        }
    }
    let names: Vec<Value> = on.iter().map(|l| json!({"name": l})).collect();
    ResponseTemplate::new(200).set_body_json(Value::Array(names))
}

fn remove_label(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let key = repo_and_number(req);
    let encoded = req.url.path().rsplit('/').next().unwrap_or_default();
    let name = percent_decode(encoded);
    let on = s.labels.entry(key).or_default();
    match on.iter().position(|l| *l == name) {
        Some(i) => {
            on.remove(i);
            let names: Vec<Value> = on.iter().map(|l| json!({"name": l})).collect();
            ResponseTemplate::new(200).set_body_json(Value::Array(names))
        }
        None => {
            ResponseTemplate::new(404).set_body_json(json!({"message": "Label does not exist"}))
        }
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn list_artifacts(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    let key = (
        format!("{}/{}", parts[2], parts[3]),
        parts[6].parse().unwrap_or(0),
    );
    let name = req
        .url
        .query_pairs()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.into_owned());
    let listed: Vec<Value> = s
        .artifacts
        .get(&key)
        .into_iter()
        .flatten()
        .filter(|a| name.as_ref().is_none_or(|n| *n == a.1))
        .map(|a| json!({"id": a.0, "name": a.1, "size_in_bytes": a.2.len(), "expired": false}))
        .collect();
    ResponseTemplate::new(200)
        .set_body_json(json!({"total_count": listed.len(), "artifacts": listed}))
}

fn download_artifact(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let id: u64 = req.url.path().split('/').nth(6).unwrap().parse().unwrap();
    if !s.artifacts.values().flatten().any(|a| a.0 == id) {
        return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    }
    // GitHub redirects to a short-lived blob storage URL on another origin.
    ResponseTemplate::new(302).insert_header(
        "location",
        format!("{}/artifacts/{id}.zip", s.blob_uri).as_str(),
    )
}

/// A workflow run the fake lists: (id, status, workflow file path).
type WorkflowRun = (u64, String, String);

fn list_runs(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    let repo = format!("{}/{}", parts[2], parts[3]);
    if query(req, "event").as_deref() == Some("push") {
        let runs: Vec<Value> = s
            .push_runs
            .get(&repo)
            .into_iter()
            .flatten()
            .rev()
            .map(|(id, sha, path)| json!({"id": id, "head_sha": sha, "path": path, "status": "completed", "conclusion": "success"}))
            .collect();
        return ResponseTemplate::new(200)
            .set_body_json(json!({"total_count": runs.len(), "workflow_runs": runs}));
    }
    let head = query(req, "head_sha").unwrap_or_default();
    let runs: Vec<Value> = s
        .runs
        .get(&(repo, head.clone()))
        .into_iter()
        .flatten()
        .map(|(id, status, path)| json!({"id": id, "head_sha": head, "status": status, "path": path}))
        .collect();
    ResponseTemplate::new(200)
        .set_body_json(json!({"total_count": runs.len(), "workflow_runs": runs}))
}

fn get_issue(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let key = repo_and_number(req);
    match s.issues.get(&key) {
        Some(labels) => {
            let labels: Vec<Value> = labels.iter().map(|l| json!({"name": l})).collect();
            ResponseTemplate::new(200).set_body_json(json!({"number": key.1, "labels": labels}))
        }
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
    }
}

fn create_label(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    let repo = format!("{}/{}", parts[2], parts[3]);
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let color = body["color"].as_str().unwrap_or_default().to_owned();
    if s.repo_labels.contains_key(&(repo.clone(), name.clone())) {
        return ResponseTemplate::new(422).set_body_json(json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]
        }));
    }
    s.repo_labels.insert((repo, name.clone()), color.clone());
    ResponseTemplate::new(201).set_body_json(json!({"name": name, "color": color}))
}

fn open_issue(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    if s.not_installed
        .contains(&format!("{}/{}", parts[2], parts[3]))
    {
        return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let number = 100 + s.opened.len() as u64;
    s.opened.push(OpenedIssue {
        repo: format!("{}/{}", parts[2], parts[3]),
        number,
        title: body["title"].as_str().unwrap_or_default().into(),
        body: body["body"].as_str().unwrap_or_default().into(),
        labels: body["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect(),
        state: "open".into(),
    });
    ResponseTemplate::new(201).set_body_json(json!({"number": number}))
}

fn list_issues(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    let repo = format!("{}/{}", parts[2], parts[3]);
    if s.not_installed.contains(&repo) {
        return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    }
    let label = req
        .url
        .query_pairs()
        .find(|(k, _)| k == "labels")
        .map(|(_, v)| v.into_owned());
    let mut listed: Vec<Value> = s
        .opened
        .iter()
        .filter(|i| i.repo == repo && label.as_ref().is_none_or(|l| i.labels.contains(l)))
        .map(|i| json!({"number": i.number, "title": i.title, "state": i.state}))
        .collect();
    listed.extend(
        s.listed_issues
            .get(&repo)
            .into_iter()
            .flatten()
            .filter(|i| {
                label.as_ref().is_none_or(|l| {
                    i["labels"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|x| x["name"] == l.as_str())
                })
            })
            .cloned(),
    );
    let (per_page, page) = paging(req);
    let listed: Vec<Value> = listed
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    ResponseTemplate::new(200).set_body_json(Value::Array(listed))
}

fn update_issue(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let (repo, number) = repo_and_number(req);
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    match s
        .opened
        .iter_mut()
        .find(|i| i.repo == repo && i.number == number)
    {
        Some(issue) => {
            if let Some(b) = body["body"].as_str() {
                issue.body = b.into();
            }
            if let Some(st) = body["state"].as_str() {
                issue.state = st.into();
            }
            ResponseTemplate::new(200)
                .set_body_json(json!({"number": number, "state": issue.state}))
        }
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
    }
}

fn list_pr_commits(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let key = repo_and_number(req);
    let mut commits: Vec<Value> = s
        .pr_commits
        .get(&key)
        .into_iter()
        .flatten()
        .map(|d| json!({"sha": "0", "commit": {"author": {"name": "a", "date": d}}}))
        .collect();
    commits.extend(
        s.pr_commit_people
            .get(&key)
            .into_iter()
            .flatten()
            .map(|(a, c)| {
                json!({"sha": "1", "commit": {"author": {"name": a}}, "author": {"login": a},
               "committer": {"login": c}})
            }),
    );
    paged(req, commits)
}

/// `owner/repo` of `/repos/owner/repo/…`.
fn repo_of(req: &Request) -> String {
    let parts: Vec<&str> = req.url.path().split('/').collect();
    format!("{}/{}", parts[2], parts[3])
}

fn paged(req: &Request, all: Vec<Value>) -> ResponseTemplate {
    let (per_page, page) = paging(req);
    let slice: Vec<Value> = all
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    ResponseTemplate::new(200).set_body_json(Value::Array(slice))
}

fn list_analyses(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let key = (repo_of(req), query(req, "ref").unwrap_or_default());
    if let Some((analysed, _)) = s.code_scanning.get(&key) {
        ResponseTemplate::new(200)
            .set_body_json(json!([{"id": 1, "ref": key.1, "commit_sha": analysed}]))
    } else {
        ResponseTemplate::new(404).set_body_json(json!({"message": "no analysis found"}))
    }
}

fn list_alerts(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let key = (repo_of(req), query(req, "ref").unwrap_or_default());
    let alerts = s
        .code_scanning
        .get(&key)
        .map(|(_, a)| a.clone())
        .unwrap_or_default();
    ResponseTemplate::new(200).set_body_json(alerts)
}

fn get_repository(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let repo = repo_of(req);
    if s.not_installed.contains(&repo) {
        return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    }
    let private = s.private_repos.contains(&repo);
    let id = s.repo_ids.get(&repo).copied().unwrap_or(1);
    ResponseTemplate::new(200)
        .set_body_json(json!({"full_name": repo, "private": private, "id": id}))
}

fn get_properties(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let listed = s.properties.get(&repo_of(req)).cloned().unwrap_or_default();
    ResponseTemplate::new(200).set_body_json(listed)
}

fn get_membership(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let parts: Vec<&str> = req.url.path().split('/').collect();
    let key = format!("{}/{}/{}", parts[2], parts[4], parts[6]);
    if s.team_members.contains(&key) {
        ResponseTemplate::new(200).set_body_json(json!({"state": "active", "role": "member"}))
    } else {
        ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
    }
}

fn get_permission(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let login = req.url.path().split('/').nth(5).unwrap_or("").to_owned();
    let permission = s
        .permissions
        .get(&(repo_of(req), login.clone()))
        .cloned()
        .unwrap_or_else(|| "read".to_owned());
    ResponseTemplate::new(200)
        .set_body_json(json!({"permission": permission, "user": {"login": login}}))
}

fn add_reaction(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let id: u64 = req.url.path().split('/').nth(6).unwrap().parse().unwrap();
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let content = body["content"].as_str().unwrap_or_default().to_owned();
    let list = s.reactions.entry(id).or_default();
    if list.contains(&content) {
        return ResponseTemplate::new(200).set_body_json(json!({"content": content}));
    }
    list.push(content.clone());
    ResponseTemplate::new(201).set_body_json(json!({"content": content}))
}

fn get_commit(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let sha = req.url.path().rsplit('/').next().unwrap_or("").to_owned();
    match s.parents.get(&(repo_of(req), sha.clone())) {
        Some(parents) => {
            let parents: Vec<Value> = parents.iter().map(|p| json!({"sha": p})).collect();
            ResponseTemplate::new(200).set_body_json(json!({"sha": sha, "parents": parents}))
        }
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "No commit found"})),
    }
}

fn list_commits(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let from = query(req, "sha").unwrap_or_default();
    let all = s.history.get(&repo_of(req)).cloned().unwrap_or_default();
    let listed: Vec<Value> = all
        .iter()
        .skip_while(|sha| **sha != from)
        .map(|sha| json!({"sha": sha}))
        .collect();
    ResponseTemplate::new(200).set_body_json(listed)
}

fn query(req: &Request, key: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn list_closed_pulls(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    // `?head=owner:branch`: the open pull requests from that branch.
    if let Some(head) = query(req, "head") {
        let repo = repo_of(req);
        let mut open: Vec<(u64, Value)> = s
            .pulls
            .iter()
            .filter(|((r, _), p)| {
                *r == repo
                    && format!(
                        "{}:{}",
                        p["head"]["repo"]["owner"]["login"].as_str().unwrap_or(""),
                        p["head"]["ref"].as_str().unwrap_or("")
                    ) == head
            })
            .map(|((_, n), p)| (*n, p.clone()))
            .collect();
        open.sort_by_key(|(n, _)| *n);
        return ResponseTemplate::new(200)
            .set_body_json(open.into_iter().map(|(_, p)| p).collect::<Vec<_>>());
    }
    let all = s
        .closed_pulls
        .get(&repo_of(req))
        .cloned()
        .unwrap_or_default();
    paged(req, all)
}

fn list_deployments(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let env = req
        .url
        .query_pairs()
        .find(|(k, _)| k == "environment")
        .map(|(_, v)| v.into_owned());
    let all: Vec<Value> = s
        .deployments
        .get(&repo_of(req))
        .into_iter()
        .flatten()
        .filter(|(d, _)| env.as_ref().is_none_or(|e| d["environment"] == e.as_str()))
        .map(|(d, _)| d.clone())
        .collect();
    paged(req, all)
}

fn list_deployment_statuses(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let id: u64 = req.url.path().split('/').nth(5).unwrap().parse().unwrap();
    let statuses = s
        .deployments
        .get(&repo_of(req))
        .into_iter()
        .flatten()
        .find(|(d, _)| d["id"] == id)
        .map(|(_, st)| st.clone())
        .unwrap_or_default();
    paged(req, statuses)
}

fn list_releases(s: &mut State, req: &Request) -> ResponseTemplate {
    if !authorized(s, req) {
        return unauthorized();
    }
    let all = s.releases.get(&repo_of(req)).cloned().unwrap_or_default();
    paged(req, all)
}
