//! The GitHub of `keel replay`: reads files from a local directory and the pull request's
//! diff from a file, stands a directory in for the reports artifact, and prints — instead of
//! posting — the check run, the comment and the labels. It keeps what it "posted" in memory,
//! so a replay of several events behaves like GitHub would (one check run, one comment).

use super::api::{
    ApiError, Artifact, CheckRunOutput, CheckRunState, Comment, CommitCheckRuns, GitHubApi,
    HookDelivery, Repo,
};
use super::event::PullRequestInfo;
use super::{CommitSha, PrNumber};
use keel_core::Limits;
use keel_core::diff::{Diff, FileDiff};
use keel_core::render::plain;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod checks;

/// Largest file read from the replay directory.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// A GitHub that prints what Keel would post.
pub struct DryRun {
    repo_dir: PathBuf,
    reports_dir: Option<PathBuf>,
    diff: Option<Diff>,
    state: Mutex<State>,
    out: Mutex<Box<dyn Write + Send>>,
}

#[derive(Default)]
struct State {
    pulls: HashMap<u64, PullRequestInfo>,
    check_runs: Vec<(String, CommitSha, String)>,
    comments: Vec<(u64, String)>,
}

impl DryRun {
    /// A dry run over `repo_dir` (files at every commit), with the pull request's `diff` and
    /// `reports_dir` standing in for the reports artifact; prints to `out`.
    pub fn new(
        repo_dir: PathBuf,
        reports_dir: Option<PathBuf>,
        diff: Option<Diff>,
        out: Box<dyn Write + Send>,
    ) -> DryRun {
        DryRun {
            repo_dir,
            reports_dir,
            diff,
            state: Mutex::new(State::default()),
            out: Mutex::new(out),
        }
    }

    /// Makes `pr` known, as GitHub's pulls endpoint would return it.
    pub fn add_pull_request(&self, pr: PullRequestInfo) {
        self.lock().pulls.insert(pr.number.0, pr);
    }

    /// The conclusion of the last completed check run, if any completed.
    pub fn last_conclusion(&self) -> Option<String> {
        self.lock()
            .check_runs
            .iter()
            .rev()
            .find_map(|r| (r.2 != "in_progress").then(|| r.2.clone()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn print(&self, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "{text}");
    }

    fn files(&self) -> Vec<FileDiff> {
        self.diff
            .as_ref()
            .map(|d| d.files.clone())
            .unwrap_or_default()
    }
}

fn not_found(what: String) -> ApiError {
    ApiError::Rejected {
        status: 404,
        message: what,
    }
}

fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "{} is over {limit} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

impl GitHubApi for DryRun {
    async fn file_at(
        &self,
        _repo: &Repo,
        path: &str,
        _sha: &CommitSha,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        if path.split('/').any(|p| p == "..") {
            return Ok(None);
        }
        match read_limited(&self.repo_dir.join(path), MAX_FILE_BYTES) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ApiError::Rejected {
                status: 500,
                message: e.to_string(),
            }),
        }
    }

    async fn find_check_run(
        &self,
        _repo: &Repo,
        name: &str,
        head_sha: &CommitSha,
    ) -> Result<Option<CheckRunState>, ApiError> {
        Ok(self.find_run(name, head_sha))
    }

    async fn start_check_run(
        &self,
        _repo: &Repo,
        name: &str,
        head_sha: &CommitSha,
        _external_id: Option<&str>,
    ) -> Result<u64, ApiError> {
        Ok(self.start_run(name, head_sha))
    }

    async fn show_check_run_progress(
        &self,
        _repo: &Repo,
        check_run_id: u64,
        title: &str,
        summary: &str,
    ) -> Result<CheckRunState, ApiError> {
        Ok(self.show_run(check_run_id, title, summary))
    }

    async fn complete_check_run(
        &self,
        _repo: &Repo,
        check_run_id: u64,
        output: &CheckRunOutput<'_>,
    ) -> Result<CheckRunState, ApiError> {
        Ok(self.complete_run(check_run_id, output))
    }

    async fn pull_request(
        &self,
        _repo: &Repo,
        number: &PrNumber,
    ) -> Result<PullRequestInfo, ApiError> {
        self.lock()
            .pulls
            .get(&number.0)
            .cloned()
            .ok_or_else(|| not_found(format!("pull request #{number} was not replayed")))
    }

    async fn first_commit_at(
        &self,
        _repo: &Repo,
        _number: &PrNumber,
    ) -> Result<Option<i64>, ApiError> {
        Ok(None)
    }

    async fn hook_deliveries(
        &self,
        _since: i64,
        _max: usize,
    ) -> Result<Vec<HookDelivery>, ApiError> {
        Ok(Vec::new())
    }

    async fn redeliver(&self, _id: u64) -> Result<(), ApiError> {
        Ok(())
    }

