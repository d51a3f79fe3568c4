//! The command line: `keel check`, `keel config validate`, `keel config schema`.
//! Every flag can also be set through the environment variable named in its help.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
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
    Check(Box<CheckArgs>),
    /// Run the GitHub App server: receive, verify and durably store webhook deliveries.
    Serve(Box<crate::settings::ServeArgs>),
    /// Run stored webhook payloads through the App's pipeline against a dry-run GitHub that
    /// prints the check run, comment and labels it would post.
    Replay(Box<crate::replay::ReplayArgs>),
    /// Look at the job queue: list jobs, show a dead job's error, retry it.
    Jobs {
        /// The database (as for `keel serve`).
        #[arg(
            long,
            env = "DATABASE_URL",
            hide_env_values = true,
            default_value = "sqlite://keel.db"
        )]
        database_url: String,
        /// What to do.
        #[command(subcommand)]
        command: crate::jobs_cli::JobsCommand,
    },
    /// Read a repository's recent delivery history from GitHub into the store, as the App.
    Backfill(Box<crate::backfill_cli::BackfillArgs>),
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
        /// The database (as for `keel serve`).
        #[arg(
            long,
            env = "DATABASE_URL",
            hide_env_values = true,
            default_value = "sqlite://keel.db"
        )]
        database_url: String,
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
        /// The database (as for `keel serve`).
        #[arg(
            long,
            env = "DATABASE_URL",
            hide_env_values = true,
            default_value = "sqlite://keel.db"
        )]
        database_url: String,
    },
    /// List the roadmap items with the merged pull requests linked to each.
    Roadmap {
        /// The config holding the items.
        #[arg(long, default_value = ".github/keel.toml")]
        config: std::path::PathBuf,
        /// The repository, `owner/name`.
        #[arg(long, env = "GITHUB_REPOSITORY")]
        repo: String,
        /// The database (as for `keel serve`).
        #[arg(
            long,
            env = "DATABASE_URL",
            hide_env_values = true,
            default_value = "sqlite://keel.db"
        )]
        database_url: String,
    },
    /// Validate the config, or print its JSON Schema.
    Config {
        /// What to do with the config.
        #[command(subcommand)]
        command: ConfigCommand,
    },
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

/// Output formats of `keel check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a terminal.
    Text,
    /// GitHub markdown (the check run summary).
    Markdown,
    /// The JSON contract described in the README.
    Json,
}

/// `keel check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The definition of done.
    #[arg(long, env = "KEEL_CONFIG", default_value = ".github/keel.toml")]
    pub config: PathBuf,
    /// Where report globs from the config are resolved, and where git runs.
    #[arg(long, env = "KEEL_ROOT", default_value = ".")]
    pub root: PathBuf,
    /// A unified diff of the change (`-` for standard input).
    #[arg(long, env = "KEEL_DIFF", conflicts_with = "base")]
    pub diff: Option<PathBuf>,
    /// Diff against this ref: runs `git diff REF...HEAD`.
    #[arg(long, env = "KEEL_BASE")]
    pub base: Option<String>,
    /// Coverage reports (LCOV or Cobertura), in addition to the config's paths.
    #[arg(long = "coverage", env = "KEEL_COVERAGE", value_delimiter = ',')]
    pub coverage: Vec<PathBuf>,
    /// SARIF logs, in addition to the config's paths.
    #[arg(long = "sarif", env = "KEEL_SARIF", value_delimiter = ',')]
    pub sarif: Vec<PathBuf>,
    /// Benchmark results (files, or criterion's target directory), in addition to the config's paths.
    #[arg(long = "bench", env = "KEEL_BENCH", value_delimiter = ',')]
    pub bench: Vec<PathBuf>,
    /// The base commit's metrics, as written by `--save-baseline`.
    #[arg(long, env = "KEEL_BASELINE")]
    pub baseline: Option<PathBuf>,
    /// Write this commit's metrics here, to serve as a later baseline.
    #[arg(long, env = "KEEL_SAVE_BASELINE")]
    pub save_baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, env = "KEEL_FORMAT", value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Pull request title.
    #[arg(long, env = "KEEL_PR_TITLE")]
    pub title: Option<String>,
    /// Pull request description.
    #[arg(long, env = "KEEL_PR_BODY")]
    pub body: Option<String>,
    /// Pull request head branch.
    #[arg(long, env = "KEEL_PR_BRANCH")]
    pub branch: Option<String>,
    /// A GitHub `pull_request` event payload to read title, body, branch and labels from.
    #[arg(long, env = "GITHUB_EVENT_PATH")]
    pub event: Option<PathBuf>,
}

