//! Labels: Keel's added and removed on a pull request, and created with their colour when
//! the repository lacks them.

use super::*;

pub(super) async fn add(
    gh: &GitHub,
    repo: &Repo,
    number: &PrNumber,
    labels: &[String],
) -> Result<(), ApiError> {
    let route = format!("/repos/{}/issues/{number}/labels", repo.name);
    let payload = serde_json::json!({"labels": labels});
    gh.write(repo, Method::Post, &route, &payload).await
}

pub(super) async fn ensure(
    gh: &GitHub,
    repo: &Repo,
    name: &str,
    color: &str,
) -> Result<(), ApiError> {
    let route = format!("/repos/{}/labels", repo.name);
    let payload = serde_json::json!({"name": name, "color": color});
    match gh.write(repo, Method::Post, &route, &payload).await {
        // 422 `already_exists`: someone (or an earlier attempt) made it.
        Err(ApiError::Rejected { status: 422, .. }) => Ok(()),
        other => other,
    }
}

pub(super) async fn remove(
    gh: &GitHub,
    repo: &Repo,
    number: &PrNumber,
    label: &str,
) -> Result<(), ApiError> {
    let route = format!(
        "/repos/{}/issues/{number}/labels/{}",
        repo.name,
        encode(label)
    );
    match gh
        .send(repo, Method::Delete, &route, &[], None, MAX_RESPONSE_BYTES)
        .await
    {
        Err(e) if e.is_not_found() => Ok(()),
        other => other.map(drop),
    }
}