    async fn pull_request_people(
        &self,
        _repo: &Repo,
        _number: &PrNumber,
    ) -> Result<Vec<String>, ApiError> {
        Ok(Vec::new())
    }

    async fn pull_request_files(
        &self,
        _repo: &Repo,
        _number: &PrNumber,
        _expected: Option<u64>,
    ) -> Result<Diff, ApiError> {
        Ok(Diff {
            files: self.files(),
            ..Diff::default()
        })
    }

    async fn compare_files(
        &self,
        _repo: &Repo,
        _base: &CommitSha,
        _head: &CommitSha,
    ) -> Result<Diff, ApiError> {
        Ok(Diff {
            files: self.files(),
            ..Diff::default()
        })
    }

    async fn open_pull_requests_at(
        &self,
        _repo: &Repo,
        _head_sha: &CommitSha,
    ) -> Result<Vec<PrNumber>, ApiError> {
        // A replay knows only the pull requests it is given.
        Ok(Vec::new())
    }

    async fn check_runs(
        &self,
        _repo: &Repo,
        _head_sha: &CommitSha,
    ) -> Result<CommitCheckRuns, ApiError> {
        // A replay has no other apps: a required check is reported missing.
        Ok(CommitCheckRuns::default())
    }

    async fn find_comment(
        &self,
        _repo: &Repo,
        _number: &PrNumber,
        marker: &str,
    ) -> Result<Option<Comment>, ApiError> {
        Ok(self
            .lock()
            .comments
            .iter()
            .enumerate()
            .find(|(_, c)| c.1.contains(marker))
            .map(|(i, c)| Comment {
                id: i as u64 + 1,
                body: c.1.clone(),
            }))
    }

    async fn create_comment(
        &self,
        _repo: &Repo,
        number: &PrNumber,
        body: &str,
    ) -> Result<u64, ApiError> {
        let id = {
            let mut s = self.lock();
            s.comments.push((number.0, body.to_owned()));
            s.comments.len() as u64
        };
        self.print(&format!(
            "── comment {id} on #{number}: created\n{}",
            plain::from_markdown(body)
        ));
        Ok(id)
    }

    async fn edit_comment(
        &self,
        _repo: &Repo,
        comment_id: u64,
        body: &str,
    ) -> Result<(), ApiError> {
        let found = {
            let mut s = self.lock();
            match s
                .comments
                .get_mut(usize::try_from(comment_id).unwrap_or(0).wrapping_sub(1))
            {
                Some(c) => {
                    c.1 = body.to_owned();
                    true
                }
                None => false,
            }
        };
        if !found {
            return Err(not_found(format!("comment {comment_id}")));
        }
        self.print(&format!(
            "── comment {comment_id}: edited\n{}",
            plain::from_markdown(body)
        ));
        Ok(())
    }

    async fn delete_comment(&self, _repo: &Repo, comment_id: u64) -> Result<(), ApiError> {
        if let Some(c) = self
            .lock()
            .comments
            .get_mut(usize::try_from(comment_id).unwrap_or(0).wrapping_sub(1))
        {
            c.1.clear();
        }
        self.print(&format!("── comment {comment_id}: deleted"));
        Ok(())
    }

    async fn add_labels(
        &self,
        _repo: &Repo,
        number: &PrNumber,
        labels: &[String],
    ) -> Result<(), ApiError> {
        self.print(&format!("── labels on #{number}: + {}", labels.join(", ")));
        Ok(())
    }

    async fn ensure_label(&self, _repo: &Repo, _name: &str, _color: &str) -> Result<(), ApiError> {
        Ok(())
    }

    async fn remove_label(
        &self,
        _repo: &Repo,
        number: &PrNumber,
        label: &str,
    ) -> Result<(), ApiError> {
        self.print(&format!("── labels on #{number}: − {label}"));
        Ok(())
    }

    async fn code_scanning_findings(
        &self,
        _repo: &Repo,
        _git_ref: &str,
        _head: Option<&CommitSha>,
    ) -> Result<crate::github::api::CodeScanning, ApiError> {
        Ok(crate::github::api::CodeScanning::NoAnalysis)
    }

    async fn repo_private(&self, _repo: &Repo) -> Result<Option<bool>, ApiError> {
        Ok(Some(true))
    }

    async fn repo_id(&self, _repo: &Repo) -> Result<Option<u64>, ApiError> {
        Ok(None)
    }

    async fn custom_properties(
        &self,
        _repo: &Repo,
    ) -> Result<keel_core::org::Properties, ApiError> {
        Ok(Default::default())
    }

    async fn team_member(
        &self,
        _repo: &Repo,
        org: &str,
        team: &str,
        login: &str,
    ) -> Result<bool, ApiError> {
        self.print(&format!("── @{login} in {org}/{team}: no (dry run)"));
        Ok(false)
    }

