//! Pull requests: the open ones at a head commit, one pull request, and when its first
//! commit was made (lead time starts there).

use super::*;

pub(super) async fn open_at(
    gh: &GitHub,
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
    let listed: Vec<Listed> = gh.page(repo, &route, 1).await?;
    Ok(listed
        .into_iter()
        .filter(|p| p.state == "open" && p.head.sha == head_sha.0)
        .map(|p| PrNumber(p.number))
        .collect())
}

pub(super) async fn get(
    gh: &GitHub,
    repo: &Repo,
    number: &PrNumber,
) -> Result<PullRequestInfo, ApiError> {
    let route = format!("/repos/{}/pulls/{number}", repo.name);
    let pr: PullRequestJson = gh.json(repo, Method::Get, &route, &[], None).await?;
    Ok(pr.into_info())
}

pub(super) async fn first_commit_at(
    gh: &GitHub,
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
    let commits: Vec<Listed> = gh.page(repo, &route, 1).await?;
    Ok(commits
        .iter()
        .filter_map(|c| c.commit.author.as_ref()?.date.as_deref())
        .filter_map(millis)
        .min())
}

/// Pages of a pull request's commits read: GitHub lists at most 250.
const COMMIT_PAGES: u32 = 3;

pub(super) async fn people(
    gh: &GitHub,
    repo: &Repo,
    number: &PrNumber,
) -> Result<Vec<String>, ApiError> {
    #[derive(Deserialize)]
    struct Listed {
        author: Option<Account>,
        committer: Option<Account>,
    }
    #[derive(Deserialize)]
    struct Account {
        login: String,
    }
    let route = format!("/repos/{}/pulls/{number}/commits", repo.name);
    let mut people = std::collections::BTreeSet::new();
    for page in 1..=COMMIT_PAGES {
        let commits: Vec<Listed> = gh.page(repo, &route, page).await?;
        let last = commits.len() < super::PER_PAGE;
        for commit in commits {
            people.extend(
                [commit.author, commit.committer]
                    .into_iter()
                    .flatten()
                    .map(|a| a.login.to_lowercase()),
            );
        }
        if last {
            break;
        }
    }
    Ok(people.into_iter().collect())
}
