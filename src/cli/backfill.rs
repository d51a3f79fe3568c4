//! `keel backfill --repo OWNER/NAME --weeks N`: reads a repository's recent delivery history
//! from GitHub as the App (the same job the server runs when the App is installed), so the
//! first weekly summary is not empty.

use crate::github::client::GitHub;
use crate::github::event::Event;
use crate::github::{InstallationId, RepoName};
use crate::jobs::worker::{Ran, Worker};
use crate::store::Store;
use anyhow::{Context, bail};
use clap::Args;
use secrecy::SecretString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// `keel backfill` arguments.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The repository, `owner/name`.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repo: String,
    /// How many weeks back.
    #[arg(long, default_value_t = 8)]
    pub weeks: u32,
    /// The App's installation on the repository (default: from the store's installations).
    #[arg(long)]
    pub installation: Option<u64>,
    /// The App's id.
    #[arg(long, env = "KEEL_APP_ID")]
    pub app_id: u64,
    /// The App's private key (PEM text).
    #[arg(long, env = "KEEL_PRIVATE_KEY", hide_env_values = true)]
    pub private_key: Option<String>,
    /// A file holding the App's private key.
    #[arg(long, env = "KEEL_PRIVATE_KEY_PATH")]
    pub private_key_path: Option<PathBuf>,
    /// GitHub's API.
    #[arg(
        long,
        env = "KEEL_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// The database.
    #[command(flatten)]
    pub database: super::Database,
}

/// Runs `keel backfill` and prints a one-line report.
pub fn run(args: BackfillArgs) -> anyhow::Result<ExitCode> {
    let report = super::runtime(true)?.block_on(connect_and_backfill(args))?;
    print!("{report}");
    Ok(ExitCode::from(super::EXIT_OK))
}

/// Connects to GitHub as the App and to the store, then backfills; returns a one-line report.
async fn connect_and_backfill(args: BackfillArgs) -> anyhow::Result<String> {
    let pem = match (&args.private_key, &args.private_key_path) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => std::fs::read_to_string(path).with_context(|| {
            format!("KEEL_PRIVATE_KEY_PATH ({}) cannot be read", path.display())
        })?,
        (None, None) => bail!("KEEL_PRIVATE_KEY or KEEL_PRIVATE_KEY_PATH is missing"),
    };
    let github = Arc::new(GitHub::new(
        args.app_id,
        &SecretString::from(pem),
        args.github_api_url.trim_end_matches('/'),
    )?);
    let store = Store::connect(&args.database.database_url).await?;
    let result = backfill(&args, &store, github).await;
    store.close().await;
    result
}

async fn backfill(
    args: &BackfillArgs,
    store: &Store,
    github: Arc<GitHub>,
) -> anyhow::Result<String> {
    let installation = match args.installation {
        Some(id) => id,
        None => store
            .installed_repos()
            .await?
            .into_iter()
            .find(|(r, _)| *r == args.repo)
            .map(|(_, id)| id)
            .with_context(|| {
                format!(
                    "{} is not in the store's installations: pass --installation ID",
                    args.repo
                )
            })?,
    };
    let now = crate::clock::now_ms();
    let event = Event::Backfill {
        installation: InstallationId(installation),
        repo: RepoName(args.repo.clone()),
        weeks: args.weeks,
    };
    let job = crate::jobs::event_job(
        &event,
        None,
        Some(format!("backfill:{}:{now}", args.repo)),
        now,
    )?;
    store.enqueue(&job, now).await?;
    for ran in Worker::new(store.clone(), github)
        .run_until_idle(now)
        .await?
    {
        if let Ran::Retried { id, .. } | Ran::Buried(id) = ran {
            let error = store
                .job(id)
                .await?
                .and_then(|j| j.last_error)
                .unwrap_or_default();
            bail!("the backfill stopped: {error} (run it again; what was read is kept)");
        }
    }
    let summary = store.delivery_counts(&args.repo).await?;
    Ok(format!(
        "backfilled {} weeks of {}: {} merged pull requests, {} deployments, {} issues, {} releases in the store\n",
        args.weeks, args.repo, summary.0, summary.1, summary.2, summary.3
    ))
}
