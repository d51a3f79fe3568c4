//! The sticky comment: found again by its marker and its author (only one Keel made),
//! created and edited in place; and what comment commands need: a commenter's permission and
//! reactions on their comment.

use super::*;

pub(super) async fn find(
    gh: &GitHub,
    repo: &Repo,
    number: &PrNumber,
    marker: &str,
) -> Result<Option<Comment>, ApiError> {
    #[derive(Deserialize)]
    struct Listed {
        id: u64,
        #[serde(default)]
        body: Option<String>,
        user: Option<User>,
        performed_via_github_app: Option<AppRef>,
    }
    #[derive(Deserialize)]
    struct User {
        login: String,
    }
    let own = gh.own;
    // Only a comment Keel wrote is Keel's: anyone can paste the hidden marker.
    let mine = move |c: &Listed| match own {
        Own::App(_) => own.made(c.performed_via_github_app.as_ref()),
        Own::Actions => c.user.as_ref().is_some_and(|u| u.login == ACTIONS_BOT),
    };
    let route = format!("/repos/{}/issues/{number}/comments", repo.name);
    for page in 1..=50u32 {
        let comments: Vec<Listed> = gh.page(repo, &route, page).await?;
        let last = comments.len() < PER_PAGE;
        if let Some(c) = comments
            .into_iter()
            .find(|c| mine(c) && c.body.as_deref().is_some_and(|b| b.contains(marker)))
        {
            return Ok(Some(Comment {
                id: c.id,
                body: c.body.unwrap_or_default(),
            }));
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
    number: &PrNumber,
    body: &str,
) -> Result<u64, ApiError> {
    let route = format!("/repos/{}/issues/{number}/comments", repo.name);
    let payload = serde_json::json!({"body": body});
    let created: Id = gh
        .json(repo, Method::Post, &route, &[], Some(&payload))
        .await?;
    Ok(created.id)
}

pub(super) async fn delete(gh: &GitHub, repo: &Repo, comment_id: u64) -> Result<(), ApiError> {
    let route = format!("/repos/{}/issues/comments/{comment_id}", repo.name);
    match gh
        .send(repo, Method::Delete, &route, &[], None, MAX_RESPONSE_BYTES)
        .await
    {
        Err(e) if e.is_not_found() => Ok(()),
        other => other.map(drop),
    }
}

pub(super) async fn edit(
    gh: &GitHub,
    repo: &Repo,
    comment_id: u64,
    body: &str,
) -> Result<(), ApiError> {
    let route = format!("/repos/{}/issues/comments/{comment_id}", repo.name);
    let payload = serde_json::json!({"body": body});
    gh.write(repo, Method::Patch, &route, &payload).await
}

pub(super) async fn permission(gh: &GitHub, repo: &Repo, login: &str) -> Result<String, ApiError> {
    #[derive(Deserialize)]
    struct Permission {
        permission: String,
        /// `maintain` and `triage` show only here (`permission` says `write` and `read`).
        #[serde(default)]
        role_name: Option<String>,
    }
    let route = format!(
        "/repos/{}/collaborators/{}/permission",
        repo.name,
        encode(login)
    );
    match gh
        .json::<Permission>(repo, Method::Get, &route, &[], None)
        .await
    {
        // The role counts only where it agrees with the permission it implies (a custom
        // role is read by its base permission).
        Ok(p) => Ok(match (p.role_name.as_deref(), p.permission.as_str()) {
            (Some("maintain"), "write" | "admin") => "maintain".to_owned(),
            (Some("triage"), "read" | "write" | "admin") => "triage".to_owned(),
            _ => p.permission,
        }),
        Err(e) if e.is_not_found() => Ok("none".to_owned()),
        Err(e) => Err(e),
    }
}

pub(super) async fn repo_private(gh: &GitHub, repo: &Repo) -> Result<Option<bool>, ApiError> {
    #[derive(Deserialize)]
    struct Visibility {
        #[serde(default)]
        private: bool,
    }
    let route = format!("/repos/{}", repo.name);
    match gh
        .json::<Visibility>(repo, Method::Get, &route, &[], None)
        .await
    {
        Ok(v) => Ok(Some(v.private)),
        Err(e) if e.is_not_found() || e.is_forbidden() => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn repo_id(gh: &GitHub, repo: &Repo) -> Result<Option<u64>, ApiError> {
    #[derive(Deserialize)]
    struct Id {
        id: u64,
    }
    let route = format!("/repos/{}", repo.name);
    match gh.json::<Id>(repo, Method::Get, &route, &[], None).await {
        Ok(found) => Ok(Some(found.id)),
        Err(e) if e.is_not_found() || e.is_forbidden() => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn custom_properties(
    gh: &GitHub,
    repo: &Repo,
) -> Result<keel_core::org::Properties, ApiError> {
    #[derive(Deserialize)]
    struct Property {
        property_name: String,
        #[serde(default)]
        value: serde_json::Value,
    }
    let route = format!("/repos/{}/properties/values", repo.name);
    match gh
        .json::<Vec<Property>>(repo, Method::Get, &route, &[], None)
        .await
    {
        Ok(props) => Ok(props
            .into_iter()
            .filter_map(|p| {
                let value = match p.value {
                    serde_json::Value::String(s) => vec![s],
                    serde_json::Value::Array(items) => items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    _ => return None,
                };
                Some((p.property_name, value))
            })
            .collect()),
        // Gone: no properties. Forbidden is an error: a scope must never silently not apply.
        Err(e) if e.is_not_found() => Ok(Default::default()),
        Err(e) => Err(e),
    }
}

pub(super) async fn team_member(
    gh: &GitHub,
    repo: &Repo,
    org: &str,
    team: &str,
    login: &str,
) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Membership {
        state: String,
    }
    let route = format!(
        "/orgs/{}/teams/{}/memberships/{}",
        encode(org),
        encode(team),
        encode(login)
    );
    match gh
        .json::<Membership>(repo, Method::Get, &route, &[], None)
        .await
    {
        Ok(m) => Ok(m.state == "active"),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

pub(super) async fn react(
    gh: &GitHub,
    repo: &Repo,
    comment_id: u64,
    review_comment: bool,
    content: &str,
) -> Result<(), ApiError> {
    let kind = if review_comment { "pulls" } else { "issues" };
    let route = format!(
        "/repos/{}/{kind}/comments/{comment_id}/reactions",
        repo.name
    );
    gh.json::<serde_json::Value>(
        repo,
        Method::Post,
        &route,
        &[],
        Some(&serde_json::json!({ "content": content })),
    )
    .await
    .map(|_| ())
}
