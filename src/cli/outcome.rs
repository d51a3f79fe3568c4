//! `keel outcome`: records a measured outcome of a roadmap item, shown against its target in
//! the weekly summaries.

use super::{Database, EXIT_OK, runtime};
use anyhow::Context;
use std::process::ExitCode;

/// `keel outcome` arguments.
#[derive(Debug, clap::Args)]
pub struct OutcomeArgs {
    /// The item id (`R-12`).
    pub item: String,
    /// The measured value: the change so far in the target's unit (`11.5` for 11.5%). Under a
    /// hypothesis that reduces its metric, a positive value is the size of the reduction; a
    /// target written as a bound (`< 2 s`) is compared with the value as it is.
    #[arg(long, allow_hyphen_values = true)]
    pub value: f64,
    /// The repository, `owner/name`.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repo: String,
    /// When it was measured (RFC 3339; default now).
    #[arg(long)]
    pub at: Option<String>,
    /// The database.
    #[command(flatten)]
    pub database: Database,
}

/// Runs `keel outcome`: `at` is RFC 3339 (default now); `value` must be a finite number.
pub fn run(args: OutcomeArgs) -> anyhow::Result<ExitCode> {
    let OutcomeArgs {
        item,
        value,
        repo,
        at,
        database,
    } = args;
    let at = match at.as_deref() {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .with_context(|| format!("--at {text} is not an RFC 3339 time"))?
            .timestamp_millis(),
        None => crate::clock::now_ms(),
    };
    if !value.is_finite() {
        anyhow::bail!("--value must be a number");
    }
    runtime(false)?.block_on(async {
        let store = crate::store::Store::connect(&database.database_url).await?;
        let done = store.record_outcome(&repo, &item, value, at).await;
        store.close().await;
        done
    })?;
    println!("recorded {item} = {value} for {repo}");
    Ok(ExitCode::from(EXIT_OK))
}
