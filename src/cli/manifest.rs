//! `keel manifest`: prints the GitHub App manifest ([`crate::github::manifest`]) for
//! registering the App.

use super::EXIT_OK;
use std::process::ExitCode;

/// `keel manifest` arguments.
#[derive(Debug, clap::Args)]
pub struct ManifestArgs {
    /// The server's public address (the webhook URL is this plus `/webhook`).
    #[arg(long)]
    pub url: Option<String>,
}

/// Runs `keel manifest`, with the server's public address when given: the JSON on standard
/// output (nothing else, so it can be piped or saved), the steps to register it on standard
/// error.
pub fn run(url: Option<&str>) -> ExitCode {
    print!("{}", crate::github::manifest::manifest_text(url));
    eprint!("{}", crate::github::manifest::registration_notes(url));
    ExitCode::from(EXIT_OK)
}
