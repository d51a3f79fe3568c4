//! Check runs: Keel's own found again (only one its App made), a commit's others listed,
//! Keel's started, shown in progress and completed with its annotations in batches of 50.

use super::*;

pub(super) async fn find(
    gh: &GitHub,
    repo: &Repo,
    name: &str,
    head_sha: &CommitSha,
) -> Result<Option<CheckRunState>, ApiError> {
    #[derive(Deserialize)]
    struct Runs {
        check_runs: Vec<Listed>,
    }
    #[derive(Deserialize)]
    struct Listed {
        #[serde(flatten)]
        state: CheckRunState,
        app: Option<AppRef>,
    }
    let route = format!("/repos/{}/commits/{head_sha}/check-runs", repo.name);
    let app_id = match gh.own {
        Own::App(id) => id.to_string(),
        Own::Actions => String::new(),
    };
    let mut query = vec![("check_name", name), ("filter", "latest")];
    if !app_id.is_empty() {
        query.push(("app_id", app_id.as_str()));
    }
    let found: Runs = gh.json(repo, Method::Get, &route, &query, None).await?;
    // Only a run Keel made is Keel's: one of the same name from another app (a workflow
    // job can be called anything) is never adopted. The latest (highest id) is the one
    // GitHub counts.
    Ok(found
        .check_runs
        .into_iter()
        .filter(|r| gh.own.made(r.app.as_ref()))
        .map(|r| r.state)
        .max_by_key(|r| r.id))
}

pub(super) async fn list(
    gh: &GitHub,
    repo: &Repo,
    head_sha: &CommitSha,
) -> Result<CommitCheckRuns, ApiError> {
    #[derive(Deserialize)]
    struct Runs {
        #[serde(default)]
        total_count: usize,
        check_runs: Vec<Listed>,
    }
    #[derive(Deserialize)]
    struct Listed {
        id: u64,
        name: String,
        status: String,
        conclusion: Option<String>,
        app: Option<AppRef>,
    }
    let route = format!("/repos/{}/commits/{head_sha}/check-runs", repo.name);
    // The latest run of each name *per app*: another app's run of the same name (a
    // workflow job can be called anything) cannot stand in for the real one.
    let mut latest: HashMap<(u64, String), Listed> = HashMap::new();
    let (mut read, mut total, mut complete) = (0, 0, false);
    for page in 1..=MAX_CHECK_RUN_PAGES {
        let page = page.to_string();
        let per_page = PER_PAGE.to_string();
        let query = [
            ("filter", "latest"),
            ("per_page", per_page.as_str()),
            ("page", page.as_str()),
        ];
        let listed: Runs = gh.json(repo, Method::Get, &route, &query, None).await?;
        let last = listed.check_runs.len() < PER_PAGE;
        read += listed.check_runs.len();
        total = total.max(listed.total_count);
        for run in listed.check_runs {
            if run.name == crate::github::CHECK_NAME && gh.own.made(run.app.as_ref()) {
                continue;
            }
            let key = (run.app.as_ref().map_or(0, |a| a.id), run.name.clone());
            match latest.get(&key) {
                Some(seen) if seen.id > run.id => {}
                _ => {
                    latest.insert(key, run);
                }
            }
        }
        if last {
            complete = true;
            break;
        }
    }
    // Pages stop at the cap: what lies past it is unknown, never assumed fine. (Exactly the
    // cap's worth, as GitHub counts them, is all of them.)
    let cut = (!complete && total != read).then_some((read, total.max(read + 1)));
    let mut runs: Vec<OtherCheckRun> = latest
        .into_values()
        .map(|r| OtherCheckRun {
            app: r
                .app
                .and_then(|a| a.slug)
                .unwrap_or_else(|| "an unknown app".to_owned()),
            name: r.name,
            status: r.status,
            conclusion: r.conclusion,
        })
        .collect();
    runs.sort_by(|a, b| (&a.name, &a.app).cmp(&(&b.name, &b.app)));
    Ok(CommitCheckRuns { runs, cut })
}

pub(super) async fn start(
    gh: &GitHub,
    repo: &Repo,
    name: &str,
    head_sha: &CommitSha,
    external_id: Option<&str>,
) -> Result<u64, ApiError> {
    let mut body =
        serde_json::json!({"name": name, "head_sha": head_sha.0, "status": "in_progress"});
    if let Some(tag) = external_id {
        body["external_id"] = serde_json::json!(tag);
    }
    let route = format!("/repos/{}/check-runs", repo.name);
    let created: Id = gh
        .json(repo, Method::Post, &route, &[], Some(&body))
        .await?;
    Ok(created.id)
}

pub(super) async fn show_progress(
    gh: &GitHub,
    repo: &Repo,
    check_run_id: u64,
    title: &str,
    summary: &str,
) -> Result<CheckRunState, ApiError> {
    let body = serde_json::json!({"status": "in_progress", "output": {"title": title, "summary": summary}});
    let route = format!("/repos/{}/check-runs/{check_run_id}", repo.name);
    write_run(gh, repo, &route, &body).await
}

/// A write to a check run, and the run as GitHub then has it. GitHub took the write when it
/// answered 2xx; an answer cut off on the way is not a reason to write again: the run is read.
async fn write_run(
    gh: &GitHub,
    repo: &Repo,
    route: &str,
    body: &serde_json::Value,
) -> Result<CheckRunState, ApiError> {
    let bytes = gh
        .send(
            repo,
            Method::Patch,
            route,
            &[],
            Some(body),
            MAX_RESPONSE_BYTES,
        )
        .await?;
    match serde_json::from_slice(&bytes) {
        Ok(state) => Ok(state),
        Err(_) => gh.json(repo, Method::Get, route, &[], None).await,
    }
}

pub(super) async fn complete(
    gh: &GitHub,
    repo: &Repo,
    check_run_id: u64,
    output: &CheckRunOutput<'_>,
) -> Result<CheckRunState, ApiError> {
    let route = format!("/repos/{}/check-runs/{check_run_id}", repo.name);
    let mut batches = output.annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let first = batches.next().unwrap_or_default();
    let body = serde_json::json!({
        "status": "completed",
        "conclusion": output.conclusion.as_str(),
        "output": {"title": output.title, "summary": output.summary, "annotations": annotations_json(first)},
    });
    let state = write_run(gh, repo, &route, &body).await?;
    for batch in batches {
        let body = serde_json::json!({
            "output": {"title": output.title, "summary": output.summary, "annotations": annotations_json(batch)},
        });
        gh.write(repo, Method::Patch, &route, &body).await?;
    }
    Ok(state)
}

fn annotations_json(batch: &[Annotation]) -> Vec<serde_json::Value> {
    batch
        .iter()
        .map(|a| {
            serde_json::json!({
                "path": a.path,
                "start_line": a.start_line,
                "end_line": a.end_line,
                "annotation_level": a.level.as_str(),
                "title": a.title,
                "message": a.message,
            })
        })
        .collect()
}
