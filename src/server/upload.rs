//! `POST /reports/{owner}/{repo}/{sha}?name=NAME`: reports from CI outside GitHub Actions
//! (`keel upload`), used exactly like a workflow run's artifact.
//!
//! Authenticated per repository: `Authorization: Bearer <token>`, a token `keel
//! upload-token` issued for that repository (stored as its SHA-256, compared in constant
//! time): the pull request token, or the baseline token whose uploads alone make a
//! default-branch commit's baseline. The token is checked before a byte of the body is read; the body is a zip archive
//! of at most [`MAX_UPLOAD_BYTES`], checked as one (entries counted and their names safe)
//! before it is stored. A wrong or missing token gets 401 and stores nothing; the answer does
//! not say whether the repository exists.

use super::AppState;
use super::guard::Refusal;
use crate::github::event::Event;
use crate::github::{CommitSha, RepoName};
use crate::reports::artifact::{ArtifactLimits, check_archive};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

/// Largest archive accepted (it is kept in the database until it is judged).
pub const MAX_UPLOAD_BYTES: usize = 32 << 20;

/// `?name=`: what the upload is called (default `reports`).
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    name: Option<String>,
}

/// Receives one archive of reports for a commit.
pub async fn receive(
    State(state): State<AppState>,
    Path((owner, name, sha)): Path<(String, String, String)>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> (StatusCode, String) {
    let (status, message) = handle(&state, &owner, &name, &sha, query, &headers, body).await;
    tracing::info!(
        repo = format!("{owner}/{name}"),
        %sha,
        status = status.as_u16(),
        "keel upload: {message}"
    );
    (status, message)
}

async fn handle(
    state: &AppState,
    owner: &str,
    repo_name: &str,
    sha: &str,
    query: UploadQuery,
    headers: &HeaderMap,
    body: Body,
) -> (StatusCode, String) {
    let unauthorized = || {
        (
            StatusCode::UNAUTHORIZED,
            "missing or wrong upload token for this repository".to_owned(),
        )
    };
    let repo = format!("{owner}/{repo_name}");
    if !is_name(owner) || !is_name(repo_name) {
        return unauthorized();
    }
    let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return unauthorized();
    };
    let scope = match state.store.upload_token_scope(&repo, token.trim()).await {
        Ok(Some(scope)) => scope,
        Ok(None) => return unauthorized(),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "could not read an upload token");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not check the token; send it again".into(),
            );
        }
    };
    if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (
            StatusCode::BAD_REQUEST,
            "the commit must be a full 40-character SHA".into(),
        );
    }
    let upload_name = query.name.unwrap_or_else(|| "reports".to_owned());
    if upload_name.is_empty()
        || upload_name.len() > 64
        || !upload_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return (
            StatusCode::BAD_REQUEST,
            "`name` must be 1 to 64 letters, digits, `.`, `_` or `-`".into(),
        );
    }
    // Read within the uploads' own room: bodies sent at once hold at most that much memory,
    // and no room is taken from webhook deliveries.
    let read = state.uploads.read(body, MAX_UPLOAD_BYTES);
    let (bytes, _room) = match tokio::time::timeout(state.uploads.body_timeout, read).await {
        Ok(Ok(read)) => read,
        Ok(Err(Refusal::TooLarge)) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the archive is over {MAX_UPLOAD_BYTES} bytes"),
            );
        }
        Ok(Err(Refusal::Busy)) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Keel is receiving other uploads and has no room for this one yet; send it again in a moment".into(),
            );
        }
        Ok(Err(Refusal::Broken)) => {
            return (
                StatusCode::BAD_REQUEST,
                "the connection broke while the archive was sent".into(),
            );
        }
        Err(_) => {
            return (
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time".into(),
            );
        }
    };
    if let Err(e) = check_archive(std::io::Cursor::new(&bytes), &ArtifactLimits::DEFAULT) {
        return (StatusCode::BAD_REQUEST, e.to_string());
    }
    let sha = sha.to_ascii_lowercase();
    match state
        .store
        .record_upload(
            &repo,
            &sha,
            &upload_name,
            &bytes,
            scope,
            crate::clock::now_ms(),
        )
        .await
    {
        Ok(None) => {}
        Ok(Some(why)) => return (StatusCode::CONFLICT, why),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "could not store an upload");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the reports; send them again".into(),
            );
        }
    }
    let event = Event::ReportsUploaded {
        repo: RepoName(repo),
        head_sha: CommitSha(sha),
    };
    let job = crate::jobs::event_job(&event, None, None, 0).expect("an event is plain data");
    match state.ingest.submit(state.ingest.arriving(), job).await {
        Ok(_) => {
            state.wake.notify_one();
            (
                StatusCode::ACCEPTED,
                format!("stored `{upload_name}` ({} bytes)", bytes.len()),
            )
        }
        Err(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                "could not enqueue an upload's judgement"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the reports; send them again".into(),
            )
        }
    }
}

/// An owner or repository name as GitHub allows them.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}
