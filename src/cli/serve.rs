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
    let pages = dashboard(&settings);
    runtime(true)?.block_on(crate::server::run::serve(settings, pages))?;
    Ok(ExitCode::from(EXIT_OK))
}

/// The dashboard, when its sign-in is set.
fn dashboard(settings: &Settings) -> crate::server::run::Pages {
    let sign_in = settings.sign_in.clone();
    let api_url = settings.github_api_url.clone();
    Box::new(move |store, github| {
        let sign_in = sign_in?;
        tracing::info!(at = %format!("{}/dashboard", sign_in.public_url), "dashboard on");
        let viewers = crate::web::dashboard::Viewers {
            client_id: sign_in.client_id,
            client_secret: sign_in.client_secret,
            public_url: sign_in.public_url,
            api_url,
        };
        let dashboard = crate::web::dashboard::Dashboard::new(
            viewers,
            store.clone(),
            std::sync::Arc::clone(github),
            std::sync::Arc::new(crate::clock::now_ms),
        );
        Some(crate::web::dashboard::router(dashboard))
    })
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
