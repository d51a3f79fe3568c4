//! `keel upload`: CI outside GitHub Actions sends a commit's reports to `keel serve`, which
//! reads them exactly like a workflow run's artifact; and `keel upload-token`, which issues
//! the per-repository token it authenticates with (shown once, stored as its SHA-256).

use super::{Database, EXIT_ERROR, EXIT_OK};
use crate::server::upload::MAX_UPLOAD_BYTES;
use crate::store::UploadScope;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How long `keel upload` waits before each new try after a 503 (then it gives up).
const RETRY_WAITS: [std::time::Duration; 3] = [
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(3),
    std::time::Duration::from_secs(9),
];

/// `keel upload` arguments.
#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// The report files (paths or globs, relative to the current directory), kept under
    /// their relative paths so that `[coverage] paths` and the rest match them.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Where `keel serve` listens (`https://keel.example.com`).
    #[arg(long, env = "KEEL_SERVER_URL")]
    pub server: String,
    /// The repository, `owner/name`.
    #[arg(long, env = "KEEL_REPOSITORY")]
    pub repo: String,
    /// The commit the reports are for (default: `git rev-parse HEAD`).
    #[arg(long)]
    pub sha: Option<String>,
    /// What this upload is called (one per job of a matrix: `coverage-py3.12`); the same
    /// name sent again for the commit replaces it.
    #[arg(long, default_value = "reports")]
    pub name: String,
}

/// `keel upload-token` arguments.
#[derive(Debug, clap::Args)]
pub struct UploadTokenArgs {
    /// The repository, `owner/name`.
    pub repo: String,
    /// Issue the baseline token instead: the only one whose uploads make a default-branch
    /// commit's baseline. Give it to the default branch's pipeline alone.
    #[arg(long)]
    pub baseline: bool,
    /// The database.
    #[command(flatten)]
    pub database: Database,
}

/// Runs `keel upload`. The token comes from `KEEL_UPLOAD_TOKEN` only (never an argument,
/// which other users of the machine can read).
pub fn run(args: &UploadArgs) -> anyhow::Result<ExitCode> {
    let token = std::env::var("KEEL_UPLOAD_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .context("KEEL_UPLOAD_TOKEN is not set: run `keel upload-token OWNER/NAME` where `keel serve`'s database is, and keep the token as a CI secret")?;
    let sha = match &args.sha {
        Some(sha) => sha.clone(),
        None => head_commit()?,
    };
    let root = std::env::current_dir().context("the current directory")?;
    let archive = zip_reports(&root, &args.files)?;
    super::runtime(false)?.block_on(async {
        let mut waits = RETRY_WAITS.iter();
        let (status, message) = loop {
            let (status, message) = send(args, &sha, token.trim(), archive.clone()).await?;
            // 503: the server is busy (other uploads fill its room) or could not store the
            // archive; it asks to be sent again.
            match waits.next() {
                Some(wait) if status == 503 => {
                    eprintln!(
                        "keel upload: the server answered 503 ({message}); sending again in {} s",
                        wait.as_secs()
                    );
                    tokio::time::sleep(*wait).await;
                }
                _ => break (status, message),
            }
        };
        if (200..300).contains(&status) {
            println!("keel upload: {message} for {} at {sha}", args.repo);
            Ok(ExitCode::from(EXIT_OK))
        } else {
            eprintln!("keel upload: the server answered {status}: {message}");
            Ok(ExitCode::from(EXIT_ERROR))
        }
    })
}

/// Runs `keel upload-token`: prints a new token for the repository (replacing the earlier one
/// of its kind); only its digest is stored.
pub fn run_token(args: &UploadTokenArgs) -> anyhow::Result<ExitCode> {
    let Some((owner, name)) = args.repo.split_once('/') else {
        bail!("the repository is `owner/name`, not `{}`", args.repo);
    };
    if owner.is_empty() || name.is_empty() || name.contains('/') {
        bail!("the repository is `owner/name`, not `{}`", args.repo);
    }
    super::runtime(false)?.block_on(async {
        let store = crate::store::Store::connect(&args.database.database_url).await?;
        let scope = if args.baseline {
            UploadScope::Baseline
        } else {
            UploadScope::PullRequests
        };
        let token = store
            .issue_upload_token(&args.repo, scope, crate::clock::now_ms())
            .await?;
        store.close().await;
        println!("{token}");
        let what = if args.baseline {
            "the baseline token: give it only to the pipeline that runs on pushes to the default branch (its uploads become baselines)"
        } else {
            "the pull request token: every CI build may hold it (its uploads judge pull requests, never baselines; `--baseline` issues the other)"
        };
        eprintln!(
            "This is the only time the token is shown. It is {what}. Store it as a CI secret (KEEL_UPLOAD_TOKEN) for {}; issuing another of its kind replaces it.",
            args.repo
        );
        Ok(ExitCode::from(EXIT_OK))
    })
}

/// `git rev-parse HEAD` in the current directory.
fn head_commit() -> anyhow::Result<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .context("run git to find the commit (or pass --sha)")?;
    if !out.status.success() {
        bail!("not in a git repository: pass --sha");
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The files as one zip archive, each under its path relative to `root`.
fn zip_reports(root: &Path, patterns: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut files: Vec<PathBuf> = Vec::new();
    for pattern in patterns {
        let given = root.join(pattern);
        let found = if given.is_file() {
            vec![given]
        } else {
            crate::reports::files::resolve(root, &[], Some(std::slice::from_ref(pattern)))?
        };
        if found.is_empty() {
            bail!("`{pattern}` matches no file");
        }
        files.extend(found);
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut total = 0u64;
    for file in &files {
        let name = file
            .strip_prefix(root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = crate::reports::files::read_limited(file, MAX_UPLOAD_BYTES as u64)?;
        total += bytes.len() as u64;
        zip.start_file(
            name,
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .context("write the archive")?;
        zip.write_all(&bytes).context("write the archive")?;
    }
    let archive = zip.finish().context("write the archive")?.into_inner();
    if archive.len() > MAX_UPLOAD_BYTES {
        bail!(
            "the reports compress to {} bytes ({total} before), over the server's limit of {MAX_UPLOAD_BYTES}",
            archive.len()
        );
    }
    Ok(archive)
}

/// POSTs the archive; returns the status and the server's message.
async fn send(
    args: &UploadArgs,
    sha: &str,
    token: &str,
    archive: Vec<u8>,
) -> anyhow::Result<(u16, String)> {
    let server = args.server.trim_end_matches('/');
    let client = crate::github::client::plain_client(server, std::time::Duration::from_secs(120))
        .context("--server")?;
    let path = format!(
        "{server}/reports/{}/{sha}?name={}",
        args.repo,
        crate::github::client::encode(&args.name)
    );
    let request = axum::http::Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/zip")
        .body(archive)
        .context("build the request")?;
    let response = client
        .execute(request)
        .await
        .map_err(|e| anyhow::anyhow!("send the reports to {server}: {e}"))?;
    let status = response.status().as_u16();
    let text = client
        .body_to_string(response)
        .await
        .unwrap_or_else(|e| format!("(unreadable answer: {e})"));
    Ok((status, text.trim().to_owned()))
}