/// A Tokio runtime: several threads for servers and jobs, one for short store commands.
fn runtime(multi_thread: bool) -> anyhow::Result<tokio::runtime::Runtime> {
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
        Command::Check(args) => crate::check::run(&args),
        Command::Serve(args) => {
            let settings = match crate::settings::Settings::from_args(*args) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(EXIT_ERROR));
                }
            };
            crate::serve::init_tracing();
            let runtime = runtime(true)?;
            runtime.block_on(crate::serve::serve(settings))?;
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Replay(args) => {
            let runtime = runtime(true)?;
            runtime.block_on(crate::replay::run(*args))
        }
        Command::Action => {
            let env = crate::action::ActionEnv::from_env()?;
            let runtime = runtime(true)?;
            runtime.block_on(crate::action::run(env))
        }
        Command::Health { url } => match crate::serve::probe(&url) {
            Ok(()) => Ok(ExitCode::from(EXIT_OK)),
            Err(e) => {
                eprintln!("unhealthy: {e:#}");
                Ok(ExitCode::from(EXIT_FAILED))
            }
        },
        Command::Manifest { url } => {
            print!("{}", crate::manifest::manifest_text(url.as_deref()));
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Backfill(args) => {
            let runtime = runtime(true)?;
            print!("{}", runtime.block_on(crate::backfill_cli::run(*args))?);
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Summary {
            repo,
            week,
            format,
            config,
            database_url,
        } => {
            let runtime = runtime(false)?;
            print!(
                "{}",
                runtime.block_on(crate::summary::render_cli(
                    &database_url,
                    &config,
                    &repo,
                    week.as_deref(),
                    matches!(format, SummaryFormat::Json),
                ))?
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Outcome {
            item,
            value,
            repo,
            at,
            database_url,
        } => {
            let at = match at {
                Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
                    .with_context(|| format!("--at {text} is not an RFC 3339 time"))?
                    .timestamp_millis(),
                None => crate::serve::now_ms(),
            };
            if !value.is_finite() {
                anyhow::bail!("--value must be a number");
            }
            let runtime = runtime(false)?;
            runtime.block_on(async {
                let store = crate::store::Store::connect(&database_url).await?;
                let done = store.record_outcome(&repo, &item, value, at).await;
                store.close().await;
                done
            })?;
            println!("recorded {item} = {value} for {repo}");
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Roadmap {
            config,
            repo,
            database_url,
        } => {
            let runtime = runtime(false)?;
            print!(
                "{}",
                runtime.block_on(crate::roadmap_cli::run(&database_url, &config, &repo))?
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Jobs {
            database_url,
            command,
        } => {
            let runtime = runtime(false)?;
            print!(
                "{}",
                runtime.block_on(crate::jobs_cli::run(&database_url, command))?
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Config {
            command: ConfigCommand::Validate { path },
        } => {
            let (_, text) = crate::inputs::read_config(&path)?;
            match keel_core::Config::parse(&path.display().to_string(), &text)
                .and_then(|c| crate::inputs::with_item_files(c, &path))
            {
                Ok(_) => {
                    println!("{}: valid", path.display());
                    Ok(ExitCode::from(EXIT_OK))
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(EXIT_ERROR))
                }
            }
        }
        Command::Config {
            command: ConfigCommand::Reference,
        } => {
            print!("{}", crate::config_reference::reference());
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Config {
            command: ConfigCommand::Schema,
        } => {
            let schema = serde_json::to_string_pretty(&keel_core::Config::json_schema())
                .context("render the schema")?;
            println!("{schema}");
            Ok(ExitCode::from(EXIT_OK))
        }
    }
}
