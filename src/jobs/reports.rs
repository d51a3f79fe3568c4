//! The CI reports of a commit, from wherever CI made them: every matching artifact of the
//! newest finished run of each workflow read (a test matrix uploads one artifact per job), and
//! the archives `keel upload` sent, merged into one set of reports; and whether to wait for
//! more. Keel never waits forever: once no run that could bring reports is queued or running
//! it judges with what it has, and with nothing at all it waits `[reports] timeout` at most.

pub(super) mod sources;

use super::{Context, JobError};
use crate::github::CommitSha;
use crate::github::api::{GitHubApi, Repo};
use crate::github::event::{Event, PullRequestInfo, Target};
use crate::reports::Reports;
use crate::store::FinishedRun;
use keel_core::config::ReportsConfig;
use keel_core::diff::Diff;
use keel_core::{Config, Limits};
pub use sources::{Budget, RunReports, from_run};

/// Where a commit's reports stand.
#[derive(Debug)]
pub enum ReportState {
    /// Read (and merged) from these sources.
    Ready {
        /// The reports.
        reports: Box<Reports>,
        /// Where each part came from, for the check run.
        sources: Vec<ReportSource>,
        /// Workflows waited for that did not run for this commit (a path filter).
        not_run: Vec<String>,
    },
    /// A run that may bring them is queued or running, or none has started yet: keep the
    /// check `in_progress`.
    Waiting {
        /// What it waits for, for the check run.
        what: String,
        /// When to stop waiting if nothing comes (unix ms), when no run is under way.
        until: Option<i64>,
    },
    /// Nothing that could bring them is left: judge with `no report`.
    Missing(String),
    /// An artifact exists but cannot be read (too large, a bomb, a broken report).
    Broken(String),
}

/// Where one part of the reports came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSource {
    /// The workflow run, or `None` for an archive sent with `keel upload`.
    pub run: Option<RunOrigin>,
    /// The artifact's name (or the upload's).
    pub artifact: String,
    /// The report files read from it.
    pub files: Vec<String>,
}

/// The workflow run an artifact belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOrigin {
    /// Run id.
    pub run_id: u64,
    /// Its workflow file.
    pub path: String,
    /// What triggered it.
    pub event: String,
}

impl ReportSource {
    /// One line for the check run's notes.
    pub fn describe(&self) -> String {
        const SHOWN: usize = 5;
        let mut files: Vec<String> = self
            .files
            .iter()
            .take(SHOWN)
            .map(|f| format!("`{f}`"))
            .collect();
        if self.files.len() > SHOWN {
            files.push(format!("and {} more", self.files.len() - SHOWN));
        }
        let read = if files.is_empty() {
            "no report it holds was asked for".to_owned()
        } else {
            files.join(", ")
        };
        match &self.run {
            Some(run) => {
                let path = if run.path.is_empty() {
                    "an unknown workflow file"
                } else {
                    &run.path
                };
                format!(
                    "Reports read from artifact `{}` of workflow run {} ({path}, triggered by {}): {read}.",
                    self.artifact, run.run_id, run.event
                )
            }
            None => format!(
                "Reports read from `{}`, sent with `keel upload`: {read}.",
                self.artifact
            ),
        }
    }
}

/// A workflow file path without GitHub's `@ref` suffix (`@refs/heads/main` or a commit id,
/// on reusable and dynamic workflows). Only such a suffix is cut: a file a pull request adds
/// as `ci.yml@x.yml` stays itself and is never taken for `ci.yml`.
pub fn file_of(path: &str) -> &str {
    match path.rsplit_once('@') {
        Some((file, suffix))
            if suffix.starts_with("refs/")
                || (suffix.len() == 40 && suffix.bytes().all(|b| b.is_ascii_hexdigit())) =>
        {
            file
        }
        _ => path,
    }
}

