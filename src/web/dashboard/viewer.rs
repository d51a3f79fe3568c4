//! What GitHub says of a signed-in viewer: the code exchanged for their token (with the PKCE
//! verifier), who they are, and which of Keel's repositories they can read. Pages are read
//! several at a time once GitHub's first page gives the total, so a viewer of thousands of
//! repositories is listed in a few round trips; more than [`MAX_LISTED`] is refused, never
//! cut silently.

use super::{SESSION_MS, Viewers};
use crate::store::ViewerSession;
use anyhow::{Context, bail};
use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Largest answer read from GitHub (100 repositories are some 600 KB).
const MAX_ANSWER_BYTES: usize = 4 << 20;
/// Installations, and repositories in them, one sign-in lists.
pub(super) const MAX_LISTED: u64 = 5_000;
/// Requests one sign-in has in flight at once.
const AT_ONCE: usize = 8;
/// Items on a page GitHub gives.
const PER_PAGE: u64 = 100;

/// The viewer can read more than [`MAX_LISTED`] repositories.
#[derive(Debug, thiserror::Error)]
#[error("the viewer can read more repositories than one sign-in lists")]
pub(super) struct TooMany;

/// The viewer GitHub signed in with `code`: who they are and what they can read, as a session
/// ending [`SESSION_MS`] after `now`. The token is dropped on return.
pub(super) async fn viewer_of(
    v: &Viewers,
    code: &str,
    verifier: &str,
    now: i64,
) -> anyhow::Result<ViewerSession> {
    let web = crate::github::client::web_url_of(&v.api_url);
    let timeout = std::time::Duration::from_secs(10);
    let web_client = crate::github::client::plain_client(&web, timeout)?;
    let api = Asker {
        client: crate::github::client::plain_client(&v.api_url, timeout)?,
        base: v.api_url.clone(),
        at_once: Arc::new(Semaphore::new(AT_ONCE)),
    };
    let form = [
        ("client_id", v.client_id.as_str()),
        ("client_secret", v.client_secret.expose_secret()),
        ("code", code),
        ("redirect_uri", &v.callback_url()),
        ("code_verifier", verifier),
    ]
    .iter()
    .map(|(k, value)| {
        let mut pair = format!("{k}=");
        super::signin::encode_into(&mut pair, value);
        pair
    })
    .collect::<Vec<_>>()
    .join("&");
    #[derive(Deserialize)]
    struct Token {
        access_token: Option<SecretString>,
        error: Option<String>,
    }
    let token: Token = ask(
        &web_client,
        &web,
        "POST",
        "/login/oauth/access_token",
        None,
        form,
    )
    .await?;
    let Some(token) = token.access_token else {
        bail!(
            "GitHub gave no token ({})",
            token.error.as_deref().unwrap_or("no reason given")
        );
    };
    #[derive(Deserialize)]
    struct User {
        id: u64,
        login: String,
    }
    let user: User = api.get("/user", &token).await?;
    let installations = api
        .all("/user/installations", "installations", "id", &token)
        .await?;
    let mut lists = tokio::task::JoinSet::new();
    for installation in installations
        .into_iter()
        .filter(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
    {
        let (api, token) = (api.clone(), token.clone());
        lists.spawn(async move {
            let path = format!("/user/installations/{installation}/repositories");
            api.all(&path, "repositories", "full_name", &token).await
        });
    }
    let mut repos = Vec::new();
    while let Some(listed) = lists.join_next().await {
        repos.extend(listed??.iter().map(|name| name.to_lowercase()));
        if repos.len() as u64 > MAX_LISTED {
            bail!(TooMany);
        }
    }
    repos.sort();
    repos.dedup();
    Ok(ViewerSession {
        user_id: user.id,
        login: user.login,
        repos,
        expires_at: now.saturating_add(SESSION_MS),
    })
}

/// Asks GitHub's API as the viewer, a few requests at a time.
#[derive(Clone)]
struct Asker {
    client: Octocrab,
    base: String,
    at_once: Arc<Semaphore>,
}

impl Asker {
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &SecretString,
    ) -> anyhow::Result<T> {
        let _turn = self.at_once.acquire().await?;
        ask(
            &self.client,
            &self.base,
            "GET",
            path,
            Some(token),
            String::new(),
        )
        .await
    }

    /// `field` of every item under `key` on every page of `path`: the first page gives the
    /// total, the rest are read together; each page is cut down to that field on arrival.
    async fn all(
        &self,
        path: &str,
        key: &str,
        field: &'static str,
        token: &SecretString,
    ) -> anyhow::Result<Vec<String>> {
        let page = |n: u64| format!("{path}?per_page={PER_PAGE}&page={n}");
        let first: Value = self.get(&page(1), token).await?;
        let Some(total) = first["total_count"].as_u64() else {
            bail!("GitHub's page of {path} gives no total");
        };
        if total > MAX_LISTED {
            bail!(TooMany);
        }
        let mut listed = fields(&first, key, field)?;
        if (listed.len() as u64) < total.min(PER_PAGE) {
            bail!("GitHub's first page of {path} holds fewer than its total says");
        }
        let mut rest = tokio::task::JoinSet::new();
        for n in 2..=total.div_ceil(PER_PAGE) {
            let (asker, token, path) = (self.clone(), token.clone(), page(n));
            let key = key.to_owned();
            rest.spawn(async move {
                let page: Value = asker.get(&path, &token).await?;
                fields(&page, &key, field)
            });
        }
        while let Some(more) = rest.join_next().await {
            listed.extend(more??);
        }
        Ok(listed)
    }
}

/// `field` (a string, or a number written out) of each item in the list under `key`.
fn fields(page: &Value, key: &str, field: &str) -> anyhow::Result<Vec<String>> {
    let Some(items) = page[key].as_array() else {
        bail!("GitHub's page has no `{key}` list");
    };
    Ok(items
        .iter()
        .filter_map(|item| match &item[field] {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect())
}

/// One request to GitHub (as the viewer, with `token`), its JSON answer read within
/// [`MAX_ANSWER_BYTES`].
async fn ask<T: serde::de::DeserializeOwned>(
    client: &Octocrab,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&SecretString>,
    form: String,
) -> anyhow::Result<T> {
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("accept", "application/json")
        .header("user-agent", "keel-dashboard");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {}", token.expose_secret()));
    }
    if !form.is_empty() {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    }
    let request = request
        .body(form.into_bytes())
        .context("build the request")?;
    let what = path.split('?').next().unwrap_or(path);
    let (status, body) = crate::github::client::plain_answer(client, request, MAX_ANSWER_BYTES)
        .await
        .with_context(|| format!("{method} {what}"))?;
    if !status.is_success() {
        bail!("GitHub answered {status} to {method} {what}");
    }
    serde_json::from_slice(&body)
        .with_context(|| format!("GitHub's answer to {method} {what} is not what it documents"))
}
