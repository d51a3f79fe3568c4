//! `keel roadmap`: the roadmap items of a config with the merged pull requests the store has
//! linked to each, so a lead sees which bets are being worked on.

use super::{Database, EXIT_OK, inputs, runtime};
use crate::store::{MergedPullRequest, Store};
use anyhow::Context;
use keel_core::Config;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `keel roadmap` arguments.
#[derive(Debug, clap::Args)]
pub struct RoadmapArgs {
    /// The config holding the items.
    #[arg(long, default_value = ".github/keel.toml")]
    pub config: PathBuf,
    /// The repository, `owner/name`.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repo: String,
    /// The database.
    #[command(flatten)]
    pub database: Database,
}

/// Runs `keel roadmap`: prints the listing.
pub fn run(args: RoadmapArgs) -> anyhow::Result<ExitCode> {
    let text = runtime(false)?.block_on(listing(
        &args.database.database_url,
        &args.config,
        &args.repo,
    ))?;
    print!("{text}");
    Ok(ExitCode::from(EXIT_OK))
}

/// The listing for `repo`.
async fn listing(database_url: &str, config_path: &Path, repo: &str) -> anyhow::Result<String> {
    let (label, text) = inputs::read_config(config_path)?;
    let config = Config::parse(&label, &text)
        .and_then(|c| inputs::with_item_files(c, config_path))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = Store::connect(database_url).await?;
    let merged = store
        .merged_pull_requests(repo)
        .await
        .context("read merged pull requests")?;
    store.close().await;
    Ok(render(&config, &merged))
}

fn render(config: &Config, merged: &[MergedPullRequest]) -> String {
    let mut s = String::new();
    let items = config
        .roadmap
        .as_ref()
        .map(|r| r.items.as_slice())
        .unwrap_or_default();
    if items.is_empty() {
        s.push_str(
            "No roadmap items are configured: add [[roadmap.items]] to .github/keel.toml.\n",
        );
    }
    for item in items {
        let owner = item
            .owner
            .as_deref()
            .map(|o| format!(", owner {o}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{}  {}  ({}{owner})",
            item.id,
            item.title,
            item.status.as_str()
        );
        if let Some(h) = &item.hypothesis {
            let _ = writeln!(s, "    {}", h.text);
        }
        if item.metric.is_some() || item.target.is_some() {
            let _ = writeln!(
                s,
                "    metric: {} · target: {}",
                item.metric.as_deref().unwrap_or("-"),
                item.target.as_deref().unwrap_or("-")
            );
        }
        let linked: Vec<&MergedPullRequest> = merged
            .iter()
            .filter(|m| m.roadmap_items.contains(&item.id.0))
            .collect();
        if linked.is_empty() {
            s.push_str("    no merged pull requests yet\n");
        }
        for m in linked {
            let _ = writeln!(s, "    merged {}", describe(m));
        }
    }
    let unlinked = merged.iter().filter(|m| m.roadmap_items.is_empty()).count();
    if !merged.is_empty() {
        let _ = writeln!(
            s,
            "\n{unlinked} of {} merged pull requests are linked to no roadmap item.",
            merged.len()
        );
    }
    s
}

fn describe(m: &MergedPullRequest) -> String {
    let day = chrono::DateTime::from_timestamp_millis(m.merged_at)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let debt = m
        .debt
        .as_deref()
        .map(|d| format!(", debt: {d}"))
        .unwrap_or_default();
    format!(
        "#{} {} ({day}{debt})",
        m.number,
        m.title.as_deref().unwrap_or("(not evaluated by Keel)")
    )
}