/// Whether workflow file `path` (as GitHub gives it) is the one `wanted` names: `ci.yml` is
/// `.github/workflows/ci.yml` exactly, and a path is compared whole. Display names never
/// match: any pull request can add a workflow with the same `name:`.
pub fn is_file(wanted: &str, path: &str) -> bool {
    let file = file_of(path);
    let wanted = wanted.trim_start_matches("./");
    if file.is_empty() {
        return false;
    }
    if wanted.contains('/') {
        file == wanted
    } else {
        file.strip_prefix(".github/workflows/") == Some(wanted)
    }
}

/// Whether `run` is of the workflow file `wanted` names.
pub fn is_workflow(wanted: &str, run: &FinishedRun) -> bool {
    is_file(wanted, &run.path)
}

/// The runs whose artifacts are read: of the configured workflow files (every run when none
/// is named), the newest finished run of each workflow file. Older runs of the same file (a
/// `push` and a `pull_request` run of one commit) would count the same findings twice.
fn runs_to_read(all: &[FinishedRun], wanted: &ReportsConfig) -> Vec<FinishedRun> {
    let files = wanted.workflow_files();
    let mut chosen: Vec<FinishedRun> = Vec::new();
    for run in all {
        if !files.is_empty() && !files.iter().any(|w| is_workflow(w, run)) {
            continue;
        }
        let file = file_of(&run.path);
        if !file.is_empty() && chosen.iter().any(|c| file_of(&c.path) == file) {
            continue;
        }
        chosen.push(run.clone());
    }
    chosen
}

/// Finds the reports of `head_sha`: every source read and merged, or why to wait, or why
/// there are none.
pub async fn find<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    config: &Config,
    head_sha: &CommitSha,
) -> Result<ReportState, JobError> {
    let wanted = config.reports.clone().unwrap_or_default();
    let all_runs = ctx.store.workflow_runs(&repo.name.0, &head_sha.0).await?;
    let mut merged = Reports::default();
    let mut sources = Vec::new();
    let mut budget = Budget::default();
    for run in runs_to_read(&all_runs, &wanted) {
        match from_run(ctx, repo, config, &run, &mut budget).await? {
            RunReports::None => {}
            RunReports::Broken(why) => return Ok(ReportState::Broken(why)),
            RunReports::Read(read) => {
                for (source, reports) in read {
                    if let Err(why) = merge(&mut merged, reports, &source) {
                        return Ok(ReportState::Broken(why));
                    }
                    sources.push(source);
                }
            }
        }
    }
    // Uploads are left out where `[reports]` names the workflows: the pull request upload
    // token may be in any CI build, and coverage merges, so an upload could only raise it.
    let left_out = if wanted.reads_uploads() {
        match sources::uploaded(ctx, repo, config, head_sha, &mut budget, false).await? {
            Err(why) => return Ok(ReportState::Broken(why)),
            Ok(read) => {
                for (source, reports) in read {
                    if let Err(why) = merge(&mut merged, reports, &source) {
                        return Ok(ReportState::Broken(why));
                    }
                    sources.push(source);
                }
            }
        }
        None
    } else {
        uploads_left_out(ctx.store.uploads(&repo.name.0, &head_sha.0).await?.len())
    };
    if let Some(note) = &left_out {
        merged.warnings.push(note.clone());
    }
    // Runs that may still bring reports, of the workflows waited for: queued or running, or
    // finished on GitHub while their `workflow_run` delivery is not handled yet.
    let wait = wanted.wait_files();
    let listed = ctx.github.head_workflow_runs(repo, head_sha).await?;
    let waited = |path: &str| wait.is_empty() || wait.iter().any(|w| is_file(w, path));
    let running = listed
        .iter()
        .filter(|r| waited(&r.path))
        .filter(|r| !r.finished || !all_runs.iter().any(|known| known.run_id == r.id))
        .count();
    if running > 0 {
        return Ok(ReportState::Waiting {
            what: waiting_for(&wanted, running),
            until: None,
        });
    }
    let not_run: Vec<String> = wait
        .iter()
        .filter(|w| !all_runs.iter().any(|r| is_workflow(w, r)))
        .cloned()
        .collect();
    let any_run = !all_runs.is_empty() || !listed.is_empty();
    // CI outside Actions (a repository with an upload token) has sent nothing yet.
    let upload_missing = wanted.reads_uploads()
        && sources.iter().all(|s| s.run.is_some())
        && ctx.store.has_upload_token(&repo.name.0).await?;
    if (sources.is_empty() && !any_run) || upload_missing {
        // Nothing under way: a run not yet queued, CI outside Actions that has not sent its
        // reports yet, or nothing at all (a path filter). Wait `timeout` from the first wait.
        let since = ctx
            .store
            .waiting_since(&repo.name.0, &head_sha.0, ctx.now)
            .await?;
        let until = since.saturating_add(wanted.timeout_ms());
        if ctx.now < until {
            return Ok(ReportState::Waiting {
                what: waiting_for(&wanted, 0),
                until: Some(until),
            });
        }
        let late = format!(
            "nothing brought {} within {} minutes of the first look (`[reports] timeout`)",
            if upload_missing {
                "`keel upload` reports".to_owned()
            } else {
                artifacts_named(&wanted)
            },
            wanted.timeout_ms() / 60_000
        );
        if sources.is_empty() {
            return Ok(ReportState::Missing(late));
        }
        merged.warnings.push(late);
    }
    if sources.is_empty() {
        let why = match wanted.workflow_files().as_slice() {
            [] => format!(
                "every workflow run of this commit finished and none uploaded {}",
                artifacts_named(&wanted)
            ),
            files if files.iter().all(|f| not_run.contains(f)) => {
                format!("{} did not run for this commit", quoted_list(files))
            }
            files => format!(
                "{} finished without uploading {}",
                quoted_list(files),
                artifacts_named(&wanted)
            ),
        };
        return Ok(ReportState::Missing(match left_out {
            Some(note) => format!("{why}. {note}"),
            None => why,
        }));
    }
    merged.settle();
    Ok(ReportState::Ready {
        reports: Box::new(merged),
        sources,
        not_run,
    })
}