    async fn collaborator_permission(&self, _repo: &Repo, login: &str) -> Result<String, ApiError> {
        self.print(&format!("── permission of @{login}: write (dry run)"));
        Ok("write".to_owned())
    }

    async fn react(
        &self,
        _repo: &Repo,
        comment_id: u64,
        _review_comment: bool,
        content: &str,
    ) -> Result<(), ApiError> {
        self.print(&format!("── reaction on comment {comment_id}: {content}"));
        Ok(())
    }

    async fn run_artifacts(
        &self,
        _repo: &Repo,
        run_id: u64,
        wanted: &[String],
    ) -> Result<Vec<Artifact>, ApiError> {
        // The reports directory stands for the one artifact the config names first.
        Ok(self
            .reports_dir
            .as_ref()
            .map(|_| Artifact {
                id: run_id,
                name: wanted.first().cloned().unwrap_or_default(),
                size: 0,
                expired: false,
            })
            .into_iter()
            .collect())
    }

    async fn download_artifact(
        &self,
        _repo: &Repo,
        _artifact_id: u64,
        max_bytes: u64,
    ) -> Result<std::fs::File, ApiError> {
        use std::io::{Seek, Write};
        let Some(dir) = &self.reports_dir else {
            return Err(not_found("no reports directory".into()));
        };
        let failed = |e: std::io::Error| ApiError::Rejected {
            status: 200,
            message: format!("{}: {e}", dir.display()),
        };
        let zip = zip_directory(dir, max_bytes).map_err(failed)?;
        let mut file = tempfile::tempfile().map_err(failed)?;
        file.write_all(&zip).map_err(failed)?;
        file.rewind().map_err(failed)?;
        Ok(file)
    }

    async fn find_issue(
        &self,
        _repo: &Repo,
        _label: &str,
        _title: &str,
    ) -> Result<Option<u64>, ApiError> {
        Ok(None)
    }

    async fn create_issue(
        &self,
        _repo: &Repo,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<u64, ApiError> {
        self.print(&format!(
            "── issue opened: {title} [{}]\n{body}",
            labels.join(", ")
        ));
        Ok(1)
    }

    async fn update_issue(
        &self,
        _repo: &Repo,
        number: u64,
        body: Option<&str>,
        state: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut text = format!("── issue #{number} updated");
        if let Some(st) = state {
            text.push_str(&format!(", {st}"));
        }
        if let Some(b) = body {
            text.push('\n');
            text.push_str(b);
        }
        self.print(&text);
        Ok(())
    }

    async fn issue_labels(
        &self,
        _repo: &Repo,
        _number: u64,
    ) -> Result<Option<Vec<String>>, ApiError> {
        Ok(None)
    }

    fn web_url(&self) -> Option<String> {
        None
    }

    async fn merged_pull_requests_since(
        &self,
        _repo: &Repo,
        _since: i64,
    ) -> Result<Vec<super::api::MergedPull>, ApiError> {
        Ok(Vec::new())
    }

    async fn deployments_since(
        &self,
        _repo: &Repo,
        _environment: &str,
        _since: i64,
    ) -> Result<Vec<super::api::DeploymentState>, ApiError> {
        Ok(Vec::new())
    }

    async fn labelled_issues_since(
        &self,
        _repo: &Repo,
        _label: &str,
        _since: i64,
    ) -> Result<Vec<super::api::LabelledIssue>, ApiError> {
        Ok(Vec::new())
    }

    async fn releases_since(&self, _repo: &Repo, _since: i64) -> Result<Vec<(u64, i64)>, ApiError> {
        Ok(Vec::new())
    }

    async fn head_workflow_runs(
        &self,
        _repo: &Repo,
        _head_sha: &CommitSha,
    ) -> Result<Vec<crate::github::api::RunStatus>, ApiError> {
        Ok(Vec::new())
    }
}

/// The files under `dir` (not `.git`, not above the limits) as a stored zip archive, the way
/// `actions/upload-artifact` would package them.
fn zip_directory(dir: &Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    let limits = Limits::DEFAULT;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut stack = vec![dir.to_path_buf()];
    let mut total = 0u64;
    while let Some(current) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&current)?.flatten().collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() && entry.file_name() != ".git" {
                stack.push(path);
            } else if kind.is_file() {
                let size = entry.metadata()?.len();
                if size > limits.coverage_bytes {
                    continue;
                }
                total += size;
                if total > max_bytes {
                    return Err(std::io::Error::other(format!(
                        "the reports are over {max_bytes} bytes"
                    )));
                }
                let name = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                zip.start_file(name, zip::write::SimpleFileOptions::default())
                    .map_err(std::io::Error::other)?;
                std::io::copy(&mut std::fs::File::open(&path)?, &mut zip)?;
            }
        }
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}
