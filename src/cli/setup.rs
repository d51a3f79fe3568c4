//! `keel setup`: registers the GitHub App in one click ([`crate::web::setup`]) and says what
//! to do next.

use super::{EXIT_OK, runtime};
use crate::web::setup::{Page, Setup};
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::ExitCode;

/// `keel setup` arguments.
#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// Where GitHub sends webhooks: your server's public address (`https://keel.example.com`),
    /// or a tunnel's while you try Keel.
    #[arg(long, env = "KEEL_PUBLIC_URL")]
    pub url: String,
    /// Register the App for this organisation (default: your own account).
    #[arg(long, env = "KEEL_SETUP_ORG")]
    pub org: Option<String>,
    /// Where the registration page is served (this machine only).
    #[arg(long, env = "KEEL_SETUP_LISTEN", default_value = "127.0.0.1:3900")]
    pub listen: String,
    /// The directory `keel-app.env` and `keel-app.pem` are written to.
    #[arg(long, env = "KEEL_SETUP_OUT", default_value = ".")]
    pub out: PathBuf,
    /// GitHub's API (GitHub Enterprise Server: `https://HOST/api/v3`).
    #[arg(
        long,
        env = "KEEL_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// GitHub's web address (default: the API's host).
    #[arg(long, env = "KEEL_GITHUB_URL")]
    pub github_url: Option<String>,
}

/// Runs `keel setup`: serves the registration page until the App is registered.
pub fn run(args: SetupArgs) -> anyhow::Result<ExitCode> {
    let setup = Setup {
        public_url: args.url.clone(),
        org: args.org.clone(),
        github_url: args
            .github_url
            .clone()
            .unwrap_or_else(|| crate::github::client::web_url_of(&args.github_api_url)),
        api_url: args.github_api_url.clone(),
        out_dir: args.out.clone(),
    };
    setup.check()?;
    let listen: std::net::SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen {}: not an address like 127.0.0.1:3900",
            args.listen
        )
    })?;
    if !listen.ip().is_loopback() {
        bail!(
            "--listen {listen}: the registration page is served on this machine only (127.0.0.1 or [::1])"
        );
    }
    runtime(false)?.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listen on {listen}"))?;
        let page = Page::open(setup, listener)?;
        eprintln!(
            "keel setup: open {} in your browser to register Keel on GitHub (Ctrl-C stops).",
            page.url()
        );
        let app = page.serve().await?;
        eprintln!(
            "keel setup: GitHub created the App `{}` (id {}). Its secrets are in {} and {}, readable by you only.\n\
             Next: install it at {}/installations/new, then run: set -a; . {}; set +a; keel serve",
            app.slug,
            app.id,
            app.env_file.display(),
            app.key_file.display(),
            app.html_url,
            app.env_file.display(),
        );
        if app.webhook_secret_missing {
            eprintln!(
                "keel setup: GitHub gave no webhook secret: set one under the App's settings (Webhook secret) and add it to {} as KEEL_WEBHOOK_SECRET=…",
                app.env_file.display()
            );
        }
        Ok(ExitCode::from(EXIT_OK))
    })
}
