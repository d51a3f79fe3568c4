//! Workflow run artifacts: found by name, downloaded (following GitHub's redirect to blob
//! storage without the token) into an unnamed temporary file under a byte cap.

use super::*;

pub(super) async fn find(
    gh: &GitHub,
    repo: &Repo,
    run_id: u64,
    name: &str,
) -> Result<Option<Artifact>, ApiError> {
    #[derive(Deserialize)]
    struct Listed {
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
    let route = format!("/repos/{}/actions/runs/{run_id}/artifacts", repo.name);
    let listed: Listed = gh
        .json(repo, Method::Get, &route, &[("name", name)], None)
        .await?;
    Ok(listed
        .artifacts
        .into_iter()
        .find(|a| a.name == name)
        .map(|a| Artifact {
            id: a.id,
            size: a.size_in_bytes,
            expired: a.expired,
        }))
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
