//! A repository's delivery history for the weekly summary and the backfill: merged pull
//! requests, deployments, labelled issues, releases and unfinished workflow runs, each read
//! page by page up to a bound.

use super::*;

pub(super) async fn merged_pull_requests(
    gh: &GitHub,
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
        let listed: Vec<Listed> = gh
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

pub(super) async fn deployments(
    gh: &GitHub,
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
        let listed: Vec<Listed> = gh
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
            let statuses: Vec<Status> = gh
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

pub(super) async fn labelled_issues(
    gh: &GitHub,
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
        let listed: Vec<Listed> = gh
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
                root_cause: i.body.as_deref().and_then(crate::github::event::root_cause),
            });
        }
        if last {
            break;
        }
    }
    Ok(out)
}

pub(super) async fn releases(
    gh: &GitHub,
    repo: &Repo,
    since: i64,
) -> Result<Vec<(u64, i64)>, ApiError> {
    #[derive(Deserialize)]
    struct Listed {
        id: u64,
        published_at: Option<String>,
    }
    let route = format!("/repos/{}/releases", repo.name);
    let mut out = Vec::new();
    for page in 1..=MAX_PAGES {
        let listed: Vec<Listed> = gh.page(repo, &route, page).await?;
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

pub(super) async fn head_workflow_runs(
    gh: &GitHub,
    repo: &Repo,
    head_sha: &CommitSha,
) -> Result<Vec<crate::github::api::RunStatus>, ApiError> {
    #[derive(Deserialize)]
    struct Runs {
        workflow_runs: Vec<Run>,
    }
    #[derive(Deserialize)]
    struct Run {
        id: u64,
        status: Option<String>,
        #[serde(default)]
        path: Option<String>,
    }
    let route = format!("/repos/{}/actions/runs", repo.name);
    let runs: Runs = gh
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
        .into_iter()
        .map(|r| crate::github::api::RunStatus {
            id: r.id,
            finished: r.status.as_deref() == Some("completed"),
            path: r.path.unwrap_or_default(),
        })
        .collect())
}
