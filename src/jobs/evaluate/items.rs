//! The items files a definition of done names (`[roadmap] file`, `[debt] file`), read at the
//! config's commit and merged into it.

use super::short;
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use crate::jobs::{CONFIG_PATH, Context, JobError};
use keel_core::Config;
use keel_core::config::{DebtItem, HasId, RoadmapItem};

/// The roadmap and debt items files `config` names.
pub(in crate::jobs) fn item_files(config: &Config) -> Vec<String> {
    [
        config.roadmap.as_ref().and_then(|r| r.file.clone()),
        config.debt.as_ref().and_then(|d| d.file.clone()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Merges the items of `[roadmap] file` and `[debt] file`, read at the config's commit too.
pub(in crate::jobs) async fn with_item_files<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    base_sha: &CommitSha,
    mut config: Config,
) -> Result<Result<Config, String>, JobError> {
    if let Some(path) = config.roadmap.as_ref().and_then(|r| r.file.clone()) {
        match read_items::<_, RoadmapItem>(ctx, repo, base_sha, &path).await? {
            Ok(items) => {
                if let Some(r) = config.roadmap.as_mut() {
                    r.items.extend(items);
                }
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    if let Some(path) = config.debt.as_ref().and_then(|d| d.file.clone()) {
        match read_items::<_, DebtItem>(ctx, repo, base_sha, &path).await? {
            Ok(items) => {
                if let Some(d) = config.debt.as_mut() {
                    d.items.extend(items);
                }
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(config))
}

async fn read_items<G: GitHubApi, T: serde::de::DeserializeOwned + HasId>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    sha: &CommitSha,
    path: &str,
) -> Result<Result<Vec<T>, String>, JobError> {
    let Some(bytes) = ctx.github.file_at(repo, path, sha).await? else {
        return Ok(Err(format!(
            "{CONFIG_PATH} names `{path}`, which does not exist at commit {}",
            short(sha)
        )));
    };
    Ok(String::from_utf8(bytes)
        .map_err(|_| format!("{path}: the file is not UTF-8 text"))
        .and_then(|text| Config::parse_items(path, &text).map_err(|e| e.to_string())))
}
