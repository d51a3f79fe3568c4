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
pub mod init;
pub mod inputs;
pub mod jobs;
pub mod manifest;
pub mod outcome;
pub mod replay;
pub mod roadmap;
pub mod serve;
pub mod setup;
pub mod summary;
pub mod upload;

use anyhow::Context;
use clap::{Parser, Subcommand};
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
    Jobs(jobs::JobsArgs),
    /// Read a repository's recent delivery history from GitHub into the store, as the App.
    Backfill(Box<backfill::BackfillArgs>),
    /// Run as a GitHub Action step: job summary, annotations, outputs, and (when the token may)
    /// the check run and the sticky comment. Reads the workflow's environment.
    Action,
    /// Ask a running server whether it is up (`GET /healthz`); exit 0 if so (for container
    /// health checks, with no curl in the image).
    Health(health::HealthArgs),
    /// Print the GitHub App manifest (events and least permissions) for registering the App.
    Manifest(manifest::ManifestArgs),
    /// Register the GitHub App in one click: a page on this machine posts the manifest to
    /// GitHub, and the App's id, key and webhook secret are written to files only you can read.
    Setup(setup::SetupArgs),
    /// Render a weekly summary from the store, without posting it.
    Summary(summary::SummaryArgs),
    /// Record a measured outcome of a roadmap item (shown against its target in summaries).
    Outcome(outcome::OutcomeArgs),
    /// List the roadmap items with the merged pull requests linked to each.
    Roadmap(roadmap::RoadmapArgs),
    /// Validate the config, or print its JSON Schema.
    Config(config::ConfigArgs),
    /// Turn Keel on in a repository: write `.github/keel.toml` (advisory at first) and the
    /// workflow that uploads the reports, from what the repository already has.
    Init(init::InitArgs),
    /// Send a commit's reports to `keel serve` from CI outside GitHub Actions (the token in
    /// KEEL_UPLOAD_TOKEN); they are read like a workflow run's artifact.
    Upload(upload::UploadArgs),
    /// Issue the token `keel upload` authenticates with for one repository (shown once,
    /// stored hashed; a new one replaces the old).
    UploadToken(upload::UploadTokenArgs),
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

/// A Tokio runtime: several threads for servers and jobs, one for short store commands.
pub(crate) fn runtime(multi_thread: bool) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().context("start the runtime")
}

/// Runs a parsed command line; returns the process exit code. Each subcommand's `run` gathers
/// its inputs, calls the layers below and prints.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Serve(args) => serve::run(*args),
        Command::Replay(args) => replay::run(*args),
        Command::Jobs(args) => jobs::run(args),
        Command::Backfill(args) => backfill::run(*args),
        Command::Action => action::run(),
        Command::Health(args) => Ok(health::run(&args.url)),
        Command::Manifest(args) => Ok(manifest::run(args.url.as_deref())),
        Command::Setup(args) => setup::run(args),
        Command::Summary(args) => summary::run(args),
        Command::Outcome(args) => outcome::run(args),
        Command::Roadmap(args) => roadmap::run(args),
        Command::Config(args) => config::run(args.command),
        Command::Init(args) => init::run(&args),
        Command::Upload(args) => upload::run(&args),
        Command::UploadToken(args) => upload::run_token(&args),
    }
}
