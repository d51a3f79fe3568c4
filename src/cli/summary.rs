//! `keel summary`: renders a weekly summary from the store, without posting it.

use crate::jobs::summary::report;
use crate::store::Store;
use keel_core::Config;
use keel_core::week::Week;

/// `keel summary`: the report of `week` (default: the last complete week) from the store.
pub async fn render(
    database_url: &str,
    config_path: &std::path::Path,
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
