//! Workflow run artifacts: found by name, downloaded (following GitHub's redirect to blob
//! storage without the token) into an unnamed temporary file under a byte cap.

use super::*;
use crate::github::api::MAX_RUN_ARTIFACTS;

pub(super) async fn list(
    gh: &GitHub,
    repo: &Repo,
    run_id: u64,
    wanted: &[String],
) -> Result<Vec<Artifact>, ApiError> {
    #[derive(Deserialize)]
    struct Listed {
        #[serde(default)]
        total_count: usize,
        artifacts: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        id: u64,
        name: String,
        #[serde(default)]
        size_in_bytes: u64,
        #[serde(default)]
        expired: bool,
    }
    let globs =
        keel_core::glob::PathGlobs::for_names(wanted.to_vec()).map_err(|e| ApiError::Rejected {
            status: 200,
            message: format!("artifact names: {e}"),
        })?;
    // One literal name is asked for by name; globs list every artifact of the run.
    let literal = match wanted {
        [one] if !one.contains(['*', '?', '[', '{', '!']) => Some(one.as_str()),
        _ => None,
    };
    let route = format!("/repos/{}/actions/runs/{run_id}/artifacts", repo.name);
    let mut found = Vec::new();
    let per_page = PER_PAGE.to_string();
    for page in 1..=MAX_RUN_ARTIFACTS.div_ceil(PER_PAGE) {
        let page_text = page.to_string();
        let mut query = vec![
            ("per_page", per_page.as_str()),
            ("page", page_text.as_str()),
        ];
        if let Some(name) = literal {
            query.push(("name", name));
        }
        let listed: Listed = gh.json(repo, Method::Get, &route, &query, None).await?;
        let last = listed.artifacts.len() < PER_PAGE || page * PER_PAGE >= listed.total_count;
        found.extend(
            listed
                .artifacts
                .into_iter()
                .filter(|a| globs.is_match(&a.name))
                .map(|a| Artifact {
                    id: a.id,
                    name: a.name,
                    size: a.size_in_bytes,
                    expired: a.expired,
                }),
        );
        if last {
            break;
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(found)
}

pub(super) async fn download(
    gh: &GitHub,
    repo: &Repo,
    artifact_id: u64,
    max_bytes: u64,
) -> Result<std::fs::File, ApiError> {
    use std::io::{Seek, Write};
    // GitHub answers with a redirect to blob storage; the client follows it and drops the
    // Authorization header when the redirect leaves GitHub's origin.
    let route = format!("/repos/{}/actions/artifacts/{artifact_id}/zip", repo.name);
    let response = gh.request(repo, Method::Get, &route, &[], None).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let local = |e: std::io::Error| ApiError::Transient(format!("{route}: a temporary file: {e}"));
    let mut body = response.into_body();
    if !(200..300).contains(&status) {
        let bytes = http_body_util::Limited::new(body, 64 << 10)
            .collect()
            .await
            .map(|c| c.to_bytes().to_vec())
            .unwrap_or_default();
        return Err(failure(status, &headers, &bytes));
    }
    // Streamed to an unnamed temporary file, never held in memory: an archive costs a
    // frame of memory however large it is (the limit still bounds the disk it takes).
    let mut file = tempfile::tempfile().map_err(local)?;
    let mut written = 0u64;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::Transient(format!("{route}: read the response: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        written += data.len() as u64;
        if written > max_bytes {
            return Err(too_large(
                &route,
                written,
                usize::try_from(max_bytes).unwrap_or(usize::MAX),
            ));
        }
        file.write_all(&data).map_err(local)?;
    }
    file.rewind().map_err(local)?;
    Ok(file)
}
