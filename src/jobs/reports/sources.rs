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

/// Most artifacts (and uploads) read for one commit, over every run.
pub const MAX_ARTIFACTS_PER_COMMIT: usize = 64;
/// Most archive bytes downloaded for one commit, over every artifact.
pub const MAX_BYTES_PER_COMMIT: u64 = 512 << 20;

/// What is left of one commit's artifact budget: a workflow that uploads hundreds of
/// matching artifacts makes the reports unreadable, never a server out of memory.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Artifacts left.
    pub artifacts: usize,
    /// Archive bytes left.
    pub bytes: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            artifacts: MAX_ARTIFACTS_PER_COMMIT,
            bytes: MAX_BYTES_PER_COMMIT,
        }
    }
}

impl Budget {
    /// Spends one artifact of `size` bytes; `Err` says why the reports cannot be read.
    fn spend(&mut self, name: &str, size: u64) -> Result<(), String> {
        if self.artifacts == 0 {
            return Err(format!(
                "more than {MAX_ARTIFACTS_PER_COMMIT} artifacts match `[reports] artifacts` for this commit (at `{name}`); name fewer"
            ));
        }
        if size > self.bytes {
            return Err(format!(
                "the artifacts of this commit are over {MAX_BYTES_PER_COMMIT} bytes together (at `{name}`)"
            ));
        }
        self.artifacts -= 1;
        self.bytes -= size;
        Ok(())
    }

    /// Spends what an archive listed at `listed` bytes turned out to have over it (`actual`).
    fn grow(&mut self, name: &str, listed: u64, actual: u64) -> Result<(), String> {
        let more = actual.saturating_sub(listed);
        if more > self.bytes {
            return Err(format!(
                "the artifacts of this commit are over {MAX_BYTES_PER_COMMIT} bytes together (at `{name}`)"
            ));
        }
        self.bytes -= more;
        Ok(())
    }
}

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
    budget: &mut Budget,
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
        if let Err(why) = budget.spend(&artifact.name, artifact.size) {
            return Ok(RunReports::Broken(why));
        }
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

/// The archives sent with `keel upload` for `head_sha` (only the baseline token's when
/// `baseline_only`), each read like an artifact; `Err` says why one cannot be read.
pub async fn uploaded<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    head_sha: &CommitSha,
    budget: &mut Budget,
    baseline_only: bool,
) -> Result<Result<Vec<(ReportSource, Reports)>, String>, JobError> {
    let mut read = Vec::new();
    let uploads = ctx.store.uploads(&repo.name.0, &head_sha.0).await?;
    for upload in uploads.into_iter().filter(|u| u.baseline || !baseline_only) {
        // Sizes first: an archive is loaded only once the budget has room for it, and one
        // at a time.
        if let Err(why) = budget.spend(&upload.name, upload.size) {
            return Ok(Err(why));
        }
        let Some(archive) = ctx
            .store
            .upload_archive(&repo.name.0, &head_sha.0, &upload.name)
            .await?
        else {
            continue;
        };
        // Replaced by a larger one since it was listed: the budget pays the difference.
        if let Err(why) = budget.grow(&upload.name, upload.size, archive.len() as u64) {
            return Ok(Err(why));
        }
        match parse(std::io::Cursor::new(archive), config).await? {
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
