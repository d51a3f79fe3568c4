//! Reading a subcommand's inputs from disk and git: config, diff, baseline, PR metadata (the
//! report files are [`crate::reports::files`]).
//!
//! Every read is size-limited by the parsers it feeds; every error names the file.

use super::check::CheckArgs;
use crate::reports::files::read_limited;
use anyhow::{Context, bail};
use keel_core::Limits;
use keel_core::diff::{Diff, parse_diff};
use keel_core::facts::{Metrics, PullRequest};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Reads a config file: its display name and text.
pub fn read_config(path: &Path) -> anyhow::Result<(String, String)> {
    let limit = Limits::DEFAULT.config_bytes;
    let bytes = read_limited(path, limit)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{}: not UTF-8 text: {e}", path.display()))?;
    Ok((path.display().to_string(), text))
}

/// The repository root a config file belongs to: the parent of its `.github` directory, or
/// the directory it is in.
pub fn repo_root_of(config: &Path) -> PathBuf {
    let dir = config.parent().unwrap_or(Path::new("."));
    if dir.file_name().is_some_and(|n| n == ".github") {
        dir.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Merges the items of `[roadmap] file` and `[debt] file` (repository paths, resolved from
/// the config's repository root) into the config.
pub fn with_item_files(
    mut config: keel_core::Config,
    config_path: &Path,
) -> Result<keel_core::Config, keel_core::config::ConfigError> {
    use keel_core::config::{ConfigError, DebtItem, RoadmapItem};
    use keel_core::diagnostic::Diagnostic;
    let root = repo_root_of(config_path);
    let read = |file: &str| -> Result<String, ConfigError> {
        let path = root.join(file);
        read_limited(&path, keel_core::Limits::DEFAULT.config_bytes)
            .and_then(|b| String::from_utf8(b).map_err(|_| anyhow::anyhow!("not UTF-8 text")))
            .map_err(|e| {
                ConfigError(Diagnostic::at_line(
                    &config_path.display().to_string(),
                    1,
                    format!("the items file `{file}` cannot be read: {e:#}"),
                ))
            })
    };
    if let Some(file) = config.roadmap.as_ref().and_then(|r| r.file.clone()) {
        let items: Vec<RoadmapItem> = keel_core::Config::parse_items(&file, &read(&file)?)?;
        if let Some(r) = config.roadmap.as_mut() {
            r.items.extend(items);
        }
    }
    if let Some(file) = config.debt.as_ref().and_then(|d| d.file.clone()) {
        let items: Vec<DebtItem> = keel_core::Config::parse_items(&file, &read(&file)?)?;
        if let Some(d) = config.debt.as_mut() {
            d.items.extend(items);
        }
    }
    Ok(config)
}

/// Reads a diff from a file, or standard input for `-`.
pub fn read_diff_file(path: &Path, limits: &Limits) -> anyhow::Result<Diff> {
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(limits.diff_bytes + 1)
            .read_to_end(&mut buf)
            .context("read the diff from standard input")?;
        buf
    } else {
        read_limited(path, limits.diff_bytes)?
    };
    let name = path.display().to_string();
    parse_diff(&name, &bytes, limits).with_context(|| format!("read diff {name}"))
}

/// Runs `git diff BASE...HEAD` in `root` and parses it. Where engineers run it, git's own
/// words are replaced by what to do: outside a repository, pass the diff as a file; in a
/// shallow clone (CI's default), fetch the history the merge base needs.
pub fn git_diff(root: &Path, base: &str, limits: &Limits) -> anyhow::Result<Diff> {
    if base.starts_with('-') {
        bail!("--base must name a ref, not an option: {base}");
    }
    let inside = git(root, &["rev-parse", "--is-inside-work-tree"])?;
    if !inside.status.success() || String::from_utf8_lossy(&inside.stdout).trim() != "true" {
        let said = String::from_utf8_lossy(&inside.stderr);
        let said = said.lines().next().unwrap_or("").trim();
        bail!(
            "{} is not inside a git work tree{}: `--base` diffs with git; pass the change as a \
             file with `--diff FILE` (or `-` for standard input) instead",
            root.display(),
            if said.is_empty() {
                String::new()
            } else {
                format!(" ({said})")
            }
        );
    }
    // CI clones hold the base branch only as `origin/<base>`.
    let resolves = |name: &str| {
        git(
            root,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{name}^{{commit}}"),
            ],
        )
        .is_ok_and(|o| o.status.success())
    };
    let branch = base.strip_prefix("origin/").unwrap_or(base);
    let fetch = format!("{branch}:refs/remotes/origin/{branch}");
    let base = if resolves(base) {
        base.to_owned()
    } else if resolves(&format!("origin/{base}")) {
        format!("origin/{base}")
    } else {
        bail!(
            "there is no `{base}` in this clone: fetch it with `git fetch origin {fetch}` and \
             pass `--base origin/{branch}` (in GitHub Actions, `actions/checkout` with \
             `fetch-depth: 0` fetches every branch)"
        );
    };
    let range = format!("{base}...HEAD");
    let out = git(
        root,
        &[
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--find-renames",
            &range,
            "--",
        ],
    )?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        if is_shallow(root) {
            bail!(
                "git diff {range} failed: this clone is shallow, so git cannot find where HEAD \
                 left {base}. Fetch the history: in GitHub Actions give `actions/checkout` \
                 `fetch-depth: 0`; elsewhere run `git fetch --deepen=200 origin {fetch}` (or \
                 `git fetch --unshallow`). git said: {said}"
            );
        }
        bail!("git diff {range} failed: {said}");
    }
    parse_diff(&format!("git diff {range}"), &out.stdout, limits).context("read git's diff")
}

