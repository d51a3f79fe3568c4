//! Report files on disk (`keel check`, `keel action`): the files given on the command line plus
//! those the config's globs match under the repository root, read into [`Reports`]. A glob
//! walk is bounded by the entries it visits; every read by the parsers' limits.

use super::Reports;
use anyhow::{Context, bail};
use keel_core::Limits;
use keel_core::glob::PathGlobs;
use keel_core::report::bench::criterion_id;
use keel_core::report::coverage::CoverageFormat;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Most directory entries a glob walk visits before giving up with an error.
const MAX_WALK: usize = 200_000;

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

/// Reads every report given or found on disk: coverage, SARIF and benchmark files.
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

/// Opens a file; the error names it.
pub fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("open {}", path.display()))
}

/// Reads a whole file of at most `limit` bytes; a larger one is an error naming it.
pub fn read_limited(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
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
