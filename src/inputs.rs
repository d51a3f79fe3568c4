//! Reading `keel check`'s inputs from disk and git: config, diff, reports, baseline, PR metadata.
//!
//! Every read is size-limited by the parsers it feeds; every error names the file.

use crate::cli::CheckArgs;
use crate::reports::Reports;
use anyhow::{Context, bail};
use keel_core::Limits;
use keel_core::diff::{Diff, parse_diff};
use keel_core::facts::{Metrics, PullRequest};
use keel_core::glob::PathGlobs;
use keel_core::report::bench::criterion_id;
use keel_core::report::coverage::CoverageFormat;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Most directory entries a glob walk visits before giving up with an error.
const MAX_WALK: usize = 200_000;

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

/// Runs `git diff BASE...HEAD` in `root` and parses it.
pub fn git_diff(root: &Path, base: &str, limits: &Limits) -> anyhow::Result<Diff> {
    if base.starts_with('-') {
        bail!("--base must name a ref, not an option: {base}");
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["diff", "--no-color", "--no-ext-diff", "--find-renames"])
        .arg(format!("{base}...HEAD"))
        .arg("--")
        .output()
        .context("run git (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "git diff {base}...HEAD failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    parse_diff(&format!("git diff {base}...HEAD"), &out.stdout, limits).context("read git's diff")
}

/// Files given on the command line, plus those matching the config's globs under `root`.
pub fn resolve(
    root: &Path,
    given: &[PathBuf],
    patterns: Option<&[String]>,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = given.to_vec();
    for p in patterns.unwrap_or_default() {
        for f in glob_files(root, p)? {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    Ok(files)
}

/// Like [`resolve`], but a directory stands for the criterion results below it.
pub fn resolve_bench(
    root: &Path,
    given: &[PathBuf],
    patterns: Option<&[String]>,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for f in resolve(root, given, patterns)? {
        if f.is_dir() {
            files.extend(glob_files(&f, "**/new/estimates.json")?);
        } else {
            files.push(f);
        }
    }
    Ok(files)
}

/// Reads every report `keel check` was given or found: coverage, SARIF and benchmark files.
pub fn read_reports(
    coverage: &[PathBuf],
    coverage_format: Option<CoverageFormat>,
    sarif: &[PathBuf],
    bench: &[PathBuf],
    limits: &Limits,
) -> anyhow::Result<Reports> {
    let mut reports = Reports::default();
    for path in coverage {
        reports.add_coverage(
            &path.display().to_string(),
            open(path)?,
            coverage_format,
            limits,
        )?;
    }
    for path in sarif {
        reports.add_sarif(&path.display().to_string(), open(path)?, limits)?;
    }
    for path in bench {
        let id = criterion_id(
            &path.to_string_lossy().replace('\\', "/"),
            read_limited(&path.with_file_name("benchmark.json"), 1 << 20)
                .ok()
                .as_deref(),
        );
        reports.add_bench(&path.display().to_string(), &id, open(path)?, limits)?;
    }
    Ok(reports)
}

/// Reads a baseline written by `--save-baseline`.
pub fn read_baseline(path: &Path) -> anyhow::Result<Metrics> {
    let bytes = read_limited(path, 256 << 20)?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a Keel baseline", path.display()))
}

/// Pull request metadata from flags, or from a GitHub event file; flags win.
pub fn pull_request(args: &CheckArgs) -> anyhow::Result<Option<PullRequest>> {
    let mut pr = match &args.event {
        Some(path) => from_event(path)?,
        None => None,
    };
    if args.title.is_some() || args.body.is_some() || args.branch.is_some() {
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
    }))
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("open {}", path.display()))
}

fn read_limited(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("read {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!(
            "{} is larger than the limit of {limit} bytes",
            path.display()
        );
    }
    Ok(bytes)
}

/// Files under `root` matching `pattern`, sorted. The walk starts at the pattern's literal
/// directory prefix and skips `.git`.
fn glob_files(root: &Path, pattern: &str) -> anyhow::Result<Vec<PathBuf>> {
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    let is_meta = |s: &str| s.contains(['*', '?', '[', '{']);
    if !is_meta(pattern) {
        let p = root.join(pattern);
        return Ok(if p.is_file() { vec![p] } else { Vec::new() });
    }
    let globs = PathGlobs::new(vec![pattern.to_owned()]).map_err(anyhow::Error::msg)?;
    let prefix: PathBuf = pattern.split('/').take_while(|s| !is_meta(s)).collect();
    let mut found = Vec::new();
    let mut stack = vec![root.join(&prefix)];
    let mut visited = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            visited += 1;
            if visited > MAX_WALK {
                bail!("`{pattern}` visits more than {MAX_WALK} entries; narrow the glob");
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if entry.file_name() != ".git" {
                    stack.push(path);
                }
            } else if kind.is_file() {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                if globs.is_match(&rel) {
                    found.push(path);
                }
            }
        }
    }
    found.sort();
    Ok(found)
}
