//! `keel replay`: stored webhook payloads through the same intake checks, queue, worker and
//! jobs as `keel serve`, against the dry-run GitHub ([`DryRun`]), on an embedded SQLite store.
//! Needs no GitHub account: the repository's files come from a directory, the pull request's
//! changes from a diff file, the reports artifact from a directory.

use crate::cli::{EXIT_FAILED, EXIT_OK};
use crate::github::dry_run::DryRun;
use crate::github::event::{Event, Parsed, parse_event};
use crate::jobs::worker::{Ran, Worker};
use crate::store::Store;
use anyhow::{Context, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// `keel replay` arguments.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Webhook payloads (JSON), replayed in order.
    #[arg(required = true)]
    pub payloads: Vec<PathBuf>,
    /// The event name (`X-GitHub-Event`) of every payload; by default each file's name up to
    /// its first dot (`pull_request.json`, `workflow_run.fork.json`).
    #[arg(long)]
    pub event: Option<String>,
    /// The repository's files, at every commit (`.github/keel.toml` is read from here).
    #[arg(long, default_value = ".")]
    pub repo_dir: PathBuf,
    /// The pull request's changes, as a unified diff.
    #[arg(long)]
    pub diff: Option<PathBuf>,
    /// The reports artifact's contents (default: the repository directory).
    #[arg(long)]
    pub reports: Option<PathBuf>,
    /// Metrics saved by `keel check --save-baseline`, recorded as the base commit's baseline.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// The store (default: a temporary SQLite file, removed afterwards).
    #[arg(long)]
    pub database_url: Option<String>,
}

/// Runs `keel replay`: exit 0 when the last check run succeeded, 1 when it failed, 2 when a
/// payload or job could not be processed.
pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    super::runtime(true)?.block_on(replay_all(args))
}

/// Replays every payload on a store of its own; the exit code follows the last check run.
async fn replay_all(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let limits = keel_core::Limits::DEFAULT;
    let diff = match &args.diff {
        Some(path) => Some(super::inputs::read_diff_file(path, &limits)?),
        None => None,
    };
    let reports = args
        .reports
        .clone()
        .unwrap_or_else(|| args.repo_dir.clone());
    let github = Arc::new(DryRun::new(
        args.repo_dir.clone(),
        Some(reports),
        diff,
        Box::new(std::io::stdout()),
    ));
    let temp = std::env::temp_dir().join(format!("keel-replay-{}.db", std::process::id()));
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", temp.display()));
    let store = Store::connect(&url).await?;
    let outcome = replay(&args, &store, &github).await;
    store.close().await;
    if args.database_url.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    }
    outcome?;
    Ok(ExitCode::from(match github.last_conclusion().as_deref() {
        Some("failure") => EXIT_FAILED,
        Some(_) | None => EXIT_OK,
    }))
}

async fn replay(args: &ReplayArgs, store: &Store, github: &Arc<DryRun>) -> anyhow::Result<()> {
    let now = crate::clock::now_ms();
    let worker = Worker::new(store.clone(), Arc::clone(github));
    for (i, path) in args.payloads.iter().enumerate() {
        let name = match &args.event {
            Some(name) => name.clone(),
            None => event_name(path)?,
        };
        let body = read_payload(path)?;
        let event =
            match parse_event(&name, &body).with_context(|| format!("{}", path.display()))? {
                Parsed::Event(event) => *event,
                Parsed::Ignored(why) => {
                    println!("── {}: ignored ({why})", path.display());
                    continue;
                }
            };
        if let Event::PullRequest { pr, repo, .. } = &event {
            github.add_pull_request(pr.clone());
            if let Some(baseline) = &args.baseline {
                let metrics = std::fs::read(baseline)
                    .with_context(|| format!("read {}", baseline.display()))?;
                store
                    .record_baseline(&repo.0, &pr.base_sha.0, &metrics, now)
                    .await?;
            }
        }
        println!("── replaying {} as `{name}`", path.display());
        let job = crate::jobs::event_job(
            &event,
            Some(format!("replay-{}-{i}", std::process::id())),
            None,
            now,
        )?;
        store.enqueue(&job, now).await?;
        for ran in worker.run_until_idle(now).await? {
            if let Ran::Retried { id, .. } | Ran::Buried(id) = ran {
                let error = store
                    .job(id)
                    .await?
                    .and_then(|j| j.last_error)
                    .unwrap_or_default();
                bail!("{}: the job failed: {error}", path.display());
            }
        }
    }
    Ok(())
}

/// `pull_request.json` → `pull_request`; `workflow_run.fork.json` → `workflow_run`.
fn event_name(path: &Path) -> anyhow::Result<String> {
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .filter(|n| !n.is_empty())
        .with_context(|| format!("{}: name the event with --event", path.display()))?;
    Ok(stem.to_owned())
}

fn read_payload(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let limit = crate::server::MAX_WEBHOOK_BYTES as u64;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .with_context(|| format!("open {}", path.display()))?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("read {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!(
            "{} is over the webhook limit of {limit} bytes",
            path.display()
        );
    }
    Ok(bytes)
}
