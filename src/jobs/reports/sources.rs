//! Reading one source of reports: the matching artifacts of a finished workflow run
//! (downloaded under limits, parsed off the async runtime, cached by artifact id), or the
//! archives `keel upload` sent for a commit.

use super::{ReportSource, RunOrigin, file_of};
use crate::github::CommitSha;
use crate::github::api::{ApiError, GitHubApi, Repo};
use crate::jobs::{Context, JobError, report_cache};
use crate::reports::Reports;
use crate::reports::artifact::{self, ArtifactLimits};
use crate::store::FinishedRun;
use keel_core::{Config, Limits};
use std::io::{Read, Seek};

/// What one run holds.
#[derive(Debug)]
pub enum RunReports {
    /// No artifact of the run matches.
    None,
    /// Each matching artifact's reports.
    Read(Vec<(ReportSource, Reports)>),
    /// An artifact exists but cannot be read: why.
    Broken(String),
}

/// The reports in every matching artifact of one workflow run.
pub async fn from_run<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    run: &FinishedRun,
) -> Result<RunReports, JobError> {
    let wanted = config.reports.clone().unwrap_or_default();
    let patterns = wanted.artifact_patterns();
    // What was asked, as the store remembers it: a finished run gains no artifact, so once
    // it is known to lack them it is not asked again.
    let asked = patterns.join(",");
    if ctx
        .store
        .artifact_absent(&repo.name.0, run.run_id, &asked)
        .await?
    {
        return Ok(RunReports::None);
    }
    let found = ctx
        .github
        .run_artifacts(repo, run.run_id, &patterns)
        .await?;
    if found.is_empty() {
        ctx.store
            .record_artifact_absent(&repo.name.0, run.run_id, &asked, ctx.now)
            .await?;
        return Ok(RunReports::None);
    }
    let limits = ArtifactLimits::DEFAULT;
    let mut read = Vec::new();
    for artifact in found {
        let origin = Some(RunOrigin {
            run_id: run.run_id,
            path: file_of(&run.path).to_owned(),
            event: run.event.clone(),
        });
        let key = report_cache::Key::new(&repo.name.0, artifact.id, config);
        if let Some(reports) = ctx.reports.and_then(|c| c.get(&key)) {
            read.push((source(origin, &artifact.name, &reports), reports));
            continue;
        }
        if artifact.expired {
            return Ok(RunReports::Broken(format!(
                "the artifact `{}` of workflow run {} has expired",
                artifact.name, run.run_id
            )));
        }
        if artifact.size > limits.archive_bytes {
            return Ok(RunReports::Broken(format!(
                "`{}`: {}",
                artifact.name,
                artifact::ArtifactError::TooLarge {
                    size: artifact.size,
                    limit: limits.archive_bytes,
                }
            )));
        }
        let archive = match ctx
            .github
            .download_artifact(repo, artifact.id, limits.archive_bytes)
            .await
        {
            Ok(file) => file,
            Err(ApiError::Rejected {
                status: 200,
                message,
            }) => {
                return Ok(RunReports::Broken(format!(
                    "`{}`: {message}",
                    artifact.name
                )));
            }
            Err(e) => return Err(e.into()),
        };
        match parse(archive, config).await? {
            Ok(reports) => {
                if let Some(cache) = ctx.reports {
                    cache.put(key, &reports);
                }
                read.push((source(origin, &artifact.name, &reports), reports));
            }
            Err(why) => return Ok(RunReports::Broken(format!("`{}`: {why}", artifact.name))),
        }
    }
    Ok(RunReports::Read(read))
}

/// The archives sent with `keel upload` for `head_sha`, each read like an artifact; `Err`
/// says why one cannot be read.
pub async fn uploaded<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    head_sha: &CommitSha,
) -> Result<Result<Vec<(ReportSource, Reports)>, String>, JobError> {
    let mut read = Vec::new();
    for upload in ctx.store.uploads(&repo.name.0, &head_sha.0).await? {
        match parse(std::io::Cursor::new(upload.archive), config).await? {
            Ok(reports) => read.push((source(None, &upload.name, &reports), reports)),
            Err(why) => return Ok(Err(format!("`{}` (keel upload): {why}", upload.name))),
        }
    }
    Ok(Ok(read))
}

/// Parses an archive off the async runtime.
async fn parse<R: Read + Seek + Send + 'static>(
    archive: R,
    config: &Config,
) -> Result<Result<Reports, String>, JobError> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || {
        artifact::read_reports(archive, &config, &Limits::DEFAULT, &ArtifactLimits::DEFAULT)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| JobError::Transient(format!("the report reader stopped: {e}")))
}

fn source(run: Option<RunOrigin>, artifact: &str, reports: &Reports) -> ReportSource {
    ReportSource {
        run,
        artifact: artifact.to_owned(),
        files: reports.files.clone(),
    }
}
