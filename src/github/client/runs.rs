//! What the Action reads of a repository's workflow history without a server: the successful
//! push runs of a branch (whose artifacts hold the baseline), a commit's ancestors (to find
//! the nearest one with such a run), and the open pull requests from a fork's branch (a
//! `workflow_run` names none for a fork).

use super::*;

/// Ancestors read at most when looking for a baseline (one page).
pub const MAX_ANCESTORS: usize = 100;

/// A successful `push` run of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRun {
    /// Run id.
    pub id: u64,
    /// The pushed commit.
    pub head_sha: String,
    /// Its workflow file.
    pub path: String,
}

impl GitHub {
    /// The newest successful `push` runs of `branch` (one page of 100).
    pub async fn push_runs(&self, repo: &Repo, branch: &str) -> Result<Vec<PushRun>, ApiError> {
        #[derive(Deserialize)]
        struct Runs {
            workflow_runs: Vec<Run>,
        }
        #[derive(Deserialize)]
        struct Run {
            id: u64,
            head_sha: String,
            #[serde(default)]
            path: Option<String>,
        }
        let route = format!("/repos/{}/actions/runs", repo.name);
        let per_page = PER_PAGE.to_string();
        let runs: Runs = self
            .json(
                repo,
                Method::Get,
                &route,
                &[
                    ("branch", branch),
                    ("event", "push"),
                    ("status", "success"),
                    ("per_page", &per_page),
                ],
                None,
            )
            .await?;
        Ok(runs
            .workflow_runs
            .into_iter()
            .map(|r| PushRun {
                id: r.id,
                head_sha: r.head_sha,
                path: r.path.unwrap_or_default(),
            })
            .collect())
    }

    /// `sha` and its ancestors, newest first, at most [`MAX_ANCESTORS`].
    pub async fn ancestors(&self, repo: &Repo, sha: &CommitSha) -> Result<Vec<String>, ApiError> {
        #[derive(Deserialize)]
        struct Commit {
            sha: String,
        }
        let route = format!("/repos/{}/commits", repo.name);
        let per_page = MAX_ANCESTORS.to_string();
        let commits: Vec<Commit> = self
            .json(
                repo,
                Method::Get,
                &route,
                &[("sha", &sha.0), ("per_page", &per_page)],
                None,
            )
            .await?;
        Ok(commits.into_iter().map(|c| c.sha).collect())
    }

    /// The open pull requests whose head is `owner:branch`: (number, head commit).
    pub async fn open_pull_requests_from(
        &self,
        repo: &Repo,
        owner: &str,
        branch: &str,
    ) -> Result<Vec<(u64, String)>, ApiError> {
        #[derive(Deserialize)]
        struct Pull {
            number: u64,
            head: Head,
        }
        #[derive(Deserialize)]
        struct Head {
            sha: String,
        }
        let route = format!("/repos/{}/pulls", repo.name);
        let head = format!("{owner}:{branch}");
        let pulls: Vec<Pull> = self
            .json(
                repo,
                Method::Get,
                &route,
                &[("state", "open"), ("head", &head), ("per_page", "100")],
                None,
            )
            .await?;
        Ok(pulls.into_iter().map(|p| (p.number, p.head.sha)).collect())
    }
}
