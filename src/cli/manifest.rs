//! `keel manifest`: prints the GitHub App manifest ([`crate::github::manifest`]) for
//! registering the App.

use super::EXIT_OK;
use std::process::ExitCode;

/// Runs `keel manifest`, with the server's public address when given.
pub fn run(url: Option<&str>) -> ExitCode {
    print!("{}", crate::github::manifest::manifest_text(url));
    ExitCode::from(EXIT_OK)
}
