//! `keel serve`: validates the settings, sets up logging and runs the App until it is told
//! to stop.

use super::{EXIT_ERROR, EXIT_OK, runtime};
use crate::server::settings::{ServeArgs, Settings};
use std::process::ExitCode;

/// Runs `keel serve`: a setting that is missing or malformed stops start-up with one line
/// naming it (exit 2).
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = match Settings::from_args(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_ERROR));
        }
    };
    init_tracing();
    runtime(true)?.block_on(crate::server::run::serve(settings))?;
    Ok(ExitCode::from(EXIT_OK))
}

/// Logs to stderr: `RUST_LOG` filters (default `info,sqlx=warn`); `KEEL_LOG_FORMAT=json`
/// gives one JSON object per line.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if std::env::var("KEEL_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
