//! `keel outcome`: records a measured outcome of a roadmap item, shown against its target in
//! the weekly summaries.

use super::{EXIT_OK, runtime};
use anyhow::Context;
use std::process::ExitCode;

/// Runs `keel outcome`: `at` is RFC 3339 (default now); `value` must be a finite number.
pub fn run(
    database_url: &str,
    repo: &str,
    item: &str,
    value: f64,
    at: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let at = match at {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .with_context(|| format!("--at {text} is not an RFC 3339 time"))?
            .timestamp_millis(),
        None => crate::clock::now_ms(),
    };
    if !value.is_finite() {
        anyhow::bail!("--value must be a number");
    }
    runtime(false)?.block_on(async {
        let store = crate::store::Store::connect(database_url).await?;
        let done = store.record_outcome(repo, item, value, at).await;
        store.close().await;
        done
    })?;
    println!("recorded {item} = {value} for {repo}");
    Ok(ExitCode::from(EXIT_OK))
}
