//! The command line: the clap tree, the exit codes, and one module per subcommand. A
//! subcommand's module gathers its inputs, calls the layers below (`server`, `jobs`,
//! `reports`, `github`, `store`, the core) and prints; nothing below imports from here
//! (`tests/it/architecture.rs`). Every flag can also be set through the environment variable
//! named in its help.

pub mod action;
pub mod backfill;
pub mod check;
pub mod config;
pub mod health;
pub mod inputs;
pub mod jobs;
pub mod manifest;
pub mod outcome;
pub mod replay;
pub mod roadmap;
pub mod serve;
pub mod summary;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when no required criterion failed.
pub const EXIT_OK: u8 = 0;
/// Exit code when a required criterion failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for usage, config and input errors.
pub const EXIT_ERROR: u8 = 2;

/// Keel keeps engineering work aligned with its definition of done.
#[derive(Debug, Parser)]
#[command(name = "keel", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Keel's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate a change against the definition of done, from files on disk.
    Check(Box<check::CheckArgs>),
    /// Run the GitHub App server: receive, verify and durably store webhook deliveries.
    Serve(Box<crate::server::settings::ServeArgs>),
    /// Run stored webhook payloads through the App's pipeline against a dry-run GitHub that
    /// prints the check run, comment and labels it would post.
    Replay(Box<replay::ReplayArgs>),
    /// Look at the job queue: list jobs, show a dead job's error, retry it.
    Jobs {
        /// The database.
        #[command(flatten)]
        database: Database,
        /// What to do.
        #[command(subcommand)]
        command: jobs::JobsCommand,
    },
    /// Read a repository's recent delivery history from GitHub into the store, as the App.
    Backfill(Box<backfill::BackfillArgs>),
    /// Run as a GitHub Action step: job summary, annotations, outputs, and (when the token may)
    /// the check run and the sticky comment. Reads the workflow's environment.
    Action,
    /// Ask a running server whether it is up (`GET /healthz`); exit 0 if so (for container
    /// health checks, with no curl in the image).
    Health {
        /// The health endpoint.
        #[arg(long, default_value = "http://127.0.0.1:3000/healthz")]
        url: String,
    },
    /// Print the GitHub App manifest (events and least permissions) for registering the App.
    Manifest {
        /// The server's public address (the webhook URL is this plus `/webhook`).
        #[arg(long)]
        url: Option<String>,
    },
    /// Render a weekly summary from the store, without posting it.
    Summary {
        /// The repository, `owner/name`.
        #[arg(long, env = "GITHUB_REPOSITORY")]
        repo: String,
        /// The ISO week (`2026-W47`); default: the week before the schedule last came due.
        #[arg(long)]
        week: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "markdown")]
        format: SummaryFormat,
        /// The config (for the roadmap, the debt register and `[summary]`).
        #[arg(long, default_value = ".github/keel.toml")]
        config: std::path::PathBuf,
        /// The database.
        #[command(flatten)]
        database: Database,
    },
    /// Record a measured outcome of a roadmap item (shown against its target in summaries).
    Outcome {
        /// The item id (`R-12`).
        item: String,
        /// The measured value.
        #[arg(long)]
        value: f64,
        /// The repository, `owner/name`.
        #[arg(long, env = "GITHUB_REPOSITORY")]
        repo: String,
        /// When it was measured (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// The database.
        #[command(flatten)]
        database: Database,
    },
    /// List the roadmap items with the merged pull requests linked to each.
    Roadmap {
        /// The config holding the items.
        #[arg(long, default_value = ".github/keel.toml")]
        config: std::path::PathBuf,
        /// The repository, `owner/name`.
        #[arg(long, env = "GITHUB_REPOSITORY")]
        repo: String,
        /// The database.
        #[command(flatten)]
        database: Database,
    },
    /// Validate the config, or print its JSON Schema.
    Config {
        /// What to do with the config.
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// `--database-url`, for the commands that read the store (as `keel serve` does).
#[derive(Debug, clap::Args)]
pub struct Database {
    /// The database (as for `keel serve`).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://keel.db"
    )]
    pub database_url: String,
}

/// `keel summary --format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SummaryFormat {
    /// The issue as it would be posted.
    Markdown,
    /// The report as data.
    Json,
}

/// `keel config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a config file; errors show file, line and column.
    Validate {
        /// The config file.
        #[arg(default_value = ".github/keel.toml")]
        path: PathBuf,
    },
    /// Print the JSON Schema (draft-07) of the config, for editor completion.
    Schema,
    /// Print the configuration reference (markdown), generated from the config model.
    Reference,
}

/// A Tokio runtime: several threads for servers and jobs, one for short store commands.
pub(crate) fn runtime(multi_thread: bool) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().context("start the runtime")
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Serve(args) => serve::run(*args),
        Command::Replay(args) => runtime(true)?.block_on(replay::run(*args)),
        Command::Action => {
            let env = action::ActionEnv::from_env()?;
            runtime(true)?.block_on(action::run(env))
        }
        Command::Health { url } => Ok(health::run(&url)),
        Command::Manifest { url } => Ok(manifest::run(url.as_deref())),
        Command::Backfill(args) => {
            print!("{}", runtime(true)?.block_on(backfill::run(*args))?);
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Summary {
            repo,
            week,
            format,
            config,
            database,
        } => {
            let json = matches!(format, SummaryFormat::Json);
            let text = runtime(false)?.block_on(summary::render(
                &database.database_url,
                &config,
                &repo,
                week.as_deref(),
                json,
            ))?;
            print!("{text}");
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Outcome {
            item,
            value,
            repo,
            at,
            database,
        } => outcome::run(&database.database_url, &repo, &item, value, at.as_deref()),
        Command::Roadmap {
            config,
            repo,
            database,
        } => {
            let text =
                runtime(false)?.block_on(roadmap::run(&database.database_url, &config, &repo))?;
            print!("{text}");
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Jobs { database, command } => {
            print!(
                "{}",
                runtime(false)?.block_on(jobs::run(&database.database_url, command))?
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Config { command } => config::run(command),
    }
}
