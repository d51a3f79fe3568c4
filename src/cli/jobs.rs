//! `keel jobs`: look at the durable queue, read a dead job's last error, queue it again, or
//! cancel a queued or running one.

use super::{Database, EXIT_OK, runtime};
use crate::store::{JobRow, JobState, Store};
use anyhow::{Context, bail};
use std::process::ExitCode;

/// `keel jobs` arguments.
#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    /// The database.
    #[command(flatten)]
    pub database: Database,
    /// What to do.
    #[command(subcommand)]
    pub command: JobsCommand,
}

/// `keel jobs …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Jobs, newest first.
    List {
        /// Only jobs in this state: queued, running, done or dead.
        #[arg(long)]
        state: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One job, with its last error.
    Show {
        /// Job id.
        id: i64,
    },
    /// Queue a dead job again, with a fresh attempt count.
    Retry {
        /// Job id.
        id: i64,
    },
    /// Stop a queued or running job for good (it becomes dead; a running one stops at its
    /// next lease renewal, within a third of its lease).
    Cancel {
        /// Job id.
        id: i64,
    },
}

/// Runs a `keel jobs` command and prints what it found or did.
pub fn run(args: JobsArgs) -> anyhow::Result<ExitCode> {
    let text = runtime(false)?.block_on(act(&args.database.database_url, args.command))?;
    print!("{text}");
    Ok(ExitCode::from(EXIT_OK))
}

/// Runs a `keel jobs` command against `database_url`; returns what to print.
async fn act(database_url: &str, command: JobsCommand) -> anyhow::Result<String> {
    let store = Store::connect(database_url).await?;
    let out = match command {
        JobsCommand::List { state, limit } => {
            let state = state.as_deref().map(parse_state).transpose()?;
            let rows = store.list_jobs(state, limit).await?;
            let mut out = format!(
                "{:>8}  {:<8}  {:<7}  {:>8}  {:<40}  {}\n",
                "id", "state", "kind", "attempts", "serial key", "delivery"
            );
            for r in &rows {
                out.push_str(&format!(
                    "{:>8}  {:<8}  {:<7}  {:>8}  {:<40}  {}\n",
                    r.id,
                    r.state.as_str(),
                    r.kind,
                    r.attempts,
                    r.serial_key.as_deref().unwrap_or("-"),
                    r.delivery_id.as_deref().unwrap_or("-")
                ));
            }
            out
        }
        JobsCommand::Show { id } => match store.job(id).await? {
            Some(row) => show(&row),
            None => bail!("no job {id}"),
        },
        JobsCommand::Cancel { id } => {
            let now = crate::clock::now_ms();
            if store
                .cancel_job(id, "cancelled with keel jobs cancel", now)
                .await?
            {
                format!("job {id} cancelled\n")
            } else {
                bail!("job {id} is neither queued nor running");
            }
        }
        JobsCommand::Retry { id } => {
            let now = crate::clock::now_ms();
            if store.requeue_dead(id, now).await.context("requeue")? {
                format!("job {id} queued again\n")
            } else {
                bail!("job {id} is not a dead job");
            }
        }
    };
    store.close().await;
    Ok(out)
}

fn parse_state(s: &str) -> anyhow::Result<JobState> {
    [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
    ]
    .into_iter()
    .find(|state| state.as_str() == s)
    .with_context(|| format!("unknown state `{s}`; use queued, running, done or dead"))
}

fn show(r: &JobRow) -> String {
    format!(
        "job {}\n  kind:       {}\n  state:      {}\n  attempts:   {}\n  serial key: {}\n  delivery:   {}\n  run at:     {} (unix ms)\n  last error: {}\n",
        r.id,
        r.kind,
        r.state.as_str(),
        r.attempts,
        r.serial_key.as_deref().unwrap_or("-"),
        r.delivery_id.as_deref().unwrap_or("-"),
        r.run_at,
        r.last_error.as_deref().unwrap_or("-")
    )
}