/// The note on `count` archives sent with `keel upload` that were not read because
/// `[reports]` names the workflows the reports come from.
fn uploads_left_out(count: usize) -> Option<String> {
    (count > 0).then(|| {
        let (archives, were) = if count == 1 {
            ("1 archive".to_owned(), "was")
        } else {
            (format!("{count} archives"), "were")
        };
        format!(
            "{archives} sent with `keel upload` for this commit {were} not read: `[reports]` names the workflows the reports come from (set `[reports] uploads = true` to read uploads too)"
        )
    })
}

/// The check run's notes on where the reports came from: each source, the workflows waited
/// for that did not run, and a warning when the pull request (`diff`) changes a workflow that
/// produced them.
pub fn provenance(
    sources: &[ReportSource],
    not_run: &[String],
    diff: Option<&Diff>,
) -> Vec<String> {
    let mut notes: Vec<String> = sources.iter().map(ReportSource::describe).collect();
    if !not_run.is_empty() {
        notes.push(format!(
            "{} did not run for this commit (a path filter?): the reports only it makes are `no report`.",
            quoted_list(not_run)
        ));
    }
    let mut warned: Vec<&str> = Vec::new();
    for run in sources.iter().filter_map(|s| s.run.as_ref()) {
        if diff.is_some_and(|d| d.file(&run.path).is_some()) && !warned.contains(&run.path.as_str())
        {
            warned.push(&run.path);
            notes.push(format!(
                "⚠️ This pull request changes {}, the workflow that produced these reports: they are only as trustworthy as that change.",
                run.path
            ));
        }
    }
    notes
}

