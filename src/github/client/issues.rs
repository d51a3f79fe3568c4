//! Issues: the weekly summary issue found, created and edited, and an issue's labels.

use super::*;

pub(super) async fn find(
    gh: &GitHub,
    repo: &Repo,
    label: &str,
    title: &str,
) -> Result<Option<u64>, ApiError> {
    #[derive(Deserialize)]
    struct Listed {
        number: u64,
        title: String,
    }
    let route = format!("/repos/{}/issues", repo.name);
    for page in 1..=10u32 {
        let issues: Vec<Listed> = gh
            .filtered_page(repo, &route, &[("labels", label), ("state", "all")], page)
            .await?;
        let last = issues.len() < PER_PAGE;
        if let Some(found) = issues.into_iter().find(|i| i.title == title) {
            return Ok(Some(found.number));
        }
        if last {
            break;
        }
    }
    Ok(None)
}

pub(super) async fn create(
    gh: &GitHub,
    repo: &Repo,
    title: &str,
    body: &str,
    labels: &[String],
) -> Result<u64, ApiError> {
    #[derive(Deserialize)]
    struct Created {
        number: u64,
    }
    let route = format!("/repos/{}/issues", repo.name);
    let payload = serde_json::json!({"title": title, "body": body, "labels": labels});
    let created: Created = gh
        .json(repo, Method::Post, &route, &[], Some(&payload))
        .await?;
    Ok(created.number)
}

pub(super) async fn update(
    gh: &GitHub,
    repo: &Repo,
    number: u64,
    body: Option<&str>,
    state: Option<&str>,
) -> Result<(), ApiError> {
    let route = format!("/repos/{}/issues/{number}", repo.name);
    let mut payload = serde_json::Map::new();
    if let Some(b) = body {
        payload.insert("body".into(), b.into());
    }
    if let Some(st) = state {
        payload.insert("state".into(), st.into());
    }
    let payload = serde_json::Value::Object(payload);
    gh.write(repo, Method::Patch, &route, &payload).await
}

pub(super) async fn labels(
    gh: &GitHub,
    repo: &Repo,
    number: u64,
) -> Result<Option<Vec<String>>, ApiError> {
    #[derive(Deserialize)]
    struct Issue {
        #[serde(default)]
        labels: Vec<Label>,
    }
    #[derive(Deserialize)]
    struct Label {
        name: String,
    }
    let route = format!("/repos/{}/issues/{number}", repo.name);
    match gh.json::<Issue>(repo, Method::Get, &route, &[], None).await {
        Ok(issue) => Ok(Some(issue.labels.into_iter().map(|l| l.name).collect())),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
