//! `keel summary`: renders a weekly summary from the store, without posting it.

use super::{Database, EXIT_OK, runtime};
use crate::jobs::summary::report;
use crate::store::Store;
use keel_core::Config;
use keel_core::week::Week;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `keel summary` arguments.
#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// The repository, `owner/name`.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repo: String,
    /// The ISO week (`2026-W47`); default: the week before the schedule last came due.
    #[arg(long)]
    pub week: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: SummaryFormat,
    /// The config (for the roadmap, the debt register and `[summary]`).
    #[arg(long, default_value = ".github/keel.toml")]
    pub config: PathBuf,
    /// The database.
    #[command(flatten)]
    pub database: Database,
}

/// `keel summary --format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SummaryFormat {
    /// The issue as it would be posted.
    Markdown,
    /// The report as data.
    Json,
}

/// Runs `keel summary`: prints the issue (or the report as JSON) of the week.
pub fn run(args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let json = matches!(args.format, SummaryFormat::Json);
    let text = runtime(false)?.block_on(render(
        &args.database.database_url,
        &args.config,
        &args.repo,
        args.week.as_deref(),
        json,
    ))?;
    print!("{text}");
    Ok(ExitCode::from(EXIT_OK))
}

/// `keel summary`: the report of `week` (default: the last complete week) from the store.
async fn render(
    database_url: &str,
    config_path: &Path,
    repo: &str,
    week: Option<&str>,
    json: bool,
) -> anyhow::Result<String> {
    let (label, text) = super::inputs::read_config(config_path)?;
    let config = Config::parse(&label, &text)
        .and_then(|c| super::inputs::with_item_files(c, config_path))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let sc = config.summary.clone().unwrap_or_default();
    let week = match week {
        Some(name) => Week::named(name, sc.timezone.0).map_err(anyhow::Error::msg)?,
        None => {
            let now = crate::clock::now_ms();
            report::reported_week(&sc, sc.schedule.last_due(now, sc.timezone.0).unwrap_or(now))
        }
    };
    let store = Store::connect(database_url).await?;
    let report = report::gather(&store, repo, &config, &week).await;
    store.close().await;
    let report = report?;
    Ok(if json {
        format!("{:#}\n", serde_json::to_value(&report)?)
    } else {
        format!(
            "# {}\n\n{}",
            keel_core::render::summary::title(repo, &week.name),
            keel_core::render::summary::body(&report)
        )
    })
}