/// Judges the head again at `until` (unix ms) if nothing brings its reports before: one
/// delayed job per pull request and head, however often the head is judged meanwhile.
pub async fn deadline<G: GitHubApi>(
    ctx: &Context<'_, G>,
    repo: &Repo,
    head_sha: &CommitSha,
    base_sha: &CommitSha,
    pr: Option<&PullRequestInfo>,
    until: i64,
) -> Result<(), JobError> {
    let target = match pr {
        Some(pr) => Target::PullRequest(pr.number.clone()),
        None => Target::MergeGroup {
            base_sha: base_sha.clone(),
        },
    };
    let number = pr.map_or(0, |p| p.number.0);
    let event = Event::EvaluateLater {
        installation: repo.installation.clone(),
        repo: repo.name.clone(),
        head_sha: head_sha.clone(),
        target,
    };
    let key = format!("reports-deadline/{}/{number}/{head_sha}", repo.name);
    let job = super::event_job(&event, None, Some(key), until)
        .map_err(|e| JobError::Permanent(format!("serialise a follow-up job: {e}")))?;
    ctx.store.enqueue(&job, ctx.now).await?;
    Ok(())
}

/// Merges one source into the reports; a merge over the limits makes the reports unusable.
fn merge(merged: &mut Reports, reports: Reports, source: &ReportSource) -> Result<(), String> {
    merged
        .absorb(reports, &Limits::DEFAULT)
        .map_err(|e| format!("`{}`: {e:#}", source.artifact))
}

/// "the workflow run's reports (the artifact `keel-reports` from `ci.yml`; 2 runs under way)".
fn waiting_for(wanted: &ReportsConfig, running: usize) -> String {
    let from = match wanted.wait_files().as_slice() {
        [] => String::new(),
        files => format!(" from {}", quoted_list(files)),
    };
    let state = match running {
        0 => "no run has started yet".to_owned(),
        1 => "1 run under way".to_owned(),
        n => format!("{n} runs under way"),
    };
    format!(
        "the workflow run's reports ({}{from}; {state})",
        artifacts_named(wanted)
    )
}

/// "the artifact `keel-reports`", "the artifacts `a`, `b-*`".
fn artifacts_named(wanted: &ReportsConfig) -> String {
    let patterns = wanted.artifact_patterns();
    let noun = if patterns.len() == 1 && !patterns[0].contains('*') {
        "the artifact"
    } else {
        "artifacts"
    };
    format!("{noun} {}", quoted_list(&patterns))
}

/// "`a`, `b`".
fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{file_of, is_file};

    #[test]
    fn a_workflow_file_named_like_ci_yml_with_a_suffix_is_not_ci_yml() {
        // A pull request can add `.github/workflows/ci.yml@x.yml`: it is not `ci.yml`.
        assert_eq!(
            file_of(".github/workflows/ci.yml@x.yml"),
            ".github/workflows/ci.yml@x.yml"
        );
        assert!(!is_file("ci.yml", ".github/workflows/ci.yml@x.yml"));
        // GitHub's own suffixes on reusable and dynamic workflows are cut.
        assert!(is_file(
            "ci.yml",
            ".github/workflows/ci.yml@refs/heads/main"
        ));
        assert!(is_file(
            "ci.yml",
            ".github/workflows/ci.yml@0123456789abcdef0123456789abcdef01234567"
        ));
        // `ci.yml` is the file in `.github/workflows`, nowhere else; a path is compared whole.
        assert!(is_file("ci.yml", ".github/workflows/ci.yml"));
        assert!(!is_file("ci.yml", "dynamic/x/ci.yml"));
        assert!(!is_file("ci.yml", ".github/workflows/sub/ci.yml"));
        assert!(is_file(
            ".github/workflows/ci.yml",
            ".github/workflows/ci.yml"
        ));
        assert!(is_file(
            "./.github/workflows/ci.yml",
            ".github/workflows/ci.yml"
        ));
        assert!(!is_file("ci.yml", ""));
    }
}