/// The branch checked out in `root` and the subject of its last commit, when git knows them
/// (a detached head has no branch).
pub fn git_branch_and_subject(root: &Path) -> (Option<String>, Option<String>) {
    let read = |args: &[&str]| {
        git(root, args)
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let branch = read(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD");
    let subject = read(&["log", "-1", "--format=%s"]);
    (branch, subject)
}

/// Whether `root` is a shallow clone.
fn is_shallow(root: &Path) -> bool {
    git(root, &["rev-parse", "--is-shallow-repository"])
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
}

/// Runs git in `root`.
pub(super) fn git(root: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("run git (is it installed?)")
}

/// What to say when there is no config at `path`.
pub fn no_config(path: &Path) -> String {
    format!(
        "no definition of done at {}: `keel init` writes one from what the repository has (or \
         pass --config FILE)",
        path.display()
    )
}

/// Reads a baseline written by `--save-baseline`.
pub fn read_baseline(path: &Path) -> anyhow::Result<Metrics> {
    let bytes = read_limited(path, 256 << 20)?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a Keel baseline", path.display()))
}

/// Pull request metadata from flags, or from a GitHub event file; flags win. Diffing a
/// branch with `--base` and no event, the branch and title missing from the flags come from
/// git (the branch checked out, its last commit's subject), as the pull request would have
/// them.
pub fn pull_request(args: &CheckArgs) -> anyhow::Result<Option<PullRequest>> {
    let mut pr = match &args.event {
        Some(path) => from_event(path)?,
        None => None,
    };
    if pr.is_none() && args.base.is_some() && args.diff.is_none() {
        let (branch, subject) = git_branch_and_subject(&args.root);
        if branch.is_some() || subject.is_some() {
            pr = Some(PullRequest {
                branch: branch.unwrap_or_default(),
                title: subject.unwrap_or_default(),
                ..PullRequest::default()
            });
        }
    }
    if args.title.is_some() || args.body.is_some() || args.branch.is_some() || args.author.is_some()
    {
        let p = pr.get_or_insert_with(PullRequest::default);
        if let Some(t) = &args.title {
            p.title = t.clone();
        }
        if let Some(b) = &args.body {
            p.body = b.clone();
        }
        if let Some(b) = &args.branch {
            p.branch = b.clone();
        }
        if let Some(a) = &args.author {
            p.author = Some(a.clone());
        }
    }
    Ok(pr)
}

fn from_event(path: &Path) -> anyhow::Result<Option<PullRequest>> {
    let bytes = read_limited(path, 25 << 20)?;
    let event: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a JSON event payload", path.display()))?;
    let Some(pr) = event.get("pull_request") else {
        return Ok(None);
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    Ok(Some(PullRequest {
        title: text(&pr["title"]),
        body: text(&pr["body"]),
        branch: text(&pr["head"]["ref"]),
        labels: pr["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| text(&l["name"]))
            .collect(),
        milestone: pr["milestone"]["title"].as_str().map(str::to_owned),
        author: pr["user"]["login"].as_str().map(str::to_owned),
    }))
}
